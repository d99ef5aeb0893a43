"""The chart App: one self-contained HTML page (MCP Apps `ui://` resource) that draws any `show_chart` result.

The page inlines everything it runs: the vendored vega, vega-lite, vega-embed and vega-interpreter builds
(`vendor/`, pinned to the versions vl-convert renders the PNG with) and `chart.js`, the guest side of the host
bridge. It loads nothing: no network, no CDN, no fonts. Its own `Content-Security-Policy` allows exactly its
inline scripts (by SHA-256 hash), inline styles and `data:` images, nothing else: no `eval` (Vega runs with its
CSP-safe interpreter), no connections, so it works inside any host's stricter policy too.

Where the chart comes from:

* in a host with Apps, the tool result: the host renders `ui://trackagoat/chart` (the tool's
  `_meta.ui.resourceUri`) and sends the result over the bridge (`ui/notifications/tool-result`); the page draws
  `structuredContent.vega_lite`;
* in a saved page (`app_html(chart)`), the chart embedded as JSON in `<script type="application/json">`, with `<`,
  `>`, `&`, U+2028 and U+2029 written as `\\uXXXX` escapes, so no value (a caption reading `</script><script>…`)
  can end the element or become markup: it is parsed back as the same string and drawn by Vega as text.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from importlib import resources
from typing import Any

__all__ = [
    "APP_MIME_TYPE",
    "CHART_APP_URI",
    "app_html",
    "embedded_json",
    "vendored_versions",
]

CHART_APP_URI = "ui://trackagoat/chart"
APP_MIME_TYPE = "text/html;profile=mcp-app"
"""The MCP Apps MIME type; hosts require the `profile` parameter in the listing and in `resources/read`."""
VENDORED = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_INTERPRETER_IMPORT = re.compile(r"^import \{([^}]*)\} from 'vega-util';$", re.MULTILINE)
_INTERPRETER_EXPORT = re.compile(r"^export \{ (\w+) as expressionInterpreter \};$", re.MULTILINE)

STYLE = """
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; padding: 8px; background: transparent; }
#chart svg, #chart canvas { max-width: 100%; height: auto; }
#note { margin: 4px 0; font-size: 13px; color: #666; }
:root[data-theme="dark"] #note { color: #aaa; }
"""


def _asset(name: str) -> str:
    return resources.files("trackagoat_mcp.server.apps").joinpath(name).read_text(encoding="utf-8")


def vendored_versions() -> dict[str, str]:
    """The versions of the vendored JavaScript packages (`vendor/VERSIONS.json`)."""
    versions: dict[str, str] = json.loads(_asset("vendor/VERSIONS.json"))
    return versions


def _interpreter_script() -> str:
    """vega-interpreter's ES module as a classic script: its one import (from vega-util, which the vega bundle
    exports) and its one export become a destructuring of the `vega` global and a `vegaInterpreter` global."""
    source = _asset("vendor/vega-interpreter.js")
    imported = _INTERPRETER_IMPORT.search(source)
    exported = _INTERPRETER_EXPORT.search(source)
    if imported is None or exported is None:
        raise RuntimeError("vendor/vega-interpreter.js no longer has the one import and export chart_app expects")
    body = _INTERPRETER_EXPORT.sub(
        f"window.vegaInterpreter = {{ expressionInterpreter: {exported.group(1)} }};", source
    )
    body = _INTERPRETER_IMPORT.sub(f"const {{{imported.group(1)}}} = window.vega;", body)
    return f"(function () {{\n{body}\n}})();"


def _script_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


@functools.cache
def _scripts() -> tuple[str, ...]:
    """The page's inline scripts, in order (each checked to be safe to inline: no `</script` or `<!--`)."""
    scripts = (*(_asset(f"vendor/{name}") for name in VENDORED), _interpreter_script(), _asset("chart.js"))
    for script in scripts:
        lowered = script.lower()
        if "</script" in lowered or "<!--" in lowered:
            raise RuntimeError("a chart App script contains '</script' or '<!--' and cannot be inlined")
    return scripts


def content_security_policy() -> str:
    """The page's own policy: its inline scripts by hash, inline styles, data: images, nothing from anywhere."""
    hashes = " ".join(_script_hash(script) for script in _scripts())
    return (
        f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; img-src data:; "
        "connect-src 'none'; font-src 'none'; base-uri 'none'; form-action 'none'"
    )


def embedded_json(value: Any) -> str:
    """`value` as JSON that is safe inside `<script type="application/json">`: `<`, `>`, `&`, U+2028 and U+2029 are
    escaped, so the element's content can never contain `</script>` or `<!--` whatever the strings hold."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return "".join(_JSON_ESCAPES.get(ch, ch) for ch in text)


@functools.cache
def _page_parts() -> tuple[str, str]:
    head = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy()}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>trackagoat chart</title>\n<style>{STYLE}</style>\n</head><body>\n"
        '<div id="chart" role="figure" aria-label="chart"></div>\n<p id="note" role="status"></p>\n'
        '<script type="application/json" id="trackagoat-chart-data">'
    )
    tail = "</script>\n" + "".join(f"<script>{script}</script>\n" for script in _scripts()) + "</body></html>\n"
    return head, tail


def app_html(chart: dict[str, Any] | None = None) -> str:
    """The App page; with `chart` (a `show_chart` structuredContent, or anything with a `vega_lite` spec) embedded
    so it draws without a host, otherwise waiting for the host's tool result."""
    head, tail = _page_parts()
    return head + embedded_json(chart) + tail
