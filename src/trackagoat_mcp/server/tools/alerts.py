"""The `analytics` toolset: `manage_alerts`, one tool for listing and triaging alerts and setting the webhook.

One tool with an `action` instead of five keeps the catalogue small. It writes (acknowledge, resolve, webhook), so
it needs the `write` scope and is hidden from read-only keys and `--read-only` servers; they read alerts at
`GET /api/v1/alerts`. Setting or clearing the webhook needs the `admin` scope.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from trackagoat_mcp.domain import alerts
from trackagoat_mcp.domain.alerts import AlertOut, UrlPolicy, WebhookOut
from trackagoat_mcp.domain.pagination import Page
from trackagoat_mcp.errors import InvalidInput
from trackagoat_mcp.server.budget import fit_page
from trackagoat_mcp.server.context import app_context, unit
from trackagoat_mcp.server.fencing import respond
from trackagoat_mcp.server.registry import ToolGroup
from trackagoat_mcp.server.tools import Cursor, id_arg

group = ToolGroup("analytics")

Action = Literal["list", "acknowledge", "resolve", "set_webhook", "clear_webhook"]


class AlertsResult(BaseModel):
    """Alerts listed or changed, and the organization's webhook."""

    action: str
    items: list[AlertOut]
    next_cursor: str | None
    webhook: WebhookOut | None = Field(description="list and webhook actions; secret only right after set_webhook.")


@group.tool(title="Alerts", scope="write", idempotent=True)
@fit_page
async def manage_alerts(
    ctx: Context[Any],
    action: Action = "list",
    alert_ids: Annotated[list[Annotated[str, id_arg("alert")]] | None, Field(max_length=100)] = None,
    status: Literal["active", "open", "acknowledged", "resolved", "all"] = "active",
    project_id: Annotated[str | None, id_arg("project")] = None,
    url: Annotated[str | None, Field(max_length=2000)] = None,
    limit: Annotated[int, Field(ge=1, le=100)] = 50,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, AlertsResult]:
    """Alerts from health, sentiment and scrape findings, one per key, first/last seen, reopened on
    recurrence. action: list (status; active = open+acknowledged), acknowledge|resolve (alert_ids), set_webhook
    (https url; admin; secret shown once), clear_webhook."""
    settings = app_context(ctx).settings
    policy = UrlPolicy(allow_loopback=settings.webhook_allow_loopback, allow_private=settings.webhook_allow_private)
    async with unit(ctx, write=action != "list") as u:
        u.caller.require("write")  # a write tool refuses read-only keys on every action, as every write tool does
        if action == "list":
            if alert_ids:
                page = Page[AlertOut](items=await alerts.get_alerts(u.session, u.caller, alert_ids), next_cursor=None)
            else:
                page = await alerts.list_alerts(
                    u.session, u.caller, status=status, project_id=project_id, limit=limit, cursor=cursor
                )
            hook = await alerts.get_webhook(u.session, u.caller)
            return respond(AlertsResult(action=action, items=page.items, next_cursor=page.next_cursor, webhook=hook))
        if action in ("acknowledge", "resolve"):
            change = alerts.acknowledge_alerts if action == "acknowledge" else alerts.resolve_alerts
            items = await change(u.session, u.caller, alert_ids or [], now=u.now)
            return respond(AlertsResult(action=action, items=items, next_cursor=None, webhook=None))
        if action == "set_webhook":
            if not url:
                raise InvalidInput("action 'set_webhook' needs url (an https URL); use clear_webhook to remove it.")
            hook = await alerts.set_webhook(u.session, u.caller, url, policy=policy, now=u.now)
        else:
            hook = await alerts.clear_webhook(u.session, u.caller)
    return respond(AlertsResult(action=action, items=[], next_cursor=None, webhook=hook))
