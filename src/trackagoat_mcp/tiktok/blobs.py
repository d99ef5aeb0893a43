"""Finding TikTok's data blob in a page (pure, no I/O): the script tags and the forms they come in.

`reference/tiktok-ledgers-jobs.md` §1.2: today's pages keep their data in
`<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__">` (modules under `__DEFAULT_SCOPE__`); legacy pages in
`<script id="SIGI_STATE">` or `<script id="sigi-persisted-data">`, as JSON or, in 2021-22, as a script assigning
it (`window['SIGI_STATE']={…};window['SIGI_RETRY']=…`). A page without any of them is blocked, and
`blocked_reason` / `block_kind` say what it looks like instead (challenge, captcha, shell, empty).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "BLOCK_KINDS",
    "UNIVERSAL_SCRIPT_ID",
    "block_kind",
    "blocked_reason",
    "default_scope_module",
    "extract_script_json",
    "loads",
    "sigi_state",
]

UNIVERSAL_SCRIPT_ID = "__UNIVERSAL_DATA_FOR_REHYDRATION__"
_SIGI_SCRIPT_IDS = ("SIGI_STATE", "sigi-persisted-data")
_SIGI_ASSIGNMENTS = ("window['SIGI_STATE']", 'window["SIGI_STATE"]', "window.SIGI_STATE")

# `json.loads` without its per-call wrapper: what it allows around a document is exactly these four characters.
_JSON_DECODER = json.JSONDecoder()
_JSON_SPACE = " \t\n\r"


def extract_script_json(html: str, script_id: str) -> Any | None:
    """Return the decoded JSON inside `<script id="script_id">…</script>`, or `None` if absent or not JSON.

    A plain string search, not an HTML parser: the blob is the largest part of the page and this keeps the
    cost close to a bare `json.loads` of it.
    """
    start = html.find(f'id="{script_id}"')
    if start < 0:
        start = html.find(f"id='{script_id}'")
        if start < 0:
            return None
    open_end = html.find(">", start)
    if open_end < 0:
        return None
    close = html.find("</script>", open_end)
    if close < 0:
        return None
    try:
        return loads(html[open_end + 1 : close])
    except ValueError:
        return None


def default_scope_module(html: str, names: tuple[str, ...]) -> dict[str, Any] | None:
    """The first of the modules `names` found in the page's `__DEFAULT_SCOPE__`."""
    blob = extract_script_json(html, UNIVERSAL_SCRIPT_ID)
    scope = blob.get("__DEFAULT_SCOPE__") if isinstance(blob, dict) else None
    if not isinstance(scope, dict):
        return None
    for name in names:
        module = scope.get(name)
        if isinstance(module, dict):
            return module
    return None


def sigi_state(html: str) -> dict[str, Any] | None:
    for script_id in _SIGI_SCRIPT_IDS:
        blob = extract_script_json(html, script_id)
        if isinstance(blob, dict):
            return blob
    return _sigi_assignment(html)


def _sigi_assignment(html: str) -> dict[str, Any] | None:
    """The object assigned in the 2021-22 script form `window['SIGI_STATE']={…};window['SIGI_RETRY']=…`.

    The object is decoded where the assignment starts and ends where the JSON value ends, so whatever
    statements follow it (`SIGI_RETRY`, other globals) are never read.
    """
    for marker in _SIGI_ASSIGNMENTS:
        at = html.find(marker)
        if at < 0:
            continue
        equals = html.find("=", at + len(marker))
        if equals < 0 or html[at + len(marker) : equals].strip():
            continue
        start = equals + 1
        while start < len(html) and html[start] in _JSON_SPACE:
            start += 1
        try:
            value, _end = _JSON_DECODER.raw_decode(html, start)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None
    return None


def loads(text: str) -> Any:
    """`json.loads(text)` for a `str`, with the same result and the same `ValueError`s, minus its wrapper's cost."""
    document = text.strip(_JSON_SPACE)
    # A leading BOM fails here as in `json.loads` ("Expecting value" instead of "Unexpected UTF-8 BOM").
    value, end = _JSON_DECODER.raw_decode(document)
    if end != len(document):
        raise json.JSONDecodeError("Extra data", document, end)
    return value


def blocked_reason(html: str) -> str:
    if not html.strip():
        return "empty body"
    if 'id="cs"' in html or "Please wait" in html:
        return "challenge page"
    if '"type":"verify"' in html:
        return "captcha"
    return "page without a data blob (shell page)"


BLOCK_KINDS: Mapping[str, str] = {
    "empty body": "empty",
    "challenge page": "challenge",
    "captcha": "captcha",
    "captcha (verify) instead of the item list": "captcha",
}
"""A `blocked` page's `detail` → the kind of block it is, for block-rate statistics (anything else: `shell`)."""


def block_kind(detail: str) -> str:
    """What kind of block a `blocked` page's `detail` describes: `challenge`, `captcha`, `empty` or `shell`."""
    return BLOCK_KINDS.get(detail, "shell")
