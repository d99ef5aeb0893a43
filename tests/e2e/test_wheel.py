"""The built wheel is self-contained: installed outside the source tree it finds its prompts, migrations and the chart
App's vendored JavaScript."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 300.0
"""Building may have to fetch the build backend (hatchling) into pip's isolated build environment."""

CHECK_INSTALLED = """
import json, pathlib, sys, tempfile
import anyio
import trackagoat_mcp
from trackagoat_mcp.db.migrate import current_revision, head_revision, upgrade
from trackagoat_mcp.db.engine import make_engine
from trackagoat_mcp.server.prompts import load_prompts
from trackagoat_mcp.server.apps.chart_app import app_html, vendored_versions

site = pathlib.Path(sys.argv[1]).resolve()
package_file = pathlib.Path(trackagoat_mcp.__file__).resolve()
assert package_file.is_relative_to(site), f"imported {package_file}, not the installed wheel under {site}"

prompts = load_prompts()

async def migrate(url):
    await upgrade(url)
    await upgrade(url)
    engine = make_engine(url)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()

with tempfile.TemporaryDirectory() as tmp:
    revision = anyio.run(migrate, f"sqlite+aiosqlite:///{tmp}/wheel.db")

page = app_html({"vega_lite": {}})

print(json.dumps({
    "chart_app_chars": len(page),
    "chart_app_has_vega": "vega" in vendored_versions() and page.count("<script") == 6,
    "package_file": str(package_file),
    "prompts": [p.name for p in prompts],
    "prompt_bodies_empty": [p.name for p in prompts if not p.body.strip()],
    "revision": revision,
    "head": head_revision(),
}))
"""


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    """Run this interpreter's pip (no version check) and insist that it succeeded."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"pip {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def files_in(names: set[str], folder: str, suffix: str) -> set[str]:
    """Base names of the archive members directly in `folder` that end with `suffix`."""
    return {
        n.removeprefix(folder)
        for n in names
        if n.startswith(folder) and n.endswith(suffix) and "/" not in n.removeprefix(folder)
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheelhouse")
    pip("wheel", "--no-deps", "-w", str(out), str(REPO))
    [built] = out.glob("trackagoat_mcp-*.whl")
    return built


def test_the_wheel_ships_every_prompt_and_migration(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    shipped_prompts = files_in(names, "trackagoat_mcp/prompts/", ".md")
    source_prompts = {p.name for p in (REPO / "prompts").glob("*.md")}
    assert "analyze_campaign.md" in shipped_prompts
    assert shipped_prompts == source_prompts

    shipped_migrations = files_in(names, "trackagoat_mcp/db/migrations/versions/", ".py")
    source_migrations = {p.name for p in (REPO / "src/trackagoat_mcp/db/migrations/versions").glob("*.py")}
    assert shipped_migrations and shipped_migrations == source_migrations
    assert "trackagoat_mcp/db/migrations/env.py" in names

    vendor = REPO / "src/trackagoat_mcp/server/apps/vendor"
    shipped_vendor = {n.removeprefix("trackagoat_mcp/server/apps/vendor/") for n in names if "/apps/vendor/" in n}
    assert shipped_vendor == {p.name for p in vendor.iterdir()}, "the chart App's JavaScript and licenses"
    assert "trackagoat_mcp/server/apps/chart.js" in names


def test_the_installed_wheel_loads_its_prompts_and_migrates_a_new_database(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    pip("install", "--no-deps", "--target", str(site), str(wheel))

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKAGOAT_")}
    env["PYTHONPATH"] = str(site)
    env["HOME"] = str(tmp_path)
    check = subprocess.run(
        [sys.executable, "-c", CHECK_INSTALLED, str(site)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert check.returncode == 0, f"the installed wheel failed:\n{check.stdout}\n{check.stderr}"
    report = json.loads(check.stdout.strip().splitlines()[-1])
    assert "analyze_campaign" in report["prompts"]
    assert sorted(report["prompts"]) == sorted(p.stem for p in (REPO / "prompts").glob("*.md"))
    assert report["prompt_bodies_empty"] == []
    assert report["revision"] == report["head"] and report["head"]
    assert report["chart_app_has_vega"] and report["chart_app_chars"] > 800_000
