"""`get_content_calendar`: per creator and local day, what was posted against the cadence their goals imply.

**Scope.** One creator, a whole project, or a campaign tree. A campaign's calendar covers the creators of its tree
(creator items, and the creators of its video items) with all of their posts: cadence is a creator's, set by
per-creator goals (reference §5), not a campaign's. Active creators only; handle order, paged (`limit` creators).

**Days.** Local calendar days of the organization's timezone, `from`..`to` inclusive (default: the current calendar
month, so the days still to come show what is due; at most 92 days). Each day counts the creator's posts by
state: `counted` (`auto_tracked`, `included`, `direct_add`, tracking not disabled: the posts that count for goals,
`domain/tree.is_counted`), `pending` (`pending_review`, waiting in the inbox) and `excluded`. Tracking-stopped
posts are in none of the three.

**Cadence.** Each active `posts` goal of the creator whose dates overlap the range is a cadence: `target` posts per
`period` (`daily`, `weekly` from Monday, `monthly`, as `domain/periods.py` cuts them). A creator without a posts goal
may still have a cadence written by people: the first phrase like "3 posts per week" (`N posts|videos|tiktoks
per|a|each|every|/ day|week|month`) in the creator's description, else the project's, with `source` description.
For every period of a cadence that overlaps the range: the counted posts of the whole period, `still_due` = target −
counted (never below 0) and a status from `compliance.judge` (the goal-compliance rule: `completed`/`missed` once
the period has ended, else `on_track`/`behind_pace`/`at_risk` by pace), or `upcoming` for a period not begun.

**Gaps and streaks** (days up to today only; not before the creator's tracking start). A gap is a run of at least
`ceil(period days ÷ target)` consecutive days without a counted post, for the tightest cadence (a week counts 7
days, a month 30): with 3 posts a week, 3 empty days in a row; with 1 a day, any empty day. No cadence, no gaps.
A streak is a run of days with at least one counted post; the current one ends today (or yesterday, today not
being over).

**Over-posting** days are the creator's over-posting incidents (`domain/overposting.py`, reference §7) in the range.

**Size.** A single creator's calendar lists every day (as columns) and every period. A project or campaign page
lists one compact row per creator (cadence with the current period's tally, totals, gaps, streaks) and the days of
the whole tree summed; ask for a creator to see its days, or pass `day_columns` (the calendar chart does) for the day
columns of every creator on the page, read from the posts already loaded.
"""

from __future__ import annotations

import math
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import case
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, or_, select

from trackagoat_mcp.clock import day_range_utc, local_today, parse_timezone
from trackagoat_mcp.db.models import CampaignItem, Creator, Goal, Project, Video
from trackagoat_mcp.domain.campaigns import get_campaign_row
from trackagoat_mcp.domain.compliance import ComplianceStatus, judge
from trackagoat_mcp.domain.overposting import MAX_LOOKBACK_DAYS, find_incidents
from trackagoat_mcp.domain.pagination import cursor_int, decode_cursor, encode_cursor
from trackagoat_mcp.domain.periods import Period, PeriodKind, parse_period_kind, period_containing, periods_between
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller, get_in_org, get_org
from trackagoat_mcp.domain.tree import campaign_tree, is_counted
from trackagoat_mcp.errors import InvalidInput

__all__ = ["MAX_DAYS", "ContentCalendar", "CreatorCalendar", "cadence_from_text", "content_calendar"]

MAX_DAYS = 92
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
GAPS_SHOWN = 10
NOMINAL_DAYS: dict[str, int] = {"daily": 1, "weekly": 7, "monthly": 30}
_CADENCE = re.compile(
    r"\b(\d{1,4})\s*(?:posts?|videos?|tiktoks?)\s*(?:per|a|an|each|every|/)\s*(day|week|month)\b", re.IGNORECASE
)
_KIND_OF_WORD: dict[str, PeriodKind] = {"day": "daily", "week": "weekly", "month": "monthly"}
PeriodStatus = ComplianceStatus | Literal["upcoming"]


