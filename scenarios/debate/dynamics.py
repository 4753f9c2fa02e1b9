"""Opinion update rules on an influence network: DeGroot, Friedkin-Johnsen, Hegselmann-Krause, Deffuant.

Each rule is a pure function of numpy arrays, so the scenario, its tests and an analysis of a run log all
use the same code. ``W[i, j]`` is the weight agent ``i`` gives to agent ``j``'s opinion (rows sum to 1);
``A`` is the 0/1 adjacency with the diagonal set (everyone hears themselves). Each rule also returns who
moved whom: ``C[i, j]`` is the part of agent ``i``'s change due to agent ``j`` (the diagonal holds the pull
back to an agent's own initial opinion under Friedkin-Johnsen).
"""

from __future__ import annotations

import numpy as np

RULES = ("degroot", "friedkin_johnsen", "hegselmann_krause", "deffuant", "argument")


def degroot(W: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x' = W x: everyone moves to the weighted mean of those they listen to."""
    new = W @ x
    C = W * (x[None, :] - x[:, None])
    return new, C


def friedkin_johnsen(W: np.ndarray, x: np.ndarray, x0: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x' = S x0 + (I - S) W x, with stubbornness ``s`` (the diagonal of S) anchoring agents to ``x0``."""
    new = s * x0 + (1.0 - s) * (W @ x)
    C = (1.0 - s)[:, None] * W * (x[None, :] - x[:, None])
    C[np.diag_indices_from(C)] += s * (x0 - x)
    return new, C


def hegselmann_krause(A: np.ndarray, x: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounded confidence, synchronous: each agent takes the plain mean of the neighbours (and itself)
    whose opinions lie within ``eps`` of its own."""
    close = (A > 0) & (np.abs(x[None, :] - x[:, None]) <= eps)
    np.fill_diagonal(close, True)
    weights = close / close.sum(axis=1, keepdims=True)
    new = weights @ x
    C = weights * (x[None, :] - x[:, None])
    return new, C


def deffuant(
    x: np.ndarray, pairs: np.ndarray, eps: float, mu: float
) -> tuple[np.ndarray, np.ndarray]:
    """Bounded confidence, pairwise: for each pair (i, j) in order, if |x_i - x_j| < eps both move a
    share ``mu`` of the gap towards each other."""
    x = x.copy()
    C = np.zeros((len(x), len(x)))
    for i, j in pairs:
        gap = x[j] - x[i]
        if abs(gap) < eps:
            x[i] += mu * gap
            x[j] -= mu * gap
            C[i, j] += mu * gap
            C[j, i] -= mu * gap
    return x, C


def random_pairs(A: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` random edges (i, j) of the network (i != j), each drawn uniformly from all directed edges."""
    edges = np.argwhere((A > 0) & ~np.eye(len(A), dtype=bool))
    if len(edges) == 0:
        return np.zeros((0, 2), dtype=int)
    return edges[rng.integers(0, len(edges), k)]


def clusters(x: np.ndarray, tol: float = 1e-3, min_share: float = 0.0) -> list[float]:
    """The opinion clusters of ``x``: sorted opinions split where neighbours differ by more than ``tol``;
    clusters holding less than ``min_share`` of the agents are dropped. Returns the cluster means."""
    xs = np.sort(np.asarray(x, dtype=float))
    if len(xs) == 0:
        return []
    cuts = np.flatnonzero(np.diff(xs) > tol) + 1
    groups = np.split(xs, cuts)
    return [float(g.mean()) for g in groups if len(g) >= min_share * len(xs)]


def bimodality(x: np.ndarray) -> float | None:
    """Sarle's bimodality coefficient (skew^2 + 1) / (excess kurtosis + 3 (n-1)^2 / ((n-2)(n-3)));
    above 5/9 (0.555) suggests two modes. None for fewer than 4 agents or no spread."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < 4:
        return None
    d = x - x.mean()
    m2 = float((d**2).mean())
    if m2 < 1e-12:
        return None
    g = float((d**3).mean()) / m2**1.5
    k = float((d**4).mean()) / m2**2 - 3.0
    skew = g * np.sqrt(n * (n - 1)) / (n - 2)
    kurt = ((n + 1) * k + 6) * (n - 1) / ((n - 2) * (n - 3))
    return float((skew**2 + 1) / (kurt + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))))
