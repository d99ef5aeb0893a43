"""MCP call overhead over stdio: `get_creator` on `trackagoat-mcp serve` vs `echo` on a bare SDK server.

Both servers run as real stdio subprocesses, started by `mcp.Client` exactly as an MCP host starts them.
Our store is prepared with `trackagoat-mcp init` plus one creator (added through the `add_creators` tool).
After a warm-up, the two clients take turns in blocks of sequential calls (so drift of the machine hits both
series alike) until each has made N calls; the script prints calls/s, mean, p50 and p99 per series and the
ratio of the means (ours / echo).

    .venv/bin/python bench/mcp_overhead.py                  # SQLite, 1000 calls each
    .venv/bin/python bench/mcp_overhead.py -n 5000 --backend postgres
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

from _common import DEFAULT_PG_SERVER, Summary, fresh_sqlite_file, recreate_pg_database

BENCH_DIR = Path(__file__).resolve().parent
TARGET_RATIO = 1.5


def _serve_command() -> str:
    local = Path(sys.executable).parent / "trackagoat-mcp"
    found = str(local) if local.exists() else shutil.which("trackagoat-mcp")
    if found is None:
        raise SystemExit("trackagoat-mcp is not installed; run `pip install -e .` in the project first.")
    return found


async def _database_url(backend: str, pg_server: str) -> str:
    if backend == "postgres":
        return await recreate_pg_database(pg_server, "trackagoat_bench_mcp")
    return f"sqlite+aiosqlite:///{fresh_sqlite_file('mcp_overhead.db')}"


def _init_store(command: str, env: dict[str, str]) -> None:
    done = subprocess.run([command, "init"], env=os.environ | env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"trackagoat-mcp init failed:\n{done.stderr}")


async def _add_creator(client: Client) -> str:
    projects = await client.call_tool("list_projects", {})
    assert not projects.is_error and projects.structured_content is not None, projects
    project_id = projects.structured_content["items"][0]["id"]
    added = await client.call_tool("add_creators", {"project_id": project_id, "handles": ["bench.creator"]})
    assert not added.is_error and added.structured_content is not None, added
    creator_id: str = added.structured_content["results"][0]["creator_id"]
    return creator_id


async def _timed_block(client: Client, tool: str, args: dict[str, Any], count: int, samples: list[float]) -> None:
    for _ in range(count):
        started = time.perf_counter()
        result = await client.call_tool(tool, args)
        samples.append(time.perf_counter() - started)
        if result.is_error:
            raise SystemExit(f"{tool} failed: {result.content}")


def _print_row(label: str, s: Summary) -> None:
    print(f"{label:<24} {s.calls:>6} {s.calls_per_s:>9.0f} {s.mean_ms:>9.3f} {s.p50_ms:>9.3f} {s.p99_ms:>9.3f}")


async def run(args: argparse.Namespace) -> float:
    command = _serve_command()
    url = await _database_url(args.backend, args.pg_server)
    env = {"TRACKAGOAT_DATABASE_URL": url}
    _init_store(command, env)
    ours_params = StdioServerParameters(command=command, args=["serve"], env=env)
    echo_params = StdioServerParameters(command=sys.executable, args=[str(BENCH_DIR / "echo_server.py")])
    mode = args.mode
    async with Client(ours_params, mode=mode) as ours, Client(echo_params, mode=mode) as echo:
        creator_id = await _add_creator(ours)
        ours_call = ("get_creator", {"creator_id": creator_id})
        echo_call = ("echo", {"text": "x" * 32})
        first = await ours.call_tool(*ours_call)
        assert first.structured_content is not None and first.structured_content["id"] == creator_id, first
        for client, (tool, targs) in ((ours, ours_call), (echo, echo_call)):
            await _timed_block(client, tool, targs, args.warmup, [])

        ours_samples: list[float] = []
        echo_samples: list[float] = []
        block = max(1, args.calls // args.blocks)
        while len(ours_samples) < args.calls:
            count = min(block, args.calls - len(ours_samples))
            await _timed_block(echo, *echo_call, count, echo_samples)
            await _timed_block(ours, *ours_call, count, ours_samples)
        protocol = ours.protocol_version

    ours_s, echo_s = Summary.of(ours_samples), Summary.of(echo_samples)
    ratio = ours_s.mean_ms / echo_s.mean_ms
    print(f"MCP stdio call overhead: backend={args.backend}, protocol {protocol}, {args.calls} calls each")
    print(f"{'series':<24} {'calls':>6} {'calls/s':>9} {'mean ms':>9} {'p50 ms':>9} {'p99 ms':>9}")
    _print_row("echo (bare SDK)", echo_s)
    _print_row("get_creator (ours)", ours_s)
    verdict = "OK" if ratio <= TARGET_RATIO else "MISSED"
    print(f"ratio of means (ours / echo): {ratio:.2f}x  (target <= {TARGET_RATIO}x: {verdict})")
    print(f"absolute extra per call: {ours_s.mean_ms - echo_s.mean_ms:.3f} ms")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--calls", type=int, default=1000, help="Timed calls per server (default 1000).")
    parser.add_argument("--warmup", type=int, default=100, help="Untimed calls per server first (default 100).")
    parser.add_argument("--blocks", type=int, default=10, help="Alternating blocks the calls are split into.")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER, help="Any database URL on the PostgreSQL server.")
    parser.add_argument("--mode", choices=["auto", "legacy"], default="auto", help="Client protocol era.")
    args = parser.parse_args()
    anyio.run(run, args)


if __name__ == "__main__":
    main()
