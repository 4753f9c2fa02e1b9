"""Recommender sessions with simulated viewers (after Agent4Rec and SimUSER), and A/B tests."""

from simworld.scenarios.recommender.algorithms import (
    Feedback,
    RecContext,
    Recommender,
    RecommenderAdapter,
    make_recommender,
)
from simworld.scenarios.recommender.catalogue import GENRES, Catalogue, Ratings, generate_catalogue
from simworld.scenarios.recommender.config import RecommenderConfig
from simworld.scenarios.recommender.movielens import load_movielens, write_movielens
from simworld.scenarios.recommender.policy import ItemRatings, PageChoice, ViewerPolicy, WatchChoices
from simworld.scenarios.recommender.scenario import RecommenderScenario
from simworld.scenarios.recommender.users import ViewerRole, fit_roles, synthetic_ratings, synthetic_roles, traits

__all__ = [
    "GENRES", "Catalogue", "Feedback", "ItemRatings", "PageChoice", "Ratings", "RecContext", "Recommender",
    "RecommenderAdapter", "RecommenderConfig", "RecommenderScenario", "ViewerPolicy", "ViewerRole", "WatchChoices",
    "fit_roles", "generate_catalogue", "load_movielens", "make_recommender", "synthetic_ratings", "synthetic_roles",
    "traits", "write_movielens",
]
