"""The packaged tool catalogue, which every server lists, is the one generated from the tool declarations."""

import importlib.util
from pathlib import Path

from trackagoat_mcp.server.catalogue import entries, published

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("catalogue_script", ROOT / "scripts" / "catalogue.py")
assert _spec is not None and _spec.loader is not None
catalogue_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalogue_script)


def test_packaged_catalogue_is_the_one_generated_from_the_declarations() -> None:
    packaged = catalogue_script.TARGET.read_text(encoding="utf-8")
    assert packaged == catalogue_script.render(), "run: python scripts/catalogue.py"


def test_read_only_servers_list_no_tool_that_writes() -> None:
    toolsets = frozenset(e.toolset for e in entries())
    listed = published(toolsets, read_only=True)
    assert listed and all(t.annotations is not None and t.annotations.read_only_hint for t in listed)
    assert len(published(toolsets, read_only=False)) == len(entries())
