"""The packaged tool catalogue, which every server lists, is the one generated from the tool declarations."""

import uuid

import pytest
from mcp import Client, MCPError

from tests.conftest import load_script
from trackagoat_mcp.config import Settings
from trackagoat_mcp.domain.caller import Caller
from trackagoat_mcp.server.app import build_server
from trackagoat_mcp.server.catalogue import entries, published

catalogue_script = load_script("catalogue")


def test_packaged_catalogue_is_the_one_generated_from_the_declarations() -> None:
    packaged = catalogue_script.TARGET.read_text(encoding="utf-8")
    assert packaged == catalogue_script.render(), "run: python scripts/catalogue.py"


def test_read_only_servers_list_no_tool_that_writes() -> None:
    toolsets = frozenset(e.toolset for e in entries())
    listed = published(toolsets, read_only=True)
    assert listed and all(t.annotations is not None and t.annotations.read_only_hint for t in listed)
    assert len(published(toolsets, read_only=False)) == len(entries())


async def test_tools_are_listed_before_the_store_is_opened_and_a_store_that_cannot_serve_is_named_on_every_other_call(
    tmp_path,
) -> None:
    """The assembly opens the store after the listing: an uninitialised one fails each later request with the sentence
    that says what to do, and the server stays up."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'never-initialised.db'}")
    caller = Caller(uuid.uuid4(), frozenset({"read"}))
    async with Client(build_server(settings, caller=caller)) as client:
        assert {t.name for t in (await client.list_tools()).tools} >= {"get_creator", "list_projects"}
        for _ in range(2):
            with pytest.raises(MCPError, match=r"\[config_error\] The database .* is empty or does not exist yet; run"):
                await client.call_tool("list_projects", {})
        with pytest.raises(MCPError, match="trackagoat-mcp init"):
            await client.list_resources()
