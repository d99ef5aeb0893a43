"""MCP overhead over stdio: our tools on `trackagoat-mcp serve` vs the same bytes from memory on a bare SDK server.

Both servers run as real stdio subprocesses, started by `mcp.Client` exactly as an MCP host starts them.

1. The store is the demo's (`trackagoat-mcp demo`'s `run_demo`: 12 creators, 57 videos, a campaign tree, payouts),
   built once into `bench/.data/mcp_overhead_demo.db` (or the PostgreSQL database `trackagoat_bench_mcp`) and
   reused while it exists (`--rebuild` builds it again).
2. Our server is `trackagoat-mcp serve --no-jobs` on that store. Through it the script captures, once, the
   `tools/list` entries of the measured tools and one real result of each call (`get_creator`, `list_videos`
   with `limit` 50, `get_campaign_stats` of the demo's root campaign), and writes them to
   `bench/.data/floor_capture.json`.
3. The floor is `floor_server.py` on that capture: a bare SDK `MCPServer` publishing the same tool definitions
   and answering each call with the captured result, built once. The client receives the same bytes and
   validates them against the same output schema; the difference between the two is our cost.
4. Per call: a warm-up, then the two clients take turns in blocks of sequential calls (so drift of a shared
   machine hits both series alike) until each has made N calls. Printed: calls/s, mean, p50, p99, and the ratio
   of the means (ours / floor) against the issue's target.
5. Start: spawn → `tools/list` answered (a fresh `mcp.Client` over stdio each time, handshake included),
   `--starts` times each, alternating ours (`serve --no-jobs`, the demo store) with `echo_server.py` (a bare SDK
   server with one tool). Printed: median and mean; the ratio uses the medians.

    .venv/bin/python bench/mcp_overhead.py                      # SQLite, 1000 calls each, 20 starts each
    .venv/bin/python bench/mcp_overhead.py -n 300 --starts 10   # quicker
    .venv/bin/python bench/mcp_overhead.py --backend postgres
    PYTHONPATH=/tmp/old/src .venv/bin/python bench/mcp_overhead.py   # an older version's server (`git archive`)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

from _common import DATA_DIR, DEFAULT_PG_SERVER, Summary, pg_database_exists, recreate_pg_database

BENCH_DIR = Path(__file__).resolve().parent
TARGETS = {"get_creator": 1.2, "list_videos": 1.5, "get_campaign_stats": 2.0}
START_TARGET = 1.3


def _serve_command() -> str:
    local = Path(sys.executable).parent / "trackagoat-mcp"
    found = str(local) if local.exists() else shutil.which("trackagoat-mcp")
    if found is None:
        raise SystemExit("trackagoat-mcp is not installed; run `pip install -e .` in the project first.")
    return found


async def demo_store(backend: str, pg_server: str, *, rebuild: bool) -> str:
    """The URL of the demo's store for this backend, built by `run_demo` unless it exists already."""
    from sqlalchemy.engine import make_url

    from trackagoat_mcp.demo import run_demo

    if backend == "postgres":
        name = "trackagoat_bench_mcp"
        url = make_url(pg_server).set(database=name).render_as_string(hide_password=False)
        if rebuild or not await pg_database_exists(pg_server, name):
            print("building the demo store (PostgreSQL) ...")
            await recreate_pg_database(pg_server, name)
            await run_demo(url, out=lambda _line: None)
        return url
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "mcp_overhead_demo.db"
    if rebuild or not path.exists():
        building = path.with_suffix(".building.db")
        _remove(path, building)
        print("building the demo store (SQLite) ...")
        await run_demo(f"sqlite+aiosqlite:///{building}", out=lambda _line: None)
        _remove(path)
        building.replace(path)
    return f"sqlite+aiosqlite:///{path}"


def _remove(*paths: Path) -> None:
    for path in paths:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data))


async def measured_calls(client: Client) -> dict[str, dict[str, Any]]:
    """The arguments of each measured call, found through the tools on the demo's store."""
    projects = await client.call_tool("list_projects", {})
    assert projects.structured_content is not None, projects
    project_id = projects.structured_content["items"][0]["id"]
    creators = await client.call_tool("list_creators", {"project_id": project_id, "limit": 50})
    assert creators.structured_content is not None, creators
    creator = max(creators.structured_content["items"], key=lambda c: c.get("handle", ""))
    campaigns = await client.call_tool("list_campaigns", {"project_id": project_id})
    assert campaigns.structured_content is not None, campaigns
    root = next(c for c in campaigns.structured_content["items"] if c["name"] == "Spring launch")
    return {
        "get_creator": {"creator_id": creator["id"]},
        "list_videos": {"project_id": project_id, "limit": 50},
        "get_campaign_stats": {"campaign_id": root["id"]},
    }


async def capture(client: Client, calls: dict[str, dict[str, Any]], path: Path) -> None:
    """Write the measured tools' definitions and one real result of each call to `path` (JSON)."""
    listed = await client.list_tools()
    tools = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed.tools if t.name in calls]
    results = {}
    for name, arguments in calls.items():
        result = await client.call_tool(name, arguments)
        if result.is_error:
            raise SystemExit(f"{name} failed: {result.content}")
        results[name] = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    _write_json(path, {"tools": tools, "results": results, "arguments": calls})


