"""Recommenders behind one protocol: ``recommend(user_id, k, exclude) -> item ids`` and ``update(feedback)``.

Built in: ``random``, ``popular``, ``item_knn`` (item-item cosine over the training interactions),
``mf`` (PureSVD: a truncated SVD of the rating matrix with scipy/numpy; new feedback is folded in
exactly) and ``oracle`` (scores by the viewers' true interest: an upper bound for calibration). Any
other object with ``recommend`` (and optionally ``update``), or a plain function, is wrapped by
:class:`RecommenderAdapter`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Protocol, cast, runtime_checkable

import numpy as np
from simworld.scenarios.recommender.catalogue import Catalogue, Ratings


@dataclass(frozen=True, slots=True)
class Feedback:
    """One logged reaction: ``kind`` is ``watched``, ``skipped`` or ``rated`` (with ``rating``)."""

    user: str
    item: str
    kind: str
    rating: float | None = None
    t: float = 0.0


@runtime_checkable
class Recommender(Protocol):
    """What the scenario asks of a recommender: ``k`` item ids for a user, never one in ``exclude``; and
    every logged reaction to learn from."""

    def recommend(self, user_id: str, k: int, exclude: Collection[str]) -> list[str]: ...

    def update(self, feedback: Feedback) -> None: ...


@runtime_checkable
class Ranker(Protocol):
    """A user's recommender: answers may hold unknown, excluded or repeated ids (the adapter drops them)."""

    def recommend(self, user_id: str, k: int, exclude: Collection[str]) -> Iterable[object] | None: ...


@runtime_checkable
class Learner(Protocol):
    """A user's recommender that also learns from feedback."""

    def update(self, feedback: Feedback) -> None: ...


#: A plain function ``f(user_id, k, exclude) -> item ids`` works as a recommender too.
RecommendFunction = Callable[[str, int, Collection[str]], Iterable[object] | None]
#: What a ``module:factory`` returns when called with the :class:`RecContext`.
UserRecommender = Ranker | RecommendFunction
UserFactory = Callable[["RecContext"], UserRecommender]


@dataclass
class RecContext:
    """What a recommender may be built from: the catalogue, the training ratings and a random stream.
    ``true_interest`` (user id -> interest per item) is ground truth; only ``oracle`` reads it."""

    catalogue: Catalogue
    train: Ratings
    rng: np.random.Generator
    true_interest: Callable[[str], np.ndarray] | None = None
    rank: int = 16
    neighbours: int = 50
    seed: int = 0
    user_index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.user_index:
            self.user_index = {u: k for k, u in enumerate(self.train.user_ids)}


def pure_svd(train: Ratings, n_items: int, rank: int, seed: int = 0) -> np.ndarray:
    """Item factors Q (n_items x rank, orthonormal columns) of the user x item rating matrix."""
    from scipy.sparse import csr_matrix

    n_users = len(train.user_ids)
    x = csr_matrix((train.ratings, (train.users, train.items)), shape=(n_users, n_items), dtype=np.float64)
    rank = max(1, min(rank, min(n_users, n_items) - 1))
    if 4 * rank >= min(n_users, n_items):  # a small matrix: the full SVD is cheap and exact
        _, _, vt = np.linalg.svd(x.toarray(), full_matrices=False)
        return np.ascontiguousarray(vt[:rank].T)
    from scipy.sparse.linalg import svds

    v0 = np.random.default_rng(seed).random(min(x.shape))  # ARPACK's start vector, fixed for determinism
    _, s, vt = svds(x, k=rank, v0=v0)
    return np.ascontiguousarray(vt[np.argsort(-s, kind="stable")].T)


class _Scored:
    """Ranks the catalogue by a per-user score vector; ties go to the lower item index."""

    def __init__(self, ctx: RecContext) -> None:
        self.cat = ctx.catalogue
        self.index = ctx.catalogue.index
        self.ids = ctx.catalogue.ids

    def scores(self, user_id: str) -> np.ndarray:
        raise NotImplementedError

    def recommend(self, user_id: str, k: int, exclude: Collection[str]) -> list[str]:
        s = self.scores(user_id).astype(np.float64, copy=True)
        if exclude:
            s[[self.index[i] for i in exclude if i in self.index]] = -np.inf
        top = np.argsort(-s, kind="stable")[:k]
        return [self.ids[i] for i in top if s[i] > -np.inf]

    def update(self, feedback: Feedback) -> None:
        return None


