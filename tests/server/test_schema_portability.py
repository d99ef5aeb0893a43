"""Every tool's input schema reaches a model through the big client families' converters with its types intact.

Agent frameworks do not hand `inputSchema` to a model API as it is: LangChain (what `langchain-mcp-adapters` builds
on) turns each MCP tool into a `StructuredTool` and converts it to OpenAI's function format, and its Gemini model
converts that again into a function declaration in Gemini's OpenAPI-style dialect, which has one type per value. A
schema a converter cannot read fails the request before it is sent; a type it misreads makes the model send
`"[1, 2]"` where the tool wants an array, and the call fails validation. These tests put the catalogue of every
toolset, as a client receives it, through the real converters (the Gemini one as the request body it sends, caught
on loopback) and compare what each argument takes before and after (JSON type, null where it means something, enum
choices, required properties), down through array items and nested objects.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from langchain_core.tools import StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_google_genai import ChatGoogleGenerativeAI
from mcp import Client
from mcp.types import Tool
from pydantic import ValidationError

from tests.conftest import make_server
from tests.server.conftest import ADMIN_TOOLSETS
from trackagoat_mcp.config import ALL_TOOLSETS
from trackagoat_mcp.server.registry import build_tools
from trackagoat_mcp.server.toolsets import TOOL_GROUPS

NULL = {"type": "null"}
on_sqlite = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


async def catalogue(db: Any, clock: Any, acme: Any) -> list[Tool]:
    caller, _ = acme
    async with Client(make_server(db, clock, caller, toolsets=ADMIN_TOOLSETS)) as client:
        return (await client.list_tools()).tools


def as_langchain_tool(tool: Tool) -> StructuredTool:
    """The tool as `langchain-mcp-adapters` hands it to a chat model: its input schema as `args_schema`."""
    return StructuredTool(
        name=tool.name, description=tool.description or "", args_schema=tool.input_schema, func=lambda **_: None
    )


def openai_parameters(tool: Tool) -> dict[str, Any]:
    """What `ChatOpenAI.bind_tools` (and, first, `ChatGoogleGenerativeAI.bind_tools`) sends as `parameters`."""
    parameters: dict[str, Any] = convert_to_openai_tool(as_langchain_tool(tool))["function"]["parameters"]
    return parameters


class GeminiEndpoint(BaseHTTPRequestHandler):
    """A loopback stand-in for the Gemini API's `generateContent`: it keeps each request body and answers "ok"."""

    bodies: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        self.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        answer = json.dumps({"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def gemini() -> Iterator[ChatGoogleGenerativeAI]:
    """LangChain's Gemini chat model, sending its requests to `GeminiEndpoint` on loopback."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), GeminiEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ChatGoogleGenerativeAI(
            model="gemini-2.5-flash",
            google_api_key="unused",
            base_url=f"http://127.0.0.1:{server.server_port}",
            max_retries=0,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def gemini_parameters(gemini: ChatGoogleGenerativeAI, tool: Tool) -> dict[str, Any]:
    """The `parameters` of the function declaration the Gemini model sends for `tool` (it builds the request from
    the OpenAI form above), with Gemini's upper-case type names lowered so both sides compare alike."""
    GeminiEndpoint.bodies.clear()
    gemini.bind_tools([as_langchain_tool(tool)]).invoke("hello")
    (body,) = GeminiEndpoint.bodies
    (declaration,) = body["tools"][0]["functionDeclarations"]
    return _lowered_types(declaration.get("parameters", {"type": "object", "properties": {}}))


def _lowered_types(node: Any, names: bool = False) -> Any:
    if isinstance(node, list):
        return [_lowered_types(item) for item in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {name: _lowered_types(value) for name, value in node.items()}
    return {
        key: value.lower() if key == "type" and isinstance(value, str) else _lowered_types(value, key == "properties")
        for key, value in node.items()
    }


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = {**root["$defs"][node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def json_types(node: dict[str, Any], root: dict[str, Any]) -> set[str]:
    """The JSON types besides null that a schema node declares (through `type` lists and `anyOf`)."""
    node = _resolve(node, root)
    declared = node.get("type")
    found = set(declared) if isinstance(declared, list) else {declared} if declared else set()
    for branch in node.get("anyOf", []):
        found |= json_types(branch, root)
    return found - {"null"}


def takes_null(node: dict[str, Any], root: dict[str, Any]) -> bool:
    """Whether a schema node accepts null (JSON Schema's ways, and the OpenAPI `nullable` Gemini uses)."""
    node = _resolve(node, root)
    declared = node.get("type")
    return (
        declared == "null"
        or (isinstance(declared, list) and "null" in declared)
        or node.get("nullable") is True
        or None in node.get("enum", [])
        or any(takes_null(branch, root) for branch in node.get("anyOf", []))
    )


def _branch(node: dict[str, Any], kind: str, root: dict[str, Any]) -> dict[str, Any]:
    """The part of `node` that describes its values of JSON type `kind`."""
    node = _resolve(node, root)
    for branch in node.get("anyOf", []):
        if kind in json_types(branch, root):
            return _branch(branch, kind, root)
    return node


def _choices(node: dict[str, Any], root: dict[str, Any]) -> set[Any] | None:
    node = _resolve(node, root)
    for part in [node, *node.get("anyOf", [])]:
        if "enum" in (part := _resolve(part, root)):
            return {value for value in part["enum"] if value is not None}
    return None


def differences(
    published: dict[str, Any], converted: dict[str, Any], path: str, roots: tuple[dict[str, Any], dict[str, Any]]
) -> list[str]:
    """Where `converted` says something else than `published` about the values it takes: the JSON type, null, the
    choices of an enum, the required properties; recursively through array items and object properties."""
    kinds, after = json_types(published, roots[0]), json_types(converted, roots[1])
    if not kinds:
        return [f"{path} declares no type (converters make it a string)"]
    if kinds != after:
        return [f"{path} {sorted(kinds)} became {sorted(after)}"]
    found = []
    if takes_null(published, roots[0]) and not takes_null(converted, roots[1]):
        found.append(f"{path} no longer takes null")
    if _choices(published, roots[0]) != _choices(converted, roots[1]):
        found.append(f"{path} choices {_choices(published, roots[0])} became {_choices(converted, roots[1])}")
    if "array" in kinds:
        items = _branch(published, "array", roots[0]).get("items", {})
        found += differences(items, _branch(converted, "array", roots[1]).get("items", {}), f"{path}[]", roots)
    if "object" in kinds:
        before, now = _branch(published, "object", roots[0]), _branch(converted, "object", roots[1])
        props, props_now = before.get("properties", {}), now.get("properties", {})
        if set(props) != set(props_now):
            found.append(f"{path} properties {sorted(props)} became {sorted(props_now)}")
        if props and set(before.get("required", [])) != set(now.get("required", [])):
            found.append(f"{path} required {before.get('required', [])} became {now.get('required', [])}")
        for name in props.keys() & props_now.keys():
            found += differences(props[name], props_now[name], f"{path}.{name}" if path else name, roots)
    return found


def conversion_problems(tools: list[Tool], convert: Any) -> list[str]:
    problems = []
    for tool in tools:
        try:
            converted = convert(tool)
        except Exception as exc:  # any failure here is a request that never reaches the model
            problems.append(f"{tool.name}: conversion raised {type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
            continue
        roots = (tool.input_schema, converted)
        problems += [f"{tool.name}: {d}" for d in differences(tool.input_schema, converted, "", roots)]
    return problems


@on_sqlite
async def test_every_input_schema_becomes_a_gemini_function_declaration_with_the_same_argument_types(
    db, clock, acme, gemini
):
    tools = await catalogue(db, clock, acme)

    problems = conversion_problems(tools, functools.partial(gemini_parameters, gemini))

    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


@on_sqlite
async def test_every_input_schema_becomes_an_openai_function_with_the_same_argument_types(db, clock, acme):
    tools = await catalogue(db, clock, acme)

    problems = conversion_problems(tools, openai_parameters)

    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def nonportable_parts(node: Any, path: str = "") -> list[str]:
    """Where a schema uses what single-type dialects cannot read: a list as `type`, null inside `enum`, a `$ref`."""
    if isinstance(node, list):
        return [found for item in node for found in nonportable_parts(item, path)]
    if not isinstance(node, dict):
        return []
    found = []
    if isinstance(node.get("type"), list):
        found.append(f"{path}: type list {node['type']}")
    if None in node.get("enum", []):
        found.append(f"{path}: null in enum {node['enum']}")
    if "$ref" in node:
        found.append(f"{path}: $ref {node['$ref']}")
    for key, value in node.items():
        if key in ("properties", "$defs") and isinstance(value, dict):
            found += [part for name, prop in value.items() for part in nonportable_parts(prop, f"{path}.{name}")]
        elif isinstance(value, dict | list):
            found += nonportable_parts(value, f"{path}.{key}" if key != "items" else f"{path}[]")
    return found


@on_sqlite
async def test_no_input_schema_has_type_lists_null_enum_members_or_references(db, clock, acme):
    tools = await catalogue(db, clock, acme)

    found = [f"{tool.name}{part}" for tool in tools for part in nonportable_parts(tool.input_schema)]

    assert not found, f"{len(found)} non-portable parts:\n" + "\n".join(found)


def test_an_optional_argument_published_without_null_still_takes_an_explicit_null():
    """The input schema leaves out the null branch of an optional argument whose default is null, since omitting it
    says the same: a client or model that still sends null must not be refused for it."""
    tools, _ = build_tools(TOOL_GROUPS, toolsets=frozenset(ALL_TOOLSETS), read_only=False)
    checked, refused = 0, []
    for tool in tools:
        schema = tool.parameters
        for name, prop in schema["properties"].items():
            if name in schema.get("required", []) or "default" in prop or NULL in prop.get("anyOf", []):
                continue
            checked += 1
            try:
                tool.fn_metadata.arg_model.model_validate({name: None})
            except ValidationError as exc:  # the required arguments left out are refused too; only `name` counts
                if any(error["loc"] == (name,) for error in exc.errors()):
                    refused.append(f"{tool.name}.{name}")

    assert checked > 50 and not refused, refused
