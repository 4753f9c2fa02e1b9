"""Models fitted on training ratings: what a fitted viewer watches and how it rates, and the baselines it
is compared with.

**Watching** (:class:`WatchModel`): ten item scores per user - popularity, EASE, RP3beta, item-kNN and
PureSVD over the user's history weighted towards its latest ratings (the recency of its tastes), EASE over
the whole history, "next" (what users rated within ``sequence`` ratings after the items this user rated
last), "late" (how late in its raters' histories an item tends to come), and from the rating model fitted
on the same ratings "quality" (the item's bias) and "liking" (the user's expected liking of the item:
item bias plus taste; viewers watch what they expect to like) - each standardised per user,
combined by a logistic model (with the user's activity and the scores' pairwise products as terms). The
weights come from a logistic regression on a validation split made *inside* the training ratings (each
user's latest share again held out, negatives drawn from items the user has not rated), so nothing held
out is ever looked at. How many of the shown items a user watches is calibrated to its own activity on
the same inner split.

**Rating** (:class:`RatingModel`): the global mean plus user and item biases plus a low-rank taste term
(alternating least squares on the residuals; a user's taste includes the vectors of the items it rated,
whatever their stars, as in SVD++) plus drift, on the data's own star scale (whole stars 1-5, or
half stars 0.5-5 as in the MovieLens "latest" releases). Stars come from cut points: the quantiles of the
model's expectations for items it has not seen (the inner held-out part) at the training histogram's
shares, so the stars of later, unseen items fall like the training ratings. Viewers in the scenario rate
with noise of the model's unexplained spread (the residuals' standard deviation on the inner split), cut at
points matched the same way, so that their stars for what a recommender shows spread like real ratings.

**Fixed settings** (:class:`ViewerSettings`: EASE's strength, RP3beta's beta, the SVD rank, the recency
windows, the logistic L2, the spans of "next" and "late", whether "quality" and "liking" are used, the
rating model's rank and strengths, the implicit taste's strength) are not fitted per data set: their
defaults were chosen once by validation inside the training ratings only (a second time split of the training part,
see :mod:`simworld.scenarios.recommender.selection`), on MovieLens-100k and a generated MovieLens-1M-format
set together; no held-out rating was looked at.

Dense (users x items) work is done in chunks of users; item x item matrices bound the catalogue size
(about 20,000 items).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from simworld.scenarios.recommender.catalogue import Ratings

from simworld.errors import BadInput

if TYPE_CHECKING:
    from simworld.scenarios.recommender.policies import Rater

#: the item scores a fitted viewer combines (``WatchModel.weights`` has two per name: plain and x activity)
FEATURES = ("popularity", "ease_recent", "rp3_recent", "knn_recent", "svd_recent", "ease", "next", "late", "quality",
            "liking")
MAX_ITEMS = 20_000
CHUNK = 256


def time_split(ratings: Ratings, holdout: float) -> np.ndarray:
    """Mask of the held-out rows: each user's latest ``holdout`` share (at least one; users with one
    rating keep it). Ties in time keep the file order."""
    order = np.lexsort((np.arange(len(ratings)), ratings.times, ratings.users))
    users = ratings.users[order]
    counts = np.bincount(users, minlength=len(ratings.user_ids))
    k = np.where(counts >= 2, np.maximum(1, np.rint(counts * holdout)), 0).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(order)) - start[users]  # position within the user's time-ordered ratings
    mask = np.zeros(len(ratings), dtype=bool)
    mask[order[rank >= counts[users] - k[users]]] = True
    return mask


def _check_size(n_items: int) -> None:
    if n_items > MAX_ITEMS:
        raise BadInput("items", f"{n_items} items: fitted viewers handle at most {MAX_ITEMS} (item x item models)")


@dataclass(frozen=True)
class ViewerSettings:
    """The fixed settings of the fitted viewers' models. The defaults were chosen by validation inside the
    training ratings only (:mod:`simworld.scenarios.recommender.selection`), the same for every data set."""

    ease_lambda: float = 10_000.0  # EASE's L2 strength
    rp3_beta: float = 0.7  # RP3beta's popularity penalty
    rank: int = 16  # PureSVD factors of the watch model
    recency: tuple[float, float, float] = (10.0, 30.0, 100.0)  # windows (ratings): kNN; RP3beta, SVD; EASE
    l2: float = 10.0  # the logistic combination's L2 strength
    rating_rank: int = 16  # taste factors of the rating model
    rating_lambda: float = 10.0  # ALS L2 strength
    bias_lambda: float = 2.0  # shrinkage of user and item biases (ratings' worth)
    sequence: int = 20  # "next": how many later ratings of the same user count as following one (0: no feature)
    late: float = 2.0  # "late": shrinkage (ratings' worth) of an item's mean position share (0: no feature)
    implicit: float = 30.0  # rating model: L2 strength of the implicit taste vectors (SVD++ style; 0: none)
    explicit: bool = True  # "quality" and "liking": the rating model's item bias and expected liking as watch scores


DEFAULTS = ViewerSettings()


@dataclass
class ItemModels:
    """Item x item matrices and item columns fitted on one set of ratings."""

    n_users: int
    n_items: int
    popularity: np.ndarray
    ease: np.ndarray
    rp3: np.ndarray
    knn: np.ndarray
    svd: np.ndarray  # item factors (n_items, rank)
    history: list[np.ndarray]  # per user, item indices in time order
    recency: tuple[float, float, float] = DEFAULTS.recency
    following: np.ndarray | None = None  # item x item: how often j came within ``sequence`` ratings after i
    late: np.ndarray | None = None  # per item: how late in its raters' histories it comes (shrunk mean share)
    #: the rating model's item biases and taste vectors (users, items): "quality" and "liking"
    taste: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @classmethod
    def fit(cls, train: Ratings, n_items: int, settings: ViewerSettings = DEFAULTS) -> ItemModels:
        _check_size(n_items)
        ease_lambda, rp3_beta, rank = settings.ease_lambda, settings.rp3_beta, settings.rank
        from scipy.sparse import csr_matrix

        n_users = len(train.user_ids)
        x = csr_matrix((np.ones(len(train)), (train.users, train.items)), shape=(n_users, n_items))
        x.data[:] = 1.0  # a repeated (user, item) counts once
        # item x item work in place where it can be (a 10,000-item catalogue makes each matrix 0.8 GB)
        g = (x.T @ x).toarray()
        counts = np.diag(g).copy()
        norms = np.sqrt(np.maximum(counts, 1.0))
        knn = g / norms[:, None]
        knn /= norms[None, :]
        np.fill_diagonal(knn, 0.0)
        knn32 = knn.astype(np.float32)
        del knn
        g[np.diag_indices(n_items)] += ease_lambda
        p = _spd_inverse(g)  # in g's memory
        del g
        p /= -np.diag(p)[None, :]  # EASE's weights
        np.fill_diagonal(p, 0.0)
        ease32 = p.astype(np.float32)
        del p
        user_deg = np.asarray(x.sum(axis=1)).ravel()
        pui = csr_matrix(x.multiply(1.0 / np.maximum(user_deg, 1.0)[:, None]))
        piu = x.T.multiply(1.0 / np.maximum(counts, 1.0)[:, None]).tocsr()
        rp3 = (piu @ pui).toarray()
        rp3 /= np.maximum(counts, 1.0)[None, :] ** rp3_beta
        rp3_32 = rp3.astype(np.float32)
        del rp3
        from simworld.scenarios.recommender.algorithms import pure_svd

        svd = pure_svd(Ratings(train.users, train.items, np.ones(len(train)), train.times, train.user_ids),
                       n_items, rank)
        order = np.lexsort((np.arange(len(train)), train.times, train.users))
        bounds = np.searchsorted(train.users[order], np.arange(n_users + 1))
        history = [train.items[order[bounds[u]: bounds[u + 1]]] for u in range(n_users)]
        following = None
        if settings.sequence > 0:
            seq_items, seq_users = train.items[order], train.users[order]
            a, b = [], []
            for o in range(1, settings.sequence + 1):
                same = seq_users[o:] == seq_users[:-o]
                a.append(seq_items[:-o][same])
                b.append(seq_items[o:][same])
            t = csr_matrix((np.ones(sum(len(x) for x in a)), (np.concatenate(a), np.concatenate(b))),
                           shape=(n_items, n_items)).toarray()
            rows, cols = np.sqrt(np.maximum(t.sum(axis=1), 1.0)), np.sqrt(np.maximum(t.sum(axis=0), 1.0))
            t /= rows[:, None]
            t /= cols[None, :]
            following = t.astype(np.float32)
            del t
        late = None
        if settings.late > 0 and len(train):
            n_u = np.bincount(train.users, minlength=n_users)
            start = np.concatenate([[0], np.cumsum(n_u)[:-1]])
            pos = np.arange(len(order)) - start[train.users[order]]
            share = pos / np.maximum(n_u[train.users[order]] - 1, 1)
            its = train.items[order]
            late = ((np.bincount(its, share, n_items) + settings.late * 0.5)
                    / (np.bincount(its, minlength=n_items) + settings.late)).astype(np.float32)
        taste = None
        if settings.explicit and len(train):
            rm = RatingModel.fit_raw(train, n_items, settings)
            taste = (rm.item_bias.astype(np.float32), rm.p.astype(np.float32), rm.q.astype(np.float32))
        return cls(n_users, n_items, np.log1p(counts), ease32, rp3_32, knn32, svd.astype(np.float32), history,
                   settings.recency, following, late, taste)

    def activity(self) -> np.ndarray:
        return np.asarray([len(np.unique(h)) for h in self.history], dtype=np.float64)

    def profile(self, users: np.ndarray, tau: float | None) -> np.ndarray:
        """Users' histories as rows (n, n_items): 1 per item, or weights decaying with the number of
        later ratings (``exp(-later / tau)``)."""
        out = np.zeros((len(users), self.n_items), dtype=np.float32)
        for row, u in enumerate(users):
            h = self.history[u]
            if not len(h):
                continue
            if tau is None:
                out[row, h] = 1.0
            else:
                w = np.exp(-(len(h) - 1 - np.arange(len(h))) / tau).astype(np.float32)
                np.maximum.at(out[row], h, w)
        return out

    def features(self, users: np.ndarray) -> np.ndarray:
        """(len(users), n_items, len(FEATURES)) item scores, each standardised per user."""
        full = self.profile(users, None)
        short, middle, long = (self.profile(users, t) for t in self.recency)
        raw = [np.broadcast_to(self.popularity.astype(np.float32), full.shape), long @ self.ease, middle @ self.rp3,
               short @ self.knn, (middle @ self.svd) @ self.svd.T, full @ self.ease,
               short @ self.following if self.following is not None else np.zeros_like(full),
               np.broadcast_to(self.late, full.shape) if self.late is not None else np.zeros_like(full)]
        if self.taste is not None:
            quality, p, q = self.taste
            raw += [np.broadcast_to(quality, full.shape), p[users] @ q.T + quality[None, :]]
        else:
            raw += [np.zeros_like(full), np.zeros_like(full)]
        f = np.stack(raw, axis=-1)
        f -= f.mean(axis=1, keepdims=True)
        f /= f.std(axis=1, keepdims=True) + 1e-9
        return f


_PAIRS = [(i, j) for i in range(len(FEATURES)) for j in range(i, len(FEATURES))]


def _design(f: np.ndarray, act: np.ndarray) -> np.ndarray:
    """Features, features x standardised log activity, and the features' pairwise products and squares."""
    pairs = np.stack([f[..., i] * f[..., j] for i, j in _PAIRS], axis=-1)
    return np.concatenate([f, f * act[..., None], pairs], axis=-1)


def logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 25) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method; weights with the intercept last."""
    xb = np.concatenate([x, np.ones((len(x), 1))], axis=1).astype(np.float64)
    w = np.zeros(xb.shape[1])
    reg = np.full(xb.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (p - y) + reg * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w


@dataclass
class WatchModel:
    """Which items a fitted viewer watches (a score per item) and how many (its share of its activity)."""

    items: ItemModels
    weights: np.ndarray  # see _design
    watch_rate: float  # items watched per training rating
    act_mean: float
    act_sd: float

    @classmethod
    def fit(cls, train: Ratings, n_items: int, holdout: float, seed: int, negatives: int = 1,
            settings: ViewerSettings = DEFAULTS, item_models: Callable[[Ratings], ItemModels] | None = None
            ) -> WatchModel:
        """Fit on ``train`` alone: split it again by time, learn the weights on the inner held-out items
        against ``negatives`` unrated items each, then refit the item models on all of ``train``.
        ``item_models`` (ratings -> fitted item models) lets a caller reuse fits across settings."""
        fit_items = item_models or (lambda part: ItemModels.fit(part, n_items, settings))
        inner = time_split(train, holdout)
        fit_part, val = train.subset(~inner), train.subset(inner)
        models = fit_items(fit_part)
        act = np.log(np.maximum(models.activity(), 1.0))
        act_mean, act_sd = float(act.mean()), float(act.std() or 1.0)
        z = (act - act_mean) / act_sd
        rated = _rated_sets(train)
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5157]))
        xs, ys = [], []
        val_rows = _rows_by_user(val)
        users = np.flatnonzero([len(r) for r in val_rows])
        for lo in range(0, len(users), CHUNK):
            chunk = users[lo: lo + CHUNK]
            f = models.features(chunk)
            for row, u in enumerate(chunk):
                pos = np.unique(val.items[val_rows[u]])
                neg = _draw_unrated(rng, n_items, rated[u], negatives * len(pos))
                picked = np.concatenate([pos, neg])
                xs.append(_design(f[row, picked], np.full(len(picked), z[u])))
                ys.append(np.concatenate([np.ones(len(pos)), np.zeros(len(neg))]))
        del models  # before the item models of all of ``train`` are fitted
        if not xs:
            raise BadInput("ratings", "too few ratings per user to fit viewers (each needs at least two)")
        w = logistic(np.concatenate(xs), np.concatenate(ys), settings.l2)[:-1]
        fit_n = np.bincount(fit_part.users, minlength=len(train.user_ids)).sum()
        rate = float(len(val) / max(fit_n, 1))
        return cls(fit_items(train), w, rate, act_mean, act_sd)

    def scores(self, users: np.ndarray) -> np.ndarray:
        """(len(users), n_items) watch scores."""
        act = (np.log(np.maximum(self.items.activity()[users], 1.0)) - self.act_mean) / self.act_sd
        f = self.items.features(users)
        n = len(FEATURES)
        w = self.weights.astype(np.float32)
        quad = np.zeros((n, n), dtype=np.float32)  # the pairwise terms as a quadratic form
        for k, (i, j) in enumerate(_PAIRS):
            quad[i, j] += w[2 * n + k]
        out: np.ndarray = (f @ w[:n] + act[:, None].astype(np.float32) * (f @ w[n: 2 * n])
                           + np.einsum("uif,uif->ui", f @ quad, f))
        return out

    def count(self, user: int, shown: int) -> int:
        """How many of ``shown`` items the user watches: its activity times its watch rate."""
        return int(min(shown, max(1, round(self.watch_rate * len(self.items.history[user])))))


def _spd_inverse(a: np.ndarray, block: int = 1024) -> np.ndarray:
    """The inverse of a symmetric positive definite matrix by Cholesky (LAPACK potrf + potri, about a
    third of the work of a general inverse), computed in ``a``'s own memory (``a`` is overwritten)."""
    from scipy.linalg import lapack

    # a symmetric C-ordered matrix is its own transpose, and the transpose is Fortran-ordered: LAPACK then
    # works in place instead of on a copy
    c, info = lapack.dpotrf(a.T, lower=False, clean=False, overwrite_a=True)
    if info == 0:
        inv, info = lapack.dpotri(c, lower=False, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"the matrix is not positive definite (LAPACK info {info})")
    n = len(inv)
    for lo in range(0, n, block):  # potri fills the upper triangle: mirror it, a block of rows at a time
        inv[lo: lo + block, :lo] = inv[:lo, lo: lo + block].T
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        sub = inv[lo:hi, lo:hi]
        lower = np.tril_indices(hi - lo, -1)
        sub[lower] = sub.T[lower]
    result: np.ndarray = inv.T  # symmetric: the C-ordered view of the same memory
    return result