class PeriodTally(BaseModel):
    """One period of a cadence: counted posts against the target."""

    start: date
    end: date = Field(description="Last local day, inclusive.")
    target: int
    counted: int
    still_due: int = Field(description="target − counted, at least 0.")
    status: PeriodStatus = Field(description="As get_goal_compliance; upcoming = not begun.")


class Cadence(BaseModel):
    """Posts per period a creator is expected to make."""

    source: Literal["goal", "description"]
    goal_id: uuid.UUID | None
    period: PeriodKind
    target: int
    current: PeriodTally | None = Field(description="The period containing today (null: outside the goal's dates).")


class Gap(BaseModel):
    """Consecutive local days without a counted post, longer than the cadence allows."""

    start: date
    end: date
    days: int


class DayColumns(BaseModel):
    """Per local day from `first_day`: entry i is day first_day + i."""

    first_day: date
    counted: list[int]
    pending: list[int]
    excluded: list[int]


class CreatorCalendar(BaseModel):
    """A creator's posting over the range, against its cadence."""

    creator_id: uuid.UUID
    tiktok_handle: str
    cadence: list[Cadence] = Field(description="Empty: no posts goal and no cadence in a description.")
    counted: int
    pending: int
    excluded: int
    days_posted: int = Field(description="Days with at least one counted post.")
    longest_streak: int
    current_streak: int
    gaps: list[Gap] = Field(description="Longest first, at most 10.")
    gap_count: int
    over_posting_days: list[date]
    still_due: int | None = Field(description="Posts still due in the current period of the tightest cadence.")
    missed_periods: int = Field(description="Ended periods of any cadence below target.")
    days: DayColumns | None = Field(description="One creator only (or every creator: show_chart).")
    periods: list[PeriodTally] | None = Field(description="One creator only: every period of its first cadence.")


class ContentCalendar(BaseModel):
    """Posting calendar of a creator, project or campaign tree over local days."""

    scope: Literal["creator", "project", "campaign"]
    scope_id: uuid.UUID
    timezone: str
    range_from: date
    range_to: date
    today: date
    creator_count: int = Field(description="Creators in scope (all pages).")
    totals: DayColumns = Field(description="Every creator in scope, summed per day.")
    creators_posted: list[int] = Field(description="Per day: creators in scope with a counted post.")
    items: list[CreatorCalendar]
    next_cursor: str | None


@dataclass(frozen=True)
class _Cadence:
    source: Literal["goal", "description"]
    goal_id: uuid.UUID | None
    period: PeriodKind
    target: int
    first: date | None = None
    last: date | None = None
    """The goal's dates: periods wholly outside them are not judged."""


@dataclass(frozen=True)
class _Post:
    creator_id: uuid.UUID
    day: date
    state: Literal["counted", "pending", "excluded"]


def cadence_from_text(text: str | None) -> tuple[PeriodKind, int] | None:
    """The first "N posts per week"-like phrase of a human description as (period, target), if any."""
    match = _CADENCE.search(text or "")
    if match is None or int(match.group(1)) == 0:
        return None
    return _KIND_OF_WORD[match.group(2).lower()], int(match.group(1))


def _resolve_days(now: datetime, tz: str, range_from: date | None, range_to: date | None) -> tuple[date, date]:
    """Default: the calendar month of `to`, of `from`, or of today, whichever is given first."""
    anchor = range_to or range_from or local_today(now, tz)
    first = range_from or period_containing("monthly", anchor, tz).start_date
    last = range_to or period_containing("monthly", first, tz).last_date
    if first > last:
        raise InvalidInput(f"from {first.isoformat()!r} is after to {last.isoformat()!r}; swap them.")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(
            f"The range {first.isoformat()}..{last.isoformat()} is longer than {MAX_DAYS} days; ask for a shorter one."
        )
    return first, last


