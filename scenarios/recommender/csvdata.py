"""CSV rating data: the MovieLens "latest" format and a plain ``user,item,rating,timestamp`` CSV.

Read with pandas' C parser (millions of lines in seconds); every problem is a :class:`BadInput` naming the
file, the line number (1 = the header) and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from simworld.scenarios.recommender.catalogue import GENRE_INDEX, GENRES, Catalogue, Ratings

from simworld.errors import BadInput

if TYPE_CHECKING:
    import pandas as pd

CsvKind = Literal["latest", "plain"]
LATEST_RATINGS = ("userId", "movieId", "rating", "timestamp")
LATEST_MOVIES = ("movieId", "title", "genres")
PLAIN_RATINGS = ("user", "item", "rating", "timestamp")
PLAIN_ITEMS = ("item", "title", "genres")
#: genre names of the "latest" releases that differ from MovieLens-100k's (IMAX is not a genre there)
GENRE_ALIASES = {"Children": "Children's", "(no genres listed)": "unknown", "IMAX": ""}


def _header(file: Path) -> list[str]:
    with file.open(encoding="utf-8", errors="replace") as fh:
        return [h.strip() for h in fh.readline().rstrip("\r\n").split(",")]


def csv_kind(path: Path) -> CsvKind | None:
    """``"latest"``, ``"plain"`` or None (not a CSV source) for a file or folder."""
    if path.is_file() and path.suffix.lower() == ".csv":
        return "plain"
    ratings = path / "ratings.csv"
    if path.is_dir() and ratings.is_file():
        head = _header(ratings)
        if head[:2] == ["userId", "movieId"]:
            return "latest"
        return "plain"
    return None


def _pandas() -> object:
    try:
        import pandas
    except ImportError:
        raise BadInput("csv", "reading CSV ratings needs pandas: pip install 'simworld[analysis]'") from None
    return pandas


def _read(file: Path, columns: tuple[str, ...], dtypes: dict[str, str]) -> pd.DataFrame:
    """The CSV with exactly ``columns`` in its header; a malformed line is a BadInput."""
    import pandas as pd

    _pandas()
    head = _header(file)
    if tuple(head) != columns:
        raise BadInput(str(file), f"header must be {','.join(columns)}, found {','.join(head)}", "line 1")
    try:
        frame = pd.read_csv(file, dtype=dtypes, na_filter=True, keep_default_na=False, na_values=[""],
                            engine="c", encoding="utf-8", encoding_errors="replace")
    except pd.errors.ParserError as err:
        msg = str(err).strip().splitlines()[-1]
        raise BadInput(str(file), f"malformed CSV: {msg}") from None
    except ValueError as err:  # a typed column holds a non-number
        raise _first_bad(file, columns, dtypes, str(err)) from None
    for col in columns:
        missing = np.flatnonzero(frame[col].isna().to_numpy())
        if len(missing):
            raise BadInput(str(file), f"{col} is missing", f"line {int(missing[0]) + 2}, field {col}")
    return frame


def _first_bad(file: Path, columns: tuple[str, ...], dtypes: dict[str, str], why: str) -> BadInput:
    """Find the line behind a failed typed read (reads the file again as text: only on error)."""
    import pandas as pd

    frame = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8", encoding_errors="replace")
    found: list[tuple[int, str, str]] = []  # (row, field, problem): the first row wins
    for col, kind in dtypes.items():
        if kind == "str":
            continue
        text = frame[col].fillna("")
        values = pd.to_numeric(text, errors="coerce")
        if kind.startswith("int"):
            values = values.where(values == np.floor(values))
        bad = np.flatnonzero(values.isna().to_numpy())
        if len(bad):
            k = int(bad[0])
            what = "is missing" if text.iloc[k] == "" else f"must be {'an integer' if kind.startswith('int') else 'a number'}, got {text.iloc[k]!r}"
            found.append((k, col, what))
    if found:
        k, col, what = min(found)
        return BadInput(str(file), f"{col} {what}", f"line {k + 2}, field {col}")
    return BadInput(str(file), why.splitlines()[0])


def _check_ratings(file: Path, rating: np.ndarray, times: np.ndarray, half: bool) -> None:
    lo = 0.5 if half else 1.0
    bad = np.flatnonzero((rating < lo) | (rating > 5) | (np.rint(rating * 2) != rating * 2))
    if len(bad):
        k = int(bad[0])
        step = "in half stars" if half else "in half stars from 1"
        raise BadInput(str(file), f"rating must be {lo:g} to 5 {step}, got {rating[k]:g}", f"line {k + 2}, field rating")
    bad = np.flatnonzero(times < 0)
    if len(bad):
        raise BadInput(str(file), f"timestamp must be seconds since 1970, got {times[bad[0]]}",
                       f"line {int(bad[0]) + 2}, field timestamp")


def _genres(file: Path, texts: list[str], lines: np.ndarray) -> np.ndarray:
    """Genre flags from ``|``-separated names (MovieLens names; the "latest" names are mapped)."""
    out = np.zeros((len(texts), len(GENRES)), dtype=bool)
    cache: dict[str, list[int]] = {}
    for k, text in enumerate(texts):
        flags = cache.get(text)
        if flags is None:
            flags = []
            for g in text.split("|") if text else []:
                name = GENRE_ALIASES.get(g, g)
                if not name:
                    continue
                j = GENRE_INDEX.get(name)
                if j is None:
                    raise BadInput(str(file), f"unknown genre {g!r}", f"line {int(lines[k])}, field genres")
                flags.append(j)
            cache[text] = flags
        out[k, flags] = True
    return out


def load_csv(path: Path, kind: CsvKind) -> tuple[Catalogue, Ratings]:
    """The catalogue and ratings of a CSV source (see :func:`csv_kind`)."""
    import pandas as pd

    if kind == "latest":
        rfile, ifile = path / "ratings.csv", path / "movies.csv"
        if not ifile.is_file():
            raise BadInput(str(path), "a MovieLens 'latest' folder needs movies.csv beside ratings.csv")
        frame = _read(rfile, LATEST_RATINGS, {"userId": "int64", "movieId": "int64", "rating": "float64",
                                              "timestamp": "int64"})
        movies = _read(ifile, LATEST_MOVIES, {"movieId": "int64", "title": "str", "genres": "str"})
        ucol, icol, item_key = "userId", "movieId", "movieId"
        half = True
    else:
        rfile = path if path.is_file() else path / "ratings.csv"
        ifile = rfile.with_name("items.csv")
        frame = _read(rfile, PLAIN_RATINGS, {"user": "str", "item": "str", "rating": "float64", "timestamp": "int64"})
        movies = (_read(ifile, PLAIN_ITEMS, {"item": "str", "title": "str", "genres": "str"}) if ifile.is_file()
                  else None)
        ucol, icol, item_key = "user", "item", "item"
        half = True
    if not len(frame):
        raise BadInput(str(rfile), "holds no ratings")
    rating = frame["rating"].to_numpy(np.float64)
    times = frame["timestamp"].to_numpy(np.int64)
    _check_ratings(rfile, rating, times, half)
    if movies is not None:
        ids = movies[item_key].astype(str).to_numpy()
        dup = pd.Index(ids).duplicated()
        if dup.any():
            k = int(np.flatnonzero(dup)[0])
            raise BadInput(str(ifile), f"item {ids[k]} appears twice", f"line {k + 2}, field {item_key}")
        titles = movies["title"].astype(str).tolist()
        genres = _genres(ifile, movies["genres"].astype(str).tolist(), np.arange(len(movies)) + 2)
    else:
        ids = pd.unique(frame[icol].astype(str).to_numpy())
        titles = [str(i) for i in ids]
        genres = np.zeros((len(ids), len(GENRES)), dtype=bool)
        genres[:, 0] = True
    index = pd.Index(ids)
    item_idx = index.get_indexer(frame[icol].astype(str).to_numpy())
    missing = np.flatnonzero(item_idx < 0)
    if len(missing):
        k = int(missing[0])
        raise BadInput(str(rfile), f"item {frame[icol].iloc[k]} is not in the item file", f"line {k + 2}, field {icol}")
    users_raw = frame[ucol]
    codes, uniques = pd.factorize(users_raw, sort=True)
    user_ids = [str(u) for u in uniques]
    years = pd.Series(titles).str.extract(r"\((\d{4})\)\s*$")[0].fillna("0").astype(int).to_numpy()
    popularity = np.bincount(item_idx, minlength=len(ids)).astype(np.float64)
    sums = np.bincount(item_idx, weights=rating, minlength=len(ids))
    mean = float(rating.mean())
    shrunk = (sums + 10 * mean) / (popularity + 10)
    quality = (shrunk - shrunk.mean()) / (shrunk.std() or 1.0)
    cat = Catalogue([str(i) for i in ids], titles, years, genres, popularity, quality)
    prefix = "u" if kind == "latest" else ""  # as the MovieLens-100k/-1M loaders name users
    return cat, Ratings(codes.astype(np.int64), item_idx.astype(np.int64), rating, times,
                        [f"{prefix}{u}" for u in user_ids])


def write_csv(path: str | Path, catalogue: Catalogue, ratings: Ratings, kind: CsvKind = "latest") -> Path:
    """Write a catalogue and ratings as a "latest" folder (numeric ids) or a plain CSV folder."""
    import pandas as pd

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    names = [g if g != "Children's" else "Children" for g in GENRES]
    genre_text = ["|".join(names[j] for j in np.flatnonzero(row) if j) or "(no genres listed)"
                  for row in catalogue.genres]
    if kind == "latest":
        users = np.arange(1, len(ratings.user_ids) + 1)[ratings.users]
        pd.DataFrame({"userId": users, "movieId": ratings.items + 1, "rating": ratings.ratings,
                      "timestamp": ratings.times}).to_csv(path / "ratings.csv", index=False)
        pd.DataFrame({"movieId": np.arange(1, len(catalogue) + 1), "title": catalogue.titles,
                      "genres": genre_text}).to_csv(path / "movies.csv", index=False)
    else:
        pd.DataFrame({"user": np.asarray(ratings.user_ids)[ratings.users],
                      "item": np.asarray(catalogue.ids)[ratings.items], "rating": ratings.ratings,
                      "timestamp": ratings.times}).to_csv(path / "ratings.csv", index=False)
        pd.DataFrame({"item": catalogue.ids, "title": catalogue.titles,
                      "genres": ["|".join(g for g in gl) for gl in catalogue.genre_lists]}
                     ).to_csv(path / "items.csv", index=False)
    return path
