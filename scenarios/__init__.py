"""Built-in scenarios, one sub-package each. They use only the public API (``simworld.Scenario``)."""
