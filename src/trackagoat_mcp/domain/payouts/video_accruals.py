"""Which `earned` accruals counted a video: what a person re-checks after that video stops counting.

Excluding a video or stopping its tracking changes every figure read afterwards, including accruals evaluated
later, but an accrual already evaluated is never rewritten: money recorded as owed stays owed until a person
rejects it (`update_payout_accrual`). What "counted the video" means depends on the criteria type, read from
the accrual's `inputs_snapshot`:

* `cpm`: the video is listed in `videos` with `counted_views` above zero (its views added to the amount).
* `view_threshold`: its id is in `qualifying_video_ids` (it reached the threshold; with `max_videos` it may be
  one of the qualifying videos beyond the cap, which added nothing).
* `goals`: the snapshot keeps the period's figures, not the videos behind them, so an accrual is named when the
  video is its creator's, was posted within the accrual's period, and a judged goal is video-based (`posts`,
  `views`, `engagement`); `followers` goals never count videos. Such an accrual possibly counted the video.
* `recurring`: never counts videos, never named.

Only `earned` accruals are named: `paid` ones are settled (void the payment first to revisit them), and
`rejected`/`voided` ones no longer count.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.db.models import PayoutAccrual, Video

__all__ = ["AccrualToReview", "accruals_counting"]

Basis = Literal["cpm_views", "threshold_reached", "goal_figures"]
VIDEO_GOAL_METRICS = ("posts", "views", "engagement")


class AccrualToReview(BaseModel):
    """An `earned` accrual evaluated while a video counted, and which of the given videos it counted."""

    model_config = ConfigDict(frozen=True)

    accrual_id: uuid.UUID
    creator_id: uuid.UUID
    structure_id: uuid.UUID
    period_start_at: datetime
    amount_cents: int
    outstanding_cents: int
    criteria_type: str
    basis: Basis = Field(
        description="cpm_views: the video's views were paid; threshold_reached: it reached the threshold; "
        "goal_figures: it was posted in the period of a met posts/views/engagement goal (possibly counted)."
    )
    video_ids: list[uuid.UUID]


def _counted(inputs: dict[str, Any], video: Video) -> Basis | None:
    """How the accrual whose inputs these are counted `video`, or None."""
    criteria = inputs.get("criteria_type")
    vid = str(video.id)
    if criteria == "cpm":
        rows = inputs.get("videos") or []
        hit = any(isinstance(r, dict) and r.get("video_id") == vid and (r.get("counted_views") or 0) > 0 for r in rows)
        return "cpm_views" if hit else None
    if criteria == "view_threshold":
        return "threshold_reached" if vid in (inputs.get("qualifying_video_ids") or []) else None
    if criteria == "goals":
        goals = inputs.get("goals") or []
        video_based = any(isinstance(g, dict) and g.get("metric") in VIDEO_GOAL_METRICS for g in goals)
        return "goal_figures" if video_based else None
    return None


async def accruals_counting(session: AsyncSession, videos: Sequence[Video]) -> list[AccrualToReview]:
    """The `earned` accruals that counted any of `videos` (see the module docstring), oldest period first."""
    by_creator: dict[uuid.UUID, list[Video]] = {}
    for video in videos:
        if video.creator_id is not None:  # direct adds have no creator, so no accrual ever counted them
            by_creator.setdefault(video.creator_id, []).append(video)
    if not by_creator:
        return []
    accruals = (
        await session.scalars(
            select(PayoutAccrual)
            .where(col(PayoutAccrual.creator_id).in_(list(by_creator)), col(PayoutAccrual.status) == "earned")
            .order_by(col(PayoutAccrual.period_start_at), col(PayoutAccrual.id))
        )
    ).all()
    named: list[AccrualToReview] = []
    for accrual in accruals:
        hits: list[uuid.UUID] = []
        basis: Basis | None = None
        for video in by_creator[accrual.creator_id]:
            if video.project_id != accrual.project_id:
                continue
            how = _counted(accrual.inputs_snapshot, video)
            in_period = (
                video.posted_at is not None and accrual.period_start_at <= video.posted_at < accrual.period_end_at
            )
            if how is not None and (how != "goal_figures" or in_period):
                hits.append(video.id)
                basis = how
        if basis is not None:
            named.append(
                AccrualToReview(
                    accrual_id=accrual.id,
                    creator_id=accrual.creator_id,
                    structure_id=accrual.structure_id,
                    period_start_at=accrual.period_start_at,
                    amount_cents=accrual.amount_cents,
                    outstanding_cents=accrual.outstanding_cents,
                    criteria_type=str(accrual.inputs_snapshot.get("criteria_type")),
                    basis=basis,
                    video_ids=hits,
                )
            )
    return named
