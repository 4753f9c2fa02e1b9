"""Support scenario (under construction)."""

from simworld.scenario import Scenario


class SupportScenario(Scenario):
    name = "support"
    description = "Support (under construction)"
