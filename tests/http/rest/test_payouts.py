"""The REST API's payout routes: payments recorded exactly once, accruals, balances and CSV exports."""

from __future__ import annotations

import csv
import io
import uuid

import anyio

from tests.conftest import make_org
from tests.http.rest.support import all_pages, rest_client
from tests.http.support import make_key
from tests.server.conftest import acme_world, seed_world
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.scope import Caller

Org = tuple[Caller, uuid.UUID]


async def test_thirty_concurrent_posts_of_one_payment_record_it_once(db: Database, clock: FrozenClock) -> None:
    world = await acme_world(db, clock)
    key = await make_key(db, clock, world.caller.org_id)
    body = {
        "project_id": str(world.project),
        "creator_id": str(world.creator),
        "method_id": str(world.ids["method"]),
        "auto_apply_outstanding": True,
    }
    idempotency = {"Idempotency-Key": str(uuid.uuid4())}
    statuses: list[int] = []
    bodies: list[bytes] = []
    async with rest_client(db, clock, key) as client:

        async def post() -> None:
            response = await client.post("/payout-payments", json=body, headers=idempotency)
            statuses.append(response.status_code)
            if response.status_code == 201:
                bodies.append(response.content)
            else:
                assert response.json()["meta"]["code"] == "idempotency_key_in_use", response.text

        async with anyio.create_task_group() as tg:
            for _ in range(30):
                tg.start_soon(post)
        retry = await client.post("/payout-payments", json=body, headers=idempotency)
        payments = await all_pages(client, "/payout-payments", creator_id=str(world.creator))
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert set(bodies) <= {retry.content} and bodies
    created = retry.json()["data"]["id"]
    assert [p["id"] for p in payments].count(created) == 1
    assert len(payments) == 2  # the seeded advance and this one


async def test_a_payment_without_an_idempotency_key_is_refused(db: Database, clock: FrozenClock) -> None:
    world = await acme_world(db, clock)
    body = {"project_id": str(world.project), "method_id": str(world.ids["method"]), "total_amount_cents": 500}
    async with rest_client(db, clock, await make_key(db, clock, world.caller.org_id)) as client:
        response = await client.post("/payout-payments", json=body)
    assert (response.status_code, response.json()["meta"]["code"]) == (400, "invalid_params")


async def test_unpaid_accruals_get_paid_and_the_payment_shows_its_lines(db: Database, clock: FrozenClock) -> None:
    world = await acme_world(db, clock)
    async with rest_client(db, clock, await make_key(db, clock, world.caller.org_id)) as client:
        owed = await all_pages(client, "/payout-accruals", creator_id=str(world.creator), status="earned")
        paid = await client.post(
            "/payout-payments",
            json={
                "project_id": str(world.project),
                "creator_id": str(world.creator),
                "method_id": str(world.ids["method"]),
                "auto_apply_outstanding": True,
            },
            headers={"Idempotency-Key": "pay-1"},
        )
        payment_id = paid.json()["data"]["id"]
        fetched = await client.get(f"/payout-payments/{payment_id}")
        after = await all_pages(client, "/payout-accruals", creator_id=str(world.creator), status="earned")
        balance = await client.get("/payout-balances", params={"creator_id": str(world.creator)})
        voided = await client.post(f"/payout-payments/{payment_id}/void", json={"reason": "bounced"})
        owed_again = await all_pages(client, "/payout-accruals", creator_id=str(world.creator), status="earned")
    assert [a["id"] for a in owed] == [str(world.ids["accrual"])]
    assert paid.status_code == 201
    lines = fetched.json()["data"]["payout_payment_lines"]
    assert [line["accrual_id"] for line in lines] == [str(world.ids["accrual"])]
    assert after == []
    assert balance.json()["data"]["owed_cents"] == 0
    assert voided.status_code == 200 and voided.json()["data"]["status"] == "voided"
    assert [a["id"] for a in owed_again] == [str(world.ids["accrual"])]


