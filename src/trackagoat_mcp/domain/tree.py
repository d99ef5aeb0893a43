"""SQL building blocks for campaign trees: which campaigns, creators and videos a campaign reaches.

Everything is expressed as recursive CTEs so the database does the walking in one round trip. The
recursive part uses UNION (not UNION ALL), so even a cycle that slipped into the data terminates.
A creator item stands for all of that creator's videos (present and future); a video item for that
video; a campaign item for its whole tree. Callers add the "counted" filter themselves.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import CTE, ColumnElement, Select, Uuid, literal, select, union, union_all

from trackagoat_mcp.db.models import CampaignItem, Video, table_of

__all__ = [
    "COUNTED_STATUSES",
    "campaign_tree",
    "child_leaf_items",
    "is_counted",
    "tree_creator_ids",
    "tree_video_ids",
]

COUNTED_STATUSES = ("auto_tracked", "included", "direct_add")


def is_counted(video: Any = Video) -> Any:
    """The SQL condition of a video that counts in statistics, goals and payouts."""
    return video.tracking_status.in_(COUNTED_STATUSES) & video.tracking_disabled_at.is_(None)


def campaign_tree(root_id: uuid.UUID | ColumnElement[Any], name: str = "tree") -> CTE:
    """A CTE with one column `campaign_id`: the root (an id, or an expression such as a bind parameter) and every
    campaign below it."""
    items = table_of(CampaignItem).c
    root = root_id if isinstance(root_id, ColumnElement) else literal(root_id, Uuid)
    base = select(root.label("campaign_id"))
    cte = base.cte(name, recursive=True)
    step = select(items.item_id).join(cte, items.campaign_id == cte.c.campaign_id).where(items.item_type == "campaign")
    return cte.union(step)


def _leaf_items(tree: CTE) -> Select[Any]:
    items = table_of(CampaignItem).c
    return (
        select(items.item_type, items.item_id)
        .join(tree, items.campaign_id == tree.c.campaign_id)
        .where(items.item_type.in_(("creator", "video")))
    )


def tree_video_ids(root_id: uuid.UUID | ColumnElement[Any]) -> Select[Any]:
    """SELECT of the distinct ids of videos the campaign tree reaches (counted or not)."""
    videos = table_of(Video).c
    leaves = _leaf_items(campaign_tree(root_id)).cte("leaves")
    by_creator = select(videos.id.label("video_id")).join(
        leaves, (leaves.c.item_type == "creator") & (videos.creator_id == leaves.c.item_id)
    )
    by_video = select(leaves.c.item_id.label("video_id")).where(leaves.c.item_type == "video")
    return union(by_creator, by_video)  # type: ignore[return-value]


def tree_creator_ids(root_id: uuid.UUID | ColumnElement[Any]) -> Select[Any]:
    """SELECT of the distinct creator ids the campaign tree contains as creator items."""
    leaves = _leaf_items(campaign_tree(root_id)).cte("leaves")
    return select(leaves.c.item_id.label("creator_id")).where(leaves.c.item_type == "creator").distinct()


def child_leaf_items(root_id: uuid.UUID | ColumnElement[Any]) -> CTE:
    """A CTE (child_id, item_type, item_id): every creator and video item of the tree, tagged with the root's direct
    item it hangs under (a direct creator or video item is its own child; the items of a direct campaign's whole
    tree carry that campaign's id). An item under several children appears once per child (or more: not distinct).
    """
    items = table_of(CampaignItem).c
    # Tagged tree: every campaign below a direct campaign child, labelled with that child.
    base = select(items.item_id.label("child_id"), items.item_id.label("campaign_id")).where(
        items.campaign_id == root_id, items.item_type == "campaign"
    )
    tagged = base.cte("tagged", recursive=True)
    tagged = tagged.union(
        select(tagged.c.child_id, items.item_id)
        .join(tagged, items.campaign_id == tagged.c.campaign_id)
        .where(items.item_type == "campaign")
    )
    direct = select(items.item_id.label("child_id"), items.item_type, items.item_id).where(
        items.campaign_id == root_id, items.item_type.in_(("creator", "video"))
    )
    nested = (
        select(tagged.c.child_id, items.item_type, items.item_id)
        .join(tagged, items.campaign_id == tagged.c.campaign_id)
        .where(items.item_type.in_(("creator", "video")))
    )
    return union_all(direct, nested).cte("child_leaves")
