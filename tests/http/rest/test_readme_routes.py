"""The README's REST route table is the front door; it must match the OpenAPI document the server serves."""

from __future__ import annotations

from pathlib import Path

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.http.rest.app import build_rest_app
from trackagoat_mcp.http.rest.deps import RestState
from trackagoat_mcp.jobs.tiktok_access import TikTokAccess

README = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")


def test_readme_rest_route_table_lists_every_path_and_method_of_openapi(clock: FrozenClock) -> None:
    settings = Settings(database_url="sqlite://")
    state = RestState(settings, Database.connect("sqlite+aiosqlite://"), clock, TikTokAccess(settings))
    app = build_rest_app(state, max_body_bytes=1024)
    spec = app.app.openapi()  # type: ignore[attr-defined]
    served = [(" ".join(m.upper() for m in ops), path) for path, ops in spec["paths"].items()]
    block = README.split("<!-- rest-routes:start -->", 1)[1].split("<!-- rest-routes:end -->", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in block.strip().splitlines()[2:]]
    documented = [(methods.strip(), path.strip().strip("`")) for methods, path in rows]
    assert documented == served
    assert spec["openapi"].startswith("3.1")
