"""Rating data loaders and writers.

Formats: MovieLens-100k (``u.item``/``u.data``), MovieLens-1M (``movies.dat``/``ratings.dat``), the
MovieLens "latest" CSV format of the 20M/25M/32M and ml-latest(-small) releases (``ratings.csv`` with
``userId,movieId,rating,timestamp``, half stars allowed, and ``movies.csv`` with ``movieId,title,genres``)
and a plain CSV (a file, or a folder's ``ratings.csv``, with the header ``user,item,rating,timestamp``;
ids may be any text) with an optional ``items.csv`` (``item,title,genres``; genres ``|``-separated).
CSV files are read with pandas (the ``analysis`` extra), not line by line.

No MovieLens data ships with simworld (its licence forbids redistribution): point these at a folder you
downloaded. A malformed line is a :class:`BadInput` naming the file, the line number and the field.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from simworld.scenarios.recommender.catalogue import GENRE_INDEX, GENRES, Catalogue, Ratings

from simworld.errors import BadInput

_YEAR = re.compile(r"\((\d{4})\)\s*$")
_ENCODING = "latin-1"  # both releases are ISO-8859-1


def detect(path: Path) -> str:
    """``"100k"`` or ``"1m"`` by the files present in ``path``."""
    if not path.exists():
        raise BadInput(str(path), "no such folder")
    if not path.is_dir():
        raise BadInput(str(path), "not a folder (give the MovieLens folder, e.g. ml-100k/)")
    if (path / "u.item").is_file() and (path / "u.data").is_file():
        return "100k"
    if (path / "movies.dat").is_file() and (path / "ratings.dat").is_file():
        return "1m"
    raise BadInput(str(path), "holds neither u.item + u.data (MovieLens-100k) nor movies.dat + ratings.dat (MovieLens-1M)")


def load_ratings(path: str | os.PathLike[str]) -> tuple[Catalogue, Ratings]:
    """The catalogue and all ratings of a MovieLens-100k/-1M folder, a "latest"-format CSV folder, or a
    plain ratings CSV (a file, or a folder with ``ratings.csv``)."""
    from simworld.scenarios.recommender.csvdata import csv_kind, load_csv

    p = Path(path)
    kind = csv_kind(p)
    return load_csv(p, kind) if kind is not None else load_movielens(p)


def load_movielens(path: str | os.PathLike[str]) -> tuple[Catalogue, Ratings]:
    """The catalogue and all ratings of a MovieLens-100k or -1M folder."""
    path = Path(path)
    if detect(path) == "100k":
        items = _read_items_100k(path / "u.item")
        raw = _read_ratings(path / "u.data", "\t", 4)
    else:
        items = _read_items_1m(path / "movies.dat")
        raw = _read_ratings(path / "ratings.dat", "::", 4)
    return _assemble(items, raw, path)


def _int(file: Path, lineno: int, name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise BadInput(str(file), f"{name} must be an integer, got {text!r}", f"line {lineno}, field {name}") from None


def _lines(file: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line."""
    with file.open(encoding=_ENCODING, newline="") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\r\n")
            if line.strip():
                yield lineno, line


def _year(title: str, date: str = "") -> int:
    m = _YEAR.search(title)
    if m:
        return int(m.group(1))
    tail = date.strip()[-4:]
    return int(tail) if tail.isdigit() else 0


def _read_items_100k(file: Path) -> list[tuple[str, str, int, list[int]]]:
    out = []
    n = 5 + len(GENRES)
    for lineno, line in _lines(file):
        parts = line.split("|")
        if len(parts) != n:
            raise BadInput(str(file), f"expected {n} '|'-separated fields, found {len(parts)}", f"line {lineno}")
        item = str(_int(file, lineno, "movie id", parts[0]))
        flags = []
        for j, flag in enumerate(parts[5:]):
            if flag not in ("0", "1"):
                raise BadInput(str(file), f"genre flag must be 0 or 1, got {flag!r}", f"line {lineno}, field {GENRES[j]}")
            if flag == "1":
                flags.append(j)
        out.append((item, parts[1], _year(parts[1], parts[2]), flags))
    return out


def _read_items_1m(file: Path) -> list[tuple[str, str, int, list[int]]]:
    out = []
    for lineno, line in _lines(file):
        parts = line.split("::")
        if len(parts) != 3:
            raise BadInput(str(file), f"expected 3 '::'-separated fields, found {len(parts)}", f"line {lineno}")
        item = str(_int(file, lineno, "movie id", parts[0]))
        flags = []
        for g in parts[2].split("|") if parts[2] else []:
            j = GENRE_INDEX.get(g)
            if j is None:
                raise BadInput(str(file), f"unknown genre {g!r}", f"line {lineno}, field genres")
            flags.append(j)
        out.append((item, parts[1], _year(parts[1]), flags))
    return out


