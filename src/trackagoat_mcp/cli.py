"""The `trackagoat-mcp` command: the composition root and the only `anyio.run`.

Every subcommand builds its settings, database and server here or in `commands` and nowhere else. This module
imports neither the store layer nor the domain at the top: `serve` over stdio answers `tools/list` before they are
imported (`server.app`), and the other commands (`commands.run_command`) import them when they run. In `serve`
(stdio) stdout carries only the protocol; everything human-readable goes to stderr. `serve --transport http` runs
the ASGI app of `trackagoat_mcp.http` under uvicorn, with uvicorn's logs on our stderr handler.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import anyio

from trackagoat_mcp import __version__
from trackagoat_mcp.clock import ensure_utc
from trackagoat_mcp.config import Settings, load_settings, parse_toolsets
from trackagoat_mcp.errors import TrackagoatError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trackagoat-mcp",
        description="TikTok creator-program tracker for AI agents (MCP server and admin commands).",
    )
    parser.add_argument("--version", action="version", version=f"trackagoat-mcp {__version__}")
    parser.add_argument("--database-url", help="Overrides TRACKAGOAT_DATABASE_URL.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = sub.add_parser("init", help="Create the database, a default organization and project, and print a key.")
    init.add_argument("--org-name", default="Default organization")
    init.add_argument("--timezone", default="UTC", help="IANA timezone of the organization (default UTC).")
    init.add_argument("--project-name", default="First project")

    serve = sub.add_parser("serve", help="Run the MCP server (stdio, or Streamable HTTP + SSE).")
    serve.add_argument(
        "--transport", choices=["stdio", "http"], default="stdio", help="stdio (default) or http (/mcp, /sse)."
    )
    serve.add_argument("--host", default="127.0.0.1", help="HTTP: interface to listen on (default 127.0.0.1).")
    serve.add_argument("--port", type=int, default=8000, help="HTTP: port to listen on (default 8000).")
    serve.add_argument(
        "--toolsets", help="Comma-separated toolsets, 'default' or 'all' (overrides TRACKAGOAT_TOOLSETS)."
    )
    serve.add_argument("--read-only", action="store_true", default=None, help="Hide every tool that writes.")
    serve.add_argument(
        "--no-jobs", action="store_true", help="Do not run the background jobs in this process (run a worker instead)."
    )

    orgs_cmd = sub.add_parser("orgs", help="Organizations.").add_subparsers(dest="action", required=True)
    org_create = orgs_cmd.add_parser("create", help="Create an organization.")
    org_create.add_argument("name")
    org_create.add_argument("--timezone", default="UTC")
    orgs_cmd.add_parser("list", help="List organizations.")

    keys_cmd = sub.add_parser("keys", help="API keys.").add_subparsers(dest="action", required=True)
    key_create = keys_cmd.add_parser("create", help="Create a key (printed once).")
    key_create.add_argument("--org", help="Organization id or name (default: the only one).")
    key_create.add_argument("--name", default="cli")
    key_create.add_argument("--scopes", default="read,write", help="Comma-separated: read, write, admin.")
    key_list = keys_cmd.add_parser("list", help="List keys (never their secrets).")
    key_list.add_argument("--org")
    key_revoke = keys_cmd.add_parser("revoke", help="Revoke a key by id.")
    key_revoke.add_argument("key")
    key_revoke.add_argument("--org")

    describe = sub.add_parser("describe", help="Set the human-written description (instructions for agents).")
    describe.add_argument("entity", choices=["project", "creator", "video", "campaign"])
    describe.add_argument("id")
    describe.add_argument("text", help="The description; '-' reads it from stdin; '' clears it.")

    sub.add_parser(
        "worker", help="Run the background jobs (scrape cycle, hourly accruals, daily retention) alone, without MCP."
    )
    demo = sub.add_parser("demo", help="Offline demo: a temporary store filled from a built-in simulated TikTok.")
    demo.add_argument(
        "--database-url", dest="demo_database_url", help="An empty store to fill instead of a fresh temporary one."
    )

    scrape = sub.add_parser("scrape", help="Run one scrape cycle now against TRACKAGOAT_TIKTOK_BASE_URL.")
    scrape.add_argument("--force", action="store_true", help="Scrape every active creator, ignoring the floors.")

    accrue = sub.add_parser("accrue", help="Run one accrual run now (claims the hour, back-fills missed hours).")
    accrue.add_argument(
        "--at", type=_instant, help="Evaluate what is due by this ISO 8601 time (not in the future; default now)."
    )

    db_cmd = sub.add_parser("db", help="Database maintenance.").add_subparsers(dest="action", required=True)
    db_cmd.add_parser("upgrade", help="Apply migrations up to the newest.")
    db_backup = db_cmd.add_parser("backup", help="Copy the store into a file (consistent while servers run).")
    db_backup.add_argument("path", help="The backup file to write.")
    db_backup.add_argument("--force", action="store_true", help="Replace the file if it exists.")
    db_restore = db_cmd.add_parser("restore", help="Restore the store from a backup file (stop servers first).")
    db_restore.add_argument("path", help="A file written by `db backup`.")
    db_restore.add_argument("--force", action="store_true", help="Overwrite a store that already holds tables.")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {"database_url": args.database_url}
    if getattr(args, "toolsets", None):
        overrides["toolsets"] = parse_toolsets(args.toolsets)
    if getattr(args, "read_only", None):
        overrides["read_only"] = True
    return load_settings(**overrides)


async def _serve(settings: Settings, jobs: bool) -> int:
    """MCP over stdio. The caller is looked up before the protocol starts, so a wrong key or an uninitialised store
    is a sentence on stderr: by a quick look at the store (`quick_stdio_caller`), else the full way."""
    from trackagoat_mcp.server.app import build_server
    from trackagoat_mcp.server.auth import quick_stdio_caller

    caller = await quick_stdio_caller(settings)
    if caller is None:
        from trackagoat_mcp.db.migrate import ensure_migrated
        from trackagoat_mcp.db.session import Database
        from trackagoat_mcp.server.assembly import resolve_stdio_caller

        db = Database.for_settings(settings)
        try:
            await ensure_migrated(db)
            caller = await resolve_stdio_caller(db, settings.api_key)  # the assembly marks the key used
        finally:
            await db.dispose()
    await build_server(settings, caller=caller, jobs=jobs).run_stdio_async()
    return 0


def _instant(text: str) -> datetime:
    """An ISO 8601 time for `--at`; without an offset it is taken as UTC."""
    try:
        return ensure_utc(datetime.fromisoformat(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time such as 2026-03-10T12:15:00Z") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = _settings(args)
        if args.command == "serve" and args.transport == "stdio":
            return anyio.run(_serve, settings, not args.no_jobs)
        from trackagoat_mcp.commands import run_command

        return anyio.run(run_command, args, settings)
    except TrackagoatError as exc:
        sys.stderr.write(f"trackagoat-mcp: {exc.message}\n")
        return 2
    except KeyboardInterrupt:
        return 130
