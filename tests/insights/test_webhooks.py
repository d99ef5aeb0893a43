"""Alert webhooks: a real receiver on loopback gets signed JSON, a 500 is retried with backoff, every attempt is
logged; where a webhook may point is decided before anything is stored."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import httpx2
import pytest
from sqlmodel import col, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.http.support import serve
from tests.insights._support import seed_alerts
from trackagoat_mcp.db.models import Alert, AlertDelivery
from trackagoat_mcp.domain import alerts
from trackagoat_mcp.domain.alerts import UrlPolicy
from trackagoat_mcp.domain.alerts.webhooks import check_url
from trackagoat_mcp.errors import ConfigError, Forbidden, InvalidInput
from trackagoat_mcp.jobs.alerts import AlertSettings, run_alerts
from trackagoat_mcp.jobs.webhooks import RetryPolicy

LOOPBACK = UrlPolicy(allow_loopback=True)


class Receiver:
    """A chat bridge: answers the queued statuses in order (then 200) and keeps every request."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> Response:
        self.requests.append((dict(request.headers), await request.body()))
        return Response(status_code=self.statuses.pop(0) if self.statuses else 200)


async def run(db, clock, *, sleeps, slot):
    async with httpx2.AsyncClient() as http:
        return await run_alerts(
            db, clock, http, worker_id="test", slot=slot, sleep=lambda s: sleeps.append(s) or _done(),
            settings=AlertSettings(url_policy=LOOPBACK, retry=RetryPolicy(attempts=3, base=1.0)),
        )  # fmt: skip


async def _done() -> None:
    return None


async def test_new_alerts_reach_the_webhook_signed_and_a_500_is_retried(db, clock, acme):
    caller, project = acme
    await seed_alerts(db, caller, project, clock.now())
    receiver = Receiver(500)
    sleeps: list[float] = []
    async with serve(receiver.app) as base:
        async with db.write() as session:
            hook = await alerts.set_webhook(session, caller, f"{base}/hook", policy=LOOPBACK, now=clock.now())
        report = await run(db, clock, sleeps=sleeps, slot="a")
        clock.advance(timedelta(minutes=15))
        quiet = await run(db, clock, sleeps=sleeps, slot="b")
    assert hook.secret.startswith("whsec_") and len(hook.secret) == 6 + 64
    assert (report.new, report.delivered, report.failed_deliveries) == (6, 6, 0)
    assert (quiet.new, quiet.delivered) == (0, 0) and len(receiver.requests) == 2  # nothing new: nothing sent
    (first_headers, first_body), (headers, body) = receiver.requests
    assert first_body == body and first_headers["x-trackagoat-delivery"] == headers["x-trackagoat-delivery"]
    expected = "sha256=" + hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-trackagoat-signature"], expected)
    payload = json.loads(body)
    assert payload["organization_id"] == str(caller.org_id) and len(payload["alerts"]) == 6
    assert {a["kind"] for a in payload["alerts"]} >= {"goal_missed", "over_posting", "unpaid_balance", "job_lag"}
    assert len(sleeps) == 1 and 1.0 <= sleeps[0] <= 1.25  # base × 2^0 plus at most 25 % jitter
    async with db.read() as session:
        log = list(await session.scalars(select(AlertDelivery).order_by(col(AlertDelivery.attempt))))
        sent = {row.notified_at for row in await session.scalars(select(Alert))}
    assert [(d.attempt, d.status_code, d.ok) for d in log] == [(1, 500, False), (2, 200, True)]
    assert sent == {clock.now() - timedelta(minutes=15)}


async def test_a_receiver_that_keeps_failing_is_tried_a_bounded_number_of_times_and_again_next_run(db, clock, acme):
    caller, project = acme
    await seed_alerts(db, caller, project, clock.now())
    receiver = Receiver(503, 503, 503, 404)
    sleeps: list[float] = []
    async with serve(receiver.app) as base:
        async with db.write() as session:
            await alerts.set_webhook(session, caller, f"{base}/hook", policy=LOOPBACK, now=clock.now())
        failed = await run(db, clock, sleeps=sleeps, slot="a")
        clock.advance(timedelta(minutes=15))
        refused = await run(db, clock, sleeps=sleeps, slot="b")  # a 404 is not retried
    assert (failed.delivered, failed.failed_deliveries, refused.failed_deliveries) == (0, 1, 1)
    assert len(receiver.requests) == 4 and len(sleeps) == 2 and 2.0 <= sleeps[1] <= 2.5
    async with db.read() as session:
        assert {row.notified_at for row in await session.scalars(select(Alert))} == {None}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # no backend difference to see
