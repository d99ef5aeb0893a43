"""MCP over Streamable HTTP: `get_creator` on `trackagoat-mcp serve --transport http` vs `echo` on a bare SDK server.

Both servers run as real subprocesses on loopback ports: ours under uvicorn exactly as `serve --transport http`
runs it (key auth, Host/Origin checks, rate limiter, JSON responses), with the per-key rate limit raised through
`TRACKAGOAT_RATE_LIMIT_PER_MINUTE` so the bench is measured, not throttled; the baseline is `bench/echo_server.py`'s
`MCPServer` served by the SDK's own `streamable_http_app` (JSON responses, same uvicorn). Our store is a fresh
SQLite file (or PostgreSQL database) made by `trackagoat-mcp init`, plus one creator added through `add_creators`.

For each concurrency level (1, 8 and 32 clients by default) each server gets the same fixed number of tool calls,
shared among that many `mcp.Client`s over Streamable HTTP, each with its own connection pool and calling in a
loop. The clients of a level are opened and warmed up (session, tool list, first calls) before the timed calls and
stay open through them, as an agent's client does: what is timed is calls, not sessions. The two servers take
turns (echo, ours, ours, echo, ...) so machine drift hits both series alike. Printed per level and server:
calls/s (calls over wall time), p50 and p99 latency of single calls, the server process's CPU time per call
(user + system, from /proc: on a shared machine it moves far less than wall time), and the ratios ours/echo of
p50 latency, of throughput and of CPU per call; at the end, each server's peak resident memory (`VmHWM` from
/proc). The verdict compares the p50 and throughput ratios with the target.

    .venv/bin/python bench/http_load.py                               # both eras, SQLite, 2000 calls per level
    .venv/bin/python bench/http_load.py --eras modern -n 3000 --backend postgres

The client runs in this process, on the same machine: at 8 and 32 clients it competes with the server for CPU,
and both series pay that alike.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from _common import DATA_DIR, DEFAULT_PG_SERVER, Summary, fresh_sqlite_file, recreate_pg_database

THIS = Path(__file__).resolve()
TARGET_RATIO = 1.5
FLOOR_TARGET = 1.3
START_SECONDS = 30.0
ERA_MODES = {"modern": "auto", "legacy": "legacy"}
"""Era name → `mcp.Client` mode: "auto" lands on 2026-07-28 (stateless), "legacy" on the 2025-11-25 handshake."""


def _cli() -> str:
    local = Path(sys.executable).parent / "trackagoat-mcp"
    found = str(local) if local.exists() else shutil.which("trackagoat-mcp")
    if found is None:
        raise SystemExit("trackagoat-mcp is not installed; run `pip install -e .` in the project first.")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a live process has used so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mib(pid: int) -> float:
    """Peak resident set size of a live process (`VmHWM`), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


