"""Theory of mind from the run log: what agents witnessed and believe (the core's :mod:`simworld.tom`),
and how well they know it.

- :class:`Knowledge` replays the log's facts, claims and witness sets (the rule is in
  :mod:`simworld.tom.knowledge`): ``reality``, ``belief`` (to order 4), ``knows``, ``false_beliefs``;
- :func:`probes` derives typed questions (reality, memory, belief of order 1-4, answerability,
  accessibility) with their labels and the events behind them, balanced with a seed;
- :func:`score_answers` scores answers to probes (per kind and order, All*, by persona, with bootstrap
  intervals); :func:`belief_scores` scores the beliefs agents logged against the truth the log holds.

The knowledge engine and probes live in the core (scenarios and the interview use them too); this package
adds scoring. Interviewing agents lives in :mod:`simworld.agents.interview`.
"""

from simworld.analysis.tom.scores import belief_scores, score_answers
from simworld.analysis.tom.truth import (
    AuctionTruth,
    FactTruth,
    OwnBeliefTruth,
    SupportTruth,
    Truth,
    default_truths,
)

from simworld.tom import (
    KINDS,
    MAX_ORDER,
    TOM_KINDS,
    Answer,
    Belief,
    FalseBelief,
    Knowledge,
    Occurrence,
    Probe,
    balance,
    band,
    belief_question,
    counts,
    is_correct,
    probes,
)

__all__ = [
    "KINDS", "MAX_ORDER", "TOM_KINDS", "Answer", "AuctionTruth", "Belief", "FactTruth", "FalseBelief", "Knowledge",
    "Occurrence", "OwnBeliefTruth", "Probe", "SupportTruth", "Truth", "balance", "band", "belief_question",
    "belief_scores", "counts", "default_truths", "is_correct", "probes", "score_answers",
]
