"""CSV rating data: the MovieLens "latest" format (ratings.csv + movies.csv) and a plain
user,item,rating,timestamp CSV with an optional items file; malformed lines name file, line and field."""

from __future__ import annotations

import numpy as np
import pytest
from simworld.scenarios.recommender import generate_catalogue, synthetic_ratings, synthetic_roles, write_movielens
from simworld.scenarios.recommender.csvdata import write_csv
from simworld.scenarios.recommender.fidelity import fidelity
from simworld.scenarios.recommender.movielens import load_movielens, load_ratings

from simworld.errors import BadInput

pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(4)
    cat = generate_catalogue(120, rng)
    roles = synthetic_roles(40, cat, rng)
    return cat, synthetic_ratings(cat, roles, rng, 25)


def test_latest_format_loads_what_the_100k_files_hold(tmp_path, data):
    cat, ratings = data
    a_cat, a = load_movielens(write_movielens(tmp_path / "ml", cat, ratings, "100k"))
    b_cat, b = load_ratings(write_csv(tmp_path / "latest", a_cat, a, "latest"))
    assert b_cat.ids == a_cat.ids and b_cat.titles == a_cat.titles and (b_cat.genres == a_cat.genres).all()
    assert (b_cat.years == a_cat.years).all()
    assert b.user_ids == a.user_ids
    for col in ("users", "items", "ratings", "times"):
        assert (getattr(b, col) == getattr(a, col)).all(), col


def test_fidelity_on_the_latest_copy_equals_fidelity_on_the_100k_files(tmp_path, data):
    cat, ratings = data
    ml = write_movielens(tmp_path / "ml", cat, ratings, "100k")
    latest = write_csv(tmp_path / "latest", *load_movielens(ml), "latest")
    assert fidelity(ml, ratios=[1, 3], seed=2) == fidelity(latest, ratios=[1, 3], seed=2)


def test_plain_csv_with_and_without_items_file(tmp_path, data):
    cat, ratings = data
    folder = write_csv(tmp_path / "plain", cat, ratings, "plain")
    p_cat, p = load_ratings(folder)
    assert p_cat.ids == cat.ids and (p_cat.genres == cat.genres).all()
    assert len(p) == len(ratings) and sorted(p.ratings.tolist()) == sorted(ratings.ratings.tolist())
    (folder / "items.csv").unlink()
    bare_cat, bare = load_ratings(folder / "ratings.csv")  # a plain file: items come from the ratings
    assert sorted(bare_cat.ids) == sorted({cat.ids[i] for i in ratings.items.tolist()})
    assert len(bare) == len(ratings)


def test_half_stars_are_kept(tmp_path):
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,3.5,10\n1,2,0.5,11\n2,1,5.0,12\n")
    (tmp_path / "movies.csv").write_text('movieId,title,genres\n1,"Heat, The (1995)",Crime|IMAX\n2,Up (2009),Children\n')
    cat, r = load_ratings(tmp_path)
    assert sorted(r.ratings.tolist()) == [0.5, 3.5, 5.0]
    assert cat.titles[0] == "Heat, The (1995)" and cat.years.tolist() == [1995, 2009]
    assert cat.genre_lists == [["Crime"], ["Children's"]]


@pytest.mark.parametrize(("ratings", "movies", "needle"), [
    ("userId,movieId,rating,timestamp\n1,1,4,10\n1,x,4,11\n", None, "line 3, field movieId"),
    ("userId,movieId,rating,timestamp\n1,1,4,10\n1,2,6,11\n", None, "line 3, field rating"),
    ("userId,movieId,rating,timestamp\n1,1,4,10\n1,2,3.3,11\n", None, "line 3, field rating"),
    ("userId,movieId,rating,timestamp\n1,1,4,10\n1,2,4,\n", None, "line 3, field timestamp"),
    ("userId,movieId,rating,timestamp\n1,1,4,10\n1,9,4,11\n", None, "line 3, field movieId"),
    ("user,movie,rating,time\n1,1,4,10\n", None, "header must be"),
    ("userId,movieId,rating,timestamp\n1,1,4,10\n", "movieId,title,genres\n1,A (1990),Cartoon\n", "field genres"),
    ("userId,movieId,rating,timestamp\n1,1,4,10\n", "movieId,title,genres\n1,A,Drama\n1,B,Drama\n", "appears twice"),
])
def test_malformed_csv_names_file_line_and_field(tmp_path, ratings, movies, needle):
    (tmp_path / "ratings.csv").write_text(ratings)
    (tmp_path / "movies.csv").write_text(movies or "movieId,title,genres\n1,A (1990),Drama\n2,B (1991),Comedy\n")
    with pytest.raises(BadInput) as err:
        load_ratings(tmp_path)
    assert needle in str(err.value) and ".csv" in str(err.value)


def test_cli_on_a_latest_folder_prints_the_same_table(cli, tmp_path, data):
    cat, ratings = data
    ml = write_movielens(tmp_path / "ml", cat, ratings, "100k")
    latest = write_csv(tmp_path / "latest", *load_movielens(ml), "latest")
    a = cli("fidelity", ml, "--ratios", "1", "--seed", "3")
    b = cli("fidelity", latest, "--ratios", "1", "--seed", "3")
    assert a.returncode == 0 and a.stdout == b.stdout and "popularity" in a.stdout
    bad = cli("fidelity", tmp_path / "nothing.csv")
    assert bad.returncode == 2 and len(bad.err_lines) == 1
