"""Vector stores: NumpyStore against a brute-force reference; ChromaStore on disk; a stream on either."""

from __future__ import annotations

import numpy as np
import pytest
from simworld.agents import Persona
from simworld.memory import MemoryConfig, MemoryStream, MemorySystem, NumpyStore
from simworld.memory.config import ReflectionConfig

from simworld.world import WorldEvent


def brute_force(matrix: np.ndarray, query: np.ndarray, k: int) -> tuple[list[int], list[float]]:
    """The reference: every cosine in float64, sorted by (-score, insertion order) in pure Python."""
    m = matrix.astype(np.float64)
    q = query.astype(np.float64)
    scores = [float(row @ q) / (np.linalg.norm(row) * np.linalg.norm(q)) for row in m]
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
    return order, [scores[i] for i in order]


def test_numpy_store_finds_exactly_what_brute_force_finds():
    rng = np.random.default_rng(7)
    vecs = rng.standard_normal((3000, 48)).astype(np.float32)
    store = NumpyStore(capacity=4)
    start = 0
    for size in (1, 2, 5, 100, 892, 2000):  # many small and large adds: the matrix grows as it goes
        store.add([f"v{i}" for i in range(start, start + size)], vecs[start : start + size])
        start += size
    assert len(store) == 3000
    for qi in range(20):
        q = rng.standard_normal(48).astype(np.float32)
        for k in (1, 10, 57):
            rows, ref_scores = brute_force(vecs, q, k)
            hits = store.search(q, k)
            assert hits.ids == [f"v{r}" for r in rows]
            assert hits.scores == pytest.approx(ref_scores, abs=1e-5)


def test_numpy_store_grows_geometrically():
    store = NumpyStore(dim=8, capacity=4)
    sizes = set()
    for i in range(1000):
        store.add([f"v{i}"], np.ones((1, 8), dtype=np.float32))
        sizes.add(store._mat.shape[0])
    assert sorted(sizes) == [4 * 2**j for j in range(9)]  # 4, 8, ..., 1024: ten reallocations for 1000 adds


def test_exact_inner_products_and_ties_in_insertion_order():
    rng = np.random.default_rng(1)
    vecs = rng.integers(-3, 4, size=(500, 16)).astype(np.float32)
    vecs[100] = vecs[7]  # exact ties
    vecs[300] = vecs[7]
    store = NumpyStore(normalize=False)
    store.add([f"v{i}" for i in range(500)], vecs)
    q = vecs[7].copy()
    hits = store.search(q, 5)
    exact = (vecs.astype(np.int64) @ q.astype(np.int64))
    ref = sorted(range(500), key=lambda i: (-exact[i], i))[:5]
    assert hits.ids == [f"v{i}" for i in ref]
    assert hits.ids[:3] == ["v7", "v100", "v300"]
    assert hits.scores.tolist() == [float(exact[i]) for i in ref]


def test_batch_search_equals_single_searches():
    rng = np.random.default_rng(3)
    store = NumpyStore()
    store.add([str(i) for i in range(800)], rng.standard_normal((800, 32)))
    queries = rng.standard_normal((25, 32)).astype(np.float32)
    batch = store.search_batch(queries, 10)
    for q, hits in zip(queries, batch):
        single = store.search(q, 10)
        assert hits.ids == single.ids
        assert hits.scores == pytest.approx(single.scores, abs=1e-6)


def test_numpy_store_rejects_duplicates_and_wrong_dimensions():
    store = NumpyStore()
    store.add(["a"], np.ones((1, 4)))
    with pytest.raises(ValueError, match="already"):
        store.add(["a"], np.ones((1, 4)))
    with pytest.raises(ValueError, match="dimensions"):
        store.add(["b"], np.ones((1, 5)))
    assert store.vectors(["a"]).tolist() == [[0.5, 0.5, 0.5, 0.5]]


# -- chroma ---------------------------------------------------------------------------------------
chromadb = pytest.importorskip("chromadb")
from simworld.memory import ChromaStore


def test_chroma_store_writes_in_batches_and_persists(tmp_path):
    rng = np.random.default_rng(5)
    vecs = rng.standard_normal((6000, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    store = ChromaStore(tmp_path / "chroma", collection="agent-a")
    assert store._batch < 6000  # more than one batch is written
    store.add([f"e{i}" for i in range(6000)], vecs)
    assert len(store) == 6000
    hits = store.search(vecs[42], 3)
    assert hits.ids[0] == "e42" and hits.scores[0] == pytest.approx(1.0, abs=1e-4)
    assert store.vectors(["e9", "e1"]) == pytest.approx(vecs[[9, 1]], abs=1e-6)  # in the order asked
    del store
    again = ChromaStore(tmp_path / "chroma", collection="agent-a")
    assert len(again) == 6000  # on disk
    again.add(["e1"], vecs[1:2])  # written again (a rerun): an upsert, no duplicate-id error
    assert len(again) == 6000
    batch = again.search_batch(vecs[[10, 20]], 1)
    assert [h.ids[0] for h in batch] == ["e10", "e20"]


def _events(n: int) -> list[WorldEvent]:
    words = ["red house", "blue flat", "green cottage", "old barn", "new tower", "small studio"]
    kinds = ["x.bid", "x.sold", "x.ask"]
    return [WorldEvent(i, 10.0 * i, kinds[i % 3], f"b{i % 5}", {"what": words[(i * 7) % 6], "amount": 1000 + i})
            for i in range(n)]


@pytest.mark.parametrize("candidates", [500, 40])
def test_a_stream_on_chroma_retrieves_what_a_stream_on_numpy_retrieves(tmp_path, candidates):
    cfg = MemoryConfig(reflection=ReflectionConfig(enabled=False), candidates=candidates)
    numpy_stream = MemoryStream(cfg, persona=Persona(id="p", name="P"))
    chroma_system = MemorySystem(cfg.model_copy(update={"store": "chroma", "chroma_path": tmp_path / "c"}))
    chroma_stream = chroma_system.stream(Persona(id="p", name="P"))
    for e in _events(300):
        numpy_stream.observe(e)
        chroma_stream.observe(e)
    overlap = []
    for query in ("red house bid", "sold green cottage", "tower", "ask small studio"):
        a = numpy_stream.retrieve(query, k=5, now=3000.0)
        b = chroma_stream.retrieve(query, k=5, now=3000.0)
        if candidates >= 300:  # every memory is a candidate: the same ranking and scores
            assert [r.id for r in a] == [r.id for r in b]
            assert [r.total for r in a] == pytest.approx([r.total for r in b], abs=1e-5)
        assert a[0].id == b[0].id
        overlap.append(len({r.id for r in a} & {r.id for r in b}) / 5)
    assert np.mean(overlap) >= 0.8  # with few candidates, relevance is normalised over them only
    assert chroma_stream.store.name == "chroma"
    assert len(chroma_stream.store) == 300
