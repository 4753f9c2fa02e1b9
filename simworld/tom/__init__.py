"""Theory of mind, as the run log defines it: who witnessed what (``witnesses``, ``covert``, attention
misses), what is true (``facts``) and what was said (``claims``), replayed into beliefs of any order, and
the questions (probes) those beliefs answer. Scoring lives in :mod:`simworld.analysis.tom`.
"""

from simworld.tom.answers import Answer, band, is_correct
from simworld.tom.knowledge import MAX_ORDER, Belief, FalseBelief, Knowledge, Occurrence
from simworld.tom.probes import KINDS, TOM_KINDS, Probe, balance, belief_question, counts, probes

__all__ = [
    "KINDS", "MAX_ORDER", "TOM_KINDS", "Answer", "Belief", "FalseBelief", "Knowledge", "Occurrence", "Probe",
    "balance", "band", "belief_question", "counts", "is_correct", "probes",
]
