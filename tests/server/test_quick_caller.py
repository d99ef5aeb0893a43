"""`serve`'s quick look at the store (`server.auth.quick_stdio_caller`): it answers only a clear yes, and the same
caller the full way would, on SQLite and on PostgreSQL."""

from mcp import Client

from tests.conftest import make_org
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.models import ApiKey
from trackagoat_mcp.db.preflight import postgresql_session_owner, sqlite_session_owner
from trackagoat_mcp.db.revisions import head_revision
from trackagoat_mcp.domain import keys
from trackagoat_mcp.server.app import build_server
from trackagoat_mcp.server.assembly import resolve_stdio_caller
from trackagoat_mcp.server.auth import quick_stdio_caller


async def _key(db, clock, org_id, scopes=("read",)):
    async with db.write() as session:
        row, key = await keys.create_key(session, org_id=org_id, name="k", scopes=scopes, now=clock.now())
    return row, key


async def test_a_keyless_session_on_a_store_of_one_organization_acts_for_it_with_every_scope(db, db_url, clock, acme):
    quick = await quick_stdio_caller(Settings(database_url=db_url))
    assert quick is not None and quick == await resolve_stdio_caller(db, None)


async def test_a_key_gives_its_organization_and_scopes_and_a_revoked_or_unknown_one_gives_no_answer(
    db, db_url, clock, acme
):
    caller, _project = acme
    row, key = await _key(db, clock, caller.org_id)
    quick = await quick_stdio_caller(Settings(database_url=db_url, api_key=key))
    assert quick is not None and quick == await resolve_stdio_caller(db, key)
    assert quick.scopes == frozenset({"read"}) and quick.key_id == row.id
    assert await quick_stdio_caller(Settings(database_url=db_url, api_key="tga_" + "0" * 64)) is None
    assert await quick_stdio_caller(Settings(database_url=db_url, api_key="not-a-key")) is None
    async with db.write() as session:
        await keys.revoke_key(session, ref=str(row.id), now=clock.now(), org_id=caller.org_id)
    assert await quick_stdio_caller(Settings(database_url=db_url, api_key=key)) is None


async def test_several_organizations_an_older_migration_or_a_missing_file_give_no_answer(
    db, db_url, clock, acme, tmp_path
):
    assert sqlite_session_owner(db_url, head="an-older-revision", key_hash=None) is None
    assert await postgresql_session_owner(db_url, head="an-older-revision", key_hash=None) is None
    assert (
        sqlite_session_owner(f"sqlite+aiosqlite:///{tmp_path / 'none.db'}", head=head_revision(), key_hash=None) is None
    )
    assert not (tmp_path / "none.db").exists()
    assert sqlite_session_owner("postgresql+asyncpg://u@h/db", head=head_revision(), key_hash=None) is None
    # A server that does not answer, and URLs with options, are left to the full way.
    assert (
        await postgresql_session_owner("postgresql+asyncpg://u@127.0.0.1:9/db", head=head_revision(), key_hash=None)
        is None
    )
    assert await postgresql_session_owner(f"{db_url}?ssl=disable", head=head_revision(), key_hash=None) is None
    await make_org(db, clock, "Globex")
    assert await quick_stdio_caller(Settings(database_url=db_url)) is None


async def test_a_key_found_by_the_quick_look_is_marked_used_once_the_server_is_assembled(db, db_url, clock, acme):
    caller, _project = acme
    row, key = await _key(db, clock, caller.org_id)
    settings = Settings(database_url=db_url, api_key=key)
    quick = await quick_stdio_caller(settings)
    assert quick is not None
    async with Client(build_server(settings, db=db, clock=clock, caller=quick)) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        assert "get_creator" in listed and "add_creators" not in listed  # a read key lists read tools only
        await client.call_tool("list_projects", {})
    async with db.read() as session:
        stored = await session.get(ApiKey, row.id)
    assert stored is not None and stored.last_used_at == clock.now()
