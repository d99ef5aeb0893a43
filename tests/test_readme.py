"""The README's tables are the front door; they must match what the server really exposes."""

import re
import uuid
from pathlib import Path

import pytest
from mcp import Client

from tests.conftest import make_server
from trackagoat_mcp.config import ALL_TOOLSETS, Settings
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.server.app import build_server
from trackagoat_mcp.server.prompts import load_prompts
from trackagoat_mcp.server.toolsets import TOOL_GROUPS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _table_rows(start: str, end: str) -> list[list[str]]:
    block = README.split(start, 1)[1].split(end, 1)[0]
    rows = [line.strip().strip("|").split("|") for line in block.strip().splitlines()[2:]]
    return [[cell.strip() for cell in row] for row in rows]


async def test_readme_tools_table_matches_list_tools_with_toolset_and_scope():
    specs = {spec.name: spec for group in TOOL_GROUPS for spec in group.specs}
    server = build_server(
        Settings(database_url="sqlite://", toolsets=frozenset(ALL_TOOLSETS)),
        caller=Caller(uuid.uuid4(), frozenset({"admin"})),
    )
    listed = [tool.name for tool in await server.list_tools()]
    rows = _table_rows("<!-- tools-table:start -->", "<!-- tools-table:end -->")
    assert [row[0].strip("`") for row in rows] == listed
    for name, toolset, scope, _what in rows:
        spec = specs[name.strip("`")]
        assert (toolset, scope) == (spec.toolset, spec.scope), name


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_readme_resources_table_matches_the_server(db, clock, acme):
    caller, _project_id = acme
    async with Client(make_server(db, clock, caller)) as client:
        uris = [str(r.uri) for r in (await client.list_resources()).resources]
        uris += [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
    documented = re.findall(r"^\| `((?:trackagoat|ui)://[^`]+)` \|", README, flags=re.MULTILINE)
    assert sorted(documented) == sorted(uris)


def test_readme_prompts_table_lists_every_prompt_file():
    documented = re.findall(r"^\| `([a-z_]+)` \| `", README, flags=re.MULTILINE)
    assert sorted(documented) == sorted(p.name for p in load_prompts())
