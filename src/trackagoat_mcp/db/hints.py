"""Query-planner hints that SQLAlchemy has no construct for."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["NotIndexed"]


class NotIndexed(FunctionElement[Any]):
    """The column itself; on SQLite written `+column`, which keeps the query planner from using an index for it.

    Without ANALYZE statistics SQLite takes `project_id = ?` for a selective index lookup and then visits every
    video of the project through it, instead of going through the creator's (or the tree's) own videos. Use it
    on a filter that only re-checks what a more selective condition already implies.
    """

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(NotIndexed)
def _not_indexed_default(element: NotIndexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(NotIndexed, "sqlite")
def _not_indexed_sqlite(element: NotIndexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"
