"""Concurrent writers must not duplicate rows or fail: unique keys decide, the loser re-reads."""

import anyio
from mcp import Client
from sqlalchemy import func, select

from tests.conftest import make_server
from trackagoat_mcp.db.models import Creator


async def test_concurrent_add_creators_with_the_same_handles_create_each_creator_once(db, clock, acme):
    caller, project_id = acme
    handles = [f"racer{i}" for i in range(5)]
    results = []
    async with Client(make_server(db, clock, caller)) as client:

        async def add() -> None:
            results.append(await client.call_tool("add_creators", {"project_id": str(project_id), "handles": handles}))

        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(add)
    assert [r.is_error for r in results] == [False] * 8, [r.content[0].text for r in results if r.is_error]
    created = sum(r.structured_content["created"] for r in results)
    assert created == len(handles)
    async with db.read() as session:
        count = (await session.execute(select(func.count()).select_from(Creator))).scalar_one()
    assert count == len(handles)
