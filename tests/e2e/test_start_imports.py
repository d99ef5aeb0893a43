"""What `trackagoat-mcp serve` loads before it answers `tools/list`: none of the optional heavy modules.

A host starts the stdio server at every launch, so every module imported on that path is paid by every session.
The ones below are needed only by a feature when it is used (charts render with vl-convert, the browser fetcher
runs Playwright, comment scoring reads the AFINN lexicon, PostgreSQL needs asyncpg, the HTTP transport FastAPI,
`db upgrade` Alembic) or never at run time (Schemathesis), and must stay out of the start.
"""

from __future__ import annotations

import subprocess
import sys

# Everything `cli._serve` imports, then the server built with every toolset, as `serve` does before serving.
_SERVE_PATH = """
import sys
from trackagoat_mcp.cli import main
from trackagoat_mcp.config import load_settings
from trackagoat_mcp.server.app import build_server, ensure_migrated
from trackagoat_mcp.server.auth import resolve_stdio_caller
build_server(load_settings(database_url="sqlite+aiosqlite:///unused.db"))
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""

OPTIONAL = {"vl_convert", "playwright", "afinn", "asyncpg", "fastapi", "alembic", "schemathesis"}


def test_serving_over_stdio_imports_no_optional_heavy_module() -> None:
    done = subprocess.run([sys.executable, "-c", _SERVE_PATH], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert "trackagoat_mcp" in loaded and "sqlalchemy" in loaded, loaded  # the path really ran
    assert loaded & OPTIONAL == set()
