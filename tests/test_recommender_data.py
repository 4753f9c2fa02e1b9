"""MovieLens loaders (100k and 1M formats) on small generated files, including malformed lines."""

from __future__ import annotations

import numpy as np
import pytest
from simworld.scenarios.recommender import (
    GENRES,
    generate_catalogue,
    load_movielens,
    synthetic_ratings,
    synthetic_roles,
    traits,
    write_movielens,
)

from simworld.errors import BadInput


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(2)
    cat = generate_catalogue(50, rng)
    roles = synthetic_roles(12, cat, rng)
    return cat, synthetic_ratings(cat, roles, rng, 22)


@pytest.mark.parametrize("fmt", ["100k", "1m"])
def test_round_trip_keeps_items_genres_and_ratings(tmp_path, data, fmt):
    cat, ratings = data
    loaded_cat, loaded = load_movielens(write_movielens(tmp_path, cat, ratings, fmt))
    assert len(loaded_cat) == len(cat) and loaded_cat.titles == cat.titles
    assert (loaded_cat.genres == cat.genres).all()
    assert (loaded_cat.years == cat.years).all()
    assert len(loaded) == len(ratings) and sorted(loaded.ratings.tolist()) == sorted(ratings.ratings.tolist())
    assert loaded.user_ids == [f"u{k + 1}" for k in range(12)]
    assert loaded_cat.popularity.sum() == len(ratings)


def test_100k_lines_in_the_original_layout(tmp_path):
    flags = ["0"] * len(GENRES)
    flags[GENRES.index("Comedy")] = flags[GENRES.index("Animation")] = "1"
    (tmp_path / "u.item").write_text(
        "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|" + "|".join(flags) + "\n"
        "2|GoldenEye (1995)|01-Jan-1995||http://x|" + "|".join(["0"] * len(GENRES)) + "\n", encoding="latin-1")
    (tmp_path / "u.data").write_text("196\t1\t3\t881250949\n186\t2\t5\t891717742\n196\t2\t4\t881250950\n")
    cat, ratings = load_movielens(tmp_path)
    assert cat.ids == ["1", "2"] and cat.genre_lists[0] == ["Animation", "Comedy"] and cat.years[0] == 1995
    assert ratings.user_ids == ["u186", "u196"] and ratings.ratings.tolist() == [3.0, 5.0, 4.0]


def test_1m_lines_in_the_original_layout(tmp_path):
    (tmp_path / "movies.dat").write_text("1::Toy Story (1995)::Animation|Children's|Comedy\n2::Jumanji (1995)::Adventure\n",
                                         encoding="latin-1")
    (tmp_path / "ratings.dat").write_text("1::1::5::978300760\n1::2::3::978302109\n2::1::4::978298413\n")
    cat, ratings = load_movielens(tmp_path)
    assert cat.genre_lists[0] == ["Animation", "Children's", "Comedy"]
    assert ratings.user_ids == ["u1", "u2"] and len(ratings) == 3


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"movies.dat": "1::A (1990)::Comedy\n2::B (1991)\n", "ratings.dat": "1::1::5::9\n"},
         "movies.dat: line 2: expected 3 '::'-separated fields, found 2"),
        ({"movies.dat": "1::A (1990)::Comedy|Sitcom\n", "ratings.dat": "1::1::5::9\n"},
         "movies.dat: line 1, field genres: unknown genre 'Sitcom'"),
        ({"movies.dat": "1::A (1990)::Comedy\n", "ratings.dat": "1::1::5::9\n1::1::six::10\n"},
         "ratings.dat: line 2, field rating: rating must be an integer, got 'six'"),
        ({"movies.dat": "1::A (1990)::Comedy\n", "ratings.dat": "1::1::9::9\n"},
         "ratings.dat: line 1, field rating: rating must be 1 to 5, got 9"),
        ({"movies.dat": "1::A (1990)::Comedy\n", "ratings.dat": "1::1::5::9\n\n1::7::5::9\n"},
         "ratings.dat: line 3, field item id: item 7 is not in the item file"),
        ({"u.item": "1|A (1990)|||x|" + "|".join(["0"] * 18) + "|2\n", "u.data": "1\t1\t5\t9\n"},
         "u.item: line 1, field Western: genre flag must be 0 or 1, got '2'"),
        ({"u.item": "x|A (1990)|||x|" + "|".join(["0"] * 19) + "\n", "u.data": "1\t1\t5\t9\n"},
         "u.item: line 1, field movie id: movie id must be an integer, got 'x'"),
        ({"u.item": "1|A (1990)|||x|" + "|".join(["0"] * 19) + "\n", "u.data": "1 1 5 9\n"},
         "u.data: line 1: expected 4 '\\t'-separated fields, found 1"),
    ],
)
def test_malformed_lines_name_file_line_and_field(tmp_path, files, expected):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="latin-1")
    with pytest.raises(BadInput) as err:
        load_movielens(tmp_path)
    assert str(err.value).endswith(expected)


def test_missing_or_unrecognised_folders_are_bad_input(tmp_path):
    with pytest.raises(BadInput, match="no such folder"):
        load_movielens(tmp_path / "absent")
    with pytest.raises(BadInput, match="neither u.item"):
        load_movielens(tmp_path)


def test_agent4rec_traits_from_ratings(data):
    cat, ratings = data
    t = traits(ratings, cat)
    assert t.activity.tolist() == np.bincount(ratings.users).astype(float).tolist()
    assert ((t.diversity > 0) & (t.diversity <= 1)).all()
    assert (t.conformity_mse >= 0).all()
