"""The `trackagoat-mcp` commands other than `serve` over stdio, run by `cli.main`.

They live apart from `cli` because they import the store layer and the domain at the top, and `serve` over stdio
must not: it answers `tools/list` before those are imported (`server.app`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from trackagoat_mcp.clock import SystemClock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.engine import missing_sqlite_file
from trackagoat_mcp.db.migrate import ensure_migrated, upgrade
from trackagoat_mcp.db.models import Campaign, Creator, Project, Video
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import keys, notes, orgs, projects
from trackagoat_mcp.domain.scope import Caller, parse_id
from trackagoat_mcp.errors import ConfigError, NotFound
from trackagoat_mcp.jobs.background import background_jobs

__all__ = ["run_command"]


def _out(text: str) -> None:
    print(text)


async def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the command `args` names (any but `serve` over stdio); returns the process exit code."""
    handlers: dict[str, Callable[[], Awaitable[int]]] = {
        "init": lambda: _init(args, settings),
        "serve": lambda: _serve_http(settings, args.host, args.port, not args.no_jobs),
        "worker": lambda: _worker(settings),
        "demo": lambda: _demo(args),
        "orgs": lambda: _orgs(args, settings),
        "keys": lambda: _keys(args, settings),
        "describe": lambda: _describe(args, settings),
        "scrape": lambda: _scrape(args, settings),
        "accrue": lambda: _accrue(args, settings),
        "db": lambda: _db(args, settings),
    }
    return await handlers[args.command]()


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


_WILDCARD_HOSTS = {"0.0.0.0", "::", "127.0.0.1", "localhost", "::1"}


async def _serve_http(settings: Settings, host: str, port: int, jobs: bool) -> int:
    import uvicorn

    from trackagoat_mcp.http import build_app
    from trackagoat_mcp.http.deadlines import header_deadline_protocol

    if host not in _WILDCARD_HOSTS:
        # Clients that connect to the address we were told to bind to send it as Host: accept it.
        shown = f"[{host}]" if ":" in host else host
        settings = settings.with_overrides(allowed_hosts=(*settings.allowed_hosts, shown.lower()))
    db = Database.for_settings(settings)
    try:
        await ensure_migrated(db)
        async with background_jobs(settings, db, enabled=jobs) as (tiktok, scheduler):
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

    db = Database.for_settings(settings)
    try:
        await ensure_migrated(db)
        logging.getLogger("trackagoat_mcp.jobs").setLevel(logging.INFO)
        async with background_jobs(settings, db, enabled=True):
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


async def _accrue(args: argparse.Namespace, settings: Settings) -> int:
    import json
    import os
    import socket

    from trackagoat_mcp.jobs.accruals import run_accruals

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

    await upgrade(settings.database_url)
    _out(f"Database at the newest migration: {settings.database_url}")
    return 0
