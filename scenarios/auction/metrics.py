"""Auction metrics, computed from the run log alone."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from simworld.runlog import RunLog


def _mean(xs: list[float]) -> float | None:
    return float(np.mean(xs)) if xs else None


def auction_metrics(log: RunLog) -> dict[str, Any]:
    budgets: dict[str, float] = {}
    strategy: dict[str, str] = {}
    values: dict[str, dict[str, float]] = {}
    lots: list[dict[str, Any]] = []
    beliefs: list[tuple[str, str, str, float, int]] = []  # (owner, about, item, estimate, lot index)
    n_bids = 0
    n_rejected = 0
    fmt = None
    lot_index = 0
    for e in log.iter_raw():
        kind, d = e["kind"], e["data"]
        if kind == "agent.joined":
            role = d["persona"].get("roles", {}).get("bidder", {})
            budgets[e["agent"]] = float(role.get("budget", float("nan")))
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
        elif kind == "belief.updated" and d.get("key") == "value" and "item" in d:
            beliefs.append((e["agent"], d["about"], d["item"], float(d["value"]), lot_index))

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
    spend_share = [spent.get(b, 0.0) / budgets[b] for b in budgets if np.isfinite(budgets[b]) and budgets[b] > 0]
    overpaid = [r["price"] - r["true_value"] for r in sold if r.get("true_value") is not None]

    errors_by_lot: dict[int, list[float]] = defaultdict(list)
    for owner, about, item, est, idx in beliefs:
        truth = values.get(item, {}).get(about)
        if truth is not None:
            errors_by_lot[idx].append(abs(est - truth))
    all_errors = [x for xs in errors_by_lot.values() for x in xs]

    out: dict[str, Any] = {
        "format": fmt,
        "lots": len(lots),
        "sold": len(sold),
        "unsold": len(lots) - len(sold),
        "bids": n_bids,
        "rejected_bids": n_rejected,
        "revenue_total": float(sum(prices)),
        "revenue_mean": _mean(prices),
        "revenue_se": float(np.std(prices, ddof=1) / np.sqrt(len(prices))) if len(prices) > 1 else None,
        "efficiency": _mean([float(x) for x in efficient]),
        "surplus_total": float(sum(surplus)),
        "surplus_mean": _mean(surplus),
        "surplus_by_strategy": {k: float(sum(v)) for k, v in sorted(surplus_by_strategy.items())},
        "wins_by_strategy": dict(sorted(wins_by_strategy.items())),
        "bidders_by_strategy": {k: list(strategy.values()).count(k) for k in sorted(set(strategy.values()))},
        "spend_share_mean": _mean(spend_share),
        "spend_share_max": max(spend_share) if spend_share else None,
        "over_budget_bidders": sum(1 for x in spend_share if x > 1 + 1e-9),
        "price_over_true_value_mean": _mean(overpaid),
        "belief_mae": _mean(all_errors),
        "belief_updates": len(beliefs),
        "belief_mae_by_lot": {str(k): float(np.mean(v)) for k, v in sorted(errors_by_lot.items())},
        "items": lots,
    }
    return out
