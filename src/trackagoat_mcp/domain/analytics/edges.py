"""One SQL statement per series: what an entity's videos (or creators) added up to at every bucket edge.

A bucket's figures are read at its end (an instant, the local midnight that starts the next bucket): for
each subject (a video or a creator) the latest snapshot taken *before* that instant, so every snapshot
belongs to exactly one bucket. The statement returns one row per bucket with sums over all subjects, so
a series costs one round trip however many buckets and videos it covers:

* `cum_<col>`: the sum of the latest values before the end (subjects with no snapshot yet add nothing);
* `after_<col>`: the first snapshot's values of subjects whose first snapshot comes at or after the end.
  `cum + after` is the *baseline-filled* value: before its first snapshot a subject is taken to stand at
  its first value, so the first snapshot is a baseline that adds nothing to the growth of any bucket;
* `base_n`, `base_<col>`: subjects whose first snapshot falls inside the bucket, and those first values;
* `n_data`: subjects with a snapshot before the end; `subjects`, `disabled`: how many were looked at;
* `missing`: subjects that existed before the end (posted, or added for creators) but have no snapshot
  before it, so their value at the end is unknown;
* `not_scraped`: subjects with snapshots before the bucket and after it but none inside it, so their
  growth during the bucket shows up in a later one;
* `posts`: subjects born before the end (videos: posted), for the post counts.

Videos whose tracking was disabled at T count up to T: snapshots taken from T on are ignored, so they
hold their last value before T. Each subject's first and last snapshot are looked up once; the latest
snapshot before an edge is looked up only for edges between those two, where the value can differ from
both (the look-ups run on the `(subject, captured_at)` indexes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, and_, case, func, literal, null, or_, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.db.dialect import supports_lateral
from trackagoat_mcp.db.models import CreatorSnapshot, VideoSnapshot, table_of
from trackagoat_mcp.db.types import UTCDateTime
from trackagoat_mcp.domain.periods import Period

__all__ = ["EdgeFigures", "Subjects", "edge_figures"]


@dataclass(frozen=True)
class Subjects:
    """The rows a series sums over: a SELECT of `id`, `born_at` and `cutoff`, and where their snapshots are.

    `born_at` is when the subject started to exist (a video's post time, a creator's addition); `cutoff` is when
    it stopped counting (a video's `tracking_disabled_at`), or NULL.
    """

    select: Any
    snapshots: Any
    """`VideoSnapshot` or `CreatorSnapshot`."""
    columns: tuple[str, ...]
    """Snapshot column names to sum (e.g. `view_count`, `follower_count`)."""


@dataclass(frozen=True)
class EdgeFigures:
    """The sums at the end of one bucket (see the module docstring)."""

    subjects: int = 0
    disabled: int = 0
    n_data: int = 0
    missing: int = 0
    not_scraped: int = 0
    posts: int = 0
    base_n: int = 0
    cum: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    base: dict[str, int] = field(default_factory=dict)

    def filled(self, column_name: str) -> int:
        """The baseline-filled sum of `column_name` at this edge (what differences of `new` are taken from)."""
        return self.cum.get(column_name, 0) + self.after.get(column_name, 0)


_KEYS = {VideoSnapshot: "video_id", CreatorSnapshot: "creator_id"}


def _buckets(periods: Sequence[Period]) -> Any:
    """The buckets as a UNION ALL of one-row SELECTs of bound parameters.

    Unlike a `VALUES` list, this keeps the statement cacheable (its shape depends only on the number of buckets),
    so a series of a single video does not pay for compiling the statement on every call.
    """
    rows = [
        select(
            literal(index, Integer).label("idx"),
            literal(period.start_at, UTCDateTime()).label("start_at"),
            literal(period.end_at, UTCDateTime()).label("end_at"),
        )
        for index, period in enumerate(periods)
    ]
    return rows[0] if len(rows) == 1 else union_all(*rows)


def _query(subjects: Subjects, periods: Sequence[Period], *, lateral_buckets: bool) -> Any:
    """The statement (see the module docstring).

    Look-ups are made subject by subject: each subject's rows for all buckets are computed together, so
    consecutive index look-ups stay in one subject's part of the snapshot index (bucket by bucket, each would
    land elsewhere in an index of millions of entries, about five times slower). The per-(subject, bucket)
    values are a subquery fenced with OFFSET 0 so neither planner folds them into the GROUP BY; on PostgreSQL
    the buckets are joined LATERAL to make the subject the outer loop (SQLite already chooses that order).
    """
    snaps = table_of(subjects.snapshots).c
    key = snaps[_KEYS[subjects.snapshots]]
    s = subjects.select.subquery("subjects").c

    def counts(subject: Any) -> Any:
        return or_(subject.cutoff.is_(None), snaps.captured_at < subject.cutoff)

    def first_or_last(name: str, subject: Any, *, last: bool) -> Any:
        order = snaps.captured_at.desc() if last else snaps.captured_at.asc()
        return select(snaps[name]).where(key == subject.id, counts(subject)).order_by(order).limit(1).scalar_subquery()

    ends = [
        first_or_last("captured_at", s, last=False).label("first_at"),
        first_or_last("captured_at", s, last=True).label("last_at"),
    ]
    for name in subjects.columns:
        ends.append(first_or_last(name, s, last=False).label(f"first_{name}"))
        ends.append(first_or_last(name, s, last=True).label(f"last_{name}"))
    # OFFSET 0 keeps both planners from inlining the subquery, which would repeat these look-ups per bucket.
    per_subject = select(s.id, s.born_at, s.cutoff, *ends).offset(0).subquery("per_subject")
    per = per_subject.c
    if lateral_buckets:
        all_buckets = _buckets(periods).subquery("all_b").c
        buckets = (
            select(all_buckets.idx, all_buckets.start_at, all_buckets.end_at)
            .where(per.id.is_not(None))
            .offset(0)
            .lateral("b")
        )
    else:
        buckets = _buckets(periods).subquery("b")
    b = buckets.c

    def latest_before_end(name: str) -> Any:
        return (
            select(snaps[name])
            .where(key == per.id, snaps.captured_at < b.end_at, counts(per))
            .order_by(snaps.captured_at.desc())
            .limit(1)
            .scalar_subquery()
        )

    has_data = per.first_at < b.end_at
    first_after = per.first_at >= b.end_at
    first_inside = and_(per.first_at >= b.start_at, per.first_at < b.end_at)

    def at_end(name: str) -> Any:
        return case(
            (or_(per.first_at.is_(None), first_after), null()),
            (per.last_at < b.end_at, per[f"last_{name}"]),
            else_=latest_before_end(name),
        )

    def flag(condition: Any) -> Any:
        return case((condition, 1), else_=0)

    unknown_at_end = or_(
        and_(per.first_at.is_(None), or_(per.cutoff.is_(None), per.cutoff > b.end_at)),
        first_after,
    )
    # Nested CASE, not AND: the look-up runs only for subjects scraped both before and after the bucket.
    gap = case(
        (
            and_(per.first_at < b.start_at, per.last_at >= b.end_at),
            case((latest_before_end("captured_at") < b.start_at, 1), else_=0),
        ),
        else_=0,
    )
    posted = and_(per.born_at < b.end_at, or_(per.cutoff.is_(None), per.born_at < per.cutoff))
    pair_columns = [
        b.idx.label("idx"),
        flag(per.cutoff.is_not(None)).label("disabled"),
        flag(has_data).label("n_data"),
        flag(and_(per.born_at < b.end_at, unknown_at_end)).label("missing"),
        gap.label("not_scraped"),
        flag(posted).label("posts"),
        flag(first_inside).label("base_n"),
    ]
    for name in subjects.columns:
        pair_columns.append(at_end(name).label(f"cum_{name}"))
        pair_columns.append(case((first_after, per[f"first_{name}"]), else_=null()).label(f"after_{name}"))
        pair_columns.append(case((first_inside, per[f"first_{name}"]), else_=null()).label(f"base_{name}"))
    pairs = select(*pair_columns).select_from(per_subject).join(buckets, true()).offset(0).subquery("pairs").c
    sums = [func.sum(pairs[c.name]).label(c.name) for c in pair_columns[1:]]
    return select(pairs.idx, func.count().label("subjects"), *sums).group_by(pairs.idx).order_by(pairs.idx)


async def edge_figures(session: AsyncSession, subjects: Subjects, periods: Sequence[Period]) -> list[EdgeFigures]:
    """The figures at the end of each of `periods` (oldest first), in one statement."""
    statement = _query(subjects, periods, lateral_buckets=supports_lateral(session))
    rows = {row.idx: row for row in (await session.execute(statement)).all()}
    out: list[EdgeFigures] = []
    for index in range(len(periods)):
        row = rows.get(index)
        if row is None:  # no subjects at all: the join produced no rows
            out.append(EdgeFigures())
            continue
        data = row._mapping

        def ints(prefix: str, mapping: Any = data) -> dict[str, int]:
            return {name: int(mapping[f"{prefix}_{name}"] or 0) for name in subjects.columns}

        out.append(
            EdgeFigures(
                subjects=int(data["subjects"]),
                disabled=int(data["disabled"] or 0),
                n_data=int(data["n_data"] or 0),
                missing=int(data["missing"] or 0),
                not_scraped=int(data["not_scraped"] or 0),
                posts=int(data["posts"] or 0),
                base_n=int(data["base_n"] or 0),
                cum=ints("cum"),
                after=ints("after"),
                base=ints("base"),
            )
        )
    return out