async def test_setting_the_webhook_needs_admin_and_a_public_https_url(db, clock, acme):
    caller, _ = acme
    writer = type(caller)(caller.org_id, frozenset({"write"}))
    with pytest.raises(Forbidden):
        async with db.write() as session:
            await alerts.set_webhook(
                session, writer, "https://hooks.example.com/x", policy=UrlPolicy(), now=clock.now()
            )
    strict = UrlPolicy()
    for url, why in [
        ("http://hooks.example.com/x", "not https"),
        ("https://user:pw@hooks.example.com/x", "user name or password"),
        ("https://127.0.0.1/x", "loopback, private"),
        ("https://10.1.2.3/x", "loopback, private"),
        ("https://169.254.169.254/latest", "loopback, private"),
        ("https://[::ffff:192.168.0.1]/x", "loopback, private"),
        ("https://localhost:8443/x", "loopback, private"),
        ("http://127.0.0.1:9/x", "not https"),
        ("ftp://hooks.example.com/x", "not an https"),
    ]:
        with pytest.raises(InvalidInput, match=why):
            check_url(url, strict)
    assert check_url("https://hooks.example.com/x", strict) == "https://hooks.example.com/x"
    assert check_url("http://127.0.0.1:9/x", LOOPBACK) == "http://127.0.0.1:9/x"
    assert check_url("https://10.1.2.3/x", UrlPolicy(allow_private=True)) == "https://10.1.2.3/x"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # no backend difference to see
async def test_the_secret_is_shown_once_and_a_new_one_replaces_it(db, clock, acme):
    caller, _ = acme
    async with db.write() as session:
        first = await alerts.set_webhook(
            session, caller, "https://hooks.example.com/a", policy=UrlPolicy(), now=clock.now()
        )
        second = await alerts.set_webhook(
            session, caller, "https://hooks.example.com/a", policy=UrlPolicy(), now=clock.now()
        )
    async with db.read() as session:
        shown = await alerts.get_webhook(session, caller)
    assert first.secret != second.secret and shown.secret is None and shown.url == "https://hooks.example.com/a"
    async with db.write() as session:
        cleared = await alerts.clear_webhook(session, caller)
    assert cleared.url is None


def test_the_alert_job_takes_its_thresholds_policy_and_retries_from_the_environment():
    from trackagoat_mcp.config import load_settings
    from trackagoat_mcp.jobs.scheduler import alert_settings_of, schedules

    env = {
        "TRACKAGOAT_DATABASE_URL": "sqlite+aiosqlite:///x.db",
        "TRACKAGOAT_ALERT_INTERVAL_MINUTES": "5",
        "TRACKAGOAT_ALERT_UNPAID_DAYS": "30",
        "TRACKAGOAT_ALERT_UNPAID_CENTS": "10000",
        "TRACKAGOAT_WEBHOOK_ATTEMPTS": "2",
        "TRACKAGOAT_WEBHOOK_ALLOW_PRIVATE": "yes",
    }
    settings = load_settings(env)
    job = alert_settings_of(settings)
    assert (job.interval, job.thresholds.unpaid_days, job.thresholds.unpaid_cents) == (timedelta(minutes=5), 30, 10000)
    assert (job.retry.attempts, job.url_policy.allow_private, job.url_policy.allow_loopback) == (2, True, False)
    assert schedules(settings)["alerts"].text == "every 5 minutes"
    with pytest.raises(ConfigError, match="TRACKAGOAT_WEBHOOK_ATTEMPTS"):
        load_settings({**env, "TRACKAGOAT_WEBHOOK_ATTEMPTS": "0"})
