"""Declaring tools once (`ToolGroup`) and building the selected ones for a server.

Each toolset module builds a `ToolGroup` and decorates its adapters with `@group.tool(...)`, stating
the scope it needs and its behaviour hints. `build_tools` then makes the SDK tools of the enabled
toolsets (minus writes under `--read-only`) with all four annotations, each wrapped so that domain
errors become tool errors a model can read: "[code] sentence".

The tool boundary is strict and total, so no input reaches a tool body it was not written for:

* an argument name the tool does not declare is refused (`[invalid_input]`, naming each one and the nearest
  declared name) instead of being ignored, which would quietly change the answer;
* a value that fails validation is refused with a sentence per argument, not pydantic's report;
* every date and time lies in the supported calendar (`clock.EARLIEST_DAY`..`clock.LATEST_DAY`), and a time
  written without an offset is read in the organization's timezone, like every day and period boundary;
* text no store can hold (NUL, lone surrogates) is refused.

Input schemas are published in the form every client family reads (`tool_schemas.portable_input_schema`): no list
as `type` and no `null` inside `enum` (converters to Gemini's one-type dialect raise on the one and read the other as
a string); an optional argument whose default is null is its plain type, outside `required` (the server still takes
an explicit null); the null branch stays, as `anyOf`, only where null means something omission does not; `$ref`s are
inlined; every argument declares a type. Output schemas keep nullable fields as type lists (see `tool_schemas`).
"""

from __future__ import annotations

import difflib
import functools
import inspect
import keyword
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

from trackagoat_mcp.clock import check_day, check_instant
from trackagoat_mcp.db.races import UNHANDLED_CONFLICT
from trackagoat_mcp.errors import TrackagoatError
from trackagoat_mcp.server.context import org_timezone
from trackagoat_mcp.server.tool_schemas import nullable_as_type_list, portable_input_schema

__all__ = ["StrictTool", "ToolGroup", "ToolSpec", "build_tools", "on_the_calendar", "ui_meta", "unstorable_text"]

logger = logging.getLogger(__name__)
Scope = Literal["read", "write", "admin"]


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
    ui_resource: str | None = None
    """The `ui://` App resource that shows this tool's results (MCP Apps `_meta.ui.resourceUri`), if any."""

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
        ui_resource: str | None = None,
    ) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        """Declare a tool; reads are idempotent by default, writes must say so. `ui_resource` links an MCP App."""

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
                    ui_resource=ui_resource,
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
        if (bad := unstorable_text(kwargs)) is not None:
            raise ToolError(
                f"[invalid_input] Argument {bad[0]!r} contains {bad[1]}, which cannot be stored; remove it and retry."
            )
        try:
            kwargs = await on_the_calendar(kwargs)
        except TrackagoatError as exc:
            raise ToolError(f"[{exc.code}] {exc.message}") from exc
        try:
            return await fn(*args, **kwargs)
        except TrackagoatError as exc:
            raise ToolError(f"[{exc.code}] {exc.message}") from exc
        except IntegrityError as exc:
            # A constraint failed that the domain does not retry (writes that may lose a unique-key race retry
            # themselves, inside the store, via `db.races`): never run the tool again, which would repeat its
            # network calls and progress messages. The transaction rolled back whole.
            logger.warning("Tool %s hit a constraint it does not handle: %s", fn.__name__, exc.orig)
            raise ToolError(f"[conflict] {UNHANDLED_CONFLICT}") from exc

    return wrapper


async def on_the_calendar(kwargs: dict[str, Any]) -> dict[str, Any]:
    """`kwargs` with every date checked against the supported calendar and every time made an aware UTC instant,
    a time without an offset read in the organization's timezone (looked up only when one is given)."""
    timezone: str | None = None

    async def fix(value: Any, name: str) -> Any:
        nonlocal timezone
        if isinstance(value, datetime):
            if value.tzinfo is None and timezone is None:
                timezone = await org_timezone(kwargs["ctx"])
            return check_instant(name, value, timezone or "UTC")
        if isinstance(value, date):
            return check_day(name, value)
        if isinstance(value, list):
            return [await fix(item, name) for item in value]
        if isinstance(value, BaseModel) and not isinstance(value, Context):
            fixed = {key: await fix(getattr(value, key), f"{name}.{key}") for key in type(value).model_fields}
            changed = {key: new for key, new in fixed.items() if new is not getattr(value, key)}
            return value.model_copy(update=changed) if changed else value
        return value

    return {name: await fix(value, name) for name, value in kwargs.items()}


class StrictTool(Tool):
    """An SDK tool that refuses argument names it does not declare and reports invalid values as sentences."""

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        declared = [field.alias or name for name, field in self.fn_metadata.arg_model.model_fields.items()]
        unknown = [name for name in arguments if name not in declared]
        if unknown:
            raise ToolError(f"Error executing tool {self.name}: [invalid_input] {_unknown_sentence(unknown, declared)}")
        try:
            return await super().run(arguments, context, convert_result)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(
                    f"Error executing tool {self.name}: [invalid_input] {_invalid_sentence(exc.__cause__)}"
                ) from exc.__cause__
            raise