async def _timed_block(client: Client, tool: str, args: dict[str, Any], count: int, samples: list[float]) -> None:
    for _ in range(count):
        started = time.perf_counter()
        result = await client.call_tool(tool, args)
        samples.append(time.perf_counter() - started)
        if result.is_error:
            raise SystemExit(f"{tool} failed: {result.content}")


def _print_row(label: str, s: Summary) -> None:
    print(f"{label:<32} {s.calls:>6} {s.calls_per_s:>9.0f} {s.mean_ms:>9.3f} {s.p50_ms:>9.3f} {s.p99_ms:>9.3f}")


async def _time_start(params: StdioServerParameters, mode: str) -> float:
    started = time.perf_counter()
    async with Client(params, mode=mode) as client:
        await client.list_tools()
        took = time.perf_counter() - started
    return took


async def run(args: argparse.Namespace) -> None:
    command = _serve_command()
    url = await demo_store(args.backend, args.pg_server, rebuild=args.rebuild)
    env = {"TRACKAGOAT_DATABASE_URL": url}
    if "PYTHONPATH" in os.environ:  # `PYTHONPATH=<an older checkout>/src` measures that version's server
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    ours_params = StdioServerParameters(command=command, args=["serve", "--no-jobs"], env=env)
    capture_path = DATA_DIR / "floor_capture.json"
    mode = args.mode
    async with Client(ours_params, mode=mode) as ours:
        calls = await measured_calls(ours)
        await capture(ours, calls, capture_path)
    floor_params = StdioServerParameters(
        command=sys.executable, args=[str(BENCH_DIR / "floor_server.py"), str(capture_path)]
    )
    echo_params = StdioServerParameters(command=sys.executable, args=[str(BENCH_DIR / "echo_server.py")])
    print(f"MCP stdio overhead: backend={args.backend}, {args.calls} calls each, machine shared (alternating blocks)")
    print(f"{'series':<32} {'calls':>6} {'calls/s':>9} {'mean ms':>9} {'p50 ms':>9} {'p99 ms':>9}")
    verdicts = []
    async with Client(ours_params, mode=mode) as ours, Client(floor_params, mode=mode) as floor:
        await ours.list_tools()
        await floor.list_tools()
        for tool, targs in calls.items():
            for client in (ours, floor):
                await _timed_block(client, tool, targs, args.warmup, [])
            ours_samples: list[float] = []
            floor_samples: list[float] = []
            block = max(1, args.calls // args.blocks)
            while len(ours_samples) < args.calls:
                count = min(block, args.calls - len(ours_samples))
                await _timed_block(floor, tool, targs, count, floor_samples)
                await _timed_block(ours, tool, targs, count, ours_samples)
            ours_s, floor_s = Summary.of(ours_samples), Summary.of(floor_samples)
            _print_row(f"{tool} (same bytes, floor)", floor_s)
            _print_row(f"{tool} (ours)", ours_s)
            ratio = ours_s.mean_ms / floor_s.mean_ms
            verdicts.append((tool, ratio, TARGETS[tool], ours_s.mean_ms - floor_s.mean_ms))
        protocol = ours.protocol_version
    if args.starts:
        ours_starts: list[float] = []
        bare_starts: list[float] = []
        for _ in range(args.starts):
            bare_starts.append(await _time_start(echo_params, mode))
            ours_starts.append(await _time_start(ours_params, mode))
        ours_med, bare_med = statistics.median(ours_starts), statistics.median(bare_starts)
        print(
            f"start, spawn -> tools/list answered ({args.starts} each): bare SDK server median {bare_med * 1000:.0f} ms"
            f" (mean {statistics.fmean(bare_starts) * 1000:.0f}), ours median {ours_med * 1000:.0f} ms"
            f" (mean {statistics.fmean(ours_starts) * 1000:.0f})"
        )
        verdicts.append(("start", ours_med / bare_med, START_TARGET, (ours_med - bare_med) * 1000))
    print(f"protocol {protocol}; ratios (ours / floor, means; start: medians):")
    for name, ratio, target, extra in verdicts:
        verdict = "OK" if ratio <= target else "MISSED"
        print(f"  {name:<20} {ratio:5.2f}x  (target <= {target}x: {verdict}; extra {extra:.2f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--calls", type=int, default=1000, help="Timed calls per server and tool (1000).")
    parser.add_argument("--warmup", type=int, default=50, help="Untimed calls per server and tool first (50).")
    parser.add_argument("--blocks", type=int, default=10, help="Alternating blocks the calls are split into.")
    parser.add_argument("--starts", type=int, default=20, help="Timed starts per server (20; 0 skips them).")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER, help="Any database URL on the PostgreSQL server.")
    parser.add_argument("--rebuild", action="store_true", help="Build the demo store again.")
    parser.add_argument("--mode", choices=["auto", "legacy"], default="auto", help="Client protocol era.")
    args = parser.parse_args()
    anyio.run(run, args)


if __name__ == "__main__":
    main()
