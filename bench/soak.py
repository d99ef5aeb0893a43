"""Soak: several clients read and write over HTTP and stdio for minutes while the scrape job runs.

What runs, all on loopback:

* the simulated TikTok site (`trackagoat_mcp.tiktok.sim`, real clock: views grow as time passes) under uvicorn
  in this process, with `--creators` accounts that keep posting;
* `trackagoat-mcp serve --transport http` (a subprocess, key auth on) with its in-process scheduler running
  the scrape cycle every 6 s against the simulated site, every scraper floor at 0 (each cycle scrapes every
  creator), the per-key rate limit off;
* `--stdio` more `trackagoat-mcp serve --no-jobs` subprocesses, one per stdio client, on the same store;
* `--http` clients over Streamable HTTP and the stdio clients, each calling in a loop a mix of reads
  (list_creators, get_creator, list_videos, get_campaign_stats, get_agent_context, list_projects) and writes
  (write_metadata, write_readme, update_campaign, set_campaign_items add/remove).

Every call is timed. At the end the script prints (and with `--json` writes as one JSON object) the number of
calls and errors (an error is an `is_error` result or an exception; the target is 0), p50/p99 latency per minute,
each server process's resident memory (VmRSS) after the warm-up, at the end of every full minute and at the end,
the store's size at the end, and the scrape runs the job recorded meanwhile.

    .venv/bin/python bench/soak.py --minutes 15            # the long form (numbers in bench/README.md)
    .venv/bin/python bench/soak.py --seconds 10 --json     # the short form tests/reliability run in CI
    .venv/bin/python bench/soak.py --minutes 5 --backend postgres
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2
import uvicorn
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from _common import DEFAULT_PG_SERVER, percentile, recreate_pg_database
from trackagoat_mcp.clock import SystemClock
from trackagoat_mcp.tiktok.sim import SimAccount, SimulatedTikTok, SimVideo

HERE = Path(__file__).resolve().parent
CALL_TIMEOUT = 60.0
STARTED = time.monotonic()


def say(message: str) -> None:
    """Progress on stderr (stdout carries only the report)."""
    sys.stderr.write(f"[soak {time.monotonic() - STARTED:6.1f} s] {message}\n")


WARMUP_SECONDS = 3.0


def cli_command() -> str:
    local = Path(sys.executable).parent / "trackagoat-mcp"
    found = str(local) if local.exists() else shutil.which("trackagoat-mcp")
    if found is None:
        raise SystemExit("trackagoat-mcp is not installed; run `pip install -e .` in the project first.")
    return found


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int | None:
    """Resident memory of process `pid` in KiB (VmRSS), or None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def serve_children() -> list[int]:
    """Pids of this process's children running `trackagoat-mcp serve` (the stdio servers the clients started)."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == me and "serve" in cmdline and "--no-jobs" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


# --- the program the clients work on -------------------------------------------------------------------------


def simulated_site(creators: int) -> SimulatedTikTok:
    """Accounts that posted over the last week and keep posting every few minutes while the soak runs."""
    now = datetime.now(UTC)
    sim = SimulatedTikTok(clock=SystemClock())
    for i in range(creators):
        posts = [
            SimVideo.posted(now - timedelta(hours=6 * k + i), seq=k, plays_per_hour=500 + 37 * i) for k in range(4)
        ]
        posts += [SimVideo.posted(now + timedelta(minutes=2 * k + i), seq=100 + k) for k in range(60)]
        sim.add_account(SimAccount(f"soak.creator{i}", videos=posts))
    return sim


@dataclass
class Program:
    project_id: str
    creator_ids: list[str]
    campaign_ids: list[str]


async def prepare(client: Client, creators: int, campaigns: int) -> Program:
    projects = await client.call_tool("list_projects", {})
    project_id = ok(projects)["items"][0]["id"]
    handles = [f"soak.creator{i}" for i in range(creators)]
    added = ok(await client.call_tool("add_creators", {"project_id": project_id, "handles": handles}))
    creator_ids = [r["creator_id"] for r in added["results"]]
    campaign_ids = []
    for n in range(campaigns):
        made = ok(await client.call_tool("create_campaign", {"project_id": project_id, "name": f"Soak campaign {n}"}))
        campaign_ids.append(made["id"])
        items = [{"item_type": "creator", "item_id": c} for c in creator_ids[n::campaigns]]
        ok(await client.call_tool("set_campaign_items", {"campaign_id": made["id"], "add": items}))
    return Program(project_id, creator_ids, campaign_ids)


def ok(result: Any) -> dict[str, Any]:
    if result.is_error or result.structured_content is None:
        raise SystemExit(f"setup call failed: {result.content}")
    data: dict[str, Any] = result.structured_content
    return data


def next_call(rng: random.Random, program: Program, client_no: int, n: int) -> tuple[str, dict[str, Any]]:
    """The n-th call of client `client_no`: about two reads for every write; every call is valid."""
    creator = rng.choice(program.creator_ids)
    campaign = program.campaign_ids[client_no % len(program.campaign_ids)]
    choices: list[tuple[str, dict[str, Any]]] = [
        ("list_creators", {"project_id": program.project_id, "limit": 20}),
        ("get_creator", {"creator_id": creator}),
        ("list_videos", {"creator_id": creator, "limit": 20}),
        ("get_campaign_stats", {"campaign_id": campaign}),
        ("get_agent_context", {"entity_type": "creator", "entity_id": creator}),
        ("list_projects", {}),
        ("write_metadata", {"entity_type": "creator", "entity_id": creator, "patch": {f"c{client_no}": n}}),
        ("write_readme", {"entity_type": "campaign", "entity_id": campaign, "readme": f"note {client_no}-{n}"}),
        ("update_campaign", {"campaign_id": campaign, "target_views": 1_000_000 + n}),
        ("set_campaign_items", {"campaign_id": campaign, "add": [{"item_type": "creator", "item_id": creator}]}),
        ("set_campaign_items", {"campaign_id": campaign, "remove": [{"item_type": "creator", "item_id": creator}]}),
    ]
    weights = [3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1]
    return rng.choices(choices, weights)[0]


# --- load ----------------------------------------------------------------------------------------------------


@dataclass
class Record:
    started: float
    seconds: float
    transport: str
    tool: str
    error: str | None


@dataclass
class Load:
    records: list[Record] = field(default_factory=list)

    async def run_client(self, client: Client, transport: str, program: Program, client_no: int, until: float) -> None:
        rng = random.Random(client_no)
        n = 0
        while time.monotonic() < until:
            tool, args = next_call(rng, program, client_no, n)
            started = time.monotonic()
            error: str | None = None
            try:
                with anyio.fail_after(CALL_TIMEOUT):
                    result = await client.call_tool(tool, args)
                if result.is_error:
                    error = " ".join(getattr(c, "text", "") for c in result.content)[:300]
            except Exception as exc:  # a failed call is what this script counts
                error = f"{type(exc).__name__}: {exc}"[:300]
            self.records.append(Record(started, time.monotonic() - started, transport, tool, error))
            n += 1


def per_minute(records: list[Record], t0: float) -> list[dict[str, Any]]:
    buckets: dict[int, list[Record]] = defaultdict(list)
    for record in records:
        buckets[int((record.started - t0) // 60)].append(record)
    rows = []
    for minute in sorted(buckets):
        latencies = sorted(r.seconds for r in buckets[minute])
        rows.append(
            {
                "minute": minute + 1,
                "calls": len(latencies),
                "errors": sum(r.error is not None for r in buckets[minute]),
                "p50_ms": round(percentile(latencies, 50) * 1000, 1),
                "p99_ms": round(percentile(latencies, 99) * 1000, 1),
            }
        )
    return rows


# --- servers -------------------------------------------------------------------------------------------------


@asynccontextmanager
async def sim_site(creators: int) -> AsyncIterator[tuple[str, SimulatedTikTok]]:
    sim = simulated_site(creators)
    sock = free_socket()
    server = uvicorn.Server(uvicorn.Config(sim.app, log_config=None, lifespan="off", access_log=False))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}", sim
        finally:
            server.should_exit = True
    sock.close()


def server_env(database_url: str, home: Path, tiktok_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKAGOAT_")}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        TRACKAGOAT_DATABASE_URL=database_url,
        TRACKAGOAT_TIKTOK_BASE_URL=tiktok_url,
        TRACKAGOAT_SCRAPE_RATE="50",
        TRACKAGOAT_SCRAPE_INTERVAL_MINUTES="0.1",
        TRACKAGOAT_MIN_CREATOR_PROFILES_HOURS="0",
        TRACKAGOAT_MIN_DISCOVER_VIDEOS_HOURS="0",
        TRACKAGOAT_MIN_VIDEO_STATS_HOURS="0",
        TRACKAGOAT_RATE_LIMIT_PER_MINUTE="0",
        TRACKAGOAT_ORG_RATE_LIMIT_PER_MINUTE="0",
    )
    env.update(extra)
    return env


@asynccontextmanager
async def http_server(env: dict[str, str], log: Path) -> AsyncIterator[tuple[str, int]]:
    """`trackagoat-mcp serve --transport http` on a free port, its output in `log`; yields (base URL, pid)."""
    port = free_port()
    command = [cli_command(), "serve", "--transport", "http", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    async with await anyio.open_process(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as proc:
        assert proc.stderr is not None
        output = bytearray()

        async def keep_log() -> None:
            async for chunk in proc.stderr:  # type: ignore[union-attr]
                output.extend(chunk)
                await anyio.Path(log).write_bytes(bytes(output[-200_000:]))

        async with anyio.create_task_group() as tg:
            tg.start_soon(keep_log)
            try:
                await _wait_healthy(base, proc, output)
                yield base, proc.pid
            finally:
                proc.terminate()
                with anyio.move_on_after(15):
                    await proc.wait()
                if proc.returncode is None:
                    proc.kill()


async def _wait_healthy(base: str, proc: Any, output: bytearray) -> None:
    async with httpx2.AsyncClient(timeout=2) as http:
        for _ in range(300):
            try:
                if (await http.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            if proc.returncode is not None:
                raise SystemExit(f"the HTTP server exited: {output[-2000:].decode(errors='replace')}")
            await anyio.sleep(0.1)
    raise SystemExit(f"the HTTP server did not answer /healthz: {output[-2000:].decode(errors='replace')}")


async def scrape_runs(database_url: str) -> dict[str, int]:
    """Job runs recorded in the store, by job and status."""
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite+aiosqlite:///"))
        try:
            rows = conn.execute("SELECT job, status, count(*) FROM job_runs GROUP BY job, status").fetchall()
        finally:
            conn.close()
    else:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as conn:
                rows = list(await conn.execute(text("SELECT job, status, count(*) FROM job_runs GROUP BY job, status")))
        finally:
            await engine.dispose()
    return {f"{job}:{status}": int(count) for job, status, count in rows}


@dataclass
class Phases:
    """What every client task waits for: all connected, the program ready, warm-up, load, the final sample."""

    clients: int
    connected: int = 0
    program: Program | None = None
    all_connected: anyio.Event = field(default_factory=anyio.Event)
    warm: anyio.Event = field(default_factory=anyio.Event)
    load: anyio.Event = field(default_factory=anyio.Event)
    load_done: anyio.Event = field(default_factory=anyio.Event)
    finished: anyio.Event = field(default_factory=anyio.Event)
    loaded: int = 0
    warm_until: float = 0.0
    load_until: float = 0.0


async def client_lifecycle(
    number: int,
    transport: str,
    connect: Any,
    phases: Phases,
    warm: Load,
    load: Load,
    creators: int,
) -> None:
    """One client from connection to the end: client 0 also prepares the program everyone works on."""
    async with connect() as client:
        phases.connected += 1
        if phases.connected == phases.clients:
            phases.all_connected.set()
        if number == 0:
            await phases.all_connected.wait()
            say(f"{phases.clients} clients connected; adding creators and campaigns")
            phases.program = await prepare(client, creators, max(1, phases.clients // 2))
            phases.warm_until = time.monotonic() + WARMUP_SECONDS
            say("warming up")
            phases.warm.set()
        await phases.warm.wait()
        assert phases.program is not None
        await warm.run_client(client, transport, phases.program, 1000 + number, phases.warm_until)
        await phases.load.wait()
        await load.run_client(client, transport, phases.program, number, phases.load_until)
        phases.loaded += 1
        if phases.loaded == phases.clients:
            phases.load_done.set()
        await phases.finished.wait()  # stay connected until the memory has been sampled


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    duration = args.seconds if args.seconds is not None else args.minutes * 60
    work = Path(tempfile.mkdtemp(prefix="trackagoat-soak-"))
    home = work / "home"
    home.mkdir()
    if args.backend == "postgres":
        database_url = await recreate_pg_database(args.pg_server, "trackagoat_bench_soak")
    else:
        database_url = f"sqlite+aiosqlite:///{work / 'store.db'}"
    phases = Phases(clients=args.http + args.stdio)
    warm, load = Load(), Load()
    pids: dict[str, list[int]] = {"http": [], "stdio": []}
    minute_rss: list[dict[str, list[int | None]]] = []

    async def sample_memory() -> None:
        """VmRSS of every server at the end of each full minute of load."""
        for _ in range(int(duration // 60)):
            await anyio.sleep(60)
            minute_rss.append({kind: [rss_kib(p) for p in found] for kind, found in pids.items()})

    try:
        async with sim_site(args.creators) as (tiktok_url, sim):
            env = server_env(database_url, home, tiktok_url)
            init = await anyio.run_process([cli_command(), "init"], env=env, check=False)
            keys = [line for line in init.stdout.decode().splitlines() if line.startswith("tga_")]
            if init.returncode != 0 or not keys:
                raise SystemExit(f"trackagoat-mcp init failed: {init.stderr.decode()}")
            say("store initialised; starting the servers and connecting the clients")

            async def http_side() -> None:
                async with http_server(env, work / "http.log") as (base, pid):
                    pids["http"].append(pid)
                    say("HTTP server up")

                    @asynccontextmanager
                    async def connect() -> AsyncIterator[Client]:
                        auth = {"Authorization": f"Bearer {keys[0]}"}
                        async with create_mcp_http_client(headers=auth) as http:
                            async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
                                yield client

                    async with anyio.create_task_group() as clients:
                        for number in range(args.http):
                            clients.start_soon(
                                client_lifecycle, number, "http", connect, phases, warm, load, args.creators
                            )

            stdio_env = server_env(database_url, home, tiktok_url, TRACKAGOAT_API_KEY=keys[0])
            stdio = StdioServerParameters(command=cli_command(), args=["serve", "--no-jobs"], env=stdio_env)
            async with anyio.create_task_group() as tg:
                tg.start_soon(http_side)
                for number in range(args.http, args.http + args.stdio):
                    tg.start_soon(
                        client_lifecycle, number, "stdio", lambda: Client(stdio), phases, warm, load, args.creators
                    )
                await phases.warm.wait()
                await anyio.sleep(max(0.0, phases.warm_until - time.monotonic()) + 0.5)
                pids["stdio"] = serve_children()
                rss_start = {kind: [rss_kib(p) for p in found] for kind, found in pids.items()}
                say(f"load for {duration:g} s")
                t0 = time.monotonic()
                phases.load_until = t0 + duration
                phases.load.set()
                tg.start_soon(sample_memory)
                await phases.load_done.wait()  # every client has finished its last call
                elapsed = time.monotonic() - t0
                rss_end = {kind: [rss_kib(p) for p in found] for kind, found in pids.items()}
                say("load done; stopping clients and servers")
                phases.finished.set()
            say("stopped")
            runs = await scrape_runs(database_url)
            store_bytes = (work / "store.db").stat().st_size if args.backend == "sqlite" else None
            site_requests = sum(sim.requests.values())
    finally:
        shutil.rmtree(work, ignore_errors=True)

    errors = [r for r in load.records if r.error is not None]
    latencies = sorted(r.seconds for r in load.records)
    return {
        "backend": args.backend,
        "seconds": round(elapsed, 1),
        "clients": {"http": args.http, "stdio": args.stdio},
        "creators": args.creators,
        "calls": len(load.records),
        "writes": sum(r.tool.startswith(("write_", "update_", "set_")) for r in load.records),
        "calls_per_s": round(len(load.records) / elapsed, 1),
        "errors": len(errors),
        "warmup_errors": sum(r.error is not None for r in warm.records),
        "error_samples": sorted({f"{r.transport} {r.tool}: {r.error}" for r in [*errors, *warm.records] if r.error})[
            :10
        ],
        "p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99) * 1000, 1) if latencies else None,
        "per_minute": per_minute(load.records, t0),
        "rss_kib_start": rss_start,
        "rss_kib_end": rss_end,
        "rss_kib_per_minute": minute_rss,
        "store_bytes": store_bytes,
        "job_runs": runs,
        "tiktok_requests": site_requests,
    }


def print_report(report: dict[str, Any]) -> None:
    print(
        f"soak: {report['seconds']} s on {report['backend']}, {report['clients']['http']} HTTP + "
        f"{report['clients']['stdio']} stdio clients, {report['creators']} creators"
    )
    print(
        f"calls {report['calls']:,} ({report['writes']:,} writes, {report['calls_per_s']}/s), "
        f"errors {report['errors']}, p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms"
    )
    for sample in report["error_samples"]:
        print(f"  error: {sample}")
    print("minute  calls  errors  p50 ms  p99 ms")
    for row in report["per_minute"]:
        print(f"{row['minute']:>6}  {row['calls']:>5}  {row['errors']:>6}  {row['p50_ms']:>6}  {row['p99_ms']:>6}")
    for kind in ("http", "stdio"):
        start = ", ".join(f"{(k or 0) / 1024:.1f}" for k in report["rss_kib_start"][kind])
        end = ", ".join(f"{(k or 0) / 1024:.1f}" for k in report["rss_kib_end"][kind])
        minutes = " ".join(
            "/".join(f"{(k or 0) / 1024:.0f}" for k in sample[kind]) for sample in report["rss_kib_per_minute"]
        )
        print(f"{kind} server RSS MiB: start {start}; end {end}; each minute {minutes or '-'}")
    if report["store_bytes"] is not None:
        print(f"store at the end: {report['store_bytes'] / 2**20:.1f} MiB")
    print(f"job runs: {report['job_runs']}; requests to the simulated TikTok: {report['tiktok_requests']:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, default=5.0, help="How long the load runs (default 5).")
    length.add_argument("--seconds", type=float, help="How long the load runs, in seconds (short form).")
    parser.add_argument("--http", type=int, default=3, help="Clients over Streamable HTTP (default 3).")
    parser.add_argument("--stdio", type=int, default=2, help="Clients over stdio, one server each (default 2).")
    parser.add_argument("--creators", type=int, default=12, help="Creators on the simulated site (default 12).")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER)
    parser.add_argument("--json", action="store_true", help="Print the report as one JSON object.")
    args = parser.parse_args()
    report = anyio.run(soak, args)
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report)
    sys.exit(1 if report["errors"] else 0)


if __name__ == "__main__":
    main()
