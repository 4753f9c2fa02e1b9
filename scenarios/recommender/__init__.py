"""Recommender sessions with simulated viewers (after Agent4Rec and SimUSER), A/B tests of recommenders,
and user-simulation fidelity against MovieLens ratings (:mod:`.fidelity`)."""

from simworld.scenarios.recommender.algorithms import (
    Feedback,
    Learner,
    Ranker,
    RecContext,
    Recommender,
    RecommenderAdapter,
    make_recommender,
)
from simworld.scenarios.recommender.catalogue import GENRES, Catalogue, PublicItem, Ratings, generate_catalogue
from simworld.scenarios.recommender.config import RecommenderConfig
from simworld.scenarios.recommender.events import EVENTS
from simworld.scenarios.recommender.movielens import load_movielens, write_movielens
from simworld.scenarios.recommender.policies import ItemRatings, PageChoice, ViewerPolicy, WatchChoices
from simworld.scenarios.recommender.roles import Viewer, ViewerRole, viewer_of
from simworld.scenarios.recommender.scenario import RecommenderScenario
from simworld.scenarios.recommender.viewers import Population, fit_roles, synthetic_ratings, synthetic_roles, traits

__all__ = [
    "EVENTS", "GENRES", "Catalogue", "Feedback", "ItemRatings", "Learner", "PageChoice", "Population", "PublicItem",
    "Ranker", "Ratings", "RecContext", "Recommender", "RecommenderAdapter", "RecommenderConfig",
    "RecommenderScenario", "Viewer", "ViewerPolicy", "ViewerRole", "WatchChoices", "fit_roles", "generate_catalogue",
    "load_movielens", "make_recommender", "synthetic_ratings", "synthetic_roles", "traits", "viewer_of",
    "write_movielens",
]
