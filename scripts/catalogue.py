"""Write `src/trackagoat_mcp/server/catalogue.json`, the tool catalogue servers list, from the tool declarations.

    python scripts/catalogue.py           # rewrite it
    python scripts/catalogue.py --check   # exit 1 if it is out of date (so does tests/server/test_catalogue.py)

Run it after changing a tool's name, title, description, arguments, result model, annotations or toolset.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio

from trackagoat_mcp.server.catalogue import CATALOGUE_FILE
from trackagoat_mcp.server.toolsets import catalogue_document

TARGET = Path(__file__).resolve().parents[1] / "src" / "trackagoat_mcp" / "server" / CATALOGUE_FILE


def render() -> str:
    """The file's text: one JSON document, indented, so that a change to one tool is a readable diff."""
    return json.dumps(anyio.run(catalogue_document), indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date; run: python scripts/catalogue.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET} ({len(text):,} characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
