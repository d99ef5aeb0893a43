"""Content calendar, creator pools and alerts over `/api/v1`: the same domain calls and records as the tools
`get_content_calendar`, `get_creator_pools` and `manage_alerts`.

* `GET /projects|campaigns|creators/{id}/content-calendar` (`from`, `to`, `limit` creators, `cursor`);
* `GET /projects/{id}/creator-pools` (`creator_id`, `pool`, `from`, `to`);
* `GET /alerts` (`status`: active, open, acknowledged, resolved, all; `project_id`; pages), `POST
  /alerts/{id}/acknowledge`, `POST /alerts/{id}/resolve` (write scope; nothing is created, so no Idempotency-Key);
* `GET /alerts/webhook` (the URL and recent deliveries, never the secret), `PUT /alerts/webhook` `{"url": …}` and
  `DELETE /alerts/webhook` (admin scope; the PUT answer carries the signing secret, once).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import Field
from starlette.responses import Response

from trackagoat_mcp.domain import alerts
from trackagoat_mcp.domain.alerts import AlertOut, UrlPolicy, WebhookOut
from trackagoat_mcp.domain.calendar import ContentCalendar, content_calendar
from trackagoat_mcp.domain.pools import CreatorPools, creator_pools
from trackagoat_mcp.http.rest.common import Body, Day, Id, ListQuery
from trackagoat_mcp.http.rest.common import Query as StrictQuery
from trackagoat_mcp.http.rest.deps import CallerDep, RestState, StateDep, require_admin
from trackagoat_mcp.http.rest.envelope import Envelope, PageEnvelope, page_response, success

router = APIRouter(tags=["insights"])

From = Annotated[Day | None, Field(alias="from", description="First local day (YYYY-MM-DD).")]
To = Annotated[Day | None, Field(description="Last local day, inclusive.")]


class CalendarQuery(StrictQuery):
    """The days and the page of creators."""

    from_: From = None
    to: To = None
    limit: Annotated[int, Field(ge=1, le=100, description="Creators per page (default 20).")] = 20
    cursor: Annotated[str | None, Field(max_length=2000)] = None


class PoolsQuery(StrictQuery):
    """One creator or one pool (optional) and the days compared."""

    creator_id: Annotated[str | None, Field(max_length=64)] = None
    pool: Annotated[str | None, Field(max_length=32, description="A pool key: every member of that pool.")] = None
    from_: From = None
    to: To = None


class AlertQuery(ListQuery):
    """Which alerts."""

    status: Literal["active", "open", "acknowledged", "resolved", "all"] = "active"
    project_id: Annotated[str | None, Field(max_length=64)] = None


class WebhookIn(Body):
    """Where the organization's new alerts are POSTed (https)."""

    url: Annotated[str, Field(min_length=1, max_length=2000)]


async def _calendar(state: RestState, caller: CallerDep, q: CalendarQuery, **scope: Any) -> Response:
    async with state.db.read() as session:
        result = await content_calendar(
            session, caller, now=state.clock.now(), range_from=q.from_, range_to=q.to, limit=q.limit, cursor=q.cursor,
            **scope,
        )  # fmt: skip
    return success(result)


@router.get("/projects/{project_id}/content-calendar", response_model=Envelope[ContentCalendar])
async def project_calendar(
    state: StateDep, caller: CallerDep, project_id: Id, q: Annotated[CalendarQuery, Query()]
) -> Response:
    """The project's creators per local day against their posting cadence (a page of creators, days summed)."""
    return await _calendar(state, caller, q, project_id=project_id)


@router.get("/campaigns/{campaign_id}/content-calendar", response_model=Envelope[ContentCalendar])
async def campaign_calendar(
    state: StateDep, caller: CallerDep, campaign_id: Id, q: Annotated[CalendarQuery, Query()]
) -> Response:
    """The calendar of the creators in the campaign's tree."""
    return await _calendar(state, caller, q, campaign_id=campaign_id)


@router.get("/creators/{creator_id}/content-calendar", response_model=Envelope[ContentCalendar])
async def creator_calendar(
    state: StateDep, caller: CallerDep, creator_id: Id, q: Annotated[CalendarQuery, Query()]
) -> Response:
    """One creator's days and periods against its cadence."""
    return await _calendar(state, caller, q, creator_id=creator_id)


@router.get("/projects/{project_id}/creator-pools", response_model=Envelope[CreatorPools])
async def project_pools(
    state: StateDep, caller: CallerDep, project_id: Id, q: Annotated[PoolsQuery, Query()]
) -> Response:
    """The project's creators pooled by follower band, with each pool's medians and who stands off the line."""
    async with state.db.read() as session:
        result = await creator_pools(
            session, caller, project_id=project_id, now=state.clock.now(), creator_id=q.creator_id, pool=q.pool,
            range_from=q.from_, range_to=q.to,
        )  # fmt: skip
    return success(result)


@router.get("/alerts", response_model=PageEnvelope[AlertOut])
async def list_alerts(state: StateDep, caller: CallerDep, q: Annotated[AlertQuery, Query()]) -> Response:
    """The organization's alerts, most recently seen first."""
    async with state.db.read() as session:
        page = await alerts.list_alerts(
            session, caller, status=q.status, project_id=q.project_id, limit=q.limit, cursor=q.cursor
        )
    return page_response(page)


@router.post("/alerts/{alert_id}/acknowledge", response_model=Envelope[AlertOut])
async def acknowledge_alert(state: StateDep, caller: CallerDep, alert_id: Id) -> Response:
    """Mark an alert acknowledged (409 alert_resolved for a resolved one)."""
    async with state.db.write() as session:
        [result] = await alerts.acknowledge_alerts(session, caller, [alert_id], now=state.clock.now())
    return success(result)


@router.post("/alerts/{alert_id}/resolve", response_model=Envelope[AlertOut])
async def resolve_alert(state: StateDep, caller: CallerDep, alert_id: Id) -> Response:
    """Mark an alert resolved; it reopens by itself if the finding recurs."""
    async with state.db.write() as session:
        [result] = await alerts.resolve_alerts(session, caller, [alert_id], now=state.clock.now())
    return success(result)


@router.get("/alerts/webhook", response_model=Envelope[WebhookOut])
async def get_webhook(state: StateDep, caller: CallerDep) -> Response:
    """The webhook URL (null if none) and its latest delivery attempts; the secret is never shown again."""
    async with state.db.read() as session:
        return success(await alerts.get_webhook(session, caller))


@router.put("/alerts/webhook", response_model=Envelope[WebhookOut], dependencies=[Depends(require_admin)])
async def set_webhook(state: StateDep, caller: CallerDep, body: WebhookIn) -> Response:
    """Send new alerts to `url`, signed with a new secret returned in this answer only (admin)."""
    settings = state.settings
    policy = UrlPolicy(allow_loopback=settings.webhook_allow_loopback, allow_private=settings.webhook_allow_private)
    async with state.db.write() as session:
        return success(await alerts.set_webhook(session, caller, body.url, policy=policy, now=state.clock.now()))


@router.delete("/alerts/webhook", response_model=Envelope[WebhookOut], dependencies=[Depends(require_admin)])
async def clear_webhook(state: StateDep, caller: CallerDep) -> Response:
    """Stop sending alerts (admin)."""
    async with state.db.write() as session:
        return success(await alerts.clear_webhook(session, caller))