def _rows_by_user(r: Ratings) -> list[np.ndarray]:
    order = np.argsort(r.users, kind="stable")
    bounds = np.searchsorted(r.users[order], np.arange(len(r.user_ids) + 1))
    return [order[bounds[u]: bounds[u + 1]] for u in range(len(r.user_ids))]


def _rated_sets(r: Ratings) -> list[np.ndarray]:
    return [np.unique(r.items[rows]) for rows in _rows_by_user(r)]


def _draw_unrated(rng: np.random.Generator, n_items: int, rated: np.ndarray, k: int) -> np.ndarray:
    pool = np.setdiff1d(np.arange(n_items), rated, assume_unique=True)
    return rng.choice(pool, size=min(k, len(pool)), replace=False) if k else pool[:0]


def scale_of(ratings: np.ndarray) -> np.ndarray:
    """The star levels of a rating scale: 1-5 for whole stars, 0.5-5 in halves when any rating is a half."""
    if len(ratings) and np.any(ratings != np.rint(ratings)):
        return np.arange(0.5, 5.01, 0.5)
    return np.arange(1.0, 6.0)


def level_counts(ratings: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """How many ratings sit at each level (a rating counts at its nearest level)."""
    edges = (levels[1:] + levels[:-1]) / 2
    return np.bincount(np.searchsorted(edges, ratings), minlength=len(levels))


@dataclass
class RatingModel:
    """Biases plus taste plus drift: ``mu + b_user + b_item + p_user . q_item + shift + beta * trend_user``
    (``p_user`` includes the implicit taste, see :class:`_Implicit`),
    then stars by cut points. ``shift`` (how much later ratings sit below the model) and ``beta`` (how far
    a user's own recent drift carries on) are learned on an inner time split of the training ratings."""

    mu: float
    user_bias: np.ndarray
    item_bias: np.ndarray
    p: np.ndarray
    q: np.ndarray
    cuts: np.ndarray  # ascending cut points between consecutive levels
    shift: float = 0.0
    beta: float = 0.0
    trend: np.ndarray | None = None  # per user: shrunk mean residual of its latest training ratings
    levels: np.ndarray = field(default_factory=lambda: np.arange(1.0, 6.0))  # the stars a viewer gives
    #: what the model does not explain, for viewers that rate with noise (the scenario's): the residuals'
    #: standard deviation on unseen items, and the cut points for expectation + that noise
    noise: float = 0.0
    noisy_cuts: np.ndarray | None = None

    @staticmethod
    def biases(train: Ratings, n_items: int, lam: float = 5.0, iters: int = 10
               ) -> tuple[float, np.ndarray, np.ndarray]:
        """Global mean and regularised user and item biases (alternating)."""
        n_users = len(train.user_ids)
        mu = float(train.ratings.mean()) if len(train) else 3.5
        bu, bi = np.zeros(n_users), np.zeros(n_items)
        nu = np.bincount(train.users, minlength=n_users) + lam
        ni = np.bincount(train.items, minlength=n_items) + lam
        for _ in range(iters):
            bi = np.bincount(train.items, train.ratings - mu - bu[train.users], n_items) / ni
            bu = np.bincount(train.users, train.ratings - mu - bi[train.items], n_users) / nu
        return mu, bu, bi

    @classmethod
    def fit_raw(cls, train: Ratings, n_items: int, settings: ViewerSettings = DEFAULTS, iters: int = 8,
                seed: int = 0, holdout: float = 0.2) -> RatingModel:
        rank, lam = settings.rating_rank, settings.rating_lambda
        mu, bu, bi = cls.biases(train, n_items, settings.bias_lambda)
        res = train.ratings - mu - bu[train.users] - bi[train.items]
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0xA15]))
        n_users = len(train.user_ids)
        p = rng.normal(0, 0.1, (n_users, rank))
        q = rng.normal(0, 0.1, (n_items, rank))
        implicit = _Implicit(train, n_items, rank, settings.implicit) if settings.implicit > 0 else None
        z = np.zeros_like(p)  # the implicit taste: the user's rated items' vectors (scaled sum)
        for _ in range(iters):
            off = res if implicit is None else res - np.einsum("ij,ij->i", z[train.users], q[train.items])
            p = _als_side(train.users, train.items, off, q, n_users, lam)
            q = _als_side(train.items, train.users, res, p + z, n_items, lam)
            if implicit is not None:
                z = implicit.fit(res, p, q)
        m = cls(mu, bu, bi, p + z, q, np.asarray([1.5, 2.5, 3.5, 4.5]))
        resid = train.ratings - m.expected(train.users, train.items)
        late = time_split(train, holdout)
        m.trend = (np.bincount(train.users[late], resid[late], n_users)
                   / (np.bincount(train.users[late], minlength=n_users) + 5.0))
        return m

    @classmethod
    def fit(cls, train: Ratings, n_items: int, holdout: float, seed: int = 0, settings: ViewerSettings = DEFAULTS,
            levels: np.ndarray | None = None) -> RatingModel:
        """Fit on ``train`` alone. On an inner time split of ``train``: the drift (``shift``, ``beta``) by
        least squares, and the cut points: the quantiles of the inner model's expectations for the items
        it has not seen (the inner held-out part) at the training histogram's shares, so that the stars
        of unseen items fall like the training ratings. ``levels``: the stars given (default: the training
        ratings' scale, :func:`scale_of`)."""
        levels = scale_of(train.ratings) if levels is None else np.asarray(levels, dtype=np.float64)
        inner = time_split(train, holdout)
        fit_part, val = train.subset(~inner), train.subset(inner)
        m = cls.fit_raw(fit_part, n_items, settings, seed=seed, holdout=holdout)
        plain = m.expected(val.users, val.items)
        resid = val.ratings - plain
        shift = float(resid.mean()) if len(resid) else 0.0
        x = m.trend[val.users] if m.trend is not None else np.zeros(len(val))
        beta = float(np.sum((resid - shift) * x) / np.sum(x * x)) if np.sum(x * x) > 0 else 0.0
        m.shift, m.beta = shift, float(np.clip(beta, 0.0, 1.5))
        unseen = m.expected(val.users, val.items)
        full = cls.fit_raw(train, n_items, settings, seed=seed, holdout=holdout)
        full.shift, full.beta, full.levels = m.shift, m.beta, levels
        if not len(unseen):
            unseen = full.expected(train.users, train.items)
        full.cuts = _cuts(train.ratings, unseen, levels)
        full.noise = float(np.std(val.ratings - unseen)) if len(val) > 1 else 0.0
        z = np.random.default_rng(np.random.SeedSequence([seed, 0x5EA])).standard_normal((4, len(unseen)))
        full.noisy_cuts = _cuts(train.ratings, (unseen[None, :] + full.noise * z).ravel(), levels)
        return full

    def expected(self, users: np.ndarray, items: np.ndarray, drift: bool = True) -> np.ndarray:
        out: np.ndarray = (self.mu + self.user_bias[users] + self.item_bias[items]
                           + np.einsum("ij,ij->i", self.p[users], self.q[items]))
        if drift:
            out += self.shift
            if self.trend is not None:
                out += self.beta * self.trend[users]
        return out

    def raters(self) -> list[Rater]:
        """One :class:`Rater` per user (Python lists shared across users): stars for the expectation plus
        normal noise of the model's unexplained spread (``noise``), cut at ``noisy_cuts``, so that the
        stars of unseen items fall like the training ratings with the spread real ratings have."""
        from simworld.scenarios.recommender.policies import Rater

        base = self.mu + self.user_bias + self.shift
        if self.trend is not None:
            base = base + self.beta * self.trend
        bi, q = self.item_bias.tolist(), self.q.tolist()
        cuts = (self.noisy_cuts if self.noisy_cuts is not None else self.cuts).tolist()
        levels = None if np.array_equal(self.levels, np.arange(1.0, 6.0)) else self.levels.tolist()  # None: int stars
        return [Rater(b, p, bi, q, cuts, levels, self.noise) for b, p in zip(base.tolist(), self.p.tolist())]

    def stars(self, expected: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.levels[np.searchsorted(self.cuts, expected)]
        return out


def _cuts(ratings: np.ndarray, pred: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Cut points between ``levels``: the quantiles of ``pred`` at the cumulative shares of ``ratings``'
    histogram over the levels (a level no rating sits at gets no room)."""
    counts = level_counts(ratings, levels)
    shares = np.cumsum(counts)[:-1] / max(int(counts.sum()), 1)
    if not len(pred):
        mid: np.ndarray = (levels[1:] + levels[:-1]) / 2
        return mid
    cuts: np.ndarray = np.maximum.accumulate(np.quantile(pred, np.clip(shares, 0.0, 1.0)))
    return cuts


class _Implicit:
    """SVD++'s implicit taste for alternating least squares: a user's taste is ``p_u + z_u`` with
    ``z_u = |N(u)|^-1/2 sum_{j in N(u)} y_j`` over the items it rated (which, not how). The ``y`` are
    fitted by steepest descent with exact line search on the squared error plus ``lam |y|^2`` (the
    objective is quadratic in ``y``), a few steps per ALS sweep."""

    def __init__(self, train: Ratings, n_items: int, rank: int, lam: float, steps: int = 3) -> None:
        from scipy.sparse import csr_matrix

        n_users = len(train.user_ids)
        n = csr_matrix((np.ones(len(train)), (train.users, train.items)), shape=(n_users, n_items))
        n.sum_duplicates()
        n.data[:] = 1.0
        deg = np.sqrt(np.maximum(np.asarray(n.sum(axis=1)).ravel(), 1.0))
        self.n = csr_matrix(n.multiply(1.0 / deg[:, None]))
        self.nt = self.n.T.tocsr()
        # the (user, item) of every rating as a sparse matrix, to sum errors x item vectors per user
        self.r = csr_matrix((np.ones(len(train)), (train.users, np.arange(len(train)))), shape=(n_users, len(train)))
        self.users, self.items = train.users, train.items
        self.y = np.zeros((n_items, rank))
        self.lam, self.steps = lam, steps

    def fit(self, res: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Improve ``y`` for fixed ``p`` and ``q``; returns the users' implicit tastes ``z``."""
        u, qi = self.users, q[self.items]
        z = self.n @ self.y
        for _ in range(self.steps):
            e = res - np.einsum("ij,ij->i", (p + z)[u], qi)
            g = self.lam * self.y - self.nt @ (self.r @ (e[:, None] * qi))
            dz = self.n @ g
            dpred = np.einsum("ij,ij->i", dz[u], qi)
            den = float(np.sum(dpred * dpred) + self.lam * np.sum(g * g))
            if den <= 0.0:
                break
            step = -float(np.sum(e * dpred) - self.lam * np.sum(self.y * g)) / den
            self.y -= step * g
            z = z - step * dz
        out: np.ndarray = z
        return out


def _als_side(rows: np.ndarray, cols: np.ndarray, res: np.ndarray, other: np.ndarray, n: int, lam: float
              ) -> np.ndarray:
    """One ALS half-step: for every row entity, ridge regression of its residuals on the other side. An
    entity's Gram matrix is the sum of its partners' outer products, so it is one sparse (entity x
    partner) product with the partners' flattened outer products: k x k work per partner, not per rating."""
    from scipy.sparse import csr_matrix

    m, k = other.shape
    count = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, m))  # repeated pairs add up
    gram = np.asarray(count @ (other[:, :, None] * other[:, None, :]).reshape(m, k * k)).reshape(n, k, k)
    gram += lam * np.eye(k)[None]
    b = np.asarray(csr_matrix((res, (rows, cols)), shape=(n, m)) @ other)
    out: np.ndarray = np.linalg.solve(gram, b[..., None])[..., 0]
    return out
