"""The REST API's payout structures (versions, assignments) and accrual updates, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

from tests.conftest import make_org
from tests.http.rest.support import all_pages, rest_client
from tests.http.support import make_key
from tests.server.conftest import acme_world, add_creator
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.scope import Caller

Org = tuple[Caller, uuid.UUID]


async def test_a_rule_change_writes_a_new_version_and_assignments_come_and_go(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project = acme
    creator = await add_creator(db, clock, caller, project, "alice")
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        body = {
            "project_id": str(project),
            "name": "CPM",
            "period": "monthly",
            "amount_cents": 150,
            "criteria_type": "cpm",
            "criteria_params": {"max_cents": 50000},
        }
        created = await client.post("/payout-structures", json=body, headers={"Idempotency-Key": "cpm-1"})
        structure_id = created.json()["data"]["id"]
        renamed = await client.patch(f"/payout-structures/{structure_id}", json={"name": "CPM 2026"})
        repriced = await client.patch(f"/payout-structures/{structure_id}", json={"amount_cents": 200})
        versions = await client.get(f"/payout-structures/{structure_id}/versions")
        bad = await client.post("/payout-structures", json={**body, "criteria_params": {"nope": 1}})
        assigned = await client.post(
            f"/payout-structures/{structure_id}/assignments", json={"creator_ids": [str(creator)]}
        )
        current = await client.get(f"/payout-structures/{structure_id}/assignments")
        ended = await client.request(
            "DELETE", f"/payout-structures/{structure_id}/assignments", json={"creator_id": str(creator)}
        )
        listed = await all_pages(client, "/payout-structures", project_id=str(project))
        archived = await client.delete(f"/payout-structures/{structure_id}")
        hidden = await all_pages(client, "/payout-structures")
    assert created.status_code == 201 and created.json()["data"]["name"] == "CPM"
    assert renamed.json()["data"]["new_version_created"] is False
    assert repriced.json()["data"]["new_version_created"] is True
    assert len(versions.json()["data"]) == 2
    assert bad.status_code == 400
    assert [r["outcome"] for r in assigned.json()["data"]["results"]] == ["assigned"]
    assert [a["creator_id"] for a in current.json()["data"]] == [str(creator)]
    assert ended.status_code == 200 and ended.json()["data"]["outcome"] in ("ended", "deleted")
    assert [s["id"] for s in listed] == [structure_id]
    assert archived.status_code == 200 and hidden == []


async def test_an_unpaid_accrual_is_voided_and_restored(db: Database, clock: FrozenClock) -> None:
    world = await acme_world(db, clock)
    accrual = world.ids["accrual"]
    async with rest_client(db, clock, await make_key(db, clock, world.caller.org_id)) as client:
        voided = await client.patch(f"/payout-accruals/{accrual}", json={"action": "void", "reason": "duplicate"})
        again = await client.patch(f"/payout-accruals/{accrual}", json={"action": "void", "reason": "duplicate"})
        owed = await all_pages(client, "/payout-accruals", status="earned")
        restored = await client.patch(f"/payout-accruals/{accrual}", json={"action": "restore", "reason": "mistake"})
    assert voided.status_code == 200 and voided.json()["data"]["status"] == "voided"
    assert (again.status_code, again.json()["meta"]["code"]) == (409, "no_change")
    assert owed == []
    assert restored.json()["data"]["status"] == "earned"


async def test_another_organizations_structure_is_404(db: Database, clock: FrozenClock) -> None:
    world = await acme_world(db, clock)
    other, _ = await make_org(db, clock, "Globex")
    async with rest_client(db, clock, await make_key(db, clock, other.org_id)) as client:
        theirs = await client.get(f"/payout-structures/{world.ids['structure']}")
        archive = await client.delete(f"/payout-structures/{world.ids['structure']}")
        accrual = await client.patch(f"/payout-accruals/{world.ids['accrual']}", json={"action": "void", "reason": "x"})
    assert theirs.status_code == archive.status_code == accrual.status_code == 404
