"""Vega-Lite specs of the charts: one definition drawn twice, to PNG on the server and interactively in the App.

Each builder takes the rows a chart draws (plain JSON values, made by `gather.py` from the domain results) and
returns a Vega-Lite 6 spec with those rows inline as the named dataset `DATASET`, so the spec is self-contained:
neither the server renderer nor the App fetches anything. Rules every spec follows:

* **Text stays data.** Handles, names, captions and URLs only ever appear as field values that Vega draws as text
  (SVG `<text>` nodes or canvas glyphs) and shows in tooltips through vega-tooltip, which escapes HTML; no spec
  uses `href`, `url` data, images or HTML tooltips.
* **Time is UTC on the axis.** Days are sent as `YYYY-MM-DD` (local days of the organization, already bucketed by
  the domain) and drawn on a `utc` scale, so the browser's or the server's own timezone cannot shift a bucket.
* **Fixed size.** Every chart is a single or layered view with `autosize: fit` (padding included), so the PNG is
  exactly `width` × `height` pixels (times the scale) and its size is known before rendering.
* **Layers are named** (`marks` names such as `points`, `bars`): tests and the App read the drawn marks by name.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DATASET",
    "HEIGHT",
    "VEGA_LITE_SCHEMA",
    "WIDTH",
    "campaign_progress_spec",
    "content_calendar_spec",
    "leaderboard_spec",
    "payout_ledger_spec",
    "program_health_spec",
    "views_over_time_spec",
]

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
"""An identifier only: nothing fetches it (vl-convert and the App both carry Vega-Lite 6 themselves)."""
DATASET = "rows"
WIDTH = 720
HEIGHT = 360
ROW_HEIGHT = 22
"""Pixels per bar of a ranked chart (its height grows with the rows)."""
MAX_HEIGHT = 2_400

STATUS_COLORS = {"complete": "#4c78a8", "partial": "#f58518", "no data": "#bab0ac"}
"""How a bucket of a time series is marked: complete, partial (incomplete data, see `why`), or no data at all."""
STATUS_SHAPES = {"complete": "circle", "partial": "diamond", "no data": "square"}


def _base(title: str, subtitle: str, rows: list[dict[str, Any]], height: int = HEIGHT) -> dict[str, Any]:
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": {"text": title, "subtitle": subtitle, "anchor": "start"},
        "width": WIDTH,
        "height": height,
        "autosize": {"type": "fit", "contains": "padding"},
        "padding": 8,
        "datasets": {DATASET: rows},
        "data": {"name": DATASET},
        "config": {
            "axis": {"labelLimit": 220, "titleFontWeight": "normal"},
            "legend": {"orient": "top", "title": None},
            "view": {"stroke": None},
        },
    }


def _day_axis(title: str, ticks: int = 12, day_format: str = "%b %d") -> dict[str, Any]:
    return {
        "field": "start",
        "type": "temporal",
        "scale": {"type": "utc"},
        "title": title,
        "axis": {"tickCount": max(1, min(ticks, 12)), "format": day_format, "labelOverlap": True},
    }


def views_over_time_spec(
    title: str, subtitle: str, rows: list[dict[str, Any]], *, y_title: str, timezone: str, monthly: bool = False
) -> dict[str, Any]:
    """A metric over time: a line through the buckets with data (broken where a bucket has none), a point per
    bucket with data coloured by `status` (complete or partial), and a grey band over each bucket with no data.

    Rows: `start`, `end` (the next bucket's first day), `value` (null = no data), `status`, `why`.
    """
    statuses = [s for s in STATUS_COLORS if any(row["status"] == s for row in rows)] or ["complete"]
    color = {
        "field": "status",
        "type": "nominal",
        "scale": {"domain": statuses, "range": [STATUS_COLORS[s] for s in statuses]},
    }
    x = _day_axis(f"bucket start ({timezone})", len(rows), "%b %Y" if monthly else "%b %d")
    tooltip = [
        {"field": "start", "type": "temporal", "scale": {"type": "utc"}, "title": "bucket", "format": "%Y-%m-%d"},
        {"field": "value", "type": "quantitative", "title": y_title, "format": ","},
        {"field": "status", "type": "nominal"},
        {"field": "why", "type": "nominal", "title": "why partial"},
    ]
    spec = _base(title, subtitle, rows)
    spec["layer"] = [
        {
            "name": "empty",
            "transform": [{"filter": "datum.status === 'no data'"}],
            "mark": {"type": "rect", "opacity": 0.35},
            "encoding": {"x": x, "x2": {"field": "end"}, "color": color, "tooltip": tooltip},
        },
        {
            "name": "line",
            "mark": {"type": "line", "invalid": "break-paths-filter-domains", "color": STATUS_COLORS["complete"]},
            "encoding": {"x": x, "y": {"field": "value", "type": "quantitative", "title": y_title}},
        },
        {
            "name": "points",
            "transform": [{"filter": "datum.value != null"}],
            "mark": {"type": "point", "filled": True, "size": 60},
            "encoding": {
                "x": x,
                "y": {"field": "value", "type": "quantitative", "title": y_title},
                "color": color,
                "shape": {
                    "field": "status",
                    "type": "nominal",
                    "scale": {"domain": statuses, "range": [STATUS_SHAPES[s] for s in statuses]},
                },
                "tooltip": tooltip,
            },
        },
    ]
    return spec


def leaderboard_spec(title: str, subtitle: str, rows: list[dict[str, Any]], *, x_title: str) -> dict[str, Any]:
    """Ranked horizontal bars, rank 1 on top. Rows: `rank`, `row` (\"rank. label\", unique), `label`, `value`,
    `caption` (videos; tooltip only)."""
    height = min(MAX_HEIGHT, max(HEIGHT // 2, 40 + ROW_HEIGHT * len(rows)))
    spec = _base(title, subtitle, rows, height)
    # An explicit order (rank 1 first): a sort by field would be computed per layer and warn about the union.
    y = {"field": "row", "type": "nominal", "sort": [row["row"] for row in rows], "title": None}
    tooltip = [
        {"field": "rank", "type": "quantitative"},
        {"field": "label", "type": "nominal"},
        {"field": "value", "type": "quantitative", "title": x_title, "format": ","},
        {"field": "caption", "type": "nominal"},
    ]
    spec["encoding"] = {"y": y}  # shared by both layers, so their y domains are one
    spec["layer"] = [
        {
            "name": "bars",
            "mark": {"type": "bar", "color": STATUS_COLORS["complete"]},
            "encoding": {
                "x": {"field": "value", "type": "quantitative", "title": x_title},
                "tooltip": tooltip,
            },
        },
        {
            "name": "values",
            "mark": {"type": "text", "align": "left", "dx": 3, "fontSize": 10},
            "encoding": {
                "x": {"field": "value", "type": "quantitative"},
                "text": {"field": "value", "type": "quantitative", "format": ","},
            },
        },
    ]
    return spec


def campaign_progress_spec(
    title: str,
    subtitle: str,
    rows: list[dict[str, Any]],
    *,
    target: int | None,
    target_label: str,
    target_day: str | None,
    timezone: str,
    monthly: bool = False,
) -> dict[str, Any]:
    """Cumulative views of a campaign's whole tree against its target: the line and points of
    `views_over_time_spec` (partial buckets marked), a dashed rule at `target` labelled `target_label`, and a
    vertical rule on `target_day` (the target date) when it falls in the range."""
    spec = views_over_time_spec(
        title, subtitle, rows, y_title="views (cumulative, whole tree)", timezone=timezone, monthly=monthly
    )
    if target is not None:
        spec["layer"].append(
            {
                "name": "target",
                "data": {"values": [{"target": target, "label": target_label}]},
                "layer": [
                    {
                        "mark": {"type": "rule", "strokeDash": [6, 4], "color": "#e45756", "strokeWidth": 2},
                        "encoding": {"y": {"field": "target", "type": "quantitative"}},
                    },
                    {
                        "mark": {"type": "text", "align": "left", "baseline": "bottom", "dy": -3, "color": "#e45756"},
                        "encoding": {
                            "y": {"field": "target", "type": "quantitative"},
                            "x": {"value": 4},
                            "text": {"field": "label"},
                        },
                    },
                ],
            }
        )
    if target_day is not None:
        spec["layer"].append(
            {
                "name": "target_day",
                "data": {"values": [{"start": target_day}]},
                "mark": {"type": "rule", "strokeDash": [2, 3], "color": "#e45756"},
                "encoding": {"x": _day_axis("")},
            }
        )
    return spec


LEDGER_COLORS = {
    "earned (owed)": "#f58518",
    "paid": "#54a24b",
    "rejected": "#b279a2",
    "voided": "#bab0ac",
    "payment": "#4c78a8",
    "payment (voided)": "#9ecae9",
    "overpayment": "#e45756",
    "credit_applied": "#72b7b2",
    "underpayment": "#eeca3b",
    "ad_hoc": "#ff9da6",
}
"""Every series the payout ledger can draw: accruals by status, payments, adjustments by kind."""


def payout_ledger_spec(title: str, subtitle: str, rows: list[dict[str, Any]], *, currency: str) -> dict[str, Any]:
    """A creator's payout ledger over time: each accrual a bar spanning its period (height = amount, colour =
    status), each payment and adjustment a point on the day it was paid (adjustments signed).

    Rows: `record` (accrual, payment, adjustment), `series`, `start`, `end` (accruals: period end, exclusive),
    `amount` (in currency units), `detail`.
    """
    series = [s for s in LEDGER_COLORS if any(row["series"] == s for row in rows)] or ["earned (owed)"]
    color = {
        "field": "series",
        "type": "nominal",
        "scale": {"domain": series, "range": [LEDGER_COLORS[s] for s in series]},
    }
    y = {"field": "amount", "type": "quantitative", "title": f"amount ({currency})"}
    tooltip = [
        {"field": "record", "type": "nominal"},
        {"field": "series", "type": "nominal", "title": "status / kind"},
        {"field": "start", "type": "temporal", "scale": {"type": "utc"}, "format": "%Y-%m-%d", "title": "from / paid"},
        {"field": "amount", "type": "quantitative", "format": ",.2f"},
        {"field": "detail", "type": "nominal"},
    ]
    spec = _base(title, subtitle, rows)
    spec["layer"] = [
        {
            "name": "accruals",
            "transform": [{"filter": "datum.record === 'accrual'"}],
            "mark": {"type": "rect", "opacity": 0.75, "stroke": "white", "strokeWidth": 0.5},
            "encoding": {
                "x": _day_axis("period / paid on (UTC days)"),
                "x2": {"field": "end"},
                "y": y,
                "y2": {"datum": 0},
                "color": color,
                "tooltip": tooltip,
            },
        },
        {
            "name": "payments",
            "transform": [{"filter": "datum.record !== 'accrual'"}],
            "mark": {"type": "point", "filled": True, "size": 90},
            "encoding": {
                "x": _day_axis("period / paid on (UTC days)"),
                "y": y,
                "color": color,
                "shape": {
                    "field": "record",
                    "type": "nominal",
                    "scale": {"domain": ["payment", "adjustment"], "range": ["circle", "diamond"]},
                    "legend": None,
                },
                "tooltip": tooltip,
            },
        },
    ]
    return spec


HEALTH_COLORS = {
    "creators": "#e45756",
    "inbox": "#4c78a8",
    "goals": "#f58518",
    "over-posting": "#b279a2",
    "payouts": "#54a24b",
}


def program_health_spec(title: str, subtitle: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What needs attention, one bar per check (zero counts keep their row, so a clean program reads as clean).

    Rows: `check` (the bar's label), `area`, `count`, `detail`.
    """
    spec = _base(title, subtitle, rows, min(MAX_HEIGHT, max(HEIGHT // 2, 60 + ROW_HEIGHT * len(rows))))
    y = {"field": "check", "type": "nominal", "sort": [row["check"] for row in rows], "title": None}
    areas = list(HEALTH_COLORS)
    spec["encoding"] = {"y": y}
    spec["layer"] = [
        {
            "name": "bars",
            "mark": {"type": "bar"},
            "encoding": {
                "x": {
                    "field": "count",
                    "type": "quantitative",
                    "title": "count",
                    "axis": {"tickMinStep": 1, "format": "d"},
                },
                "color": {
                    "field": "area",
                    "type": "nominal",
                    "scale": {"domain": areas, "range": [HEALTH_COLORS[a] for a in areas]},
                },
                "tooltip": [
                    {"field": "check", "type": "nominal"},
                    {"field": "count", "type": "quantitative"},
                    {"field": "detail", "type": "nominal"},
                ],
            },
        },
        {
            "name": "values",
            "mark": {"type": "text", "align": "left", "dx": 3, "fontSize": 10},
            "encoding": {"x": {"field": "count", "type": "quantitative"}, "text": {"field": "count"}},
        },
    ]
    return spec


CALENDAR_MARKERS = {
    "pending": ("#f58518", "triangle-up"),
    "excluded": ("#7f7f7f", "cross"),
    "over-posting": ("#e45756", "diamond"),
}
"""How a calendar cell is marked beside its colour: posts waiting in the inbox, excluded posts, an over-posting day."""


def content_calendar_spec(
    title: str, subtitle: str, rows: list[dict[str, Any]], *, creators: list[str], days: list[str]
) -> dict[str, Any]:
    """A heat map of local days (columns) by creator (rows), each cell coloured by the creator's counted posts that
    day, with a marker in the cell for each of pending posts, excluded posts and an over-posting day.

    Rows: `record` (`day`: one per creator and day; `marker`: one per marked cell and marker), `creator` (the row's
    label), `day` (`YYYY-MM-DD`, a local day, drawn as an ordinal label so no timezone can move it), `counted`,
    `pending`, `excluded`, `over_posting`; markers add `marker` and `count`.
    """
    height = min(MAX_HEIGHT, max(HEIGHT // 2, 90 + ROW_HEIGHT * len(creators)))
    spec = _base(title, subtitle, rows, height)
    x = {
        "field": "day",
        "type": "ordinal",
        "sort": days,
        "scale": {"domain": days},
        "title": "local day",
        "axis": {"labelExpr": "substring(datum.value, 5)", "labelAngle": -90, "labelOverlap": True},
    }
    y = {"field": "creator", "type": "nominal", "sort": creators, "scale": {"domain": creators}, "title": None}
    markers = list(CALENDAR_MARKERS)
    spec["encoding"] = {"x": x, "y": y}
    spec["layer"] = [
        {
            "name": "cells",
            "transform": [{"filter": "datum.record === 'day'"}],
            "mark": {"type": "rect", "stroke": "white", "strokeWidth": 1},
            "encoding": {
                "color": {
                    "field": "counted",
                    "type": "quantitative",
                    "scale": {"scheme": "greens", "domainMin": 0},
                    "title": "counted posts",
                    "legend": {"format": "d", "tickMinStep": 1},
                },
                "tooltip": [
                    {"field": "creator", "type": "nominal"},
                    {"field": "day", "type": "nominal"},
                    {"field": "counted", "type": "quantitative"},
                    {"field": "pending", "type": "quantitative"},
                    {"field": "excluded", "type": "quantitative"},
                    {"field": "over_posting", "type": "nominal", "title": "over-posting"},
                ],
            },
        },
        {
            "name": "markers",
            "transform": [{"filter": "datum.record === 'marker'"}],
            "mark": {"type": "point", "filled": True, "size": 40, "stroke": "white", "strokeWidth": 0.5},
            "encoding": {
                "xOffset": {"field": "marker", "type": "nominal", "scale": {"domain": markers}},
                "shape": {
                    "field": "marker",
                    "type": "nominal",
                    "scale": {"domain": markers, "range": [CALENDAR_MARKERS[m][1] for m in markers]},
                    "title": None,
                },
                "fill": {
                    "field": "marker",
                    "type": "nominal",
                    "scale": {"domain": markers, "range": [CALENDAR_MARKERS[m][0] for m in markers]},
                    "title": None,
                },
                "tooltip": [
                    {"field": "creator", "type": "nominal"},
                    {"field": "day", "type": "nominal"},
                    {"field": "marker", "type": "nominal"},
                    {"field": "count", "type": "quantitative"},
                ],
            },
        },
    ]
    return spec
