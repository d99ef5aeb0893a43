"""The `trackagoat-mcp` command: the composition root and the only `anyio.run`.

Every subcommand builds its settings, database and server here and nowhere else. The MCP SDK and
Alembic are imported inside the commands that use them: they are most of the start-up time, and
`keys list` or `--version` should not pay for them. In `serve` (stdio)
stdout carries only the protocol; everything human-readable goes to stderr. `serve --transport http`
runs the ASGI app of `trackagoat_mcp.http` under uvicorn, with uvicorn's logs on our stderr handler.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio

from trackagoat_mcp import __version__
from trackagoat_mcp.clock import SystemClock, ensure_utc
from trackagoat_mcp.config import Settings, load_settings, parse_toolsets
from trackagoat_mcp.db.engine import missing_sqlite_file
from trackagoat_mcp.db.models import Campaign, Creator, Project, Video
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import keys, notes, orgs, projects
from trackagoat_mcp.domain.scope import Caller, parse_id
from trackagoat_mcp.errors import ConfigError, NotFound, TrackagoatError

if TYPE_CHECKING:
    from trackagoat_mcp.jobs.scheduler import Scheduler
    from trackagoat_mcp.jobs.tiktok_access import TikTokAccess

__all__ = ["main"]

logger = logging.getLogger("trackagoat_mcp")


def _out(text: str) -> None:
    print(text)


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


async def _with_db(settings: Settings, fn: Callable[[Database], Awaitable[int]]) -> int:
    missing = missing_sqlite_file(settings.database_url)
    if missing is not None:  # opening it would create an empty file, then fail on the missing tables
        raise ConfigError(f"There is no store at {str(missing)!r} yet; run `trackagoat-mcp init` first.")
    db = Database.for_settings(settings)
    try:
        return await fn(db)
    finally:
        await db.dispose()


async def _org_for(db: Database, ref: str | None) -> Any:
    async with db.read() as session:
        return await (orgs.find_org(session, ref) if ref else orgs.only_org(session))


async def _init(args: argparse.Namespace, settings: Settings) -> int:
    from trackagoat_mcp.db.migrate import upgrade

    await upgrade(settings.database_url)
    now = SystemClock().now()

    async def run(db: Database) -> int:
        async with db.write() as session:
            existing = await orgs.list_orgs(session)
            if existing:
                _out(f"Already initialised ({len(existing)} organization(s)). Database: {settings.database_url}")
                _out("Create more keys with `trackagoat-mcp keys create`.")
                return 0
            org = await orgs.create_org(session, name=args.org_name, timezone=args.timezone, now=now)
            caller = Caller(org_id=org.id, scopes=frozenset({"admin"}))
            project = await projects.create_project(session, caller, name=args.project_name, now=now)
            _row, key = await keys.create_key(session, org_id=org.id, name="init", now=now)
        _out(f"Database ready: {settings.database_url}")
        _out(f"Organization {org.name!r} ({org.id}), project {project.name!r} ({project.id}).")
        _out(f"API key (read,write), shown once:\n{key}")
        return 0

    return await _with_db(settings, run)


@asynccontextmanager
async def _background_jobs(
    settings: Settings, db: Database, *, enabled: bool
) -> AsyncIterator[tuple[TikTokAccess, Scheduler | None]]:
    """The process's TikTok client source and, when `enabled`, its scheduler running in the background.

    Yields `(tiktok, scheduler or None)`; leaving the block stops the jobs (claims are handed back) and closes
    the HTTP client.
    """
    from trackagoat_mcp.jobs.runs import process_name
    from trackagoat_mcp.jobs.scheduler import Scheduler, default_jobs
    from trackagoat_mcp.jobs.tiktok_access import TikTokAccess

    clock = SystemClock()
    tiktok = TikTokAccess(settings)
    scheduler = Scheduler(default_jobs(db, settings, clock, process_name(), tiktok=tiktok), clock) if enabled else None
    try:
        async with anyio.create_task_group() as group:
            if scheduler is not None:
                await group.start(scheduler.run)
            yield tiktok, scheduler
            group.cancel_scope.cancel()
    finally:
        await tiktok.aclose()


async def _serve(settings: Settings, jobs: bool) -> int:
    from trackagoat_mcp.server.app import build_server, ensure_migrated
    from trackagoat_mcp.server.auth import resolve_stdio_caller

    db = Database.for_settings(settings)
    try:
        await ensure_migrated(db)
        caller = await resolve_stdio_caller(db, settings.api_key, now=SystemClock().now())
        async with _background_jobs(settings, db, enabled=jobs) as (tiktok, scheduler):
            server = build_server(settings, db=db, caller=caller, tiktok=tiktok, scheduler=scheduler)
            await server.run_stdio_async()
    finally:
        await db.dispose()
    return 0


_WILDCARD_HOSTS = {"0.0.0.0", "::", "127.0.0.1", "localhost", "::1"}


async def _serve_http(settings: Settings, host: str, port: int, jobs: bool) -> int:
    import uvicorn

    from trackagoat_mcp.http import build_app
    from trackagoat_mcp.http.deadlines import header_deadline_protocol
    from trackagoat_mcp.server.app import ensure_migrated

    if host not in _WILDCARD_HOSTS:
        # Clients that connect to the address we were told to bind to send it as Host: accept it.
        shown = f"[{host}]" if ":" in host else host
        settings = settings.with_overrides(allowed_hosts=(*settings.allowed_hosts, shown.lower()))
    db = Database.for_settings(settings)
    try:
        await ensure_migrated(db)
        async with _background_jobs(settings, db, enabled=jobs) as (tiktok, scheduler):
            app = build_app(settings, db=db, tiktok=tiktok, scheduler=scheduler)
            config = uvicorn.Config(
                app,
                host=host,
                port=port,
                log_config=None,
                lifespan="on",
                timeout_graceful_shutdown=5,
                http=header_deadline_protocol(settings.header_timeout_seconds),
            )
            sys.stderr.write(f"trackagoat-mcp: serving MCP at http://{host}:{port}/mcp (SSE at /sse); Ctrl-C stops.\n")
            await uvicorn.Server(config).serve()
    finally:
        await db.dispose()
    return 0


async def _worker(settings: Settings) -> int:
    import signal

    from trackagoat_mcp.server.app import ensure_migrated

    db = Database.for_settings(settings)
    try:
        await ensure_migrated(db)
        logging.getLogger("trackagoat_mcp.jobs").setLevel(logging.INFO)
        async with _background_jobs(settings, db, enabled=True):
            sys.stderr.write(
                f"trackagoat-mcp worker: scraping {settings.tiktok_base_url} every "
                f"{settings.scrape_interval_minutes:g} minutes (the floors decide what is due); Ctrl-C stops.\n"
            )
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _signal in signals:
                    break
    finally:
        await db.dispose()
    sys.stderr.write("trackagoat-mcp worker: stopped.\n")
    return 0


async def _demo(args: argparse.Namespace) -> int:
    from trackagoat_mcp.demo import run_demo

    return await run_demo(args.demo_database_url or args.database_url, out=_out)


async def _scrape(args: argparse.Namespace, settings: Settings) -> int:
    import json

    import httpx2

    from trackagoat_mcp.jobs.runs import process_name
    from trackagoat_mcp.jobs.scraper import ScrapeSettings, run_scrape_cycle
    from trackagoat_mcp.server.app import ensure_migrated
    from trackagoat_mcp.tiktok.client import TikTokClient

    db = Database.for_settings(settings)
    try:
        await ensure_migrated(db)
        async with httpx2.AsyncClient() as http:
            client = TikTokClient.from_settings(http, settings)
            report = await run_scrape_cycle(
                db,
                client,
                SystemClock(),
                ScrapeSettings.from_settings(settings),
                worker_id=process_name(),
                force=args.force,
            )
    finally:
        await db.dispose()
    _out(json.dumps(report.as_json(), indent=2, default=str))
    return 0


def _instant(text: str) -> datetime:
    """An ISO 8601 time for `--at`; without an offset it is taken as UTC."""
    try:
        return ensure_utc(datetime.fromisoformat(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time such as 2026-03-10T12:15:00Z") from None


async def _accrue(args: argparse.Namespace, settings: Settings) -> int:
    import json
    import os
    import socket

    from trackagoat_mcp.jobs.accruals import run_accruals
    from trackagoat_mcp.server.app import ensure_migrated

    db = Database.for_settings(settings)
    try:
        await ensure_migrated(db)
        report = await run_accruals(db, SystemClock(), worker_id=f"{socket.gethostname()}:{os.getpid()}", at=args.at)
    finally:
        await db.dispose()
    _out(json.dumps(report.as_json(), indent=2, default=str))
    return 0


async def _orgs(args: argparse.Namespace, settings: Settings) -> int:
    async def run(db: Database) -> int:
        if args.action == "create":
            async with db.write() as session:
                org = await orgs.create_org(session, name=args.name, timezone=args.timezone, now=SystemClock().now())
            _out(f"{org.id}\t{org.name}\t{org.timezone}")
            return 0
        async with db.read() as session:
            for org in await orgs.list_orgs(session):
                _out(f"{org.id}\t{org.name}\t{org.timezone}")
        return 0

    return await _with_db(settings, run)


async def _keys(args: argparse.Namespace, settings: Settings) -> int:
    async def run(db: Database) -> int:
        now = SystemClock().now()
        if args.action == "create":
            org = await _org_for(db, args.org)
            async with db.write() as session:
                row, key = await keys.create_key(
                    session, org_id=org.id, name=args.name, scopes=keys.parse_scopes(args.scopes), now=now
                )
            sys.stderr.write(f"Key {row.id} for {org.name!r} with scopes {row.scopes}; it is shown once:\n")
            _out(key)
            return 0
        org_id = (await _org_for(db, args.org)).id if args.org else None
        if args.action == "revoke":
            async with db.write() as session:
                row = await keys.revoke_key(session, ref=args.key, now=now, org_id=org_id)
            _out(f"Revoked {row.id} ({row.prefix}…) at {row.revoked_at}")
            return 0
        async with db.read() as session:
            for row in await keys.list_keys(session, org_id=org_id):
                state = f"revoked {row.revoked_at.isoformat()}" if row.revoked_at else "active"
                used = row.last_used_at.isoformat() if row.last_used_at else "never used"
                _out(f"{row.id}\t{row.prefix}…\t{row.name}\t{row.scopes}\t{state}\t{used}\torg={row.org_id}")
        return 0

    return await _with_db(settings, run)


async def _describe(args: argparse.Namespace, settings: Settings) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    model: Any = {"project": Project, "creator": Creator, "video": Video, "campaign": Campaign}[args.entity]

    async def run(db: Database) -> int:
        async with db.write() as session:
            row = await session.get(model, parse_id(args.id, args.entity))
            if row is None:
                raise NotFound(f"No {args.entity} with id {args.id!r} exists in this store.")
            caller = Caller(org_id=row.org_id, scopes=frozenset({"admin"}))
            entity = await notes.set_description(
                session, caller, args.entity, row.id, text or None, now=SystemClock().now()
            )
        _out(f"Description of {args.entity} {entity.id} {'set' if entity.description else 'cleared'}.")
        return 0

    return await _with_db(settings, run)


async def _db(args: argparse.Namespace, settings: Settings) -> int:
    if args.action in {"backup", "restore"}:
        from pathlib import Path

        from sqlalchemy.engine import make_url

        from trackagoat_mcp.db import backup

        shown = make_url(settings.database_url).render_as_string(hide_password=True)
        if args.action == "backup":
            done = await backup.backup(settings.database_url, Path(args.path), force=args.force)
            _out(f"Backed up {shown} to {done.path} ({done.bytes:,} bytes, {done.method}).")
        else:
            done = await backup.restore(settings.database_url, Path(args.path), force=args.force)
            _out(f"Restored {shown} from {args.path} ({done.method}).")
        return 0

    from trackagoat_mcp.db.migrate import upgrade

    await upgrade(settings.database_url)
    _out(f"Database at the newest migration: {settings.database_url}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = _settings(args)
        handlers: dict[str, Callable[[], Awaitable[int]]] = {
            "init": lambda: _init(args, settings),
            "serve": lambda: (
                _serve_http(settings, args.host, args.port, not args.no_jobs)
                if args.transport == "http"
                else _serve(settings, not args.no_jobs)
            ),
            "worker": lambda: _worker(settings),
            "demo": lambda: _demo(args),
            "orgs": lambda: _orgs(args, settings),
            "keys": lambda: _keys(args, settings),
            "describe": lambda: _describe(args, settings),
            "scrape": lambda: _scrape(args, settings),
            "accrue": lambda: _accrue(args, settings),
            "db": lambda: _db(args, settings),
        }
        return anyio.run(handlers[args.command])
    except TrackagoatError as exc:
        sys.stderr.write(f"trackagoat-mcp: {exc.message}\n")
        return 2
    except KeyboardInterrupt:
        return 130