class RandomRecommender:
    """Uniformly random unseen items."""

    def __init__(self, ctx: RecContext) -> None:
        self.ids = ctx.catalogue.ids
        self.rng = ctx.rng

    def recommend(self, user_id: str, k: int, exclude: Collection[str]) -> list[str]:
        out: list[str] = []
        n = len(self.ids)
        limit = min(k, n - len(exclude))
        while len(out) < limit:
            item = self.ids[int(self.rng.integers(n))]
            if item not in exclude and item not in out:
                out.append(item)
        return out

    def update(self, feedback: Feedback) -> None:
        return None


class PopularRecommender:
    """Most interactions first (training counts plus every logged watch)."""

    def __init__(self, ctx: RecContext) -> None:
        self.ids = ctx.catalogue.ids
        self.index = ctx.catalogue.index
        self.counts = np.bincount(ctx.train.items, minlength=len(self.ids)).astype(np.float64)
        self._order: list[int] | None = None
        self._pending = 0

    def recommend(self, user_id: str, k: int, exclude: Collection[str]) -> list[str]:
        if self._order is None:
            self._order = np.argsort(-self.counts, kind="stable").tolist()
        out: list[str] = []
        for i in self._order:
            item = self.ids[i]
            if item not in exclude:
                out.append(item)
                if len(out) == k:
                    break
        return out

    #: logged watches between re-rankings (a nightly batch job would be coarser still)
    refresh = 500

    def update(self, feedback: Feedback) -> None:
        if feedback.kind == "watched":
            self.counts[self.index[feedback.item]] += 1.0
            self._pending += 1
            if self._pending >= self.refresh:
                self._order, self._pending = None, 0


class _Profiles(_Scored):
    """Keeps each user's interactions (training plus logged watches) as {item index: rating}."""

    def __init__(self, ctx: RecContext) -> None:
        super().__init__(ctx)
        self.profiles: dict[str, dict[int, float]] = {}
        t = ctx.train
        for u, i, r in zip(t.users.tolist(), t.items.tolist(), t.ratings.tolist()):
            self.profiles.setdefault(t.user_ids[u], {})[i] = r

    def update(self, feedback: Feedback) -> None:
        prof = self.profiles.setdefault(feedback.user, {})
        i = self.index[feedback.item]
        if feedback.kind == "rated" and feedback.rating is not None:
            self._changed(feedback.user, i, feedback.rating - prof.get(i, 0.0))
            prof[i] = feedback.rating
        elif feedback.kind == "watched" and i not in prof:
            prof[i] = 0.0  # a watch without a rating yet; the rating follows as its own feedback

    def _changed(self, user: str, item: int, delta: float) -> None:
        return None


class ItemKNNRecommender(_Profiles):
    """Item-based k-NN: cosine similarity of items over training users, the top ``neighbours`` kept."""

    def __init__(self, ctx: RecContext) -> None:
        super().__init__(ctx)
        from scipy.sparse import csr_matrix

        t = ctx.train
        n = len(self.ids)
        x = csr_matrix((np.ones(len(t)), (t.items, t.users)), shape=(n, len(t.user_ids)))
        sim = (x @ x.T).toarray()
        norms = np.sqrt(np.diag(sim)).copy()
        norms[norms == 0] = 1.0
        sim = sim / norms[:, None] / norms[None, :]
        np.fill_diagonal(sim, 0.0)
        kk = min(ctx.neighbours, n - 1)
        if kk > 0:
            cut = np.partition(sim, n - kk, axis=1)[:, n - kk][:, None]
            sim[sim < cut] = 0.0
        self.sim = sim
        self.fallback = np.log1p(np.bincount(t.items, minlength=n)) * 1e-6  # cold users: popularity

    def scores(self, user_id: str) -> np.ndarray:
        prof = self.profiles.get(user_id)
        if not prof:
            return self.fallback
        scores: np.ndarray = self.sim[list(prof)].sum(axis=0) + self.fallback
        return scores


