"""Payout methods: the three defaults of every organization, custom methods, and what may not be deleted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command

from tests.payouts.accrual_support import make_program
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.migrate import alembic_config, upgrade
from trackagoat_mcp.db.models import Organization, PayoutMethod, PayoutPayment
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.payouts import methods
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import Conflict, InvalidInput


async def listed(db: Database, caller: Caller, *, include_inactive: bool = False) -> list[tuple[str, bool, bool]]:
    async with db.read() as session:
        page = await methods.list_methods(session, caller, include_inactive=include_inactive)
    return [(m.name, m.is_default, m.is_active) for m in page.items]


async def test_every_new_organization_starts_with_venmo_cash_app_and_paypal(db: Database, clock: FrozenClock) -> None:
    acme = await make_program(db, clock)
    globex = await make_program(db, clock, name="Globex")

    for program in (acme, globex):
        assert await listed(db, program.caller) == [
            ("Cash App", True, True),
            ("PayPal", True, True),
            ("Venmo", True, True),
        ]


async def test_custom_methods_are_validated_and_unique_per_organization_ignoring_case(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    other = await make_program(db, clock, name="Globex")

    async def create(caller: Caller, name: str, icon_url: str | None = None) -> methods.PayoutMethodOut:
        async with db.write() as session:
            return await methods.create_method(session, caller, name=name, icon_url=icon_url, now=clock.now())

    zelle = await create(program.caller, "  Zelle ", "https://cdn.example.com/zelle.png")
    assert (zelle.name, zelle.icon_url, zelle.is_default) == ("Zelle", "https://cdn.example.com/zelle.png", False)
    assert (await create(other.caller, "Zelle")).name == "Zelle"  # another organization's namespace
    with pytest.raises(Conflict) as taken:
        await create(program.caller, "zelle")
    assert taken.value.code == "method_name_taken" and "'Zelle'" in taken.value.message
    with pytest.raises(Conflict):
        await create(program.caller, "PAYPAL")
    for bad_icon in ("javascript:alert(1)", "ftp://example.com/x.png", "not a url", "https://"):
        with pytest.raises(InvalidInput, match="is not an http"):
            await create(program.caller, "Wise", bad_icon)
    with pytest.raises(InvalidInput, match="101 characters long; the limit is 100"):
        await create(program.caller, "x" * 101)
    with pytest.raises(InvalidInput, match="must not be empty"):
        await create(program.caller, "   ")


async def test_defaults_can_be_disabled_but_not_renamed_or_deleted(db: Database, clock: FrozenClock) -> None:
    program = await make_program(db, clock)
    ids = dict(await _ids(db, program.caller))

    async with db.write() as session:
        disabled = await methods.update_method(session, program.caller, ids["Venmo"], now=clock.now(), is_active=False)
        with pytest.raises(Conflict) as rename:
            await methods.update_method(session, program.caller, ids["PayPal"], now=clock.now(), name="PayPal Business")
        with pytest.raises(Conflict) as delete:
            await methods.delete_method(session, program.caller, ids["Cash App"])
    assert disabled.is_active is False
    assert rename.value.code == delete.value.code == "default_method"
    assert "update_payout_method(is_active=false)" in delete.value.message
    assert [name for name, _, _ in await listed(db, program.caller)] == ["Cash App", "PayPal"]
    assert ("Venmo", True, False) in await listed(db, program.caller, include_inactive=True)


async def test_a_custom_method_with_payments_cannot_be_deleted_one_without_can(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    async with db.write() as session:
        used = await methods.create_method(session, program.caller, name="Wise", now=clock.now())
        unused = await methods.create_method(session, program.caller, name="Zelle", now=clock.now())
        renamed = await methods.update_method(
            session, program.caller, unused.id, now=clock.now(), name="Zelle US", icon_url="http://x.example/i.png"
        )
        cleared = await methods.update_method(session, program.caller, unused.id, now=clock.now(), icon_url=None)
        session.add(
            PayoutPayment(
                org_id=program.caller.org_id,
                project_id=program.project,
                method_id=used.id,
                method_name_snapshot="Wise",
                total_amount_cents=100,
                paid_at=clock.now(),
                idempotency_key="k1",
            )
        )
    assert (renamed.name, renamed.icon_url, cleared.icon_url) == ("Zelle US", "http://x.example/i.png", None)

    async with db.write() as session:
        with pytest.raises(Conflict) as in_use:
            await methods.delete_method(session, program.caller, used.id)
        deleted = await methods.delete_method(session, program.caller, unused.id)
    assert in_use.value.code == "method_in_use" and "1 payment(s)" in in_use.value.message
    assert deleted.name == "Zelle US"
    assert [name for name, _, _ in await listed(db, program.caller)] == ["Cash App", "PayPal", "Venmo", "Wise"]


async def _ids(db: Database, caller: Caller) -> list[tuple[str, uuid.UUID]]:
    async with db.read() as session:
        page = await methods.list_methods(session, caller, include_inactive=True)
    return [(m.name, m.id) for m in page.items]


async def test_migration_0005_gives_the_defaults_to_organizations_that_existed_before(
    db_url: str, db: Database
) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    async with db.write() as session:  # an organization as 0004 left it: no methods, or only some
        bare = Organization(name="Bare", created_at=now, updated_at=now)
        partial = Organization(name="Partial", created_at=now, updated_at=now)
        session.add_all([bare, partial])
        await session.flush()
        session.add(PayoutMethod(org_id=partial.id, name="PayPal", is_default=True, is_active=False))

    await _stamp(db, db_url, "0004")  # the store believes it stands before 0005 ...
    try:
        await upgrade(db_url, "0005")  # ... so this runs 0005 alone
        await upgrade(db_url, "0005")  # and this nothing
    finally:
        await _stamp(db, db_url, "head")

    assert await listed(db, Caller(bare.id, frozenset({"read"}))) == [
        ("Cash App", True, True),
        ("PayPal", True, True),
        ("Venmo", True, True),
    ]
    assert await listed(db, Caller(partial.id, frozenset({"read"})), include_inactive=True) == [
        ("Cash App", True, True),
        ("PayPal", True, False),  # kept as it was
        ("Venmo", True, True),
    ]


async def _stamp(db: Database, url: str, revision: str) -> None:
    """Set the store's recorded migration revision without running anything."""
    async with db.engine.begin() as conn:

        def stamp(sync_conn: Any) -> None:
            config = alembic_config(url)
            config.attributes["connection"] = sync_conn
            command.stamp(config, revision)

        await conn.run_sync(stamp)
