"""Sweeps: one scenario over a grid of config values, persona variants and seeds (``simworld sweep``).

A sweep file::

    scenario: auction                  # a name or a .py file (relative to this file); or from `config`
    config: base.yaml                  # optional: a config file, or base values inline ({n_bidders: 4})
    set: {n_items: 2}                  # optional base overrides (key.path: value)
    grid:                              # config key path -> values (the arms are every combination)
      format: [english, first_price]
      persona.occupation: [none, math teacher, mathematician]   # persona.FIELD: a persona field (none clears)
    personas:                          # optional named persona variants: one more swept key, `persona`
      none: {empty: true}
      assistant: {set: {role: a helpful assistant}}
    seeds: 3                           # a count (0, 1, 2) or a list
    control: {persona: none}           # optional: each arm is compared with the arm that has these values
                                       # and the same other values (a full mapping: one control arm for all)
    budget: {max_calls: 5000}          # optional: model calls (max_total_tokens: tokens) for the whole sweep

The folder it writes (a contract: ``simworld report`` and users read it)::

    DIR/sweep.yaml     the sweep as resolved (scenario, config, grid, ..., arms: label -> swept values)
    DIR/runs/<run_id>/ ordinary run folders; run_id = <arm>-s<seed>, e.g. arm03-s2
    DIR/results.csv    one row per run: run_id, arm, each swept key (named by its key path; `persona` for the
                       named variants), seed, status, error, then every metric flattened with dots
                       (revenue_total, wins_by_strategy.truthful; lists as JSON; a metric named like one of
                       the columns before it is written as metrics.NAME). No wall-clock values: the same
                       seeds give the same file under every executor.
    DIR/results.parquet  the same, typed, when pyarrow is installed
    DIR/summary.csv    per arm and numeric metric: arm, the swept keys, metric, n, mean, sd, ci_low, ci_high
                       (95% bootstrap, seeded), and for an arm with a control: diff (arm - control, paired
                       over common seeds), diff_ci_low, diff_ci_high (bootstrap), t_p (paired t-test),
                       wilcoxon_p, p_holm (Holm over every comparison of the sweep, from t_p), n_pairs;
                       empty where undefined (fewer than two pairs, no control)
    DIR/timings.csv    wall-clock seconds and worker per run (not deterministic)

A run counts as finished when its manifest says completed or stopped and metrics.json exists; ``--resume``
skips those and runs the rest again. The model budget is split over the runs (each gets at most its share
as ``model.max_calls`` / ``model.max_total_tokens``); the split does not depend on which run ends first,
so the same sweep makes the same calls on every executor. The gateway checks a run's budget before each
decision, so a run whose agents decide together may pass its share by the rest of one batch of
decisions (runs of one decision at a time never do). Model-backed runs share the model cache file
(SQLite in WAL mode; concurrent writers tested).
"""

from simworld.sweep.engine import SweepResult, run_sweep
from simworld.sweep.executors import EXECUTORS, SweepInterrupted, make_executor
from simworld.sweep.spec import Plan, SweepSpec, load_sweep

__all__ = ["EXECUTORS", "Plan", "SweepInterrupted", "SweepResult", "SweepSpec", "load_sweep", "make_executor",
           "run_sweep"]
