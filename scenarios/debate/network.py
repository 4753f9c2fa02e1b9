"""The influence network: a networkx graph over all participants and its row-stochastic weight matrix."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from simworld.agents.persona import Persona

from simworld.errors import BadInput
from simworld.files import load_json, load_yaml, read_text


def build_graph(kind: str, ids: list[str], rng: np.random.Generator, k: int = 4, p: float = 0.2, m: int = 2,
                edges: list[tuple[str, str, float]] | None = None) -> nx.DiGraph:
    """A directed graph over ``ids`` (edges both ways for the undirected generators). ``edges`` (source
    listens-to target... see :func:`load_edges`) is used for ``kind == "file"``."""
    n = len(ids)
    seed = int(rng.integers(0, 2**31 - 1))
    if kind == "complete":
        base = nx.complete_graph(n)
    elif kind == "small_world":
        base = nx.connected_watts_strogatz_graph(n, min(k, n - 1), p, tries=100, seed=seed) if n > 2 else nx.complete_graph(n)
    elif kind == "scale_free":
        base = nx.barabasi_albert_graph(n, min(m, n - 1), seed=seed) if n > 1 else nx.complete_graph(n)
    elif kind == "file":
        g = nx.DiGraph()
        g.add_nodes_from(ids)
        for a, b, w in edges or []:
            g.add_edge(a, b, weight=float(w))
        return g
    else:  # the config validates the kind; this is a programming error
        raise ValueError(f"unknown network {kind!r}")
    g = nx.DiGraph()
    g.add_nodes_from(ids)
    for a, b in sorted(base.edges()):
        g.add_edge(ids[a], ids[b], weight=1.0)
        g.add_edge(ids[b], ids[a], weight=1.0)
    return g


def parse_edges(path: Path) -> tuple[list[tuple[str, str, float]], bool]:
    """The file's edges as (listener, speaker, weight) and whether it is directed; checks the format and
    the weights (run before anything is written; participants are checked by :func:`load_edges`)."""
    text = read_text(path, "network file")
    data: Any = load_json(text, str(path)) if path.suffix.lower() == ".json" else load_yaml(text, str(path))
    if not isinstance(data, dict) or not isinstance(data.get("edges"), list):
        raise BadInput(str(path), "expected a mapping with a list under 'edges'", "edges")
    edges: list[tuple[str, str, float]] = []
    for i, e in enumerate(data["edges"]):
        if not isinstance(e, (list, tuple)) or len(e) not in (2, 3):
            raise BadInput(str(path), "an edge is [listener, speaker] or [listener, speaker, weight]", f"edges[{i}]")
        w = e[2] if len(e) == 3 else 1.0
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise BadInput(str(path), f"weight must be a non-negative number, got {w!r}", f"edges[{i}]")
        edges.append((str(e[0]), str(e[1]), float(w)))
    return edges, bool(data.get("directed", False))


def load_edges(path: Path, ids: list[str]) -> list[tuple[str, str, float]]:
    """Read ``{edges: [[listener, speaker, weight?], ...], directed: bool}`` from YAML or JSON: the
    listener gives ``weight`` (default 1) to the speaker's opinion; undirected files add both ways."""
    edges, directed = parse_edges(path)
    known = set(ids)
    out: list[tuple[str, str, float]] = []
    for i, (a, b, w) in enumerate(edges):
        for who in (a, b):
            if who not in known:
                raise BadInput(str(path), f"unknown participant {who!r}", f"edges[{i}]")
        out.append((a, b, w))
        if not directed:
            out.append((b, a, w))
    return out


def influence_weights(g: nx.DiGraph, ids: list[str], personas: dict[str, Persona], self_weight: float,
                      boost: dict[str, float]) -> np.ndarray:
    """W[i, j]: how much ``i`` weighs ``j``. ``i`` keeps ``self_weight`` and splits the rest among those it
    listens to, in proportion to edge weight x (0.5 + extraversion of j) x ``boost[j]`` (debaters are
    louder). An agent who listens to no one keeps all the weight."""
    index = {a: i for i, a in enumerate(ids)}
    n = len(ids)
    W = np.zeros((n, n))
    for a in ids:
        i = index[a]
        raw = np.zeros(n)
        for b in sorted(g.successors(a)):
            if b == a:
                continue
            j = index[b]
            raw[j] = g[a][b].get("weight", 1.0) * (0.5 + personas[b].big_five.extraversion) * boost.get(b, 1.0)
        total = raw.sum()
        if total <= 0:
            W[i, i] = 1.0
        else:
            W[i] = (1.0 - self_weight) * raw / total
            W[i, i] += self_weight
    return W