@dataclass(frozen=True)
class Served:
    """A server subprocess listening at `url`."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    headers: dict[str, str]
    tool: str
    args: dict[str, Any]


@contextmanager
def _spawn(
    name: str, command: list[str], env: dict[str, str], port: int, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `command`, wait for its port to accept connections, and always stop it afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited early:\n{log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{name} did not listen within {START_SECONDS} s:\n{log.read_text()}") from None
                time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def _database_url(backend: str, pg_server: str) -> str:
    if backend == "postgres":
        return await recreate_pg_database(pg_server, "trackagoat_bench_http")
    return f"sqlite+aiosqlite:///{fresh_sqlite_file('http.db')}"


def _logs_dir() -> Path:
    logs = DATA_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    return logs


def _ours_env(database_url: str, key_cache_seconds: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKAGOAT_")}
    if key_cache_seconds is not None:
        env["TRACKAGOAT_KEY_CACHE_SECONDS"] = key_cache_seconds
    env.update(
        TRACKAGOAT_DATABASE_URL=database_url,
        TRACKAGOAT_RATE_LIMIT_PER_MINUTE="1000000000",  # raised, not off: the limiter's cost is part of the bench
        TRACKAGOAT_ORG_RATE_LIMIT_PER_MINUTE="1000000000",
        TRACKAGOAT_SESSIONS_PER_KEY="1000",  # one key drives every concurrent client
        TRACKAGOAT_SESSIONS_PER_ORG="1000",
        TRACKAGOAT_TIKTOK_BASE_URL="http://127.0.0.1:9",  # background jobs, if any run, never reach TikTok
    )
    return env


def _init_store(cli: str, env: dict[str, str]) -> str:
    done = subprocess.run([cli, "init"], env=env, capture_output=True, text=True, check=False)
    keys = [line for line in done.stdout.splitlines() if line.startswith("tga_")]
    if done.returncode != 0 or len(keys) != 1:
        raise SystemExit(f"trackagoat-mcp init failed:\n{done.stdout}\n{done.stderr}")
    return keys[0]


def _serve_args(cli: str) -> list[str]:
    """`serve --transport http`, plus `--no-jobs` where this version has it (the bench measures MCP calls only)."""
    helped = subprocess.run([cli, "serve", "--help"], capture_output=True, text=True, check=False).stdout
    return ["serve", "--transport", "http", *(["--no-jobs"] if "--no-jobs" in helped else [])]


async def _add_creator(url: str, headers: dict[str, str]) -> str:
    async with (
        create_mcp_http_client(headers=headers) as http,
        Client(streamable_http_client(url, http_client=http)) as c,
    ):
        projects = await c.call_tool("list_projects", {})
        assert not projects.is_error and projects.structured_content is not None, projects
        project_id = projects.structured_content["items"][0]["id"]
        added = await c.call_tool("add_creators", {"project_id": project_id, "handles": ["bench.creator"]})
        assert not added.is_error and added.structured_content is not None, added
        creator_id: str = added.structured_content["results"][0]["creator_id"]
        first = await c.call_tool("get_creator", {"creator_id": creator_id})
        assert first.structured_content is not None and first.structured_content["id"] == creator_id, first
        return creator_id


async def _open_clients(stack: AsyncExitStack, served: Served, mode: str, clients: int) -> list[Client]:
    """`clients` connected `mcp.Client`s, each with its own connection pool, open until `stack` closes."""
    opened = []
    for _ in range(clients):
        http = await stack.enter_async_context(create_mcp_http_client(headers=served.headers))
        transport = streamable_http_client(served.url, http_client=http)
        opened.append(await stack.enter_async_context(Client(transport, mode=mode)))
    return opened


async def _run_level(served: Served, opened: list[Client], calls: int, samples: list[float]) -> float:
    """`calls` tool calls shared by the `opened` clients calling concurrently; appends each call's latency, returns
    wall seconds."""
    shares = [calls // len(opened) + (1 if i < calls % len(opened) else 0) for i in range(len(opened))]

    async def drive(client: Client, count: int) -> None:
        for _ in range(count):
            started = time.perf_counter()
            result = await client.call_tool(served.tool, served.args)
            samples.append(time.perf_counter() - started)
            if result.is_error:
                raise SystemExit(f"{served.name}: {served.tool} failed: {result.content}")

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for client, count in zip(opened, shares, strict=True):
            tg.start_soon(drive, client, count)
    return time.perf_counter() - started


@dataclass
class Series:
    """One server's timed calls at one level: latencies, the wall time they took, the server's CPU time."""

    samples: list[float]
    wall_s: float = 0.0
    server_cpu_s: float = 0.0

    @property
    def calls_per_s(self) -> float:
        return len(self.samples) / self.wall_s

    @property
    def cpu_ms_per_call(self) -> float:
        return self.server_cpu_s * 1000 / len(self.samples)


async def _bench_era(
    echo: Served, ours: Served, era: str, args: argparse.Namespace
) -> list[tuple[int, Series, Series]]:
    mode = ERA_MODES[era]
    rows = []
    for clients in args.clients:
        async with AsyncExitStack() as stack:
            opened = {}
            for served in (echo, ours):  # untimed: each client's session, its tool list, its first calls, caches
                opened[served.name] = await _open_clients(stack, served, mode, clients)
                await _run_level(served, opened[served.name], max(args.warmup, clients), [])
            series = {echo.name: Series([]), ours.name: Series([])}
            order = (echo, ours)
            for round_ in range(args.rounds):
                share = args.calls // args.rounds + (1 if round_ < args.calls % args.rounds else 0)
                for served in order if round_ % 2 == 0 else reversed(order):
                    s = series[served.name]
                    cpu_before = _cpu_seconds(served.process.pid)
                    s.wall_s += await _run_level(served, opened[served.name], share, s.samples)
                    s.server_cpu_s += _cpu_seconds(served.process.pid) - cpu_before
        rows.append((clients, series[echo.name], series[ours.name]))
    return rows


def _cells(s: Summary, series: Series) -> str:
    return f"{s.calls:>6} {series.calls_per_s:>8.0f} {s.p50_ms:>8.2f} {s.p99_ms:>8.2f} {series.cpu_ms_per_call:>7.2f}"


def _print_era(
    era: str, rows: list[tuple[int, Series, Series]], labels: tuple[str, str], *, target: float = TARGET_RATIO
) -> None:
    protocol = "2026-07-28, stateless" if era == "modern" else "2025-11-25 handshake, stateful sessions"
    print(f"\nprotocol {protocol}")
    print(
        f"{'clients':>7} {'series':<28} {'calls':>6} {'calls/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms':>7}"
        f"  {'p50 ratio':>9} {'calls/s ratio':>13} {'cpu ratio':>9}"
    )
    for clients, echo, ours in rows:
        e, o = Summary.of(echo.samples), Summary.of(ours.samples)
        print(f"{clients:>7} {labels[0]:<28} {_cells(e, echo)}")
        latency_ratio, throughput_ratio = o.p50_ms / e.p50_ms, echo.calls_per_s / ours.calls_per_s
        cpu_ratio = ours.cpu_ms_per_call / echo.cpu_ms_per_call
        verdict = "OK" if max(latency_ratio, throughput_ratio) <= target else "MISSED"
        print(
            f"{'':>7} {labels[1]:<28} {_cells(o, ours)}"
            f"  {latency_ratio:>8.2f}x {throughput_ratio:>12.2f}x {cpu_ratio:>8.2f}x  {verdict}"
        )


async def run(args: argparse.Namespace) -> None:
    if args.against == "floor":
        await run_floor(args)
        return
    cli = _cli()
    database_url = await _database_url(args.backend, args.pg_server)
    env = _ours_env(database_url, args.key_cache_seconds)
    key = _init_store(cli, env)
    ours_port, echo_port = _free_port(), _free_port()
    logs = _logs_dir()
    ours_command = [cli, *_serve_args(cli), "--host", "127.0.0.1", "--port", str(ours_port)]
    echo_command = [sys.executable, str(THIS), "--echo-server", str(echo_port)]
    with (
        _spawn("trackagoat-mcp serve --transport http", ours_command, env, ours_port, logs / "ours.log") as ours_proc,
        _spawn("echo server", echo_command, dict(os.environ), echo_port, logs / "echo.log") as echo_proc,
    ):
        headers = {"Authorization": f"Bearer {key}"}
        ours_url = f"http://127.0.0.1:{ours_port}/mcp"
        creator_id = await _add_creator(ours_url, headers)
        ours = Served("ours", ours_url, ours_proc, headers, "get_creator", {"creator_id": creator_id})
        echo = Served("echo", f"http://127.0.0.1:{echo_port}/mcp", echo_proc, {}, "echo", {"text": "x" * 32})
        print(
            f"MCP over Streamable HTTP (JSON responses): backend={args.backend}, "
            f"key cache {'default' if args.key_cache_seconds is None else args.key_cache_seconds + ' s'}, "
            f"{args.calls} timed calls per "
            f"server and level, clients {', '.join(map(str, args.clients))}; "
            f"ratios are ours / echo (target <= {TARGET_RATIO}x)"
        )
        for era in args.eras:
            _print_era(era, await _bench_era(echo, ours, era, args), ("echo (bare SDK)", "get_creator (ours)"))
        print(
            f"\npeak RSS (VmHWM): trackagoat-mcp {_peak_rss_mib(ours_proc.pid):.1f} MiB, "
            f"echo server {_peak_rss_mib(echo_proc.pid):.1f} MiB"
        )


def _create_key(cli: str, env: dict[str, str]) -> str:
    done = subprocess.run([cli, "keys", "create", "--name", "bench"], env=env, capture_output=True, text=True)
    keys = [word for word in done.stdout.split() if word.startswith("tga_")]
    if done.returncode != 0 or len(keys) != 1:
        raise SystemExit(f"trackagoat-mcp keys create failed:\n{done.stdout}\n{done.stderr}")
    return keys[0]


async def run_floor(args: argparse.Namespace) -> None:
    """The demo's store and the calls of `mcp_overhead.py`, each against `floor_server.py` serving its bytes."""
    from mcp_overhead import capture, demo_store, measured_calls

    cli = _cli()
    env = _ours_env(await demo_store(args.backend, args.pg_server, rebuild=False), args.key_cache_seconds)
    key = _create_key(cli, env)
    ours_port, floor_port = _free_port(), _free_port()
    logs = _logs_dir()
    capture_path = DATA_DIR / "floor_capture_http.json"
    ours_command = [cli, *_serve_args(cli), "--host", "127.0.0.1", "--port", str(ours_port)]
    headers = {"Authorization": f"Bearer {key}"}
    ours_url = f"http://127.0.0.1:{ours_port}/mcp"
    with _spawn("trackagoat-mcp serve --transport http", ours_command, env, ours_port, logs / "ours.log") as ours_proc:
        async with (
            create_mcp_http_client(headers=headers) as http,
            Client(streamable_http_client(ours_url, http_client=http)) as client,
        ):
            calls = await measured_calls(client)
            calls = {tool: arguments for tool, arguments in calls.items() if tool in (args.tools or calls)}
            await capture(client, calls, capture_path)
        floor_command = [sys.executable, str(THIS.parent / "floor_server.py"), str(capture_path), "--http"]
        floor_command += ["--port", str(floor_port)]
        with _spawn("floor server", floor_command, dict(os.environ), floor_port, logs / "floor.log") as floor_proc:
            floor_url = f"http://127.0.0.1:{floor_port}/mcp"
            print(
                f"MCP over Streamable HTTP (JSON responses): backend={args.backend}, demo store, {args.calls} timed "
                f"calls per server, tool and level, clients {', '.join(map(str, args.clients))}; ratios are ours / "
                f"the same bytes from memory on a bare SDK server (target <= {FLOOR_TARGET}x); machine shared"
            )
            for tool, arguments in calls.items():
                ours = Served("ours", ours_url, ours_proc, headers, tool, arguments)
                floor = Served("floor", floor_url, floor_proc, {}, tool, arguments)
                for era in args.eras:
                    rows = await _bench_era(floor, ours, era, args)
                    _print_era(era, rows, (f"{tool} (floor)", f"{tool} (ours)"), target=FLOOR_TARGET)
            print(
                f"\npeak RSS (VmHWM): trackagoat-mcp {_peak_rss_mib(ours_proc.pid):.1f} MiB, "
                f"floor server {_peak_rss_mib(floor_proc.pid):.1f} MiB"
            )


