"""The calendar, pools and alerts over `/api/v1`: the same answers as the tools, scopes and errors as REST's."""

from __future__ import annotations

from tests.http.rest.support import all_pages, rest_client
from tests.http.support import make_key
from tests.insights._support import seed_alerts
from trackagoat_mcp.domain import alerts
from trackagoat_mcp.domain.alerts import Thresholds


async def test_rest_serves_the_calendar_pools_and_alert_triage(db, clock, acme):
    caller, project = acme
    program = await seed_alerts(db, caller, project, clock.now())
    async with db.write() as session:
        await alerts.evaluate_org(session, caller.org_id, now=clock.now(), thresholds=Thresholds())
    writer = await make_key(db, clock, caller.org_id, scopes=("read", "write"))
    async with rest_client(db, clock, writer) as client:
        calendar = await client.get(f"/projects/{project}/content-calendar", params={"limit": 2})
        one = await client.get(f"/creators/{program.ids['lagging']}/content-calendar", params={"from": "2026-03-01"})
        too_long = await client.get(
            f"/projects/{project}/content-calendar", params={"from": "2026-01-01", "to": "2026-06-01"}
        )
        pools = await client.get(f"/projects/{project}/creator-pools")
        listed = await all_pages(client, "/alerts", limit=4)
        missed = next(a for a in listed if a["kind"] == "goal_missed")
        resolved = await client.post(f"/alerts/{missed['id']}/resolve")
        refused = await client.post(f"/alerts/{missed['id']}/acknowledge")
        hook = await client.put("/alerts/webhook", json={"url": "https://hooks.example.com/x"})
        shown = await client.get("/alerts/webhook")
    assert calendar.status_code == 200 and len(calendar.json()["data"]["items"]) == 2
    assert one.json()["data"]["items"][0]["missed_periods"] == 2
    assert (too_long.status_code, too_long.json()["meta"]["code"]) == (400, "invalid_query")
    assert pools.json()["data"]["pools"][0]["key"] == "unknown"
    assert len(listed) == 6 and resolved.json()["data"]["status"] == "resolved"
    assert (refused.status_code, refused.json()["meta"]["code"]) == (409, "alert_resolved")
    assert hook.status_code == 403 and shown.json()["data"]["url"] is None
    admin = await make_key(db, clock, caller.org_id, scopes=("admin",))
    async with rest_client(db, clock, admin) as client:
        private = await client.put("/alerts/webhook", json={"url": "https://192.168.1.10/hook"})
        hook = await client.put("/alerts/webhook", json={"url": "https://hooks.example.com/x"})
        shown = await client.get("/alerts/webhook")
    assert (private.status_code, private.json()["meta"]["code"]) == (400, "invalid_body")
    assert hook.json()["data"]["secret"].startswith("whsec_") and shown.json()["data"]["secret"] is None