async def _scope_creators(
    session: AsyncSession, caller: Caller, project_id: Any, campaign_id: Any, creator_id: Any
) -> tuple[str, uuid.UUID, Project, list[Creator]]:
    named = (("project_id", project_id), ("campaign_id", campaign_id), ("creator_id", creator_id))
    given = [name for name, value in named if value]
    if len(given) != 1:
        raise InvalidInput(
            f"Give exactly one of project_id, campaign_id or creator_id (got {given or 'none'}); the calendar covers "
            "one creator, a project or a campaign tree."
        )
    if creator_id:
        creator = await get_in_org(session, caller, Creator, creator_id, "creator")
        project = await get_project(session, caller, creator.project_id)
        return "creator", creator.id, project, [creator]
    active = col(Creator.is_active).is_(True)
    order = (col(Creator.tiktok_handle), col(Creator.id))
    if campaign_id:
        campaign = await get_campaign_row(session, caller, campaign_id)
        project = await get_project(session, caller, campaign.project_id)
        tree = campaign_tree(campaign.id)
        items = select(col(CampaignItem.item_type), col(CampaignItem.item_id)).where(
            col(CampaignItem.campaign_id).in_(select(tree.c.campaign_id))
        )
        rows = (await session.execute(items)).all()
        creator_ids = {row.item_id for row in rows if row.item_type == "creator"}
        video_ids = [row.item_id for row in rows if row.item_type == "video"]
        if video_ids:
            owners = await session.scalars(
                select(col(Video.creator_id)).where(col(Video.id).in_(video_ids), col(Video.creator_id).is_not(None))
            )
            creator_ids |= {owner for owner in owners if owner is not None}
        in_tree = (col(Creator.id).in_(creator_ids), active, col(Creator.project_id) == project.id)
        creators = list(await session.scalars(select(Creator).where(*in_tree).order_by(*order))) if creator_ids else []
        return "campaign", campaign.id, project, creators
    project = await get_project(session, caller, project_id)
    creators = list(
        await session.scalars(select(Creator).where(col(Creator.project_id) == project.id, active).order_by(*order))
    )
    return "project", project.id, project, creators


async def _posts(
    session: AsyncSession, creator_ids: list[uuid.UUID], start: datetime, end: datetime, tz: str
) -> list[_Post]:
    zone = parse_timezone(tz)
    state = case(
        (is_counted(Video), "counted"),
        (col(Video.tracking_status) == "pending_review", "pending"),
        (col(Video.tracking_status) == "excluded", "excluded"),
        else_=None,
    ).label("state")
    posts: list[_Post] = []
    for first in range(0, len(creator_ids), 1000):
        rows = await session.execute(
            select(col(Video.creator_id), col(Video.posted_at), state).where(
                col(Video.creator_id).in_(creator_ids[first : first + 1000]),
                col(Video.posted_at) >= start,
                col(Video.posted_at) < end,
            )
        )
        posts += [
            _Post(row.creator_id, row.posted_at.astimezone(zone).date(), row.state)
            for row in rows.all()
            if row.state is not None and row.posted_at is not None and row.creator_id is not None
        ]
    return posts


async def _cadences(
    session: AsyncSession, project: Project, creators: list[Creator], first: date, last: date
) -> dict[uuid.UUID, list[_Cadence]]:
    goals = await session.scalars(
        select(Goal)
        .where(
            col(Goal.creator_id).in_([c.id for c in creators]),
            col(Goal.metric) == "posts",
            col(Goal.is_active).is_(True),
            col(Goal.start_date) <= last,
            or_(col(Goal.end_date).is_(None), col(Goal.end_date) >= first),
        )
        .order_by(col(Goal.created_at), col(Goal.id))
    )
    found: dict[uuid.UUID, list[_Cadence]] = defaultdict(list)
    for goal in goals:
        kind, target = parse_period_kind(goal.period), int(goal.target_value)
        found[goal.creator_id].append(_Cadence("goal", goal.id, kind, target, goal.start_date, goal.end_date))
    for creator in creators:
        if creator.id not in found:
            written = cadence_from_text(creator.description) or cadence_from_text(project.description)
            if written is not None:
                found[creator.id].append(_Cadence("description", None, written[0], written[1]))
    return found


