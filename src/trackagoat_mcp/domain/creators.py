"""Creators: add (bulk, all-or-nothing), list, get, update (rename, tracking), remove (soft) and reactivate."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.clock import local_today
from trackagoat_mcp.db.models import Creator, Video
from trackagoat_mcp.db.races import retries_lost_races
from trackagoat_mcp.domain.handles import is_short_link, normalize_handle
from trackagoat_mcp.domain.pagination import (
    Page,
    check_limit,
    cursor_text,
    cursor_uuid,
    fetch_page,
)
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.schemas import AddCreatorResult, AddCreatorsResult, CreatorOut, CreatorSummary
from trackagoat_mcp.domain.scope import Caller, get_in_org, get_org, read_in_org
from trackagoat_mcp.errors import Conflict, InvalidInput

__all__ = [
    "MAX_BULK",
    "add_creators",
    "check_add_creators",
    "creator_record",
    "get_creator",
    "list_creators",
    "remove_creator",
    "update_creator",
]

MAX_BULK = 50
REMOVED_REASON = "removed from the project"
TrackingMode = Literal["auto", "selective"]
CreatorStatus = Literal["active", "inactive", "all"]


def _check_mode(mode: str) -> str:
    if mode not in ("auto", "selective"):
        raise InvalidInput(f"tracking_mode {mode!r} is not 'auto' or 'selective'.")
    return mode


async def check_add_creators(session: AsyncSession, caller: Caller, *, project_id: Any, handles: list[str]) -> None:
    """Everything `add_creators` would refuse that needs no short link opened: scope, project, other entries.

    `add_creators` opens the short links in `handles` on TikTok first (outside any transaction); this runs before
    that, so a caller without the `write` scope, a project of another organization or a malformed entry is
    refused without a single request leaving the server. Short links themselves are left for the opening.
    """
    caller.require("write")
    await get_project(session, caller, project_id)
    _normalize_all(handles, skip=is_short_link)


def _normalize_all(handles: list[str], *, skip: Callable[[str], bool] | None = None) -> dict[str, str]:
    """Each handle of `handles` (but those `skip` says to leave alone) mapped to the first entry naming it.

    Raises:
        InvalidInput: no entries, too many, or any entry is invalid (one sentence naming every bad one).
    """
    if not handles:
        raise InvalidInput("handles is empty; pass between 1 and 50 handles or profile URLs.")
    if len(handles) > MAX_BULK:
        raise InvalidInput(f"{len(handles)} handles were given; add at most {MAX_BULK} per call.")
    normalized: dict[str, str] = {}
    errors: list[str] = []
    for raw in handles:
        if skip is not None and skip(raw):
            continue
        try:
            normalized.setdefault(normalize_handle(raw), raw)
        except InvalidInput as exc:
            errors.append(str(exc))
    if errors:
        raise InvalidInput(
            f"{len(errors)} of {len(handles)} entries are invalid and nothing was added: " + " ".join(errors),
            code="invalid_handle",
        )
    return normalized


@retries_lost_races
async def add_creators(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: Any,
    handles: list[str],
    now: datetime,
    tracking_mode: str | None = None,
    tracking_start_date: date | None = None,
) -> AddCreatorsResult:
    """Add up to 50 TikTok accounts to a project in one transaction.

    Each entry may be `@name`, `name` or a profile URL. If any entry is invalid nothing is written
    and the error lists every bad entry. A handle already active in the project is reported as
    `already_tracked`; a previously removed one is reactivated with its history (its tracking mode and
    start date change only when given). New creators start with `tracking_mode` (default `auto`) and
    `tracking_start_date` (default: today in the organization's timezone).
    """
    caller.require("write")
    project = await get_project(session, caller, project_id)
    mode = _check_mode(tracking_mode) if tracking_mode is not None else None
    normalized = _normalize_all(handles)
    start = tracking_start_date or local_today(now, (await get_org(session, caller)).timezone)
    existing = {
        c.tiktok_handle: c
        for c in (
            await session.scalars(
                select(Creator).where(
                    col(Creator.project_id) == project.id, col(Creator.tiktok_handle).in_(list(normalized))
                )
            )
        ).all()
    }
    results: list[AddCreatorResult] = []
    for handle, raw in normalized.items():
        creator = existing.get(handle)
        if creator is None:
            creator = Creator(
                org_id=caller.org_id,
                project_id=project.id,
                tiktok_handle=handle,
                tracking_mode=mode or "auto",
                tracking_start_date=start,
                created_at=now,
                updated_at=now,
            )
            outcome: Literal["created", "reactivated", "already_tracked"] = "created"
        elif creator.is_active:
            outcome = "already_tracked"
        else:
            creator.is_active = True
            creator.disabled_reason = None
            creator.scrape_state = "stale"
            if mode is not None:
                creator.tracking_mode = mode
            if tracking_start_date is not None:
                creator.tracking_start_date = tracking_start_date
            creator.updated_at = now
            outcome = "reactivated"
        if outcome != "already_tracked":
            session.add(creator)
        results.append(AddCreatorResult(input=raw, tiktok_handle=handle, creator_id=creator.id, outcome=outcome))
    await session.flush()
    return AddCreatorsResult(
        project_id=project.id,
        results=results,
        created=sum(r.outcome == "created" for r in results),
        reactivated=sum(r.outcome == "reactivated" for r in results),
        already_tracked=sum(r.outcome == "already_tracked" for r in results),
    )


async def get_creator(session: AsyncSession, caller: Caller, creator_id: Any) -> Creator:
    """A creator of the caller's organization (active or not)."""
    return await get_in_org(session, caller, Creator, creator_id, "creator")


async def creator_record(session: AsyncSession, caller: Caller, creator_id: Any) -> Any:
    """`get_creator` for showing it: the row's columns by name (`scope.read_in_org`)."""
    return await read_in_org(session, caller, Creator, creator_id, "creator")


async def list_creators(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: Any | None = None,
    search: str | None = None,
    status: CreatorStatus = "active",
    limit: int = 50,
    cursor: str | None = None,
) -> Page[CreatorSummary]:
    """Creators in handle order, optionally of one project, matching `search` (part of the handle)."""
    check_limit(limit)
    query = select(Creator).where(col(Creator.org_id) == caller.org_id)
    if project_id is not None:
        query = query.where(col(Creator.project_id) == (await get_project(session, caller, project_id)).id)
    if status == "active":
        query = query.where(col(Creator.is_active) == True)  # noqa: E712
    elif status == "inactive":
        query = query.where(col(Creator.is_active) == False)  # noqa: E712
    elif status != "all":
        raise InvalidInput(f"status {status!r} is not 'active', 'inactive' or 'all'.")
    if search:
        needle = search.strip().lstrip("@").lower()
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(col(Creator.tiktok_handle).like(f"%{escaped}%", escape="\\"))
    page, next_cursor = await fetch_page(
        session,
        query,
        kind="creators",
        order="handle",
        columns=[col(Creator.tiktok_handle), col(Creator.id)],
        parsers=[cursor_text, cursor_uuid],
        key=lambda c: [c.tiktok_handle, c.id],
        cursor=cursor,
        limit=limit,
    )
    return Page[CreatorSummary](items=[CreatorSummary.of(c) for c in page], next_cursor=next_cursor)


@retries_lost_races
async def update_creator(
    session: AsyncSession,
    caller: Caller,
    creator_id: Any,
    *,
    now: datetime,
    tiktok_handle: str | None = None,
    tracking_mode: str | None = None,
    tracking_start_date: date | None = None,
    is_active: bool | None = None,
) -> CreatorOut:
    """Rename, change tracking, or re-enable/deactivate a creator.

    Rename errors: `invalid_handle` (format), `no_change` (same handle), `handle_taken` (another
    creator of the project, active or removed, already has it). A rename marks the creator stale so
    the next scrape refreshes its profile.
    """
    caller.require("write")
    creator = await get_creator(session, caller, creator_id)
    if tiktok_handle is not None:
        handle = normalize_handle(tiktok_handle)
        if handle == creator.tiktok_handle:
            raise Conflict(
                f"Creator {str(creator.id)!r} already has the handle {handle!r}; nothing to change.", code="no_change"
            )
        clash = (
            await session.scalars(
                select(Creator).where(
                    col(Creator.project_id) == creator.project_id, col(Creator.tiktok_handle) == handle
                )
            )
        ).first()
        if clash is not None:
            state = "an active" if clash.is_active else "a removed"
            raise Conflict(
                f"Handle {handle!r} belongs to {state} creator ({str(clash.id)!r}) of this project; pick another "
                "handle, or re-add that creator instead.",
                code="handle_taken",
            )
        creator.tiktok_handle = handle
        creator.scrape_state = "stale"
    if tracking_mode is not None:
        creator.tracking_mode = _check_mode(tracking_mode)
    if tracking_start_date is not None:
        creator.tracking_start_date = tracking_start_date
    if is_active is not None and is_active != creator.is_active:
        creator.is_active = is_active
        creator.disabled_reason = None if is_active else REMOVED_REASON
    creator.updated_at = now
    session.add(creator)
    await session.flush()
    return CreatorOut.of(creator)


async def remove_creator(session: AsyncSession, caller: Caller, creator_id: Any, *, now: datetime) -> CreatorOut:
    """Deactivate a creator: scraping stops, history and videos stay. Adding the handle again reactivates it."""
    caller.require("write")
    creator = await get_creator(session, caller, creator_id)
    if creator.is_active:
        creator.is_active = False
        creator.disabled_reason = REMOVED_REASON
        creator.updated_at = now
        session.add(creator)
        await session.flush()
    return CreatorOut.of(creator)


async def pending_review_count(session: AsyncSession, creator_ids: list[uuid.UUID]) -> int:
    """Videos of these creators waiting in the tracking inbox."""
    if not creator_ids:
        return 0
    query = (
        select(func.count())
        .select_from(Video)
        .where(
            col(Video.creator_id).in_(creator_ids),
            col(Video.tracking_status) == "pending_review",
        )
    )
    return int((await session.scalars(query)).one())
