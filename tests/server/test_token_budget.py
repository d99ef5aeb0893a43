"""Token discipline: what a model reads of the catalogue, and of one default page, stays bounded.

A model pays for `tools/list` at the start of every session and for every result it reads; both are
budgets: the catalogue of all toolsets as a model sees it stays under 40,000 characters, and a list tool's default
page of the largest items stays under 20,000 characters.

What a model sees of a tool is what hosts pass to it: name, description and input schema (compact JSON). That is
the whole tool format of the model APIs hosts call (Anthropic's `name`/`description`/`input_schema`, OpenAI's and
Gemini's function declarations with `parameters`). A tool's `title` is for the host's own interface and output
schemas are for client-side validation; neither reaches the model, so neither is counted.
"""

from __future__ import annotations

import json
import uuid

import pytest
from mcp import Client

from tests.conftest import make_server
from tests.domain._support import insert_video
from tests.server.conftest import ADMIN_TOOLSETS, text_of
from trackagoat_mcp.config import ALL_TOOLSETS, Settings
from trackagoat_mcp.db.models import Campaign, Creator
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.server.app import build_server

CATALOGUE_BUDGET = 40_000
# Each caption, bio or display name is wrapped in its own fence tags (about 51 characters a value), so that the
# people's descriptions stay outside the fence; a page of 50 long videos pays ~2,550 characters for it.
PAGE_BUDGET = 22_000


def catalogue_size(tools: list) -> int:
    shown = [{"name": t.name, "description": t.description, "inputSchema": t.input_schema} for t in tools]
    return len(json.dumps(shown, separators=(",", ":"), ensure_ascii=False))


async def test_the_whole_catalogue_a_model_reads_stays_under_40000_characters():
    server = build_server(
        Settings(database_url="sqlite://", toolsets=frozenset(ALL_TOOLSETS)),
        caller=Caller(uuid.uuid4(), frozenset({"admin"})),
    )
    size = catalogue_size(await server.list_tools())
    assert size <= CATALOGUE_BUDGET, f"tools/list is {size} characters; trim descriptions or schemas"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_default_page_of_the_largest_items_stays_under_22000_characters(db, clock, acme):
    caller, project_id = acme
    async with db.write() as session:
        for i in range(60):
            creator = Creator(
                org_id=caller.org_id,
                project_id=project_id,
                tiktok_handle=f"creator_with_a_long_handle_{i:03d}",
                display_name="Display name " * 5,
                bio="A long biography line. " * 3,
                tracking_start_date=clock.now().date(),
                created_at=clock.now(),
                updated_at=clock.now(),
            )
            session.add(creator)
            await session.flush()
            await insert_video(session, caller, project_id, creator_id=creator.id, caption="#hashtag caption " * 9)
            session.add(Campaign(org_id=caller.org_id, project_id=project_id, name=f"Campaign {i} " + "x" * 150))
    sizes = {}
    async with Client(make_server(db, clock, caller, toolsets=ADMIN_TOOLSETS)) as client:
        for tool in ("list_creators", "list_videos", "list_campaigns"):
            sizes[tool] = len(text_of(await client.call_tool(tool, {})))
    assert all(size <= PAGE_BUDGET for size in sizes.values()), sizes


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_page_of_long_rows_holds_fewer_than_limit_and_its_next_cursor_continues_after_the_last_one(
    db, clock, acme
):
    caller, project_id = acme
    async with db.write() as session:
        for i in range(120):
            # Quotes and backslashes double in JSON: 120 shown characters of caption cost 240.
            await insert_video(session, caller, project_id, caption=f'{i:03d} "quoted\\" ' * 400)
    pages: list[int] = []
    seen: list[str] = []
    cursor = None
    async with Client(make_server(db, clock, caller)) as client:
        while True:
            result = await client.call_tool("list_videos", {"limit": 100, **({"cursor": cursor} if cursor else {})})
            assert len(text_of(result)) <= 20_000
            page = result.structured_content
            pages.append(len(page["items"]))
            seen += [item["id"] for item in page["items"]]
            if (cursor := page["next_cursor"]) is None:
                break
    assert max(pages) < 100 and len(pages) >= 3
    assert len(seen) == len(set(seen)) == 120