async def test_a_rest_retry_and_an_mcp_payment_with_the_same_key_cannot_both_write(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    """The header is the payment's own key: a payment recorded first through the domain (as the MCP tool does) with
    other arguments makes the REST POST with that key a 409, not a second payment."""
    world = await seed_world(db, clock, acme, "acme")
    seeded_key = f"seed-{world.creator}"  # the seeded advance of 400 cents used this key
    body = {"project_id": str(world.project), "method_id": str(world.ids["method"]), "total_amount_cents": 999}
    async with rest_client(db, clock, await make_key(db, clock, world.caller.org_id)) as client:
        response = await client.post("/payout-payments", json=body, headers={"Idempotency-Key": seeded_key})
        payments = await all_pages(client, "/payout-payments")
    assert (response.status_code, response.json()["meta"]["code"]) == (409, "idempotency_key_reused")
    assert len(payments) == 1


async def test_accrual_and_payment_exports_parse_back_as_csv(db: Database, clock: FrozenClock) -> None:
    world = await acme_world(db, clock)
    async with rest_client(db, clock, await make_key(db, clock, world.caller.org_id)) as client:
        accruals = await client.get("/payout-accruals", params={"format": "csv"})
        payments = await client.get("/payout-payments", params={"format": "csv"})
        as_json = await all_pages(client, "/payout-payments")
    assert accruals.headers["content-type"].startswith("text/csv")
    accrual_rows = list(csv.DictReader(io.StringIO(accruals.text)))
    assert [(r["id"], r["amount_cents"], r["status"]) for r in accrual_rows] == [
        (str(world.ids["accrual"]), "1000", "earned")
    ]
    payment_rows = list(csv.DictReader(io.StringIO(payments.text)))
    assert [r["id"] for r in payment_rows] == [p["id"] for p in as_json]
    assert payment_rows[0]["total_amount_cents"] == str(as_json[0]["total_amount_cents"])


async def test_another_organizations_payment_is_not_found(db: Database, clock: FrozenClock) -> None:
    world = await acme_world(db, clock)
    other, _ = await make_org(db, clock, "Globex")
    async with rest_client(db, clock, await make_key(db, clock, other.org_id)) as client:
        theirs = await client.get(f"/payout-payments/{world.ids['payment']}")
        void = await client.post(f"/payout-payments/{world.ids['payment']}/void", json={"reason": "x"})
        accrual = await client.get(f"/payout-accruals/{world.ids['accrual']}")
    assert theirs.status_code == void.status_code == accrual.status_code == 404


async def test_payout_methods_are_created_renamed_disabled_and_defaults_are_protected(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        created = await client.post("/payout-methods", json={"name": "Payoneer", "readme": "EU creators"})
        taken = await client.post("/payout-methods", json={"name": "payoneer"})
        method_id = created.json()["data"]["id"]
        methods = await all_pages(client, "/payout-methods", limit=2)
        default = next(m for m in methods if m["is_default"])
        renamed = await client.patch(f"/payout-methods/{method_id}", json={"name": "Payoneer EU"})
        keep_name = await client.patch(f"/payout-methods/{default['id']}", json={"name": "Other"})
        disabled = await client.patch(f"/payout-methods/{default['id']}", json={"is_active": False})
        active = await all_pages(client, "/payout-methods")
        everything = await all_pages(client, "/payout-methods", include_disabled="true")
        refused = await client.delete(f"/payout-methods/{default['id']}")
        deleted = await client.delete(f"/payout-methods/{method_id}")
    assert created.status_code == 201 and created.json()["data"]["readme"] == "EU creators"
    assert taken.status_code == 409
    assert renamed.json()["data"]["name"] == "Payoneer EU"
    assert (keep_name.status_code, keep_name.json()["meta"]["code"]) == (409, "default_method")
    assert disabled.json()["data"]["is_active"] is False
    assert default["id"] not in {m["id"] for m in active} and default["id"] in {m["id"] for m in everything}
    assert (refused.status_code, refused.json()["meta"]["code"]) == (409, "default_method")
    assert deleted.json()["data"] == {"deleted_method_id": method_id, "name": "Payoneer EU"}


async def test_times_follow_the_mcp_rules_at_the_ends_of_the_calendar_and_without_an_offset(
    db: Database, clock: FrozenClock
) -> None:
    world = await seed_world(db, clock, await make_org(db, clock, "Zoned", timezone="America/New_York"), "zoned")
    body = {"project_id": str(world.project), "method_id": str(world.ids["method"]), "total_amount_cents": 500}
    async with rest_client(db, clock, await make_key(db, clock, world.caller.org_id)) as client:
        for far in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-23:59"):
            refused = await client.post(
                "/payout-payments", json={**body, "paid_at": far}, headers={"Idempotency-Key": far}
            )
            assert refused.status_code == 400, refused.text
            assert "1970-01-01" in refused.json()["error"], refused.text
        series = await client.get(
            "/analytics", params={"entity_type": "project", "entity_id": str(world.project), "from": "0001-01-01"}
        )
        assert series.status_code == 400 and "2100-12-31" in series.json()["error"], series.text
        paid = await client.post(
            "/payout-payments", json={**body, "paid_at": "2026-03-09T09:30:00"}, headers={"Idempotency-Key": "local"}
        )
    assert paid.status_code == 201, paid.text
    assert paid.json()["data"]["paid_at"].startswith("2026-03-09T13:30:00")  # 09:30 in New York (EDT since Mar 8)
