"""Closed forms of opinion dynamics, for checking simulated runs against theory (numpy only)."""

from __future__ import annotations

import numpy as np


def degroot_consensus(W: np.ndarray, x0: np.ndarray) -> float:
    """The DeGroot limit on a strongly connected aperiodic graph: pi . x0, where pi is the left
    eigenvector of W for eigenvalue 1, normalised to sum to 1."""
    vals, vecs = np.linalg.eig(np.asarray(W, dtype=float).T)
    k = int(np.argmin(np.abs(vals - 1.0)))
    pi = np.real(vecs[:, k])
    pi = pi / pi.sum()
    return float(pi @ np.asarray(x0, dtype=float))


def friedkin_johnsen_limit(W: np.ndarray, x0: np.ndarray, s: np.ndarray) -> np.ndarray:
    """The Friedkin-Johnsen equilibrium x* = (I - (I - S) W)^-1 S x0 (S = diag of stubbornness s)."""
    W = np.asarray(W, dtype=float)
    s = np.asarray(s, dtype=float)
    n = len(W)
    return np.linalg.solve(np.eye(n) - (1.0 - s)[:, None] * W, s * np.asarray(x0, dtype=float))
