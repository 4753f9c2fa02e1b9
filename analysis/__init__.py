"""Analysis: reads run logs only."""

from simworld.analysis.report import analyze_run

__all__ = ["analyze_run"]
