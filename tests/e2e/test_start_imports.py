"""What `trackagoat-mcp serve` loads before it answers `tools/list`, and what the rest of its start loads.

A host starts the stdio server at every launch, so every module imported before the tools are listed is paid by
every session's first answer: `serve` lists them from the packaged catalogue before the store layer, the models or
any tool is imported (`server.app`). What it assembles next loads none of the optional heavy modules below: each is
needed only by a feature when it is used (charts render with vl-convert, the browser fetcher runs Playwright,
comment scoring reads the AFINN lexicon, PostgreSQL needs asyncpg, the HTTP transport FastAPI, `db upgrade` Alembic)
or never at run time (Schemathesis).
"""

from __future__ import annotations

import subprocess
import sys

# What `cli._serve` imports and builds before the protocol starts, on a store the quick look cannot read.
_BEFORE_LISTING = """
import sys
from trackagoat_mcp.cli import main
from trackagoat_mcp.config import load_settings
from trackagoat_mcp.server.app import build_server
from trackagoat_mcp.server.auth import quick_stdio_caller
settings = load_settings(database_url="sqlite+aiosqlite:///unused.db")
quick_stdio_caller(settings)
build_server(settings)
print(" ".join(sorted(sys.modules)))
"""

# Then what the lifespan imports to assemble the rest.
_ASSEMBLED = _BEFORE_LISTING.replace("print(", "import trackagoat_mcp.server.assembly\nprint(")

OPTIONAL = {"vl_convert", "playwright", "afinn", "asyncpg", "fastapi", "alembic", "schemathesis"}


def _loaded(program: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_tools_are_listed_before_the_store_layer_or_any_tool_is_imported() -> None:
    loaded = _loaded(_BEFORE_LISTING)
    assert "trackagoat_mcp.server.app" in loaded and "mcp" in loaded, loaded  # the path really ran
    heavy = {"sqlalchemy", "sqlmodel", "trackagoat_mcp.db.models", "trackagoat_mcp.server.tools"}
    assert loaded & heavy == set()


def test_assembling_the_server_imports_no_optional_heavy_module() -> None:
    loaded = {name.split(".")[0] for name in _loaded(_ASSEMBLED)}
    assert "sqlalchemy" in loaded, loaded  # the path really ran
    assert loaded & OPTIONAL == set()
