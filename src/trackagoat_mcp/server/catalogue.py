"""The published tool catalogue: every tool's `tools/list` entry, with its toolset and scope, in one packaged file.

A server answers `tools/list` from `catalogue.json` rather than from the tools themselves, so `serve` can answer it
before the tool modules, the store layer and their pydantic models are imported (they are most of a start's
time; see `server.app`). The file is generated from the tool declarations (`server.toolsets`) by
`python scripts/catalogue.py`; `tests/server/test_catalogue.py` fails while the two disagree, so what a client
lists is always what the tools are.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from mcp.types import Tool

__all__ = ["CATALOGUE_FILE", "Entry", "entries", "published"]

CATALOGUE_FILE = "catalogue.json"


@dataclass(frozen=True)
class Entry:
    """One tool as listed, with what decides who sees it."""

    toolset: str
    scope: str
    tool: Tool

    @property
    def writes(self) -> bool:
        return self.scope != "read"


@functools.cache
def entries() -> tuple[Entry, ...]:
    """Every tool of every toolset, in declaration order."""
    document: list[dict[str, Any]] = json.loads(
        resources.files(__package__).joinpath(CATALOGUE_FILE).read_text(encoding="utf-8")
    )
    return tuple(Entry(item["toolset"], item["scope"], Tool.model_validate(item["tool"])) for item in document)


def published(toolsets: frozenset[str], *, read_only: bool) -> list[Tool]:
    """The `tools/list` of a server with `toolsets` enabled (and no tool that writes when `read_only`)."""
    return [e.tool for e in entries() if e.toolset in toolsets and not (read_only and e.writes)]
