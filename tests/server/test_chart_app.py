"""The chart App in a real browser: headless Chromium (Debian's `/usr/bin/chromium`, driven by Playwright) loads the
App page with each `show_chart` result and must draw it.

Each chart comes from a real `show_chart` call (in-process `mcp.Client`, SQLite) on a program whose handle, campaign
name and captions are hostile markup (`</script><script>alert(…)</script>`, `<img onerror>`, U+2028). A page passes
when it drew: non-blank pixels in its screenshot, the expected marks per layer (read from the Vega scenegraph), axis
and legend labels as SVG text, no console error or page error, no dialog, and no network request of any kind (every
request the browser would make is recorded and aborted). The hostile text must come out as text: the title and
tooltip show it literally and the page holds only its own scripts. The host bridge is exercised too: a host page
frames the App (sandboxed, as hosts do), answers `ui/initialize` with a dark theme and sends the tool result.

The checks run inside one test (see its docstring) so that Chromium is launched and the program seeded once per
module, whichever xdist worker takes it.

Without Chromium the module is skipped with the reason, unless `TRACKAGOAT_REQUIRE_CHROMIUM=1` (CI), which makes a
missing browser a failure. `TRACKAGOAT_CHART_SCREENSHOTS=DIR` also saves each chart's screenshot in DIR (how the
README's pictures in docs/ were made).
"""

from __future__ import annotations

import functools
import os
import shutil
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import vl_convert
from mcp import Client
from playwright.sync_api import Browser, Page, sync_playwright

from tests.chromium import EXECUTABLE, unavailable
from tests.conftest import START, make_org, make_server
from tests.reliability.worlds import seed_program
from tests.server.conftest import ADMIN_TOOLSETS
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.server.apps.chart_app import app_html, vendored_versions

CHROMIUM = EXECUTABLE
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOSTILE_PREFIX = "</script><script>alert(1)</script>"
HOSTILE_CAPTION = " <img src=x onerror=alert(2)></script><script>alert(3)</script>\u2028end"
CHARTS = {
    "views_over_time": ("project", {"from": "2026-02-25"}),
    "leaderboard": ("project", {"rank": "videos"}),
    "campaign_progress": ("campaign", {}),
    "payout_ledger": ("creator", {}),
    "program_health": ("project", {}),
    "content_calendar": ("creator", {}),
}
DRAWN = "window.trackagoatChart && ['drawn', 'error'].includes(window.trackagoatChart.status)"
MARKS = """() => {
  const counts = {};
  const walk = (node) => {
    if (node.marktype && node.name) counts[node.name] = (counts[node.name] || 0) + (node.items || []).length;
    for (const item of node.items || []) walk(item);
  };
  walk(window.trackagoatChart.view.scenegraph().root);
  return counts;
}"""
TEXTS = "(role) => Array.from(document.querySelectorAll(`svg .role-${role} text`)).map((t) => t.textContent)"


def _seed_and_chart(url: str) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    async def run() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
        db = Database.connect(url)
        clock = FrozenClock(START)
        try:
            org = await make_org(db, clock, "Acme")
            program = await seed_program(db, clock, org, HOSTILE_PREFIX, poison=HOSTILE_CAPTION)
            results: dict[str, dict[str, Any]] = {}
            async with Client(make_server(db, clock, program.caller, toolsets=ADMIN_TOOLSETS)) as client:
                for kind, (entity_type, extra) in CHARTS.items():
                    args = {"kind": kind, "entity_type": entity_type, "entity_id": str(program[entity_type]), **extra}
                    result = await client.call_tool("show_chart", args)
                    assert not result.is_error, result.content
                    results[kind] = result.model_dump(mode="json", by_alias=True, exclude_none=True)
            return results, {"handle": f"{HOSTILE_PREFIX}handle"}
        finally:
            await db.dispose()

    return anyio.run(run)