def _echo_server(port: int) -> None:
    """Serve the bare SDK echo baseline over Streamable HTTP with JSON responses (the subprocess half of the bench)."""
    from echo_server import server

    server.run("streamable-http", host="127.0.0.1", port=port, json_response=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--calls", type=int, default=2000, help="Timed calls per server and level (2000).")
    parser.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 32])
    parser.add_argument("--eras", type=lambda s: s.split(","), default=["modern", "legacy"], help="modern,legacy")
    parser.add_argument("--warmup", type=int, default=100, help="Untimed calls per server before each level.")
    parser.add_argument("--rounds", type=int, default=2, help="Alternating turns the timed calls are split into.")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--key-cache-seconds", help="TRACKAGOAT_KEY_CACHE_SECONDS for our server (0: a key lookup per request)."
    )
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER, help="Any database URL on the PostgreSQL server.")
    parser.add_argument(
        "--against",
        choices=["floor", "echo"],
        default="floor",
        help="floor: the demo store's get_creator, list_videos(50) and get_campaign_stats against the same bytes from "
        "memory (default); echo: get_creator on a fresh store against an echo tool.",
    )
    parser.add_argument(
        "--tools", type=lambda s: s.split(","), help="with --against floor: only these of the measured calls"
    )
    parser.add_argument("--echo-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo_server:
        _echo_server(args.echo_server)
        return
    unknown = set(args.eras) - set(ERA_MODES)
    if unknown:
        parser.error(f"unknown era(s) {sorted(unknown)}; choose from {sorted(ERA_MODES)}")
    anyio.run(run, args)


if __name__ == "__main__":
    main()
