"""The same read through both doors: `GET /api/v1/creators/{id}` vs the MCP tool `get_creator` on one server.

One `build_app` (the `serve --transport http` app: Guard, key auth, rate limit raised to 0 = off, REST and MCP) runs
under uvicorn on a loopback socket in this process, over a fresh SQLite file made by the migrations, with one
organization, one creator and one key. The two series take turns call by call (REST, MCP, MCP, REST, ...) so machine
drift hits both alike; each is sequential (one call in flight). Printed: p50, mean, p99 and calls/s of each, and the
ratio REST/MCP of the means (the REST door does the same domain call without JSON-RPC framing or result fencing, so
it should not be slower). On loopback both latency distributions are bimodal (a share of calls waits ~40 ms, the
delayed-ACK step), so compare means, not medians: which mode the median lands in flips between runs.

    .venv/bin/python bench/rest_vs_mcp.py            # 1000 calls each
    .venv/bin/python bench/rest_vs_mcp.py -n 200     # quick
"""

from __future__ import annotations

import argparse
import socket
import time

import anyio
import httpx2
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from _common import Summary, fresh_sqlite_file
from trackagoat_mcp.clock import SystemClock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.migrate import upgrade
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import creators, keys, orgs, projects
from trackagoat_mcp.domain.scope import ALL_SCOPES, Caller
from trackagoat_mcp.http import build_app


async def _seed(db: Database) -> tuple[str, str]:
    now = SystemClock().now()
    async with db.write() as session:
        org = await orgs.create_org(session, name="Bench", timezone="UTC", now=now)
        caller = Caller(org.id, frozenset(ALL_SCOPES))
        project = await projects.create_project(session, caller, name="Bench program", now=now)
        added = await creators.add_creators(session, caller, project_id=project.id, handles=["bench_creator"], now=now)
        _row, key = await keys.create_key(session, org_id=org.id, name="bench", scopes=("read",), now=now)
    return str(added.results[0].creator_id), key


async def main(calls: int) -> None:
    path = fresh_sqlite_file("rest_vs_mcp")
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    db = Database.connect(url)
    creator_id, key = await _seed(db)
    app = build_app(Settings(database_url=url, rate_limit_per_minute=0), db=db)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
    headers = {"Authorization": f"Bearer {key}"}
    rest_times: list[float] = []
    mcp_times: list[float] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        async with (
            httpx2.AsyncClient(base_url=base, headers=headers) as rest,
            create_mcp_http_client(headers=headers) as http,
            Client(streamable_http_client(f"{base}/mcp", http_client=http)) as mcp,
        ):

            async def rest_call() -> None:
                start = time.perf_counter()
                response = await rest.get(f"/api/v1/creators/{creator_id}")
                rest_times.append(time.perf_counter() - start)
                assert response.status_code == 200, response.text

            async def mcp_call() -> None:
                start = time.perf_counter()
                result = await mcp.call_tool("get_creator", {"creator_id": creator_id})
                mcp_times.append(time.perf_counter() - start)
                assert not result.is_error

            for _ in range(20):  # warm-up: connections, caches, the key lookup
                await rest_call()
                await mcp_call()
            rest_times.clear()
            mcp_times.clear()
            for i in range(calls):
                first, second = (rest_call, mcp_call) if i % 2 == 0 else (mcp_call, rest_call)
                await first()
                await second()
        server.should_exit = True
    await db.dispose()
    rest_summary, mcp_summary = Summary.of(rest_times), Summary.of(mcp_times)
    for name, s in (("REST GET /api/v1/creators/{id}", rest_summary), ("MCP get_creator", mcp_summary)):
        line = f"p50 {s.p50_ms:6.2f} ms  mean {s.mean_ms:6.2f} ms  p99 {s.p99_ms:6.2f} ms  {s.calls_per_s:6.1f} calls/s"
        print(f"{name:32} {line}")
    print(f"REST/MCP mean ratio: {rest_summary.mean_ms / mcp_summary.mean_ms:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--calls", type=int, default=1000)
    anyio.run(main, parser.parse_args().calls)
