"""Payout rules: validating a structure's rule, and the pure arithmetic that turns figures into an amount.

A rule is what a `PayoutStructureVersion` stores: `period`, `amount_cents` (> 0, ≤ 10^10), `currency` (USD),
`criteria_type` with its `criteria_params`, and `proration_mode`. Validation is strict: unknown params are
refused by name, numbers must be whole and in range, and a mode that cannot apply is refused rather than
silently ignored.

The criteria (SPEC §5), each computed in `Decimal` and rounded half-even to whole cents exactly once:

* `recurring`: `amount_cents` every period, prorated (flat amount).
* `goals`: `amount_cents` when every applicable goal was met in the period, prorated (flat amount); no
  applicable goal means zero, with that reason recorded.
* `cpm`: `amount_cents` per 1,000 views of the counted videos posted in the period while assigned, each video's
  views from its latest snapshot; a video under `min_views` counts zero; the period's amount is capped at
  `max_cents`. Proration is natural (only videos posted while assigned count), so `proration_mode` must be `none`.
* `view_threshold`: `amount_cents` for each such video whose views reached `threshold_views`, at most
  `max_videos` of them; proration is natural too.

Proration of flat amounts, for a period the assignment covers only in part: `none` (full amount), `daily`
(amount × days covered ÷ days in the period, calendar days in the organization's timezone) or `skip_partial`
(nothing).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal, get_args

from trackagoat_mcp.domain.periods import Period, PeriodKind, parse_period_kind
from trackagoat_mcp.errors import InvalidInput

__all__ = [
    "CRITERIA_TYPES",
    "MAX_AMOUNT_CENTS",
    "PRORATION_MODES",
    "CriteriaType",
    "GoalResult",
    "Outcome",
    "ProrationMode",
    "Rule",
    "VideoFigure",
    "check_rule",
    "compute",
    "round_cents",
]

CriteriaType = Literal["recurring", "goals", "cpm", "view_threshold"]
ProrationMode = Literal["none", "daily", "skip_partial"]
CRITERIA_TYPES: tuple[str, ...] = get_args(CriteriaType)
PRORATION_MODES: tuple[str, ...] = get_args(ProrationMode)
CURRENCIES = ("USD",)
MAX_AMOUNT_CENTS = 10**10
"""$100,000,000: far above any real payout, low enough to catch a typo's extra zeros."""
MAX_VIEWS = 10**12
MAX_VIDEOS = 10_000
MAX_GOAL_IDS = 50

_PARAMS: dict[str, tuple[str, ...]] = {
    "recurring": (),
    "goals": ("goal_ids",),
    "cpm": ("max_cents", "min_views"),
    "view_threshold": ("threshold_views", "max_videos"),
}
_FLAT = ("recurring", "goals")


@dataclass(frozen=True)
class Rule:
    """A validated rule (the content of one structure version); `criteria_params` is normalised."""

    period: PeriodKind
    amount_cents: int
    currency: str
    criteria_type: CriteriaType
    criteria_params: dict[str, Any] = field(hash=False)
    proration_mode: ProrationMode

    @property
    def is_flat(self) -> bool:
        """Whether the amount is a flat per-period sum (recurring, goals) that proration applies to."""
        return self.criteria_type in _FLAT

    @property
    def goal_ids(self) -> list[uuid.UUID] | None:
        """The goal ids a `goals` rule is limited to, or None for "all of the creator's goals of this period"."""
        ids = self.criteria_params.get("goal_ids")
        return None if ids is None else [uuid.UUID(i) for i in ids]


def _choice(value: str, allowed: tuple[str, ...], what: str) -> Any:
    if value not in allowed:
        raise InvalidInput(f"{what} {value!r} is not one of {list(allowed)!r}; pick one of them.")
    return value


def _whole(params: dict[str, Any], name: str, *, low: int, high: int, what: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"criteria_params.{name} {value!r} must be a whole number ({what}).")
    if not low <= value <= high:
        raise InvalidInput(f"criteria_params.{name} {value!r} is out of range; use {low:,} to {high:,} ({what}).")
    return value


