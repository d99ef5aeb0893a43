"""Tool adapters, one module per toolset, plus the argument types they share."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

__all__ = ["CampaignId", "CreatorId", "Cursor", "Limit", "ProjectId", "VideoId", "id_arg"]


def id_arg(what: str) -> object:
    """Field metadata for an id argument (the argument's name says whose id it is; the tool descriptions and the
    guide say ids come from the list and get tools, so no per-argument sentence repeats it)."""
    del what
    return Field(min_length=1, max_length=64)


ProjectId = Annotated[str, id_arg("project")]
CreatorId = Annotated[str, id_arg("creator")]
VideoId = Annotated[str, id_arg("video")]
CampaignId = Annotated[str, id_arg("campaign")]
Limit = Annotated[int, Field(ge=1, le=100)]
Cursor = Annotated[str | None, Field(max_length=2000)]
"""A list's `cursor`: the server instructions say once that it takes the previous page's next_cursor."""
