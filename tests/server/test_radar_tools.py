"""The Sentiment Radar through its two doors: the MCP tools (a real `mcp.Client`) and the REST routes (real HTTP).

Both answer from the seeded program of `tests/domain/radar_world.py`, whose figures the domain tests check against
an independent computation; here the two doors must agree with each other, fence comment text, and refuse bad
scopes with a readable error.
"""

from __future__ import annotations

import pytest
from mcp import Client

from tests.conftest import make_server
from tests.domain.radar_world import seed
from tests.http.rest.support import all_pages, rest_client
from tests.http.support import make_key
from tests.server.conftest import error_text, ok, text_of
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the domain tests run the figures on both stores
async def test_the_radar_and_the_comment_stream_agree_over_mcp_and_rest(db: Database, clock: FrozenClock) -> None:
    seeded = await seed(db, clock)
    project = str(seeded.project_id)
    async with Client(make_server(db, clock, seeded.caller)) as client:
        radar = await client.call_tool("get_sentiment_radar", {"project_id": project, "granularity": "week"})
        stream = await client.call_tool("list_comments", {"project_id": project, "sentiment": "negative", "limit": 100})
        refused = await client.call_tool("get_sentiment_radar", {})
    async with rest_client(db, clock, await make_key(db, clock, seeded.caller.org_id)) as http:
        rest_radar = await http.get("/sentiment-radar", params={"project_id": project, "granularity": "week"})
        rest_stream = await all_pages(http, "/comments", project_id=project, sentiment="negative", limit=30)
        rest_refused = await http.get("/sentiment-radar", params={"project_id": project, "creator_id": project})

    mcp_radar = ok(radar)
    assert mcp_radar == rest_radar.json()["data"]
    assert (mcp_radar["total"], mcp_radar["negative_vibes_total"]) == (229, 2)
    assert len(mcp_radar["negative_vibes"]) == 2 and mcp_radar["negative_vibes"][0]["negative_share"] == 40.0
    page = ok(stream)
    shown = [item["id"] for item in page["items"]]  # a page fits 20,000 characters of text, so may hold fewer
    assert len(rest_stream) == 103 and len(shown) >= 40 and shown == [item["id"] for item in rest_stream][: len(shown)]
    text = text_of(stream)
    assert "<untrusted-data-" in text and "this is bad</untrusted-data-" in text  # comment text is fenced
    assert "[invalid_input]" in error_text(refused) and "exactly one" in error_text(refused)
    assert rest_refused.status_code == 400 and "exactly one" in rest_refused.json()["error"]
