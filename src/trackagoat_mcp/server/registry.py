"""Declaring tools once (`ToolGroup`) and registering the selected ones on a server.

Each toolset module builds a `ToolGroup` and decorates its adapters with `@group.tool(...)`, stating
the scope it needs and its behaviour hints. `register_tools` then adds the tools of the enabled
toolsets (minus writes under `--read-only`) with all four annotations, and wraps each so that domain
errors become tool errors a model can read: "[code] sentence".
"""

from __future__ import annotations

import functools
import keyword
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from sqlalchemy.exc import IntegrityError

from trackagoat_mcp.errors import TrackagoatError

__all__ = ["ToolGroup", "ToolSpec", "register_tools"]

logger = logging.getLogger(__name__)
Scope = Literal["read", "write", "admin"]
RACE_ATTEMPTS = 3


@dataclass(frozen=True)
class ToolSpec:
    """A tool adapter and everything needed to register it."""

    fn: Callable[..., Awaitable[Any]]
    name: str
    title: str
    toolset: str
    scope: Scope
    destructive: bool
    idempotent: bool
    open_world: bool

    @property
    def read_only(self) -> bool:
        return self.scope == "read"

    @property
    def annotations(self) -> ToolAnnotations:
        return ToolAnnotations(
            title=self.title,
            read_only_hint=self.read_only,
            destructive_hint=self.destructive,
            idempotent_hint=self.idempotent,
            open_world_hint=self.open_world,
        )


@dataclass
class ToolGroup:
    """The tools of one toolset."""

    toolset: str
    specs: list[ToolSpec] = field(default_factory=list)

    def tool(
        self,
        *,
        title: str,
        scope: Scope = "read",
        destructive: bool = False,
        idempotent: bool | None = None,
        open_world: bool = False,
    ) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        """Declare a tool; reads are idempotent by default, writes must say so."""

        def decorator(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            self.specs.append(
                ToolSpec(
                    fn=_translate_errors(fn),
                    name=fn.__name__,
                    title=title,
                    toolset=self.toolset,
                    scope=scope,
                    destructive=destructive,
                    idempotent=(scope == "read") if idempotent is None else idempotent,
                    open_world=open_world,
                )
            )
            return fn

        return decorator


def _translate_errors(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        # Arguments named after Python keywords (`from`) are declared as `from_` with an alias; the SDK passes
        # them by alias, so give them back their Python names.
        kwargs = {(f"{k}_" if keyword.iskeyword(k) else k): v for k, v in kwargs.items()}
        for attempt in range(1, RACE_ATTEMPTS + 1):
            try:
                return await fn(*args, **kwargs)
            except TrackagoatError as exc:
                raise ToolError(f"[{exc.code}] {exc.message}") from exc
            except IntegrityError as exc:
                # Two requests inserted the same unique key at once; ours rolled back whole. Running it again
                # sees the winner's row (e.g. "already_tracked"), which is what the caller would get a moment later.
                logger.info("Tool %s lost a race on a unique key (attempt %d): %s", fn.__name__, attempt, exc.orig)
                if attempt == RACE_ATTEMPTS:
                    raise ToolError(
                        "[conflict] Other requests kept changing the same records at the same moment, so this call "
                        "changed nothing. Retry it."
                    ) from exc
        raise AssertionError("unreachable")

    return wrapper


def register_tools(
    server: MCPServer[Any], groups: Iterable[ToolGroup], *, toolsets: frozenset[str], read_only: bool
) -> list[ToolSpec]:
    """Add the tools of the enabled toolsets to `server`; returns what was registered."""
    registered = []
    for group in groups:
        if group.toolset not in toolsets:
            continue
        for spec in group.specs:
            if read_only and not spec.read_only:
                continue
            server.add_tool(spec.fn, name=spec.name, title=spec.title, annotations=spec.annotations)
            registered.append(spec)
    return registered
