"""The REST API's projects and creators routes, through the whole HTTP app, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import anyio
import pytest

from tests.conftest import make_org
from tests.http.rest.support import all_pages, rest_client
from tests.http.support import make_key
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import request_keys
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import Conflict

Org = tuple[Caller, uuid.UUID]


async def test_creators_page_to_completion_in_handle_order(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, project_id = acme
    key = await make_key(db, clock, caller.org_id)
    handles = [f"creator{i:02d}" for i in range(7)]
    async with rest_client(db, clock, key) as client:
        added = await client.post(
            f"/projects/{project_id}/creators", json={"creators": [{"tiktok_handle": h} for h in handles]}
        )
        assert added.status_code == 201, added.text
        assert added.json()["data"]["created"] == 7
        rows = await all_pages(client, "/creators", limit=3, project_id=str(project_id))
    assert [r["tiktok_handle"] for r in rows] == handles


async def test_re_adding_a_removed_creator_answers_200_and_reactivates_it(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project_id = acme
    key = await make_key(db, clock, caller.org_id)
    async with rest_client(db, clock, key) as client:
        created = await client.post(f"/projects/{project_id}/creators", json={"tiktok_handle": "@alice"})
        creator_id = created.json()["data"]["results"][0]["creator_id"]
        removed = await client.delete(f"/creators/{creator_id}")
        again = await client.post(f"/projects/{project_id}/creators", json={"tiktok_handle": "alice"})
    assert created.status_code == 201
    assert removed.status_code == 200 and removed.json()["data"]["is_active"] is False
    assert again.status_code == 200
    assert again.json()["data"]["results"][0]["outcome"] == "reactivated"


async def test_renaming_onto_a_taken_handle_is_409_handle_taken(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, project_id = acme
    key = await make_key(db, clock, caller.org_id)
    async with rest_client(db, clock, key) as client:
        added = await client.post(
            f"/projects/{project_id}/creators",
            json={"creators": [{"tiktok_handle": "alice"}, {"tiktok_handle": "bob"}]},
        )
        alice = added.json()["data"]["results"][0]["creator_id"]
        taken = await client.patch(f"/creators/{alice}", json={"tiktok_handle": "bob"})
        same = await client.patch(f"/creators/{alice}", json={"tiktok_handle": "alice"})
        bad = await client.patch(f"/creators/{alice}", json={"tiktok_handle": "no spaces allowed"})
        empty = await client.patch(f"/creators/{alice}", json={})
        noted = await client.patch(f"/creators/{alice}", json={"readme": "top performer", "metadata": {"tier": "gold"}})
    assert (taken.status_code, taken.json()["meta"]["code"]) == (409, "handle_taken")
    assert (same.status_code, same.json()["meta"]["code"]) == (409, "no_change")
    assert (bad.status_code, bad.json()["meta"]["code"]) == (409, "invalid_handle")
    assert (empty.status_code, empty.json()["meta"]["code"]) == (400, "invalid_body")
    assert noted.status_code == 200
    assert noted.json()["data"]["readme"] == "top performer" and noted.json()["data"]["metadata"] == {"tier": "gold"}


async def test_bulk_remove_and_reenable_act_on_the_projects_creators_all_or_nothing(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project_id = acme
    key = await make_key(db, clock, caller.org_id)
    async with rest_client(db, clock, key) as client:
        added = await client.post(
            f"/projects/{project_id}/creators", json={"creators": [{"tiktok_handle": "a1"}, {"tiktok_handle": "b2"}]}
        )
        ids = [r["creator_id"] for r in added.json()["data"]["results"]]
        refused = await client.post(
            f"/projects/{project_id}/creators/bulk-remove", json={"creator_ids": [*ids, str(uuid.uuid4())]}
        )
        still = await all_pages(client, "/creators")
        removed = await client.post(f"/projects/{project_id}/creators/bulk-remove", json={"creator_ids": ids})
        gone = await all_pages(client, "/creators")
        back = await client.post(f"/projects/{project_id}/creators/bulk-reenable", json={"creator_ids": ids})
    assert refused.status_code == 404 and len(still) == 2
    assert removed.status_code == 200 and gone == []
    assert [c["is_active"] for c in back.json()["data"]] == [True, True]


async def test_another_organizations_creator_is_404_exactly_like_an_unknown_id(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project_id = acme
    other, _ = await make_org(db, clock, "Globex")
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        added = await client.post(f"/projects/{project_id}/creators", json={"tiktok_handle": "alice"})
        creator_id = added.json()["data"]["results"][0]["creator_id"]
    async with rest_client(db, clock, await make_key(db, clock, other.org_id)) as client:
        theirs = await client.get(f"/creators/{creator_id}")
        unknown = await client.get(f"/creators/{uuid.uuid4()}")
        patch = await client.patch(f"/creators/{creator_id}", json={"tracking_mode": "selective"})
        listed = await all_pages(client, "/creators")
    assert theirs.status_code == unknown.status_code == patch.status_code == 404
    assert theirs.json()["meta"] == unknown.json()["meta"] == {"code": "not_found"}
    assert listed == []


async def test_a_read_only_key_cannot_write_and_is_told_which_scope_it_lacks(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project_id = acme
    key = await make_key(db, clock, caller.org_id, scopes=("read",))
    async with rest_client(db, clock, key) as client:
        read = await client.get("/creators")
        write = await client.post(f"/projects/{project_id}/creators", json={"tiktok_handle": "alice"})
    assert read.status_code == 200
    assert write.status_code == 403
    assert write.json()["meta"] == {"code": "insufficient_scope", "required": "write", "granted": ["read"]}
    assert write.json()["data"] is None and "'write'" in write.json()["error"]


async def test_unknown_parameters_and_fields_are_400_naming_them(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, project_id = acme
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        query = await client.get("/creators", params={"serach": "al"})
        body = await client.post(f"/projects/{project_id}/creators", json={"tiktok_handle": "al", "mode": "auto"})
        limit = await client.get("/creators", params={"limit": 101})
    assert (query.status_code, query.json()["meta"]["code"]) == (400, "invalid_query")
    assert "'serach'" in query.json()["error"]
    assert (body.status_code, body.json()["meta"]["code"]) == (400, "invalid_body")
    assert (limit.status_code, limit.json()["meta"]["code"]) == (400, "invalid_query")


async def test_idempotent_create_replays_the_stored_response_byte_for_byte(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project_id = acme
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = await client.post("/projects", json={"name": "Spring"}, headers=key)
        clock.advance(timedelta(hours=23))
        again = await client.post("/projects", json={"name": "Spring"}, headers=key)
        other_body = await client.post("/projects", json={"name": "Summer"}, headers=key)
        other_route = await client.post(f"/projects/{project_id}/creators", json={"name": "Spring"}, headers=key)
        projects = await all_pages(client, "/projects")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    assert (other_body.status_code, other_body.json()["meta"]["code"]) == (409, "idempotency_key_reused")
    assert other_route.status_code in (400, 409)
    assert sorted(p["name"] for p in projects) == ["Acme program", "Spring"]


async def test_missing_and_revoked_keys_get_401_in_the_envelope(db: Database, clock: FrozenClock, acme: Org) -> None:
    async with rest_client(db, clock, None) as client:
        missing = await client.get("/projects")
        malformed = await client.get("/projects", headers={"Authorization": "Bearer nope"})
    for response in (missing, malformed):
        assert response.status_code == 401
        assert response.json()["data"] is None and response.json()["meta"] == {"code": "invalid_api_key"}


async def test_retired_stats_routes_answer_410(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        creator = await client.get(f"/creators/{uuid.uuid4()}/stats")
        campaign = await client.get(f"/campaigns/{uuid.uuid4()}/stats")
    assert creator.status_code == campaign.status_code == 410
    assert "/api/v1/analytics" in creator.json()["error"]


async def test_text_no_store_can_hold_is_400_not_a_server_error(db: Database, clock: FrozenClock, acme: Org) -> None:
    """Found by the Schemathesis run: a NUL inside metadata reached PostgreSQL's JSONB and failed there."""
    caller, project_id = acme
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        created = await client.post(f"/projects/{project_id}/campaigns", json={"name": "Spring"})
        campaign = created.json()["data"]["id"]
        nul = await client.patch(f"/campaigns/{campaign}", json={"metadata": {"a\u0000": 1}})
        nul_query = await client.get("/creators", params={"search": "a\u0000"})
    assert (nul.status_code, nul.json()["meta"]["code"]) == (400, "invalid_body")
    assert "NUL" in nul.json()["error"]
    assert (nul_query.status_code, nul_query.json()["meta"]["code"]) == (400, "invalid_query")