@pytest.fixture(scope="module")
def charts(sqlite_template: Path) -> Iterator[tuple[dict[str, dict[str, Any]], dict[str, Any]]]:
    """Each kind's `show_chart` result (as sent on the wire), on a program of hostile text."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "store.db"
        shutil.copy(sqlite_template, path)
        yield _seed_and_chart(f"sqlite+aiosqlite:///{path}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium is not at {CHROMIUM!r} (apt-get install chromium, or set TRACKAGOAT_BROWSER_EXECUTABLE)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Watched:
    """A page whose console errors, page errors, dialogs and requests are recorded (requests are also aborted)."""

    def __init__(self, browser: Browser) -> None:
        self.context = browser.new_context(viewport={"width": 800, "height": 600})
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.context.route("**/*", lambda route: (self.requests.append(route.request.url), route.abort()))

    def close(self) -> None:
        self.context.close()


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and unfiltered rows of an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes)."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0
    bpp = 3 if color == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                near = min((abs(p - left), left), (abs(p - up), up), (abs(p - corner), corner), key=lambda t: t[0])
                line[i] = (line[i] + near[1]) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, [bytes(row[i] for i in range(len(row)) if i % bpp < 3) for row in rows]


def inked_share(screenshot: bytes) -> float:
    """The share of pixels that are not the page's white background."""
    width, height, rows = png_pixels(screenshot)
    inked = sum(1 for row in rows for i in range(0, len(row), 3) if row[i : i + 3] != b"\xff\xff\xff")
    return inked / (width * height)


def draw(page: Watched, result: dict[str, Any]) -> None:
    page.page.set_content(app_html(result["structuredContent"]))
    page.page.wait_for_function(DRAWN, timeout=20_000)
    status = page.page.evaluate("[window.trackagoatChart.status, window.trackagoatChart.error]")
    assert status == ["drawn", None], status


