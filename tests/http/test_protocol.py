"""Protocol details over real HTTP that the conformance suite and the issue's security model rely on.

* An unknown prompt name is an invalid-params error (-32602) in both eras, as the spec says (the SDK on its own
  answers code 0 or an internal error; `scripts/conformance` found it).
* A session (Streamable HTTP handshake era, or legacy SSE) can only be continued with the key that opened it;
  another key, even of the same organization, is told the session does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import pytest
from mcp import MCPError
from mcp.types import INVALID_PARAMS

from tests.http.support import ERAS, LEGACY, bearer, make_key, mcp_client, raw_client, serve
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.http import build_app

JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def app_for(db: Database, clock: Any) -> Any:
    return build_app(Settings(database_url="sqlite://"), db=db, clock=clock)


@pytest.mark.parametrize(("mode", "version"), ERAS)
async def test_an_unknown_prompt_is_an_invalid_params_error_in_both_eras(db, clock, acme, mode, version):
    key = await make_key(db, clock, acme[0].org_id)
    async with serve(app_for(db, clock)) as url, mcp_client(url, key, mode) as client:
        with pytest.raises(MCPError) as refused:
            await client.get_prompt("no_such_prompt", {})
        known = await client.get_prompt("analyze_campaign", {"campaign_id": str(uuid.uuid4())})

    assert refused.value.error.code == INVALID_PARAMS
    assert "'no_such_prompt'" in refused.value.error.message and "prompts/list" in refused.value.error.message
    assert known.messages, "known prompts are untouched"


async def test_a_handshake_session_answers_only_the_key_that_opened_it(db, clock, acme):
    owner, other = await make_key(db, clock, acme[0].org_id), await make_key(db, clock, acme[0].org_id)
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    async with serve(app_for(db, clock)) as url, raw_client(url) as http:
        opened = await http.post("/mcp", json=initialize, headers={**JSON_HEADERS, **bearer(owner)})
        session = {"Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": LEGACY}
        hijack = await http.post("/mcp", json=ping, headers={**JSON_HEADERS, **session, **bearer(other)})
        own = await http.post("/mcp", json=ping, headers={**JSON_HEADERS, **session, **bearer(owner)})

    assert opened.status_code == 200
    assert hijack.status_code == 404, "another key is told the session does not exist"
    assert (own.status_code, own.json()["result"]) == (200, {})


async def test_an_sse_session_accepts_messages_only_from_the_key_that_opened_it(db, clock, acme):
    owner, other = await make_key(db, clock, acme[0].org_id), await make_key(db, clock, acme[0].org_id)
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    async with serve(app_for(db, clock)) as url, raw_client(url) as http:
        async with http.stream("GET", "/sse", headers=bearer(owner)) as stream:
            endpoint, lines = None, stream.aiter_lines()  # kept referenced: a dropped iterator closes the stream
            with anyio.fail_after(10):
                async for line in lines:
                    if line.startswith("data: /messages/"):
                        endpoint = line.removeprefix("data: ")
                        break
            assert endpoint is not None
            hijack = await http.post(endpoint, json=ping, headers=bearer(other))
            own = await http.post(endpoint, json=ping, headers=bearer(owner))

    assert hijack.status_code == 404
    assert own.status_code == 202, "the owner's message is accepted (its answer travels on the stream)"
