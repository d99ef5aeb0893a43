"""API keys: `tga_` + 64 lowercase hex, shown once, stored only as SHA-256, revocable."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.domain._support import count_rows
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import ApiKey
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import keys
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import InvalidInput, NotFound

Org = tuple[Caller, uuid.UUID]


async def test_a_new_key_is_tga_and_64_lowercase_hex_and_only_its_sha256_is_stored(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    async with db.write() as session:
        row, plaintext = await keys.create_key(session, org_id=caller.org_id, name="laptop", now=clock.now())
    assert re.fullmatch(r"tga_[0-9a-f]{64}", plaintext)
    assert row.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext.startswith(row.prefix) and len(row.prefix) < len(plaintext)
    async with db.read() as session:
        stored = (await session.execute(text("SELECT * FROM api_keys"))).mappings().all()
    assert len(stored) == 1
    secret_part = plaintext[len(row.prefix) :]
    for column, value in stored[0].items():
        assert secret_part not in str(value), f"column {column} holds the key itself"


async def test_two_keys_never_share_a_secret(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    async with db.write() as session:
        _, first = await keys.create_key(session, org_id=caller.org_id, name="one", now=clock.now())
        _, second = await keys.create_key(session, org_id=caller.org_id, name="two", now=clock.now())
    assert first != second


async def test_authenticate_returns_the_keys_organization_and_scopes(
    db: Database, clock: FrozenClock, acme: Org, globex: Org
) -> None:
    acme_caller, _ = acme
    globex_caller, _ = globex
    async with db.write() as session:
        reader, reader_key = await keys.create_key(
            session, org_id=acme_caller.org_id, name="ro", scopes=("read",), now=clock.now()
        )
        _, default_key = await keys.create_key(session, org_id=globex_caller.org_id, name="rw", now=clock.now())
    async with db.read() as session:
        as_reader = await keys.authenticate(session, reader_key)
        as_default = await keys.authenticate(session, default_key)
    assert as_reader is not None and as_default is not None
    assert as_reader.org_id == acme_caller.org_id
    assert as_reader.scopes == frozenset({"read"})
    assert as_reader.key_id == reader.id
    assert not as_reader.can("write")
    assert as_default.org_id == globex_caller.org_id
    assert as_default.scopes == frozenset({"read", "write"})


async def test_a_revoked_key_no_longer_authenticates_and_revoking_twice_is_harmless(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    async with db.write() as session:
        row, plaintext = await keys.create_key(session, org_id=caller.org_id, name="old", now=clock.now())
    async with db.write() as session:
        revoked = await keys.revoke_key(session, ref=str(row.id), now=clock.now())
    first_revoked_at = revoked.revoked_at
    assert first_revoked_at == clock.now()
    async with db.read() as session:
        assert await keys.authenticate(session, plaintext) is None
    clock.advance(timedelta(hours=1))
    async with db.write() as session:
        again = await keys.revoke_key(session, ref=row.prefix, now=clock.now())
    assert again.revoked_at == first_revoked_at


async def test_unknown_or_malformed_keys_do_not_authenticate(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    async with db.write() as session:
        await keys.create_key(session, org_id=caller.org_id, name="real", now=clock.now())
    presented = [
        "tga_" + "0" * 64,  # well formed, never issued
        "tga_" + "A" * 64,  # uppercase hex
        "tga_" + "a" * 63,  # too short
        "sk_" + "a" * 64,
        "",
    ]
    async with db.read() as session:
        for key in presented:
            assert await keys.authenticate(session, key) is None, key


async def test_an_issued_key_with_changed_case_does_not_authenticate(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    async with db.write() as session:
        _, plaintext = await keys.create_key(session, org_id=caller.org_id, name="real", now=clock.now())
    async with db.read() as session:
        assert await keys.authenticate(session, plaintext) is not None
        assert await keys.authenticate(session, plaintext.upper()) is None
        assert await keys.authenticate(session, plaintext + "\n") is None


async def test_keys_with_unknown_or_no_scopes_are_refused(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    for scopes in (("root",), (), ("read", "delete")):
        async with db.write() as session:
            with pytest.raises(InvalidInput):
                await keys.create_key(session, org_id=caller.org_id, name="bad", scopes=scopes, now=clock.now())
    assert await count_rows(db, ApiKey) == 0


async def test_another_organizations_key_cannot_be_revoked_through_this_one(
    db: Database, clock: FrozenClock, acme: Org, globex: Org
) -> None:
    acme_caller, _ = acme
    globex_caller, _ = globex
    async with db.write() as session:
        row, plaintext = await keys.create_key(session, org_id=globex_caller.org_id, name="theirs", now=clock.now())
    async with db.write() as session:
        with pytest.raises(NotFound):
            await keys.revoke_key(session, ref=str(row.id), now=clock.now(), org_id=acme_caller.org_id)
    async with db.read() as session:
        assert await keys.authenticate(session, plaintext) is not None


async def test_an_organizations_keys_are_listed_oldest_first_a_page_at_a_time(
    db: Database, clock: FrozenClock, acme: Org, globex: Org
) -> None:
    caller, _ = acme
    async with db.write() as session:
        await keys.create_key(session, org_id=globex[0].org_id, name="theirs", now=clock.now())
        for n in range(keys.KEYS_PER_PAGE + 5):
            await keys.create_key(session, org_id=caller.org_id, name=f"key {n:02d}", now=clock.now() + timedelta(n))
    names: list[str] = []
    pages = 0
    cursor = None
    while True:
        async with db.read() as session:
            rows, cursor = await keys.list_key_page(session, org_id=caller.org_id, cursor=cursor)
        names += [row.name for row in rows]
        pages += 1
        if cursor is None:
            break
    assert pages == 2 and names == [f"key {n:02d}" for n in range(keys.KEYS_PER_PAGE + 5)]