def _elapsed(period: Period, now: datetime) -> Decimal:
    whole = (period.end_at - period.start_at).total_seconds()
    return min(Decimal(1), max(Decimal(0), Decimal((now - period.start_at).total_seconds()) / Decimal(whole)))


def _tally(period: Period, target: int, counted: int, now: datetime) -> PeriodTally:
    if now < period.start_at:
        status: PeriodStatus = "upcoming"
    else:
        status = judge("posts", Decimal(target), Decimal(counted), elapsed=_elapsed(period, now))[0]
    return PeriodTally(
        start=period.start_date,
        end=period.last_date,
        target=target,
        counted=counted,
        still_due=max(0, target - counted),
        status=status,
    )


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """(start index, length) of every run of True in `flags`."""
    runs, start = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i - start))
            start = None
    return runs


async def content_calendar(
    session: AsyncSession,
    caller: Caller,
    *,
    now: datetime,
    project_id: Any = None,
    campaign_id: Any = None,
    creator_id: Any = None,
    range_from: date | None = None,
    range_to: date | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    day_columns: bool = False,
) -> ContentCalendar:
    """The content calendar of one creator, a project or a campaign tree (see the module docstring)."""
    caller.require("read")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit {limit!r} is out of range; use 1 to {MAX_LIMIT}.")
    tz = (await get_org(session, caller)).timezone
    first, last = _resolve_days(now, tz, range_from, range_to)
    today = local_today(now, tz)
    scope, scope_id, project, creators = await _scope_creators(session, caller, project_id, campaign_id, creator_id)
    order = f"{scope}.{scope_id}.{first}.{last}"
    (offset,) = decode_cursor("calendar", order, cursor, cursor_int) if cursor else (0,)
    if offset < 0:
        raise InvalidInput(f"cursor {cursor!r} is damaged; pass next_cursor from the previous page unchanged.")
    page = creators[offset : offset + limit]
    cadences = await _cadences(session, project, page, first, last) if page else {}
    # Posts are read over the range widened to whole periods of every cadence, so each period's tally is whole.
    span_first, span_last = first, last
    for found in cadences.values():
        for cadence in found:
            span_first = min(span_first, period_containing(cadence.period, first, tz).start_date)
            span_last = max(span_last, period_containing(cadence.period, last, tz).last_date)
    start, end = day_range_utc(span_first, span_last, tz)
    paged_ids = {c.id for c in page}
    everyone = [c.id for c in creators]
    posts = await _posts(session, everyone, *day_range_utc(first, last, tz), tz) if everyone else []
    if (span_first, span_last) != (first, last) and paged_ids:
        wide = await _posts(session, list(paged_ids), start, end, tz)
    else:
        wide = [p for p in posts if p.creator_id in paged_ids]
    width = (last - first).days + 1
    totals = DayColumns(first_day=first, counted=[0] * width, pending=[0] * width, excluded=[0] * width)
    posted: list[set[uuid.UUID]] = [set() for _ in range(width)]
    for post in posts:
        i = (post.day - first).days
        getattr(totals, post.state)[i] += 1
        if post.state == "counted":
            posted[i].add(post.creator_id)
    incidents = await _over_posting(session, project.id, tz, now, first, last, today) if page else []
    items = [
        _creator_calendar(
            creator, [p for p in wide if p.creator_id == creator.id], cadences.get(creator.id, []),
            [i.day for i in incidents if i.creator_id == creator.id], first, last, today, tz, now,
            detail=scope == "creator", columns=day_columns,
        )
        for creator in page
    ]  # fmt: skip
    reached = offset + len(page)
    return ContentCalendar(
        scope=scope,
        scope_id=scope_id,
        timezone=tz,
        range_from=first,
        range_to=last,
        today=today,
        creator_count=len(creators),
        totals=totals,
        creators_posted=[len(day) for day in posted],
        items=items,
        next_cursor=encode_cursor("calendar", order, [reached]) if reached < len(creators) else None,
    )


