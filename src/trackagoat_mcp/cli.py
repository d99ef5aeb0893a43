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
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio

from trackagoat_mcp import __version__
from trackagoat_mcp.clock import SystemClock
from trackagoat_mcp.config import Settings, load_settings, parse_toolsets
from trackagoat_mcp.db.models import Campaign, Creator, Project, Video
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import keys, notes, orgs, projects
from trackagoat_mcp.domain.scope import Caller, parse_id
from trackagoat_mcp.errors import NotFound, TrackagoatError

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

    scrape = sub.add_parser("scrape", help="Run one scrape cycle now against TRACKAGOAT_TIKTOK_BASE_URL.")
    scrape.add_argument("--force", action="store_true", help="Scrape every active creator, ignoring the floors.")

    db_cmd = sub.add_parser("db", help="Database maintenance.").add_subparsers(dest="action", required=True)
    db_cmd.add_parser("upgrade", help="Apply migrations up to the newest.")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {"database_url": args.database_url}
    if getattr(args, "toolsets", None):
        overrides["toolsets"] = parse_toolsets(args.toolsets)
    if getattr(args, "read_only", None):
        overrides["read_only"] = True
    return load_settings(**overrides)


async def _with_db(settings: Settings, fn: Callable[[Database], Awaitable[int]]) -> int:
    db = Database.connect(settings.database_url)
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


async def _serve(settings: Settings) -> int:
    from trackagoat_mcp.server.app import build_server, ensure_migrated
    from trackagoat_mcp.server.auth import resolve_stdio_caller

    db = Database.connect(settings.database_url)
    try:
        await ensure_migrated(db)
        caller = await resolve_stdio_caller(db, settings.api_key, now=SystemClock().now())
        server = build_server(settings, db=db, caller=caller)
        await server.run_stdio_async()
    finally:
        await db.dispose()
    return 0


_WILDCARD_HOSTS = {"0.0.0.0", "::", "127.0.0.1", "localhost", "::1"}


async def _serve_http(settings: Settings, host: str, port: int) -> int:
    import uvicorn

    from trackagoat_mcp.http import build_app
    from trackagoat_mcp.server.app import ensure_migrated

    if host not in _WILDCARD_HOSTS:
        # Clients that connect to the address we were told to bind to send it as Host: accept it.
        shown = f"[{host}]" if ":" in host else host
        settings = settings.with_overrides(allowed_hosts=(*settings.allowed_hosts, shown.lower()))
    db = Database.connect(settings.database_url)
    try:
        await ensure_migrated(db)
        app = build_app(settings, db=db)
        config = uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="on", timeout_graceful_shutdown=5)
        sys.stderr.write(f"trackagoat-mcp: serving MCP at http://{host}:{port}/mcp (SSE at /sse); Ctrl-C stops.\n")
        await uvicorn.Server(config).serve()
    finally:
        await db.dispose()
    return 0


async def _scrape(args: argparse.Namespace, settings: Settings) -> int:
    import json
    import os
    import socket

    import httpx2

    from trackagoat_mcp.jobs.scraper import ScrapeSettings, run_scrape_cycle
    from trackagoat_mcp.server.app import ensure_migrated
    from trackagoat_mcp.tiktok.client import TikTokClient

    db = Database.connect(settings.database_url)
    try:
        await ensure_migrated(db)
        async with httpx2.AsyncClient() as http:
            client = TikTokClient.from_settings(http, settings)
            report = await run_scrape_cycle(
                db,
                client,
                SystemClock(),
                ScrapeSettings(),
                worker_id=f"{socket.gethostname()}:{os.getpid()}",
                force=args.force,
            )
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
                _serve_http(settings, args.host, args.port) if args.transport == "http" else _serve(settings)
            ),
            "orgs": lambda: _orgs(args, settings),
            "keys": lambda: _keys(args, settings),
            "describe": lambda: _describe(args, settings),
            "scrape": lambda: _scrape(args, settings),
            "db": lambda: _db(args, settings),
        }
        return anyio.run(handlers[args.command])
    except TrackagoatError as exc:
        sys.stderr.write(f"trackagoat-mcp: {exc.message}\n")
        return 2
    except KeyboardInterrupt:
        return 130