async def test_concurrent_creates_with_one_key_make_one_project(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    statuses: list[int] = []
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        key = {"Idempotency-Key": "spring-once"}

        async def create() -> None:
            response = await client.post("/projects", json={"name": "Spring"}, headers=key)
            statuses.append(response.status_code)

        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(create)
        projects = await all_pages(client, "/projects")
    assert [p["name"] for p in projects].count("Spring") == 1
    assert set(statuses) <= {201, 409} and 201 in statuses


async def test_a_rest_key_left_by_a_crashed_request_is_taken_over_after_its_lease(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    body = b'{"name":"Autumn"}'
    # A process claims the key for this very request and dies before its work commits.
    crashed = await request_keys.claim(
        db,
        org_id=caller.org_id,
        key="autumn-once",
        route="POST /api/v1/projects",
        fingerprint=request_keys.request_fingerprint("POST /api/v1/projects", body),
        now=clock.now(),
    )
    assert isinstance(crashed, request_keys.Held)
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        key = {"Idempotency-Key": "autumn-once"}
        running = await client.post("/projects", json={"name": "Autumn"}, headers=key)
        clock.advance(request_keys.LEASE + timedelta(seconds=1))
        taken_over = await client.post("/projects", json={"name": "Autumn"}, headers=key)
        # Had the first process only been slow, it can no longer store its response.
        async with db.write() as session:
            with pytest.raises(Conflict) as late:
                await request_keys.finish(session, crashed, status_code=201, body="{}", now=clock.now())
        await request_keys.release(db, crashed)  # not its claim any more: nothing is deleted
        replayed = await client.post("/projects", json={"name": "Autumn"}, headers=key)
        projects = await all_pages(client, "/projects")
    assert (running.status_code, running.json()["meta"]["code"]) == (409, "idempotency_key_in_use")
    assert taken_over.status_code == 201 and late.value.code == "idempotency_key_in_use"
    assert replayed.content == taken_over.content and replayed.headers["idempotent-replayed"] == "true"
    assert [p["name"] for p in projects].count("Autumn") == 1