async def _over_posting(
    session: AsyncSession, project_id: uuid.UUID, tz: str, now: datetime, first: date, last: date, today: date
) -> list[Any]:
    if first > today:
        return []
    lookback = min(MAX_LOOKBACK_DAYS, (today - first).days + 1)
    incidents = await find_incidents(session, project_id, tz=tz, now=now, lookback_days=lookback)
    return [i for i in incidents if first <= i.day <= last]


def _creator_calendar(
    creator: Creator,
    posts: list[_Post],
    cadences: list[_Cadence],
    over_posting: list[date],
    first: date,
    last: date,
    today: date,
    tz: str,
    now: datetime,
    *,
    detail: bool,
    columns: bool = False,
) -> CreatorCalendar:
    width = (last - first).days + 1
    days = DayColumns(first_day=first, counted=[0] * width, pending=[0] * width, excluded=[0] * width)
    counted_days: dict[date, int] = defaultdict(int)
    for post in posts:
        if post.state == "counted":
            counted_days[post.day] += 1
        if first <= post.day <= last:
            getattr(days, post.state)[(post.day - first).days] += 1
    # Gaps and streaks: days already lived, from the creator's tracking start.
    lived_first = max(first, creator.tracking_start_date)
    lived = [lived_first + timedelta(days=i) for i in range(max(0, (min(last, today) - lived_first).days + 1))]
    flags = [counted_days.get(day, 0) > 0 for day in lived]
    streaks = _runs(flags)
    current = 0
    if flags:
        end_index = len(flags) - 1 if flags[-1] or lived[-1] != today else len(flags) - 2
        while end_index >= 0 and flags[end_index]:
            current += 1
            end_index -= 1
    out: list[Cadence] = []
    missed = 0
    all_periods: list[PeriodTally] = []
    for number, cadence in enumerate(cadences):
        kind, target = cadence.period, cadence.target
        tallies = []
        for period in periods_between(kind, first, last, tz):
            if (cadence.first and period.last_date < cadence.first) or (
                cadence.last and period.start_date > cadence.last
            ):
                continue
            count = sum(n for day, n in counted_days.items() if period.start_date <= day < period.end_date)
            tallies.append(_tally(period, target, count, now))
        missed += sum(t.status == "missed" for t in tallies)
        if number == 0:
            all_periods = tallies
        this = period_containing(kind, today, tz)
        current_tally = next((t for t in tallies if t.start == this.start_date), None)
        out.append(
            Cadence(source=cadence.source, goal_id=cadence.goal_id, period=kind, target=target, current=current_tally)
        )
    tightest = min(out, key=lambda c: NOMINAL_DAYS[c.period] / c.target, default=None)
    gaps: list[Gap] = []
    if tightest is not None:
        allowed = math.ceil(NOMINAL_DAYS[tightest.period] / tightest.target)
        gaps = [
            Gap(start=lived[i], end=lived[i + n - 1], days=n)
            for i, n in _runs([not flag for flag in flags])
            if n >= allowed
        ]
        gaps.sort(key=lambda g: (-g.days, g.start))
    return CreatorCalendar(
        creator_id=creator.id,
        tiktok_handle=creator.tiktok_handle,
        cadence=out,
        counted=sum(days.counted),
        pending=sum(days.pending),
        excluded=sum(days.excluded),
        days_posted=sum(1 for n in days.counted if n),
        longest_streak=max((n for _, n in streaks), default=0),
        current_streak=current,
        gaps=gaps[:GAPS_SHOWN],
        gap_count=len(gaps),
        over_posting_days=sorted(over_posting),
        still_due=None if tightest is None or tightest.current is None else tightest.current.still_due,
        missed_periods=missed,
        days=days if detail or columns else None,
        periods=all_periods if detail else None,
    )