def _goal_ids(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise InvalidInput(
            f"criteria_params.goal_ids {value!r} must be a non-empty list of goal ids; leave it out to use all of "
            "the creator's active goals of the structure's period."
        )
    if len(value) > MAX_GOAL_IDS:
        raise InvalidInput(f"criteria_params.goal_ids lists {len(value)} goals; the limit is {MAX_GOAL_IDS}.")
    ids: set[str] = set()
    for raw in value:
        try:
            ids.add(str(uuid.UUID(str(raw).strip())))
        except ValueError:
            raise InvalidInput(
                f"criteria_params.goal_ids contains {raw!r}, which is not a goal id; use ids from list_goals."
            ) from None
    return sorted(ids)


def check_params(criteria_type: CriteriaType, params: Any) -> dict[str, Any]:
    """Validate and normalise `criteria_params` for `criteria_type` (unknown keys are refused by name)."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidInput(f"criteria_params must be a JSON object, not {type(params).__name__} {params!r}.")
    allowed = _PARAMS[criteria_type]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        accepted = f"it accepts only {list(allowed)!r}" if allowed else "it takes no params"
        raise InvalidInput(
            f"criteria_params {unknown!r} are not known for criteria_type {criteria_type!r}; {accepted}."
        )
    out: dict[str, Any] = {}
    if criteria_type == "goals" and "goal_ids" in params:
        out["goal_ids"] = _goal_ids(params["goal_ids"])
    elif criteria_type == "cpm":
        max_cents = _whole(params, "max_cents", low=1, high=MAX_AMOUNT_CENTS, what="the cap per period, in cents")
        min_views = _whole(params, "min_views", low=1, high=MAX_VIEWS, what="views a video needs to count")
        out |= {k: v for k, v in (("max_cents", max_cents), ("min_views", min_views)) if v is not None}
    elif criteria_type == "view_threshold":
        threshold = _whole(params, "threshold_views", low=1, high=MAX_VIEWS, what="views a video must reach")
        if threshold is None:
            raise InvalidInput(
                "criteria_params.threshold_views is required for criteria_type 'view_threshold': the views a video "
                'must reach to earn amount_cents, e.g. {"threshold_views": 100000}.'
            )
        out["threshold_views"] = threshold
        max_videos = _whole(params, "max_videos", low=1, high=MAX_VIDEOS, what="videos paid per period at most")
        if max_videos is not None:
            out["max_videos"] = max_videos
    return out


def check_rule(
    *,
    period: str,
    amount_cents: int,
    currency: str,
    criteria_type: str,
    criteria_params: Any,
    proration_mode: str,
) -> Rule:
    """Validate a whole rule; every error is a sentence naming the bad value."""
    kind = parse_period_kind(period)
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or not 0 < amount_cents <= MAX_AMOUNT_CENTS:
        raise InvalidInput(
            f"amount_cents {amount_cents!r} must be a whole number of cents from 1 to {MAX_AMOUNT_CENTS:,} "
            "($100,000,000); for cpm it is the rate per 1,000 views."
        )
    if currency != "USD":
        raise InvalidInput(f"currency {currency!r} is not supported; only 'USD' is.")
    ctype: CriteriaType = _choice(criteria_type, CRITERIA_TYPES, "criteria_type")
    mode: ProrationMode = _choice(proration_mode, PRORATION_MODES, "proration_mode")
    if ctype not in _FLAT and mode != "none":
        raise InvalidInput(
            f"proration_mode {mode!r} does not apply to criteria_type {ctype!r}: only videos posted while the creator "
            "is assigned count, so partial periods prorate themselves. Use 'none'."
        )
    return Rule(kind, amount_cents, currency, ctype, check_params(ctype, criteria_params), mode)


# --- the arithmetic ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoFigure:
    """A counted video posted in the period while the creator was assigned, with its latest views."""

    id: uuid.UUID
    posted_at: datetime
    views: int


@dataclass(frozen=True)
class GoalResult:
    """One applicable goal judged for the period."""

    id: uuid.UUID
    metric: str
    target: Decimal
    value: Decimal | None

    @property
    def met(self) -> bool:
        return self.value is not None and self.value >= self.target


@dataclass(frozen=True)
class Outcome:
    """The amount of one evaluation and every figure it came from."""

    amount_cents: int
    inputs: dict[str, Any]


def round_cents(exact: Decimal) -> int:
    """Half-even rounding to whole cents (0.5 → 0, 1.5 → 2, 2.5 → 2): the one rounding of an accrual."""
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _prorate(rule: Rule, period: Period, days_covered: int) -> tuple[Decimal, dict[str, Any]]:
    amount = Decimal(rule.amount_cents)
    partial = days_covered < period.days
    if not partial or rule.proration_mode == "none":
        return amount, {"proration_factor": "1"}
    if rule.proration_mode == "skip_partial":
        return Decimal(0), {"proration_factor": "0", "reason": "partial_period_skipped"}
    return amount * days_covered / period.days, {"proration_factor": f"{days_covered}/{period.days}"}


def _cpm(rule: Rule, videos: list[VideoFigure]) -> tuple[Decimal, dict[str, Any]]:
    min_views = rule.criteria_params.get("min_views")
    rows = []
    total = 0
    for video in videos:
        counted = 0 if min_views is not None and video.views < min_views else video.views
        total += counted
        rows.append({"video_id": str(video.id), "views": video.views, "counted_views": counted})
    exact = Decimal(rule.amount_cents) * total / 1000
    cap: int | None = rule.criteria_params.get("max_cents")
    capped = cap is not None and exact > cap
    inputs = {
        "rate_cents_per_1000_views": rule.amount_cents,
        "min_views": min_views,
        "max_cents": cap,
        "videos": rows,
        "counted_views": total,
        "uncapped_cents": str(exact),
        "capped": capped,
    }
    return (Decimal(cap) if cap is not None and capped else exact), inputs


def _threshold(rule: Rule, videos: list[VideoFigure]) -> tuple[Decimal, dict[str, Any]]:
    threshold = rule.criteria_params["threshold_views"]
    max_videos = rule.criteria_params.get("max_videos")
    qualifying = [v for v in videos if v.views >= threshold]
    paid = len(qualifying) if max_videos is None else min(len(qualifying), max_videos)
    inputs = {
        "threshold_views": threshold,
        "max_videos": max_videos,
        "videos": [{"video_id": str(v.id), "views": v.views} for v in videos],
        "qualifying_video_ids": [str(v.id) for v in qualifying],
        "qualifying_count": len(qualifying),
        "paid_videos": paid,
    }
    return Decimal(rule.amount_cents) * paid, inputs


def _goals(rule: Rule, goals: list[GoalResult]) -> tuple[bool, dict[str, Any]]:
    rows = [
        {
            "goal_id": str(g.id),
            "metric": g.metric,
            "target": str(g.target),
            "value": None if g.value is None else str(g.value),
            "met": g.met,
        }
        for g in goals
    ]
    inputs: dict[str, Any] = {"goal_ids_param": rule.criteria_params.get("goal_ids"), "goals": rows}
    if not goals:
        inputs["reason"] = "no_applicable_goals"
        return False, inputs
    met = all(g.met for g in goals)
    if not met:
        inputs["reason"] = "goals_not_met"
    return met, inputs


def compute(
    rule: Rule,
    period: Period,
    days_covered: int,
    *,
    videos: list[VideoFigure] | None = None,
    goals: list[GoalResult] | None = None,
) -> Outcome:
    """The amount a rule yields for one period, and the criteria-specific figures it used.

    Args:
        rule: the pinned version's rule.
        period: the period evaluated.
        days_covered: local calendar days of the period on which the creator was assigned (1..period.days).
        videos: for `cpm` and `view_threshold`, the counted videos posted in the period while assigned.
        goals: for `goals`, every applicable goal with the creator's figure for the period.
    """
    inputs: dict[str, Any] = {}
    if rule.criteria_type == "cpm":
        exact, inputs = _cpm(rule, videos or [])
    elif rule.criteria_type == "view_threshold":
        exact, inputs = _threshold(rule, videos or [])
    else:
        earned = True
        if rule.criteria_type == "goals":
            earned, inputs = _goals(rule, goals or [])
        exact, proration = _prorate(rule, period, days_covered)
        inputs = proration | inputs  # a goals reason wins over the proration one
        if not earned:
            exact = Decimal(0)
    cents = round_cents(exact)
    inputs["exact_cents"] = str(exact)
    inputs["rounding"] = "half_even"
    if cents == 0 and "reason" not in inputs:
        inputs["reason"] = "nothing_earned"
    return Outcome(cents, inputs)