#: users, item ids, ratings, timestamps and line numbers of a rating file, one entry per rating
RawRatings = tuple[list[str], list[str], list[int], list[int], list[int]]


def _read_ratings(file: Path, sep: str, n: int) -> RawRatings:
    users, items, ratings, times, lines = [], [], [], [], []
    for lineno, line in _lines(file):
        parts = line.split(sep)
        if len(parts) != n:
            raise BadInput(str(file), f"expected {n} {sep!r}-separated fields, found {len(parts)}", f"line {lineno}")
        users.append(str(_int(file, lineno, "user id", parts[0])))
        items.append(str(_int(file, lineno, "item id", parts[1])))
        r = _int(file, lineno, "rating", parts[2])
        if not 1 <= r <= 5:
            raise BadInput(str(file), f"rating must be 1 to 5, got {r}", f"line {lineno}, field rating")
        ratings.append(r)
        t = _int(file, lineno, "timestamp", parts[3])
        if not -(2**63) <= t < 2**63:
            raise BadInput(str(file), f"timestamp {t} is out of range (seconds since 1970 in 64 bits)",
                           f"line {lineno}, field timestamp")
        times.append(t)
        lines.append(lineno)
    if not ratings:
        raise BadInput(str(file), "holds no ratings")
    return users, items, ratings, times, lines


def _assemble(items: list[tuple[str, str, int, list[int]]], raw: RawRatings, path: Path) -> tuple[Catalogue, Ratings]:
    ids = [it[0] for it in items]
    index: dict[str, int] = {}
    for it in items:
        if it[0] in index:
            raise BadInput(str(path), f"movie id {it[0]} appears twice", "items")
        index[it[0]] = len(index)
    genres = np.zeros((len(items), len(GENRES)), dtype=bool)
    for i, it in enumerate(items):
        genres[i, it[3]] = True
    users, item_ids, ratings, times, lines = raw
    rating_file = path / ("u.data" if (path / "u.data").is_file() else "ratings.dat")
    item_idx = np.empty(len(item_ids), dtype=np.int64)
    for k, item in enumerate(item_ids):
        found = index.get(item)
        if found is None:
            raise BadInput(str(rating_file), f"item {item} is not in the item file", f"line {lines[k]}, field item id")
        item_idx[k] = found
    user_ids = sorted(set(users), key=int)
    uindex = {u: k for k, u in enumerate(user_ids)}
    uidx = np.fromiter((uindex[u] for u in users), dtype=np.int64, count=len(users))
    r = np.asarray(ratings, dtype=np.float64)
    popularity = np.bincount(item_idx, minlength=len(items)).astype(np.float64)
    sums = np.bincount(item_idx, weights=r, minlength=len(items))
    mean = r.mean() if len(r) else 3.0
    shrunk = (sums + 10 * mean) / (popularity + 10)  # item mean shrunk toward the global mean
    quality = (shrunk - shrunk.mean()) / (shrunk.std() or 1.0)
    cat = Catalogue(ids, [it[1] for it in items], np.asarray([it[2] for it in items]), genres, popularity, quality)
    return cat, Ratings(uidx, item_idx, r, np.asarray(times, dtype=np.int64), [f"u{u}" for u in user_ids])


def write_movielens(path: str | Path, catalogue: Catalogue, ratings: Ratings, fmt: str = "100k") -> Path:
    """Write a catalogue and ratings in MovieLens-100k or -1M format (numeric ids; for tests and exports)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    users = [str(k + 1) for k in range(len(ratings.user_ids))]
    if fmt == "100k":
        lines = []
        for i in range(len(catalogue)):
            flags = "|".join("1" if f else "0" for f in catalogue.genres[i])
            lines.append(f"{i + 1}|{catalogue.titles[i]}|01-Jan-{catalogue.years[i]}||http://example.invalid|{flags}\n")
        (path / "u.item").write_text("".join(lines), encoding=_ENCODING)
        rows = zip(ratings.users, ratings.items, ratings.ratings, ratings.times)
        (path / "u.data").write_text("".join(f"{users[u]}\t{i + 1}\t{int(r)}\t{t}\n" for u, i, r, t in rows),
                                     encoding=_ENCODING)
    elif fmt == "1m":
        lines = [f"{i + 1}::{catalogue.titles[i]}::{'|'.join(g for g in catalogue.genre_lists[i] if g != 'unknown')}\n"
                 for i in range(len(catalogue))]
        (path / "movies.dat").write_text("".join(lines), encoding=_ENCODING)
        rows = zip(ratings.users, ratings.items, ratings.ratings, ratings.times)
        (path / "ratings.dat").write_text("".join(f"{users[u]}::{i + 1}::{int(r)}::{t}\n" for u, i, r, t in rows),
                                          encoding=_ENCODING)
    else:
        raise ValueError(f"unknown MovieLens format {fmt!r} (100k or 1m)")
    return path
