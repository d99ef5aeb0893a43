"""The `trackagoat-mcp` command line, run as a user runs it: the console script in a subprocess."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import anyio
import pytest
from sqlalchemy import select

from tests.e2e.support import (
    ANY_KEY_RE,
    KEY_RE,
    TIMEOUT,
    UUID_RE,
    Store,
    assert_refused_with_a_sentence,
    child_env,
    describe_result,
    run_cli,
)
from trackagoat_mcp import __version__
from trackagoat_mcp.db.migrate import current_revision, head_revision
from trackagoat_mcp.db.models import Organization, Project
from trackagoat_mcp.db.session import Database

pytestmark = pytest.mark.slow  # every test starts the console script in subprocesses


async def _read_store(url: str) -> tuple[list[str], list[tuple[uuid.UUID, str | None]], str | None]:
    """(organization names, (project id, description) pairs, migration revision) of the store at `url`."""
    db = Database.connect(url)
    try:
        async with db.read() as session:
            org_names = [org.name for org in (await session.scalars(select(Organization))).all()]
            projects = [(p.id, p.description) for p in (await session.scalars(select(Project))).all()]
        revision = await current_revision(db.engine)
    finally:
        await db.dispose()
    return org_names, projects, revision


def read_store(url: str) -> tuple[list[str], list[tuple[uuid.UUID, str | None]], str | None]:
    return anyio.run(_read_store, url)


def key_lines(store: Store) -> dict[str, str]:
    """`keys list` as {key id: whole line}, insisting that no line shows a secret."""
    result = store.ok("keys", "list")
    assert not ANY_KEY_RE.search(result.stdout + result.stderr), f"keys list showed a secret: {result.stdout}"
    lines: dict[str, str] = {}
    for line in result.stdout.splitlines():
        ids = UUID_RE.findall(line)
        if ids:
            lines[ids[0]] = line
    return lines


def check_init_and_keys_flow(store: Store) -> None:
    """init → second init → keys create/list/revoke → serve refuses the revoked key; shared by both backends."""
    first_key = store.init()

    again = store.ok("init")
    assert not ANY_KEY_RE.search(again.stdout + again.stderr), "a second init must not print another key"
    org_names, projects, _ = read_store(store.url)
    assert len(org_names) == 1, f"a second init created another organization: {org_names}"
    assert len(projects) == 1

    key_id, key = store.create_key("--name", "ci-bot", "--scopes", "read")
    assert key != first_key
    listed = key_lines(store)
    assert len(listed) == 2, f"expected the init key and the new key: {listed}"
    assert "ci-bot" in listed[key_id] and "read" in listed[key_id] and "active" in listed[key_id]
    assert key[:12] in listed[key_id], "the list should show the key's display prefix to recognise it by"

    store.ok("keys", "revoke", key_id)
    assert "revoked" in key_lines(store)[key_id]

    assert_refused_with_a_sentence(store.cli("serve", TRACKAGOAT_API_KEY=key), "TRACKAGOAT_API_KEY", "revoked")


def test_init_prints_one_key_and_a_second_init_creates_no_second_organization(sqlite_store: Store) -> None:
    result = sqlite_store.ok("init")

    keys = [line.strip() for line in result.stdout.splitlines() if ANY_KEY_RE.search(line)]
    assert len(keys) == 1 and KEY_RE.match(keys[0]), describe_result(result)
    assert len(ANY_KEY_RE.findall(result.stdout + result.stderr)) == 1

    again = sqlite_store.ok("init")
    assert not ANY_KEY_RE.search(again.stdout + again.stderr)
    assert "Already initialised" in again.stdout
    org_names, projects, _ = read_store(sqlite_store.url)
    assert org_names == ["Default organization"]
    assert len(projects) == 1


def test_keys_can_be_created_listed_and_revoked_and_a_revoked_key_cannot_serve(sqlite_store: Store) -> None:
    check_init_and_keys_flow(sqlite_store)


@pytest.mark.postgres
def test_init_and_keys_work_the_same_on_postgresql(postgres_store: Store) -> None:
    check_init_and_keys_flow(postgres_store)


def test_keys_list_never_shows_a_secret(initialised_store: tuple[Store, str]) -> None:
    sqlite_store, init_key = initialised_store
    _, new_key = sqlite_store.create_key("--scopes", "read,write,admin")

    result = sqlite_store.ok("keys", "list")

    assert init_key not in result.stdout and new_key not in result.stdout
    assert init_key[4:] not in result.stdout and new_key[4:] not in result.stdout, "not even the hex part"


def test_serve_without_a_key_on_a_store_with_two_organizations_asks_for_trackagoat_api_key(
    initialised_store: tuple[Store, str],
) -> None:
    sqlite_store, _ = initialised_store
    sqlite_store.ok("orgs", "create", "Globex", "--timezone", "Europe/Berlin")

    result = sqlite_store.cli("serve")

    assert_refused_with_a_sentence(result, "set TRACKAGOAT_API_KEY", "organizations")


def test_orgs_list_shows_every_organization_with_its_timezone(initialised_store: tuple[Store, str]) -> None:
    sqlite_store, _ = initialised_store
    created = sqlite_store.ok("orgs", "create", "Globex", "--timezone", "Europe/Berlin")

    listed = sqlite_store.ok("orgs", "list").stdout.splitlines()

    assert len(listed) == 2
    assert created.stdout.strip() in listed
    assert any("Globex" in line and "Europe/Berlin" in line for line in listed)


def test_describe_sets_the_project_description_agents_read(initialised_store: tuple[Store, str]) -> None:
    sqlite_store, _ = initialised_store
    [(project_id, before)] = read_store(sqlite_store.url)[1]
    assert before is None

    sqlite_store.ok("describe", "project", str(project_id), "Only count US creators; report weekly.")
    assert read_store(sqlite_store.url)[1] == [(project_id, "Only count US creators; report weekly.")]

    sqlite_store.ok("describe", "project", str(project_id), "-", stdin_text="From stdin.\n")
    assert read_store(sqlite_store.url)[1] == [(project_id, "From stdin.")]

    sqlite_store.ok("describe", "project", str(project_id), "")
    assert read_store(sqlite_store.url)[1] == [(project_id, None)]


def test_describe_of_an_unknown_id_fails_with_a_sentence(initialised_store: tuple[Store, str]) -> None:
    sqlite_store, _ = initialised_store

    missing = str(uuid.uuid4())

    result = sqlite_store.cli("describe", "project", missing, "text")

    assert_refused_with_a_sentence(result, "No project", missing)


def test_db_upgrade_is_idempotent_and_keeps_the_data(sqlite_store: Store) -> None:
    first = sqlite_store.ok("db", "upgrade")
    sqlite_store.init()

    second = sqlite_store.ok("db", "upgrade")
    third = sqlite_store.ok("db", "upgrade")

    assert "newest migration" in first.stdout and second.stdout == third.stdout
    org_names, projects, revision = read_store(sqlite_store.url)
    assert revision == head_revision()
    assert len(org_names) == 1 and len(projects) == 1


def test_serve_on_a_database_that_was_never_migrated_says_to_run_init(sqlite_store: Store) -> None:
    result = sqlite_store.cli("serve")

    assert_refused_with_a_sentence(result, "trackagoat-mcp init")


def test_commands_refused_before_init_leave_no_file_or_directory_in_the_user_data_directory(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = child_env(home, "unused")
    del env["TRACKAGOAT_DATABASE_URL"]  # the default store: <XDG_DATA_HOME>/trackagoat-mcp/trackagoat.db

    commands = (
        ["serve"],
        ["serve", "--transport", "http", "--port", "9"],
        ["worker"],
        ["keys", "list"],
        ["orgs", "list"],
    )
    for args in commands:
        result = run_cli(args, env)

        assert_refused_with_a_sentence(result, "trackagoat-mcp init", "trackagoat.db")
        assert not (home / "data").exists(), f"{args} created {sorted((home / 'data').rglob('*'))}"


def test_python_dash_m_prints_the_version_like_the_console_script(sqlite_store: Store) -> None:
    module = subprocess.run(
        [sys.executable, "-m", "trackagoat_mcp", "--version"],
        env=sqlite_store.env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    script = sqlite_store.cli("--version")

    assert module.returncode == 0, describe_result(module)
    assert module.stdout.strip() == f"trackagoat-mcp {__version__}"
    assert module.stdout == script.stdout