def _unknown_sentence(unknown: list[str], declared: list[str]) -> str:
    """Each unknown argument with the declared name nearest to it, and the declared names."""
    if not declared:
        return f"This tool takes no arguments; remove {', '.join(repr(name[:80]) for name in unknown)}."
    named = []
    for name in unknown:
        nearest = difflib.get_close_matches(name.lower(), declared, n=1, cutoff=0.0)
        named.append(f"{name[:80]!r} (nearest: {nearest[0]!r})" if nearest else repr(name[:80]))
    return (
        f"Unknown argument{'s' if len(unknown) > 1 else ''} {', '.join(named)}; this tool takes "
        f"{', '.join(declared)}. Nothing was done: rename or remove {'them' if len(unknown) > 1 else 'it'} and retry."
    )


def _invalid_sentence(error: ValidationError, shown: int = 5) -> str:
    """One clause per invalid argument: its name, the value given (shortened) and what it must be."""
    clauses = []
    for problem in error.errors(include_url=False)[:shown]:
        where = ".".join(str(part) for part in problem["loc"]) or "arguments"
        if problem["type"] == "missing":
            clauses.append(f"argument {where!r} is required")
            continue
        given = repr(problem.get("input"))
        given = given if len(given) <= 60 else f"{given[:57]}..."
        clauses.append(f"argument {where!r} = {given}: {problem['msg'].rstrip('.')}")
    more = error.error_count() - len(clauses)
    tail = f" (and {more} more)" if more > 0 else ""
    return f"Invalid arguments: {'; '.join(clauses)}{tail}. Nothing was done: correct them and retry."


def ui_meta(resource_uri: str) -> dict[str, Any]:
    """The `_meta` linking a tool or a result to its MCP App: `ui.resourceUri`, plus the flat `ui/resourceUri` key of
    the extension's early draft, which some hosts still read."""
    return {"ui": {"resourceUri": resource_uri}, "ui/resourceUri": resource_uri}


def compact_description(docstring: str) -> str:
    """A docstring as one line per paragraph: the source's indentation and line wrapping are not for the model,
    which reads every tool description at the start of every session."""
    paragraphs = inspect.cleandoc(docstring).split("\n\n")
    return "\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs if p.strip())


def unstorable_text(value: Any, name: str = "") -> tuple[str, str] | None:
    """The argument holding text no backend can store — a NUL character (PostgreSQL refuses it) or a lone
    surrogate (not encodable as UTF-8) — and what it is; None when every string is fine."""
    if isinstance(value, str):
        if "\x00" in value:
            return name, "a NUL character (\\u0000)"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return name, "a lone surrogate (an unpaired \\ud800-\\udfff escape)"
        return None
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list | tuple | set | frozenset):
        items = ((name, item) for item in value)
    else:
        return None
    for key, item in items:
        where = name if key == name else (f"{name}.{key}" if name else str(key))
        found = unstorable_text(key, where) if isinstance(key, str) else None
        if (found := found or unstorable_text(item, where)) is not None:
            return found
    return None


def build_tools(
    groups: Iterable[ToolGroup], *, toolsets: frozenset[str], read_only: bool
) -> tuple[list[Tool], list[ToolSpec]]:
    """The SDK tools of the enabled toolsets (for `MCPServer(tools=...)`) and the specs they were built from."""
    tools: list[Tool] = []
    registered: list[ToolSpec] = []
    for group in groups:
        if group.toolset not in toolsets:
            continue
        for spec in group.specs:
            if read_only and not spec.read_only:
                continue
            tools.append(_sdk_tool(spec))
            registered.append(spec)
    return tools, registered


@functools.cache
def _sdk_tool(spec: ToolSpec) -> Tool:
    """The SDK tool for `spec`, built once per process and shared by every server built in it.

    A tool depends on its spec alone (the request's caller and store come from the context at call time), the SDK
    keeps it as given, and building one (pydantic models and JSON schemas of its arguments and result) costs a few
    milliseconds, a third of a second for the whole catalogue, which no server built after the first pays again.
    """
    tool = StrictTool.from_function(
        spec.fn,
        name=spec.name,
        title=spec.title,
        description=compact_description(spec.fn.__doc__ or ""),
        annotations=spec.annotations,
        meta=ui_meta(spec.ui_resource) if spec.ui_resource else None,
    )
    tool.parameters = portable_input_schema(tool.parameters)
    if tool.fn_metadata.output_schema is not None:
        # The SDK reads this field live (see FuncMetadata); results are still validated by the model.
        tool.fn_metadata.output_schema = nullable_as_type_list(tool.fn_metadata.output_schema)
    return tool
