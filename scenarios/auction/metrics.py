"""Auction metrics, computed from the run log alone."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from simworld.belief_accuracy import BeliefRecord, latest, score_beliefs
from simworld.runlog import RunLog
from simworld.stats import mean, se


def auction_metrics(log: RunLog) -> dict[str, Any]:
    """Revenue, efficiency, surplus (by strategy), spending against budgets, and how close the bidders'
    beliefs about rivals' values came (the truth of a ``value`` belief about a rival is that rival's value
    of the lot in ``auction.valuations``).

    Per bidder (``bidders``): wins, profit (private value - price, summed over wins), spent, and
    overbidding (``overbids``: lots bought above their true value, ``overbid_total``: by how much).
    ``belief_error``: every ``budget`` and ``priority`` belief in the log, rule or model, scored against
    the rival's ``roles.bidder`` in ``agent.joined``: ``{budget: {n, mae}, priority: {n, accuracy}}``;
    ``belief_error_final`` scores only each bidder's last belief per rival and key (what it ended with);
    ``belief_error_by_source`` splits it by what formed the belief: ``profiler`` (the rule profiler, also
    when it is a model brain's fallback policy) or ``theory_of_mind`` (a model brain's typed beliefs)."""
    budgets: dict[str, float] = {}
    priority: dict[str, str] = {}
    strategy: dict[str, str] = {}
    values: dict[str, dict[str, float]] = {}
    lots: list[dict[str, Any]] = []
    beliefs_by_lot: dict[int, list[BeliefRecord]] = defaultdict(list)  # value beliefs by the lot then open
    trait_beliefs: list[BeliefRecord] = []  # beliefs about rivals' budgets and priorities
    trait_source: list[str] = []  # what formed each: "profiler" (a rule), else the model's theory of mind
    n_bids = 0
    n_rejected = 0
    fmt = None
    lot_index = 0
    for e in log.iter_raw():
        kind, d = e["kind"], e["data"]
        if kind == "agent.joined":
            role = d["persona"].get("roles", {}).get("bidder", {})
            budgets[e["agent"]] = float(role.get("budget", float("nan")))
            if role.get("priority") is not None:
                priority[e["agent"]] = role["priority"]
            strategy[e["agent"]] = d.get("policy") or d.get("brain")
        elif kind == "run.started":
            fmt = d["config"].get("format")
        elif kind == "auction.opened":
            lot_index = d["lot"]
        elif kind == "auction.valuations":
            values[d["item"]] = d["values"]
        elif kind == "auction.bid":
            n_bids += 1
        elif kind == "auction.rejected":
            n_rejected += 1
        elif kind == "auction.sold":
            lots.append({"item": d["item"], "lot": d["lot"], "sold": True, "winner": d["winner"], "price": d["price"],
                         "winner_value": d["winner_value"], "true_value": d["true_value"]})
        elif kind == "auction.unsold":
            lots.append({"item": d["item"], "lot": d["lot"], "sold": False, "reason": d["reason"]})
        elif kind == "belief.updated":
            key = d.get("key")
            if key == "value" and "item" in d:
                beliefs_by_lot[lot_index].append(BeliefRecord.from_event(e))
            elif key in ("budget", "priority"):
                trait_beliefs.append(BeliefRecord.from_event(e))
                trait_source.append(d.get("rule") or "theory_of_mind")

    sold = [r for r in lots if r["sold"]]
    efficient, surplus = [], []
    spent: dict[str, float] = defaultdict(float)
    surplus_by_strategy: dict[str, list[float]] = defaultdict(list)
    wins_by_strategy: dict[str, int] = defaultdict(int)
    for r in sold:
        vals = values.get(r["item"], {})
        top = max(vals.values()) if vals else None
        r["highest_value"] = top
        r["efficient"] = top is not None and r["winner_value"] >= top - 1e-9
        r["surplus"] = r["winner_value"] - r["price"]
        efficient.append(r["efficient"])
        surplus.append(r["surplus"])
        spent[r["winner"]] += r["price"]
        s = strategy.get(r["winner"], "?")
        surplus_by_strategy[s].append(r["surplus"])
        wins_by_strategy[s] += 1
    prices = [r["price"] for r in sold]
    spend_share = [spent.get(b, 0.0) / budgets[b] for b in budgets if math.isfinite(budgets[b]) and budgets[b] > 0]
    overpaid = [r["price"] - r["true_value"] for r in sold if r.get("true_value") is not None]

    def rival_value(r: BeliefRecord) -> float | None:
        return values.get(r.item, {}).get(r.about) if r.item is not None else None

    def rival_trait(r: BeliefRecord) -> float | str | None:
        """The truth of a budget or priority belief: the rival's role as ``agent.joined`` logged it."""
        if r.key == "budget":
            b = budgets.get(r.about)
            return b if b is not None and math.isfinite(b) else None
        return priority.get(r.about)

    by_source: dict[str, list[BeliefRecord]] = defaultdict(list)
    for b, source in zip(trait_beliefs, trait_source):
        by_source[source].append(b)

    bidder_rows: dict[str, dict[str, Any]] = {
        b: {"wins": 0, "profit": 0.0, "spent": 0.0, "overbids": 0, "overbid_total": 0.0} for b in budgets}
    for r in sold:
        row = bidder_rows.setdefault(r["winner"], {"wins": 0, "profit": 0.0, "spent": 0.0, "overbids": 0,
                                                   "overbid_total": 0.0})
        row["wins"] += 1
        row["profit"] += r["winner_value"] - r["price"]
        row["spent"] += r["price"]
        if r.get("true_value") is not None and r["price"] > r["true_value"] + 1e-9:
            row["overbids"] += 1
            row["overbid_total"] += r["price"] - r["true_value"]

    all_beliefs = [r for records in beliefs_by_lot.values() for r in records]  # in log order: lots are sequential
    accuracy = score_beliefs(all_beliefs, rival_value).get("value", {})
    mae_by_lot = {lot: score_beliefs(records, rival_value).get("value", {}).get("mae")
                  for lot, records in sorted(beliefs_by_lot.items())}

    out: dict[str, Any] = {
        "format": fmt,
        "lots": len(lots),
        "sold": len(sold),
        "unsold": len(lots) - len(sold),
        "bids": n_bids,
        "rejected_bids": n_rejected,
        "revenue_total": float(sum(prices)),
        "revenue_mean": mean(prices),
        "revenue_se": se(prices),
        "efficiency": mean([float(x) for x in efficient]),
        "surplus_total": float(sum(surplus)),
        "surplus_mean": mean(surplus),
        "surplus_by_strategy": {k: float(sum(v)) for k, v in sorted(surplus_by_strategy.items())},
        "wins_by_strategy": dict(sorted(wins_by_strategy.items())),
        "bidders_by_strategy": {k: list(strategy.values()).count(k) for k in sorted(set(strategy.values()))},
        "spend_share_mean": mean(spend_share),
        "spend_share_max": max(spend_share) if spend_share else None,
        "over_budget_bidders": sum(1 for x in spend_share if x > 1 + 1e-9),
        "price_over_true_value_mean": mean(overpaid),
        "belief_mae": accuracy.get("mae"),
        "belief_updates": len(all_beliefs),
        "belief_mae_by_lot": {str(k): mae for k, mae in mae_by_lot.items() if mae is not None},
        "items": lots,
        "bidders": bidder_rows,
        "belief_error": score_beliefs(trait_beliefs, rival_trait),
        "belief_error_final": score_beliefs(latest(trait_beliefs, by_item=False), rival_trait),
        "belief_error_by_source": {k: score_beliefs(v, rival_trait) for k, v in sorted(by_source.items())},
    }
    return out
