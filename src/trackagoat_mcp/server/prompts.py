"""Prompts whose text lives in `prompts/*.md` (shipped inside the wheel as `trackagoat_mcp/prompts`).

A prompt file starts with a small header between `---` lines:

```
---
title: Analyze a campaign
description: One sentence shown to the user.
arguments:
  campaign_id: The campaign to analyze.
  focus: What to pay most attention to. (optional)
---
Body text with {campaign_id} and {focus} placeholders.
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from mcp import MCPError
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument, UserMessage
from mcp.types import INVALID_PARAMS

__all__ = ["PromptTemplate", "load_prompts", "prompts_dir", "register_prompts"]

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass(frozen=True)
class PromptTemplate:
    """A parsed prompt file."""

    name: str
    title: str
    description: str
    arguments: list[PromptArgument]
    body: str

    def render(self, values: dict[str, Any]) -> str:
        """Fill the placeholders; optional arguments left out read as '(not given)'."""
        return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1)) or "(not given)"), self.body)


def prompts_dir() -> Traversable:
    """Where the prompt files are: inside the installed package, or the repository's `prompts/` in a checkout."""
    packaged = resources.files("trackagoat_mcp") / "prompts"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "prompts"


def parse_prompt(name: str, text: str) -> PromptTemplate:
    """Parse one prompt file (see the module docstring for the format)."""
    if not text.startswith("---\n"):
        raise ValueError(f"Prompt file {name!r} must start with a '---' header.")
    header, body = text[4:].split("\n---\n", 1)
    fields: dict[str, str] = {}
    arguments: list[PromptArgument] = []
    in_arguments = False
    for line in header.splitlines():
        if not line.strip():
            continue
        if line.startswith("  ") and in_arguments:
            arg, _, desc = line.strip().partition(":")
            desc = desc.strip()
            optional = desc.endswith("(optional)")
            arguments.append(
                PromptArgument(
                    name=arg.strip(), description=desc.removesuffix("(optional)").strip(), required=not optional
                )
            )
            continue
        key, _, value = line.partition(":")
        in_arguments = key.strip() == "arguments"
        fields[key.strip()] = value.strip()
    declared = {a.name for a in arguments}
    used = set(_PLACEHOLDER.findall(body))
    if used - declared:
        raise ValueError(f"Prompt {name!r} uses undeclared placeholders {sorted(used - declared)!r}.")
    return PromptTemplate(
        name=name,
        title=fields.get("title", name),
        description=fields.get("description", ""),
        arguments=arguments,
        body=body.strip() + "\n",
    )


def load_prompts() -> list[PromptTemplate]:
    """Every prompt file, sorted by name."""
    files = sorted((f for f in prompts_dir().iterdir() if f.name.endswith(".md")), key=lambda f: f.name)
    return [parse_prompt(f.name.removesuffix(".md"), f.read_text(encoding="utf-8")) for f in files]


def register_prompts(server: MCPServer[Any]) -> list[PromptTemplate]:
    """Add every prompt file to `server` as an MCP prompt (and refuse unknown names properly, see below)."""
    templates = load_prompts()
    server.middleware.append(_refuse_unknown_prompts(frozenset(t.name for t in templates)))
    for template in templates:

        def render(_template: PromptTemplate = template, **values: Any) -> list[UserMessage]:
            return [UserMessage(_template.render(values))]

        server.add_prompt(
            Prompt(
                name=template.name,
                title=template.title,
                description=template.description,
                arguments=template.arguments,
                fn=render,
            )
        )
    return templates


def _refuse_unknown_prompts(names: frozenset[str]) -> Any:
    """Middleware: `prompts/get` of a name we do not have is an invalid-params error (-32602), as the MCP spec says.

    Left to the SDK, it is error code 0 on handshake-era connections and an internal error (-32603, with a
    traceback in the server log) on 2026-07-28 ones; the conformance suite's prompt scenarios showed it.
    """

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "prompts/get":
            name = (ctx.params or {}).get("name")
            if name not in names:
                raise MCPError(INVALID_PARAMS, f"Unknown prompt {name!r}; prompts/list names the available prompts.")
        return await call_next(ctx)

    return middleware
