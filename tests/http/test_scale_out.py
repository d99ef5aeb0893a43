"""Several replicas behind a load balancer without sticky sessions, for 2026-07-28 clients.

* Two real `trackagoat-mcp serve --transport http` processes on one PostgreSQL database serve one client whose
  every HTTP request goes to the other replica than the one before (`RoundRobin`): writes made through one are
  read through the other, and the answers are the same as from one server.
* The one piece of per-process state a stateless request can carry from one replica to the next is the sealed
  `requestState` of a multi-round-trip call (a tool that asks the user a question). No trackagoat tool asks one
  today; these tests add one to two in-process servers to show that `TRACKAGOAT_REQUEST_STATE_KEYS` is what lets
  the second round land on another replica.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx2
import pytest
from mcp import MCPError
from mcp.server.mcpserver import AcceptedElicitation, Elicit, ElicitationResult, Resolve
from mcp.types import ElicitResult
from pydantic import BaseModel

from tests.e2e.support import CLI, child_env
from tests.http.support import (
    LEGACY,
    MODERN,
    RoundRobin,
    balanced_client,
    bearer,
    make_key,
    raw_client,
    server_processes,
)
from trackagoat_mcp.config import Settings
from trackagoat_mcp.server.app import build_server

SHARED_SECRET = "replica-secret-" + "0123456789abcdef" * 3


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_two_replicas_on_one_postgresql_serve_one_client_alternately_without_stickiness(
    db, db_url, clock, acme, tmp_path
):
    key = await make_key(db, clock, acme[0].org_id)
    env = child_env(tmp_path, db_url, TRACKAGOAT_REQUEST_STATE_KEYS=SHARED_SECRET)
    logs = [tmp_path / "replica-a.log", tmp_path / "replica-b.log"]
    project = str(acme[1])
    with server_processes([str(CLI)], env, logs, cwd=tmp_path, extra=["--no-jobs"]) as urls:  # as the recipe says
        balancer = RoundRobin(urls)
        async with balanced_client(balancer, key) as client:
            protocol = client.protocol_version
            tools = [{tool.name for tool in (await client.list_tools(cache_mode="refresh")).tools} for _ in range(2)]
            created = await client.call_tool("create_campaign", {"project_id": project, "name": "Spring push"})
            campaign = created.structured_content["id"]  # type: ignore[index]
            note = {"entity_type": "campaign", "entity_id": campaign, "readme": "Owned by the agent."}
            written = await client.call_tool("write_readme", note)
            reads = [await client.call_tool("get_campaign", {"campaign_id": campaign}) for _ in range(2)]
            lists = [await client.call_tool("list_campaigns", {"project_id": project}) for _ in range(2)]
            context = await client.call_tool("get_agent_context", {"entity_type": "campaign", "entity_id": campaign})
        await balancer.aclose()

        async with raw_client(urls[0]) as http_a, raw_client(urls[1]) as http_b:
            legacy = await _open_legacy_session(http_a, key)
            elsewhere = await http_b.post("/mcp", json=_legacy_ping(), headers=legacy)

    assert protocol == MODERN
    assert tools[0] == tools[1] and {"create_campaign", "write_readme", "get_agent_context"} <= tools[0]
    assert sorted(balancer.replicas_of("tools/list")) == [0, 1], "each replica listed the tools once"
    assert not created.is_error and not written.is_error
    (writer,) = balancer.replicas_of("tools/call", "write_readme")
    assert 1 - writer in balancer.replicas_of("tools/call", "get_campaign"), "read back through the other replica"
    assert [r.structured_content["readme"] for r in reads] == ["Owned by the agent."] * 2  # type: ignore[index]
    assert [[c["id"] for c in page.structured_content["items"]] for page in lists] == [[campaign]] * 2  # type: ignore[index]
    assert not context.is_error and "Owned by the agent." in str(context.structured_content)
    assert min(balancer.served) >= 5 and abs(balancer.served[0] - balancer.served[1]) <= 1, balancer.log
    assert elsewhere.status_code == 404, "a handshake-era session lives on the replica that opened it (stickiness)"


async def _open_legacy_session(http: httpx2.AsyncClient, key: str) -> dict[str, str]:
    """Open a 2025-11-25 session on one replica; returns the headers that continue it."""
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", **bearer(key)}
    opened = await http.post("/mcp", json=init, headers=headers)
    assert opened.status_code == 200, opened.text
    return {**headers, "Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": LEGACY}


def _legacy_ping() -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 2, "method": "ping"}


class Confirm(BaseModel):
    confirm: bool


def _ask(note: str) -> Elicit[Confirm]:
    return Elicit(f"Record the note {note!r}?", Confirm)


def confirm_note(note: str, answer: Annotated[ElicitationResult[Confirm], Resolve(_ask)]) -> str:
    """A tool that asks the user first: a 2026-07-28 multi-round-trip call."""
    if isinstance(answer, AcceptedElicitation) and answer.data.confirm:
        return f"noted {note}"
    return "cancelled"


async def _accept(_context: Any, _params: Any) -> ElicitResult:
    return ElicitResult(action="accept", content={"confirm": True})


def _replica(db: Any, clock: Any, caller: Any, secret: str | None) -> Any:
    keys = (secret,) if secret else ()
    server = build_server(
        Settings(database_url="sqlite://", request_state_keys=keys), db=db, clock=clock, caller=caller, stdio=False
    )
    server.add_tool(confirm_note)
    return server


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("secrets", "continued"),
    [((SHARED_SECRET, SHARED_SECRET), True), ((SHARED_SECRET, SHARED_SECRET[::-1]), False), ((None, None), False)],
    ids=["shared-keys", "different-keys", "unset-per-process-keys"],
)
async def test_a_question_asked_by_one_replica_is_answered_through_another_only_with_shared_request_state_keys(
    db, clock, acme, secrets, continued
):
    replicas = [_replica(db, clock, acme[0], secret) for secret in secrets]
    apps = [replica.streamable_http_app(json_response=True) for replica in replicas]
    balancer = RoundRobin([httpx2.ASGITransport(app=app) for app in apps])
    async with replicas[0].session_manager.run(), replicas[1].session_manager.run():
        async with balanced_client(balancer, elicitation_callback=_accept) as client:
            try:
                result = await client.call_tool("confirm_note", {"note": "ship it"})
                outcome = result.structured_content
            except MCPError as exc:
                outcome = {"error": exc.error.message}

    assert balancer.served[0] >= 1 and balancer.served[1] >= 1
    if continued:
        assert outcome == {"result": "noted ship it"}
    else:
        assert outcome == {"error": "Invalid or expired requestState"}
