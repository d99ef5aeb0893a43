"""The README's configuration table, generated from the declared settings (`trackagoat_mcp.config.Settings`).

`python scripts/settings_table.py` rewrites the table between the README's `config-table` markers;
`--check` only says whether it is up to date (so does `tests/test_config_table.py`). Each row is one field:
its variable (and CLI flag), its default as written in the declaration, and its description.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from trackagoat_mcp.config import Settings, env_name

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- config-table:start -->", "<!-- config-table:end -->"


def shown_default(value: Any) -> str:
    """A default as the table shows it: `unset` for nothing, `off`/`on`, numbers to three significant digits."""
    if value is None or value == () or value == frozenset():
        return "unset"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"`{value:.3g}`"
    return f"`{value}`"


def render() -> str:
    """The table's Markdown, header included."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        variable = f"`{env_name(name)}`" + (f" / `{extra['flag']}`" if extra.get("flag") else "")
        default = str(extra.get("shown") or shown_default(field.default))
        if extra.get("note"):
            default += f" {extra['note']}"
        rows.append(f"| {variable} | {default} | {field.description} |")
    return "\n".join(rows)


def replaced(readme: str) -> str:
    """`readme` with the text between the markers replaced by the rendered table."""
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{render()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    text = README.read_text(encoding="utf-8")
    if "--check" in argv:
        if replaced(text) != text:
            print("README.md's configuration table is out of date; run: python scripts/settings_table.py")
            return 1
        return 0
    README.write_text(replaced(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
