"""The item catalogue (id, title, genres, year, popularity, latent quality) and rating histories."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np

#: MovieLens-100k's genres, in its column order (MovieLens-1M uses the same names but "unknown").
GENRES: tuple[str, ...] = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)
GENRE_INDEX = {g: i for i, g in enumerate(GENRES)}


class PublicItem(TypedDict):
    """What a viewer sees of an item (a model brain's prompt shows it)."""

    id: str
    title: str
    genres: list[str]
    year: int


#: The catalogue's logged columns (``recommender.catalogue``).
CatalogueColumns = dict[str, list[str] | list[int] | list[float] | list[list[str]]]


@dataclass
class Catalogue:
    """Items as columns (index i is the i-th item); ids are strings at every public boundary."""

    ids: list[str]
    titles: list[str]
    years: np.ndarray  # int, 0 when unknown
    genres: np.ndarray  # bool (n_items, len(GENRES))
    popularity: np.ndarray  # float: training interactions (or a synthetic draw)
    quality: np.ndarray  # float: latent quality, about N(0, 1)
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.index:
            self.index = {item: i for i, item in enumerate(self.ids)}
        counts = self.genres.sum(axis=1, keepdims=True)
        #: genre rows scaled to unit length, so a taste vector scores items with many genres fairly
        self.genre_unit = (self.genres / np.sqrt(np.maximum(counts, 1))).astype(np.float64)
        self.genre_lists: list[list[str]] = [[GENRES[j] for j in np.flatnonzero(row)] for row in self.genres]
        pop = np.log1p(self.popularity)
        self.popularity_z = (pop - pop.mean()) / (pop.std() or 1.0)
        self._public: list[PublicItem | None] = [None] * len(self.ids)
        # per-item Python columns: scoring a page of four items is faster without numpy
        unit = self.genre_unit
        self.genre_weights: list[tuple[tuple[int, float], ...]] = [
            tuple((int(j), float(unit[i, j])) for j in np.flatnonzero(self.genres[i])) for i in range(len(self.ids))
        ]
        self.quality_list: list[float] = self.quality.tolist()
        self.popularity_z_list: list[float] = self.popularity_z.tolist()

    def __len__(self) -> int:
        return len(self.ids)

    def public(self, i: int) -> PublicItem:
        """What a user sees of item ``i`` (built once per item; treat as read-only)."""
        item = self._public[i]
        if item is None:
            item = self._public[i] = PublicItem(id=self.ids[i], title=self.titles[i], genres=self.genre_lists[i],
                                                year=int(self.years[i]))
        return item

    def table(self) -> CatalogueColumns:
        """The catalogue as logged once per run (columns, so analysis can rebuild it)."""
        return {
            "ids": self.ids, "titles": self.titles, "years": self.years.tolist(),
            "genres": self.genre_lists, "popularity": np.round(self.popularity, 6).tolist(),
            "quality": np.round(self.quality, 6).tolist(),
        }


@dataclass
class Ratings:
    """Rating events as parallel columns; ``users``/``items`` are indices into ``user_ids``/the catalogue."""

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    times: np.ndarray
    user_ids: list[str]

    def __len__(self) -> int:
        return len(self.users)

    def subset(self, mask: np.ndarray) -> Ratings:
        return Ratings(self.users[mask], self.items[mask], self.ratings[mask], self.times[mask], self.user_ids)

    def by_user(self) -> list[np.ndarray]:
        """Row indices of each user's ratings, in time order (stable for equal times)."""
        order = np.lexsort((self.times, self.users))
        bounds = np.searchsorted(self.users[order], np.arange(len(self.user_ids) + 1))
        return [order[bounds[u]: bounds[u + 1]] for u in range(len(self.user_ids))]


def generate_catalogue(n_items: int, rng: np.random.Generator) -> Catalogue:
    """A seeded synthetic catalogue: 1-3 genres per item, Zipf-like popularity, normal quality."""
    n_genres = len(GENRES)
    genre_p = rng.dirichlet(np.full(n_genres - 1, 2.0))
    genres = np.zeros((n_items, n_genres), dtype=bool)
    k = rng.choice([1, 2, 3], size=n_items, p=[0.4, 0.4, 0.2])
    for i in range(n_items):
        genres[i, 1 + rng.choice(n_genres - 1, size=k[i], replace=False, p=genre_p)] = True
    ranks = rng.permutation(n_items) + 1
    popularity = np.round(1000.0 / ranks**0.8, 3)
    quality = rng.normal(0.0, 1.0, n_items)
    years = rng.integers(1950, 2024, n_items)
    ids = [f"m{i + 1:05d}" for i in range(n_items)]
    titles = [f"Movie {i + 1} ({y})" for i, y in enumerate(years)]
    return Catalogue(ids, titles, years, genres, popularity, quality)
