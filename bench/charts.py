"""What drawing costs: `show_chart` of each kind against the read tool that returns the same figures.

Builds the demo store (`trackagoat_mcp.demo.run_demo`, quietly) unless `--database-url` names one built by
`trackagoat-mcp demo`, then calls, through an in-memory `mcp.Client` with an admin caller and in alternation,
`show_chart` of each kind and its baseline (the read tool whose figures it draws): get_analytics, get_leaderboard,
get_campaign_stats, list_payout_accruals (the ledger also lists payments), get_program_health. Prints the mean of
each, their ratio, and the PNG rendering alone (`render_png` of the chart's spec, vl-convert in a worker thread),
which is most of the difference. The first render in a process also starts vl-convert's engine; it is measured
and shown apart (`--runs` calls follow it).

    .venv/bin/python bench/charts.py                   # a fresh demo store (~30 s), 5 runs per kind
    .venv/bin/python bench/charts.py --runs 20 --database-url sqlite+aiosqlite:////tmp/demo.db
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from trackagoat_mcp.clock import SystemClock
from trackagoat_mcp.config import ALL_TOOLSETS, Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import campaigns, orgs, projects, videos
from trackagoat_mcp.domain.payouts import accrual_records
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.server.app import build_server
from trackagoat_mcp.server.charts.render import render_png


async def _subjects(db: Database) -> tuple[Caller, dict[str, str]]:
    async with db.read() as session:
        [org] = await orgs.list_orgs(session)
        caller = Caller(org.id, frozenset({"admin", "read", "write"}))
        [project] = (await projects.list_projects(session, caller)).items
        campaign = (await campaigns.list_campaigns(session, caller, project_id=project.id, limit=1)).items[0]
        video = (await videos.list_videos(session, caller, project_id=project.id, limit=1)).items[0]
        accrual = (await accrual_records.list_accruals(session, caller, project_id=project.id, limit=1)).items[0]
    ids = {"project": str(project.id), "campaign": str(campaign.id), "video": str(video.id)}
    ids["creator"] = str(accrual.creator_id)
    return caller, ids


def _calls(ids: dict[str, str]) -> list[tuple[str, dict[str, Any], str, dict[str, Any]]]:
    """(kind, show_chart arguments, baseline tool, its arguments)."""
    project, creator = ids["project"], ids["creator"]
    return [
        (
            "views_over_time",
            {"entity_type": "project", "entity_id": project},
            "get_analytics",
            {"entity_type": "project", "entity_id": project},
        ),
        ("leaderboard", {"entity_type": "project", "entity_id": project}, "get_leaderboard", {"project_id": project}),
        (
            "campaign_progress",
            {"entity_type": "campaign", "entity_id": ids["campaign"]},
            "get_campaign_stats",
            {"campaign_id": ids["campaign"]},
        ),
        (
            "payout_ledger",
            {"entity_type": "creator", "entity_id": creator},
            "list_payout_accruals",
            {"creator_id": creator, "limit": 100},
        ),
        (
            "program_health",
            {"entity_type": "project", "entity_id": project},
            "get_program_health",
            {"project_id": project},
        ),
    ]


async def _timed(client: Client, tool: str, arguments: dict[str, Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await client.call_tool(tool, arguments)
    elapsed = time.perf_counter() - started
    if result.is_error:
        raise SystemExit(f"{tool}({arguments}) failed: {result.content}")
    return elapsed, result


async def measure(url: str, runs: int) -> None:
    db = Database.connect(url)
    try:
        caller, ids = await _subjects(db)
        server = build_server(
            Settings(database_url=url, toolsets=frozenset(ALL_TOOLSETS)), db=db, clock=SystemClock(), caller=caller
        )
        async with Client(server) as client:
            calls = _calls(ids)
            first, _ = await _timed(client, "show_chart", {"kind": "program_health", **calls[-1][1]})
            print(f"first show_chart in the process (starts vl-convert's engine): {first * 1000:,.0f} ms\n")
            print(
                f"{'kind':<18} {'baseline tool':<21} {'baseline ms':>11} {'chart ms':>9} {'ratio':>6} "
                f"{'render ms':>9} {'png KB':>7} {'marks':>5}"
            )
            for kind, arguments, baseline, base_arguments in calls:
                chart_s: list[float] = []
                base_s: list[float] = []
                render_s: list[float] = []
                chart: Any = None
                for _ in range(runs):  # alternate, so drift on a shared machine hits both alike
                    elapsed, result = await _timed(client, "show_chart", {"kind": kind, **arguments})
                    chart_s.append(elapsed)
                    chart = result.structured_content
                    base_s.append((await _timed(client, baseline, base_arguments))[0])
                    started = time.perf_counter()
                    await render_png(chart["vega_lite"])
                    render_s.append(time.perf_counter() - started)
                chart_ms, base_ms = statistics.fmean(chart_s) * 1000, statistics.fmean(base_s) * 1000
                print(
                    f"{kind:<18} {baseline:<21} {base_ms:>11,.1f} {chart_ms:>9,.1f} {chart_ms / base_ms:>5.1f}x "
                    f"{statistics.fmean(render_s) * 1000:>9,.1f} {chart['image']['bytes'] / 1024:>7,.0f} "
                    f"{chart['points']:>5}"
                )
    finally:
        await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="A store built by `trackagoat-mcp demo` (default: build one).")
    parser.add_argument("--runs", type=int, default=5, help="Calls of each tool per kind (default 5).")
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        from trackagoat_mcp.demo import run_demo

        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='trackagoat-charts-')) / 'demo.db'}"
        await run_demo(url, out=lambda _line: None)
    print(f"store: {url}; {args.runs} alternating runs per kind")
    await measure(url, args.runs)


if __name__ == "__main__":
    anyio.run(main)