def save_screenshot(page: Watched, kind: str) -> bytes:
    shot = page.page.locator("#chart").screenshot()
    folder = os.environ.get("TRACKAGOAT_CHART_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"chart-{kind.replace('_', '-')}.png").write_bytes(shot)
    return shot


def each_chart_draws_with_its_marks_and_labels_and_touches_no_network(kind: str, charts: Any, watched: Watched) -> None:
    results, _ = charts
    result = results[kind]
    chart = result["structuredContent"]
    rows = chart["vega_lite"]["datasets"]["rows"]
    draw(watched, result)

    shot = save_screenshot(watched, kind)
    assert inked_share(shot) > 0.02, "the chart area is blank"
    marks = watched.page.evaluate(MARKS)
    if kind in ("views_over_time", "campaign_progress"):
        assert marks["points_marks"] == sum(row["value"] is not None for row in rows)
        assert marks.get("empty_marks", 0) == sum(row["status"] == "no data" for row in rows)
        assert marks["line_marks"] == len(rows)
        if kind == "campaign_progress":
            assert marks["target_layer_0_marks"] == 1  # the target rule
    elif kind == "content_calendar":
        assert marks["cells_marks"] == sum(row["record"] == "day" for row in rows) > 0
        assert marks["markers_marks"] == sum(row["record"] == "marker" for row in rows) > 0
    elif kind == "payout_ledger":
        assert marks["accruals_marks"] == sum(row["record"] == "accrual" for row in rows)
        assert marks["payments_marks"] == sum(row["record"] != "accrual" for row in rows)
    else:
        assert marks["bars_marks"] == marks["values_marks"] == len(rows)
    assert watched.page.evaluate(TEXTS, "axis-label"), "no axis labels"
    axis_titles = watched.page.evaluate(TEXTS, "axis-title")
    assert axis_titles, "no axis titles"
    legend = watched.page.evaluate(TEXTS, "legend-label")
    if kind in ("views_over_time", "campaign_progress"):  # one legend entry per kind of bucket drawn
        assert legend == [s for s in ("complete", "partial", "no data") if any(row["status"] == s for row in rows)]
    elif kind == "content_calendar":  # the counted-posts gradient's numbers, then every kind of marker
        assert legend[-3:] == ["pending", "excluded", "over-posting"]
        assert set(chart["series"][1:]) <= set(legend)
        handles = watched.page.evaluate(TEXTS, "axis-label")
        assert f"@{charts[1]['handle']}" in handles  # the hostile handle is an axis label, drawn as text
    elif kind != "leaderboard":  # ledger series, health areas
        assert legend == chart["series"]
    assert watched.page.evaluate(TEXTS, "title-text") == [chart["title"]]
    assert watched.errors == [] and watched.dialogs == [] and watched.requests == []


def hostile_text_is_drawn_as_text_never_markup(charts: Any, watched: Watched) -> None:
    results, texts = charts
    ledger = results["payout_ledger"]["structuredContent"]
    html = app_html(ledger)
    assert HOSTILE_PREFIX not in html and "\\u003c/script\\u003e" in html
    draw(watched, results["payout_ledger"])
    assert watched.page.evaluate(TEXTS, "title-text") == [f"Payout ledger of @{texts['handle']}"]
    assert watched.page.evaluate("document.scripts.length") == 6  # the data block, 4 libraries, chart.js
    assert watched.page.evaluate("document.querySelectorAll('img').length") == 0

    # The videos' captions reach the page only in tooltips, which vega-tooltip fills as text.
    draw(watched, results["leaderboard"])
    watched.page.locator(".mark-rect path").first.hover()
    tooltip = watched.page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible", timeout=5_000)
    assert "<img src=x onerror=alert(2)></script><script>alert(3)</script>" in tooltip.inner_text()
    assert watched.page.evaluate("document.querySelectorAll('#vg-tooltip-element img, img').length") == 0
    assert watched.dialogs == [] and watched.errors == [] and watched.requests == []


HOST = """<!doctype html><html><body>
<iframe id="app" sandbox="allow-scripts" style="width:780px;height:520px;border:0"></iframe>
<script>
window.hostLog = [];
const frame = document.getElementById("app");
window.addEventListener("message", (event) => {
  if (event.source !== frame.contentWindow) return;
  const message = event.data;
  window.hostLog.push(message.method || "response");
  const reply = (m) => frame.contentWindow.postMessage(m, "*");
  if (message.method === "ui/initialize") {
    reply({jsonrpc: "2.0", id: message.id, result: {protocolVersion: "2026-01-26",
      hostInfo: {name: "test-host", version: "1"}, hostCapabilities: {}, hostContext: {theme: "dark"}}});
  }
  if (message.method === "ui/notifications/initialized") {
    reply({jsonrpc: "2.0", method: "ui/notifications/tool-input", params: {arguments: {}}});
    reply({jsonrpc: "2.0", method: "ui/notifications/tool-result", params: window.toolResult});
  }
});
</script></body></html>"""


def a_host_frames_the_app_and_sends_the_tool_result_over_the_bridge(charts: Any, watched: Watched) -> None:
    results, _ = charts
    page = watched.page
    page.set_content(HOST)
    page.evaluate(
        "([html, result]) => { window.toolResult = result; document.getElementById('app').srcdoc = html; }",
        [app_html(), results["views_over_time"]],
    )
    page.wait_for_function("window.hostLog.includes('ui/notifications/size-changed')", timeout=20_000)
    [app] = [frame for frame in page.frames if frame != page.main_frame]
    assert app.evaluate("window.trackagoatChart.status") == "drawn"
    assert app.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate("window.hostLog") == [
        "ui/initialize",
        "ui/notifications/initialized",
        "ui/notifications/size-changed",
    ]
    assert watched.errors == [] and watched.dialogs == [] and watched.requests == []


def the_app_carries_the_vega_vl_convert_renders_the_png_with(charts: Any, watched: Watched) -> None:
    results, _ = charts
    chart = results["program_health"]["structuredContent"]
    draw(watched, results["program_health"])
    loaded = watched.page.evaluate(
        "({vega: vega.version, 'vega-lite': vegaLite.version, 'vega-embed': vegaEmbed.version})"
    )
    vendored = vendored_versions()
    assert loaded == {name: vendored[name] for name in loaded}
    assert loaded["vega"] == vl_convert.get_vega_version()
    assert loaded["vega-embed"] == vl_convert.get_vega_embed_version()
    line = loaded["vega-lite"].rsplit(".", 1)[0]
    assert line in vl_convert.get_vegalite_versions()
    # One chart definition: the browser's Vega-Lite compiles the spec to the very Vega spec vl-convert renders.
    in_browser = watched.page.evaluate(
        "(s) => JSON.parse(JSON.stringify(vegaLite.compile(s).spec))", chart["vega_lite"]
    )
    assert in_browser == vl_convert.vegalite_to_vega(chart["vega_lite"], vl_version=line)


def test_the_chart_app_draws_every_chart_in_chromium_as_text_safe_svg_without_network_and_through_the_bridge(
    charts, browser
):
    """One test for the module, so that however pytest-xdist spreads the suite, Chromium starts and the program is
    seeded (five PNGs rendered) once; each check below gets a fresh browser context and says which one failed."""
    checks: list[tuple[str, Callable[[Watched], None]]] = [
        *(
            (
                f"draws {kind}",
                functools.partial(each_chart_draws_with_its_marks_and_labels_and_touches_no_network, kind, charts),
            )
            for kind in CHARTS
        ),
        ("hostile text", functools.partial(hostile_text_is_drawn_as_text_never_markup, charts)),
        ("host bridge", functools.partial(a_host_frames_the_app_and_sends_the_tool_result_over_the_bridge, charts)),
        (
            "same vega as vl-convert",
            functools.partial(the_app_carries_the_vega_vl_convert_renders_the_png_with, charts),
        ),
    ]
    for name, check in checks:
        watched = Watched(browser)
        try:
            check(watched)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc
        finally:
            watched.close()
