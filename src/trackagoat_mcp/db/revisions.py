"""Which migration the code needs (`head_revision`), read from the packaged scripts without Alembic or SQLAlchemy.

`serve` checks the store against it before anything heavy is imported; `db.migrate` runs the migrations.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

__all__ = ["MIGRATIONS_DIR", "head_revision"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_REVISION_LINE = re.compile(r"^(down_revision|revision)\b[^=]*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)


@functools.cache
def head_revision() -> str:
    """The newest revision the code knows: the one no other migration script names as its `down_revision`.

    Read from the scripts' `revision = "…"` / `down_revision = "…"` lines rather than through Alembic, which every
    `serve` start would otherwise import (and run each script module) only to answer this; the history is linear,
    and `tests/domain/test_migrations.py` checks the answer against Alembic's own.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"The migration scripts have {len(heads)} heads ({sorted(heads)!r}); they must have one.")
    return heads.pop()
