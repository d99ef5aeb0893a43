"""A chart as a tool result: the figures, the Vega-Lite spec, a PNG and the link to the App that draws it.

The one result serves every kind of host:

* `structuredContent` (`Chart`): the figures (`data`, as the matching read tool returns them) and the chart's
  Vega-Lite spec with its rows inline (`vega_lite`), which the App draws;
* the text block: the same figures as compact JSON, third-party text fenced (`fencing.respond`), without the spec
  (a model reads the figures, not the drawing instructions);
* an image block: the PNG vl-convert rendered from the same spec, for hosts that show images but not Apps;
* `_meta.ui.resourceUri`: `ui://trackagoat/chart`, the App page (hosts with Apps also find it on the tool).
"""

from __future__ import annotations

import base64
from typing import Any

from mcp.types import CallToolResult, ImageContent
from pydantic import BaseModel, ConfigDict, Field

from trackagoat_mcp.server.apps.chart_app import CHART_APP_URI
from trackagoat_mcp.server.charts.gather import ChartKind, Drawn
from trackagoat_mcp.server.charts.render import Png
from trackagoat_mcp.server.fencing import respond
from trackagoat_mcp.server.registry import ui_meta

__all__ = ["Chart", "ChartImage", "chart_result"]


class ChartImage(BaseModel):
    """The PNG in this result's content."""

    model_config = ConfigDict(frozen=True)

    mime_type: str
    width: int = Field(description="Pixels.")
    height: int = Field(description="Pixels.")
    bytes: int


class _ChartText(BaseModel):
    """What the text block shows: everything but the spec."""

    kind: ChartKind
    title: str
    series: list[str] = Field(description="What the chart draws: series, statuses or areas, as its legend names them.")
    points: int = Field(
        description="Marks drawn: buckets (views_over_time, campaign_progress), ranked rows (leaderboard), accruals + "
        "payments + adjustments (payout_ledger), checks (program_health), creator-days + markers (content_calendar)."
    )
    notes: list[str]
    image: ChartImage
    app: str = Field(description="The ui:// MCP App resource that draws this chart interactively.")
    data: dict[str, Any] = Field(
        description="The figures drawn, as the read tool returns them: get_analytics (views_over_time), "
        "get_leaderboard, {stats: get_campaign_stats, series: cumulative get_analytics} (campaign_progress), accruals, "
        "payments and adjustments with totals in cents (payout_ledger), get_program_health, get_content_calendar with "
        "every creator's days."
    )


class Chart(_ChartText):
    """A chart of trackagoat figures: the figures, the Vega-Lite spec the image and the App are drawn from."""

    vega_lite: dict[str, Any] = Field(description="The chart as a Vega-Lite 6 spec with its rows inline.")


def chart_result(kind: str, drawn: Drawn, png: Png) -> CallToolResult:
    """The tool result of a drawn and rendered chart (see the module docstring)."""
    image = ChartImage(mime_type="image/png", width=png.width, height=png.height, bytes=len(png.data))
    shown = _ChartText.model_validate(
        {
            "kind": kind,
            "title": drawn.title,
            "series": drawn.series,
            "points": drawn.points,
            "notes": drawn.notes,
            "image": image,
            "app": CHART_APP_URI,
            "data": drawn.data,
        }
    )
    text = respond(shown)
    chart = Chart(**dict(shown), vega_lite=drawn.spec)
    encoded = base64.b64encode(png.data).decode("ascii")
    return CallToolResult(
        content=[*text.content, ImageContent(type="image", data=encoded, mime_type="image/png")],
        structured_content=chart.model_dump(mode="json"),
        _meta=ui_meta(CHART_APP_URI),
    )
