"""Analysis: reads run logs only."""

from simworld.analysis.fidelity import fidelity
from simworld.analysis.report import analyze_run

__all__ = ["analyze_run", "fidelity"]
