"""MCP completions for prompt and resource-template arguments (ids by name or handle, handles, enums).

The SDK's `@server.completion()` handler receives no request context, yet suggestions must come from
the caller's organization. A middleware therefore keeps the request context of each
`completion/complete` request in a context variable for the duration of that request, and the
handler reads it from there.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.types import (
    Completion,
    CompletionArgument,
    CompletionContext,
    PromptReference,
    ResourceTemplateReference,
)

from trackagoat_mcp.errors import TrackagoatError
from trackagoat_mcp.server.auth import request_caller

if TYPE_CHECKING:
    from trackagoat_mcp.server.app import Stack

__all__ = ["register_completions"]

_request: ContextVar[ServerRequestContext[Any, Any] | None] = ContextVar("completion_request", default=None)

# What the `{id}` of each resource template refers to.
_TEMPLATE_ENTITY = {
    "projects": "project",
    "creators": "creator",
    "videos": "video",
    "campaigns": "campaign",
    "payout-structures": "payout_structure",
}


def _template_entity(uri: str) -> str | None:
    segment = uri.removeprefix("trackagoat://").split("/", 1)[0]
    return _TEMPLATE_ENTITY.get(segment)


async def _keep_request(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    if ctx.method != "completion/complete":
        return await call_next(ctx)
    token = _request.set(ctx)
    try:
        return await call_next(ctx)
    finally:
        _request.reset(token)


def register_completions(server: MCPServer[Stack]) -> None:
    """Answer `completion/complete` for every prompt and resource template of `server`."""
    server.middleware.append(_keep_request)

    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        request = _request.get()
        if request is None:
            return None
        # Requests wait for the assembled stack (`server.app`), which has imported the domain by now.
        from trackagoat_mcp.domain.completions import suggest

        stack: Stack = request.lifespan_context
        app = stack.app
        try:
            caller = request_caller(app)
        except TrackagoatError:
            return None
        chosen = dict(context.arguments or {}) if context is not None else {}
        if isinstance(ref, ResourceTemplateReference) and argument.name == "id":
            entity = _template_entity(ref.uri)
            if entity is not None:
                chosen["entity_type"] = entity
        async with app.db.read() as session:
            values = await suggest(session, caller, argument.name, argument.value, chosen)
        return Completion(values=values, total=len(values), has_more=False)

    # The SDK's decorator factory carries no type hints; the handler itself is fully typed.
    server.completion()(complete)  # type: ignore[no-untyped-call]
