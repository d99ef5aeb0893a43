"""The README's configuration table is generated from the declared settings and must not drift from them."""

from pathlib import Path

from tests.conftest import load_script
from trackagoat_mcp.cli import _parser
from trackagoat_mcp.config import Settings, env_name

ROOT = Path(__file__).resolve().parents[1]
settings_table = load_script("settings_table")


def _documented() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split(settings_table.START, 1)[1].split(settings_table.END, 1)[0].strip()


def test_readme_configuration_table_is_the_one_generated_from_the_declared_settings() -> None:
    assert _documented() == settings_table.render(), "run: python scripts/settings_table.py"


def test_every_documented_variable_is_a_setting_and_every_setting_is_documented() -> None:
    rows = [line.split("|")[1].strip() for line in _documented().splitlines()[2:]]
    variables = [row.split(" / ")[0].strip("`") for row in rows]
    assert variables == [env_name(name) for name in Settings.model_fields]


def test_every_setting_has_a_description_and_documented_flags_exist_on_the_cli() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description and "\n" not in field.description, name
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if extra.get("flag"):
            _, unknown = _parser().parse_known_args(["serve", str(extra["flag"]), "all"])
            assert str(extra["flag"]) not in unknown, f"`serve` has no {extra['flag']} flag"


def test_defaults_are_shown_as_declared() -> None:
    shown = settings_table.shown_default
    assert [shown(None), shown(()), shown(False), shown(1 / 3), shown(600.0), shown(15)] == [
        "unset",
        "unset",
        "off",
        "`0.333`",
        "`600`",
        "`15`",
    ]
