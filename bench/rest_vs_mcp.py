"""The same work through both doors, and the floor: REST vs MCP on one server, vs a bare Starlette JSON route.

One `build_app` (the `serve --transport http` app: Guard, key auth, rate limits off, REST and MCP) runs under uvicorn
on a loopback socket in this process, over a fresh SQLite file made by the migrations, with one organization, one
creator and one admin key. A second uvicorn server in the same process serves a bare Starlette app whose two routes
answer the bytes the REST door answered from memory (the floor: HTTP and JSON bytes, no auth, no store). Two
pairs of series, each sequential (one call in flight) and taking turns call by call so machine drift hits all alike:

* read: `GET /api/v1/creators/{id}`, MCP `get_creator`, floor `GET /floor/creator`;
* write: `POST /api/v1/payout-payments` (an ad-hoc payment, a new `Idempotency-Key` each), MCP
  `create_payout_payment` (the same, a new `idempotency_key`), floor `POST /floor/payment` (reads the body, answers
  a stored payment).

Printed: p50, mean, p99 and calls/s of each, and the ratios of the means (REST/MCP, REST/floor, MCP/floor). On
loopback the latency distributions are bimodal (a share of calls waits ~40 ms, the delayed-ACK step), so compare
means, not medians: which mode the median lands in flips between runs.

    .venv/bin/python bench/rest_vs_mcp.py            # 1000 calls each
    .venv/bin/python bench/rest_vs_mcp.py -n 200     # quick
"""

from __future__ import annotations

import argparse
import socket
import time
from typing import Any

import anyio
import httpx2
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from _common import Summary, fresh_sqlite_file
from trackagoat_mcp.clock import SystemClock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.migrate import upgrade
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import creators, keys, orgs, projects
from trackagoat_mcp.domain.payouts import methods
from trackagoat_mcp.domain.scope import ALL_SCOPES, Caller
from trackagoat_mcp.http import build_app


async def _seed(db: Database) -> dict[str, str]:
    now = SystemClock().now()
    async with db.write() as session:
        org = await orgs.create_org(session, name="Bench", timezone="UTC", now=now)
        caller = Caller(org.id, frozenset(ALL_SCOPES))
        project = await projects.create_project(session, caller, name="Bench program", now=now)
        added = await creators.add_creators(session, caller, project_id=project.id, handles=["bench_creator"], now=now)
        _row, key = await keys.create_key(session, org_id=org.id, name="bench", scopes=("admin",), now=now)
        method = (await methods.list_methods(session, caller)).items[0]
    return {
        "creator": str(added.results[0].creator_id),
        "project": str(project.id),
        "method": str(method.id),
        "key": key,
    }


def _floor(creator: bytes, payment: bytes) -> Starlette:
    """The floor: the same response bytes from memory behind a bare Starlette route."""

    async def get_creator(_request: Request) -> Response:
        return Response(creator, media_type="application/json")

    async def post_payment(request: Request) -> Response:
        await request.body()
        return Response(payment, status_code=201, media_type="application/json")

    return Starlette(
        routes=[Route("/floor/creator", get_creator), Route("/floor/payment", post_payment, methods=["POST"])]
    )


def _listening() -> tuple[socket.socket, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


async def main(calls: int) -> None:
    path = fresh_sqlite_file("rest_vs_mcp")
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    db = Database.connect(url)
    ids = await _seed(db)
    # Trusted automation: both doors write at once (REST never asks a person; MCP would otherwise first answer a
    # confirmation preview, which is not the transport cost measured here).
    settings = Settings(
        database_url=url, rate_limit_per_minute=0, org_rate_limit_per_minute=0, money_confirmation="off"
    )
    app = build_app(settings, db=db)
    sock, base = _listening()
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
    headers = {"Authorization": f"Bearer {ids['key']}"}
    times: dict[str, list[float]] = {}
    numbers = iter(range(10**9))
    payment = {"project_id": ids["project"], "creator_id": None, "method_id": ids["method"], "total_amount_cents": 100}

    async def timed(name: str, call: Any) -> None:
        start = time.perf_counter()
        await call()
        times.setdefault(name, []).append(time.perf_counter() - start)

    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        async with (
            httpx2.AsyncClient(base_url=base, headers=headers) as rest,
            create_mcp_http_client(headers=headers) as http,
            Client(streamable_http_client(f"{base}/mcp", http_client=http)) as mcp,
        ):
            creator_bytes = (await rest.get(f"/api/v1/creators/{ids['creator']}")).content
            first = await rest.post("/api/v1/payout-payments", json=payment, headers={"Idempotency-Key": "bench-0"})
            assert first.status_code == 201, first.text
            floor_sock, floor_base = _listening()
            floor = uvicorn.Server(uvicorn.Config(_floor(creator_bytes, first.content), log_config=None))
            tg.start_soon(floor.serve, [floor_sock])
            async with httpx2.AsyncClient(base_url=floor_base) as bare:

                async def rest_read() -> None:
                    response = await rest.get(f"/api/v1/creators/{ids['creator']}")
                    assert response.status_code == 200, response.text

                async def mcp_read() -> None:
                    assert not (await mcp.call_tool("get_creator", {"creator_id": ids["creator"]})).is_error

                async def floor_read() -> None:
                    assert (await bare.get("/floor/creator")).status_code == 200

                async def rest_write() -> None:
                    key = {"Idempotency-Key": f"bench-rest-{next(numbers)}"}
                    response = await rest.post("/api/v1/payout-payments", json=payment, headers=key)
                    assert response.status_code == 201, response.text

                async def mcp_write() -> None:
                    arguments = {**payment, "idempotency_key": f"bench-mcp-{next(numbers)}"}
                    result = await mcp.call_tool("create_payout_payment", arguments)
                    assert not result.is_error, result.content

                async def floor_write() -> None:
                    assert (await bare.post("/floor/payment", json=payment)).status_code == 201

                series = {
                    "read": [
                        ("REST GET /api/v1/creators/{id}", rest_read),
                        ("MCP get_creator", mcp_read),
                        ("floor GET (Starlette, bytes)", floor_read),
                    ],
                    "write": [
                        ("REST POST /api/v1/payout-payments", rest_write),
                        ("MCP create_payout_payment", mcp_write),
                        ("floor POST (Starlette, bytes)", floor_write),
                    ],
                }
                for group in series.values():
                    for _name, call in group * 10:  # warm-up: connections, caches, the key lookup
                        await call()
                    for i in range(calls):
                        rotation = group[i % 3 :] + group[: i % 3]
                        for name, call in rotation:
                            await timed(name, call)
            floor.should_exit = True
        server.should_exit = True
    await db.dispose()
    for group in series.values():
        summaries = {name: Summary.of(times[name]) for name, _ in group}
        for name, s in summaries.items():
            line = f"p50 {s.p50_ms:6.2f} ms  mean {s.mean_ms:6.2f} ms  p99 {s.p99_ms:6.2f} ms"
            print(f"{name:36} {line}  {s.calls_per_s:6.1f} calls/s")
        rest_s, mcp_s, floor_s = (summaries[name] for name, _ in group)
        print(
            f"  mean ratios: REST/MCP {rest_s.mean_ms / mcp_s.mean_ms:.2f}, "
            f"REST/floor {rest_s.mean_ms / floor_s.mean_ms:.2f}, MCP/floor {mcp_s.mean_ms / floor_s.mean_ms:.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--calls", type=int, default=1000)
    anyio.run(main, parser.parse_args().calls)