class PureSVDRecommender(_Profiles):
    """Matrix factorisation by PureSVD (Cremonesi et al. 2010): score = r_u Q Q^T; feedback folds in."""

    def __init__(self, ctx: RecContext) -> None:
        super().__init__(ctx)
        self.q = pure_svd(ctx.train, len(self.ids), ctx.rank, ctx.seed)
        self.p: dict[str, np.ndarray] = {}
        self.fallback = np.log1p(np.bincount(ctx.train.items, minlength=len(self.ids))) * 1e-6

    def _vector(self, user_id: str) -> np.ndarray:
        p = self.p.get(user_id)
        if p is None:
            prof = self.profiles.get(user_id, {})
            items = list(prof)
            p = np.asarray([prof[i] for i in items]) @ self.q[items] if items else np.zeros(self.q.shape[1])
            self.p[user_id] = p
        return p

    def _changed(self, user: str, item: int, delta: float) -> None:
        if user in self.p:
            self.p[user] = self.p[user] + delta * self.q[item]

    def scores(self, user_id: str) -> np.ndarray:
        scores: np.ndarray = self.q @ self._vector(user_id) + self.fallback
        return scores


class OracleRecommender(_Scored):
    """Ranks by the viewer's true interest (ground truth the simulation knows): the best a recommender
    could do, to calibrate the others against."""

    def __init__(self, ctx: RecContext) -> None:
        super().__init__(ctx)
        if ctx.true_interest is None:
            raise ValueError("the oracle needs the viewers' true interest")
        self.truth = ctx.true_interest

    def scores(self, user_id: str) -> np.ndarray:
        return self.truth(user_id)


class RecommenderAdapter:
    """Wraps a user's recommender (a :class:`Ranker`, optionally a :class:`Learner`, or a plain
    function): answers are cut to ``k`` known, unexcluded, distinct ids."""

    def __init__(self, obj: UserRecommender, catalogue: Catalogue) -> None:
        self.obj = obj
        self.index = catalogue.index
        self._recommend: RecommendFunction
        if isinstance(obj, Ranker):
            self._recommend = obj.recommend
        elif callable(obj):
            self._recommend = obj
        else:
            raise TypeError(f"a recommender needs recommend(user_id, k, exclude); got {type(obj).__name__}")
        self._update = obj.update if isinstance(obj, Learner) else None

    def recommend(self, user_id: str, k: int, exclude: Collection[str]) -> list[str]:
        out: list[str] = []
        for item in self._recommend(user_id, k, exclude) or ():
            item = str(item)
            if item in self.index and item not in exclude and item not in out:
                out.append(item)
                if len(out) == k:
                    break
        return out

    def update(self, feedback: Feedback) -> None:
        if self._update is not None:
            self._update(feedback)


BUILTIN: dict[str, Callable[[RecContext], Recommender]] = {
    "random": RandomRecommender, "popular": PopularRecommender, "item_knn": ItemKNNRecommender,
    "mf": PureSVDRecommender, "oracle": OracleRecommender,
}


def check_name(name: str) -> str:
    """Raise ValueError unless ``name`` is built in or an import path ``package.module:attr``."""
    if name in BUILTIN:
        return name
    module, sep, attr = name.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"unknown recommender {name!r} (known: {', '.join(sorted(BUILTIN))}, or module:factory)")
    return name


def import_factory(name: str) -> UserFactory:
    """The factory a ``module:factory`` name points to. The module is imported (the user named it in their
    config); nothing in it is called. ValueError when the module or the attribute cannot be found."""
    module, _, attr = check_name(name).partition(":")
    try:
        found = importlib.import_module(module)
    except ImportError as err:
        raise ValueError(f"cannot import recommender {name!r}: {err}") from None
    try:
        factory: object = getattr(found, attr)
    except AttributeError:
        raise ValueError(f"cannot import recommender {name!r}: module {module!r} has no attribute {attr!r}") from None
    if callable(factory):
        return cast(UserFactory, factory)  # a user's object: only that it is callable can be checked here
    raise ValueError(f"recommender {name!r} is not callable (a factory is called with the RecContext)")


def make_recommender(name: str, ctx: RecContext, factory: UserFactory | None = None) -> Recommender:
    """A built-in by name, or ``module:factory`` (``factory`` if already imported by
    :func:`import_factory`) called with the :class:`RecContext` and wrapped in the adapter."""
    check_name(name)
    if name in BUILTIN:
        return BUILTIN[name](ctx)
    if factory is None:
        factory = import_factory(name)
    return RecommenderAdapter(factory(ctx), ctx.catalogue)
