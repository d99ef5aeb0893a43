"""Readme and metadata are the agent's (capped); description is the human's (admin scope only)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from tests.conftest import make_org
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import campaigns, creators, notes
from trackagoat_mcp.domain.notes import METADATA_MAX_BYTES, METADATA_MAX_DEPTH, README_MAX_CHARS, merge_patch
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import Forbidden, InvalidInput

Org = tuple[Caller, uuid.UUID]

# RFC 7396 Appendix A, every example: (original, patch, result).
RFC7396_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "result"), RFC7396_EXAMPLES)
def test_merge_patch_follows_every_rfc7396_appendix_example(original: Any, patch: Any, result: Any) -> None:
    before_original, before_patch = copy.deepcopy(original), copy.deepcopy(patch)
    assert merge_patch(original, patch) == result
    assert original == before_original and patch == before_patch  # inputs are not modified


async def _creator(db: Database, clock: FrozenClock, org: Org) -> uuid.UUID:
    caller, project_id = org
    async with db.write() as session:
        added = await creators.add_creators(session, caller, project_id=project_id, handles=["alice"], now=clock.now())
    return added.results[0].creator_id


async def _stored(db: Database, caller: Caller, entity_type: str, entity_id: uuid.UUID) -> Any:
    async with db.read() as session:
        return await notes.load_entity(session, caller, entity_type, entity_id)


OBJECT_EXAMPLES = [e for e in RFC7396_EXAMPLES if isinstance(e[0], dict) and isinstance(e[1], dict)]


async def test_write_metadata_merges_and_stores_rfc7396_results(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    creator_id = await _creator(db, clock, acme)
    assert len(OBJECT_EXAMPLES) == 10
    for original, patch, result in OBJECT_EXAMPLES:
        async with db.write() as session:
            await notes.write_metadata(
                session, caller, "creator", creator_id, original, mode="replace", now=clock.now()
            )
        async with db.write() as session:
            await notes.write_metadata(session, caller, "creator", creator_id, patch, mode="merge", now=clock.now())
        assert (await _stored(db, caller, "creator", creator_id)).meta == result, (original, patch)


async def test_replace_mode_swaps_the_whole_object(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, project_id = acme
    async with db.write() as session:
        await notes.write_metadata(
            session, caller, "project", project_id, {"tier": "gold", "nested": {"x": 1}}, mode="merge", now=clock.now()
        )
    async with db.write() as session:
        await notes.write_metadata(
            session, caller, "project", project_id, {"owner": "kim"}, mode="replace", now=clock.now()
        )
    assert (await _stored(db, caller, "project", project_id)).meta == {"owner": "kim"}
    async with db.write() as session:
        await notes.write_metadata(session, caller, "project", project_id, {}, mode="replace", now=clock.now())
    assert (await _stored(db, caller, "project", project_id)).meta == {}


async def _assert_rejected_metadata(
    db: Database, clock: FrozenClock, caller: Caller, entity_id: uuid.UUID, patch: Any, mode: str = "merge"
) -> InvalidInput:
    before = (await _stored(db, caller, "creator", entity_id)).meta
    async with db.write() as session:
        with pytest.raises(InvalidInput) as exc:
            await notes.write_metadata(session, caller, "creator", entity_id, patch, mode=mode, now=clock.now())  # type: ignore[arg-type]
    assert (await _stored(db, caller, "creator", entity_id)).meta == before
    return exc.value


async def test_a_patch_that_is_not_an_object_is_rejected_and_nothing_changes(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    creator_id = await _creator(db, clock, acme)
    async with db.write() as session:
        await notes.write_metadata(session, caller, "creator", creator_id, {"keep": 1}, mode="merge", now=clock.now())
    for patch in (["a", "b"], "text", 42, None, True):
        for mode in ("merge", "replace"):
            error = await _assert_rejected_metadata(db, clock, caller, creator_id, patch, mode)
            assert "JSON object" in error.message
    assert (await _stored(db, caller, "creator", creator_id)).meta == {"keep": 1}


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"n": value}
    return value


async def test_metadata_nesting_is_capped(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    creator_id = await _creator(db, clock, acme)
    async with db.write() as session:
        await notes.write_metadata(
            session, caller, "creator", creator_id, _nested(METADATA_MAX_DEPTH), mode="replace", now=clock.now()
        )
    assert (await _stored(db, caller, "creator", creator_id)).meta == _nested(METADATA_MAX_DEPTH)
    error = await _assert_rejected_metadata(db, clock, caller, creator_id, _nested(METADATA_MAX_DEPTH + 1), "replace")
    assert f"{METADATA_MAX_DEPTH + 1} levels" in error.message
    # A merge that deepens the stored object past the cap is refused too.
    error = await _assert_rejected_metadata(db, clock, caller, creator_id, {"n": _nested(METADATA_MAX_DEPTH)})
    assert str(METADATA_MAX_DEPTH) in error.message


async def test_metadata_size_is_capped_in_utf8_bytes_of_compact_json(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    creator_id = await _creator(db, clock, acme)
    # {"k":"<n chars>"} is 8 bytes plus the string.
    at_cap = {"k": "x" * (METADATA_MAX_BYTES - 8)}
    async with db.write() as session:
        await notes.write_metadata(session, caller, "creator", creator_id, at_cap, mode="replace", now=clock.now())
    assert (await _stored(db, caller, "creator", creator_id)).meta == at_cap
    error = await _assert_rejected_metadata(
        db, clock, caller, creator_id, {"k": "x" * (METADATA_MAX_BYTES - 7)}, "replace"
    )
    assert f"{METADATA_MAX_BYTES:,}" in error.message
    # Half as many characters, but each "é" is two bytes: over the cap.
    await _assert_rejected_metadata(db, clock, caller, creator_id, {"k": "é" * (METADATA_MAX_BYTES // 2)}, "replace")
    # Growing the object by merging one more key past the cap is refused.
    await _assert_rejected_metadata(db, clock, caller, creator_id, {"more": "y"})


async def test_non_finite_numbers_are_rejected(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    creator_id = await _creator(db, clock, acme)
    async with db.write() as session:
        await notes.write_metadata(
            session, caller, "creator", creator_id, {"score": 1.5}, mode="merge", now=clock.now()
        )
    for bad in (float("nan"), float("inf"), float("-inf")):
        error = await _assert_rejected_metadata(db, clock, caller, creator_id, {"score": bad})
        assert "finite" in error.message
        await _assert_rejected_metadata(db, clock, caller, creator_id, {"deep": {"list": [1, bad]}}, "replace")
    assert (await _stored(db, caller, "creator", creator_id)).meta == {"score": 1.5}


async def test_readme_is_capped_and_a_rejected_readme_leaves_the_old_one(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    creator_id = await _creator(db, clock, acme)
    longest = "r" * README_MAX_CHARS
    async with db.write() as session:
        await notes.write_readme(session, caller, "creator", creator_id, longest, now=clock.now())
    assert (await _stored(db, caller, "creator", creator_id)).readme == longest
    async with db.write() as session:
        with pytest.raises(InvalidInput) as exc:
            await notes.write_readme(session, caller, "creator", creator_id, longest + "!", now=clock.now())
    assert f"{README_MAX_CHARS:,}" in exc.value.message
    assert (await _stored(db, caller, "creator", creator_id)).readme == longest
    async with db.write() as session:
        await notes.write_readme(session, caller, "creator", creator_id, None, now=clock.now())
    assert (await _stored(db, caller, "creator", creator_id)).readme is None


async def test_campaign_readme_over_the_cap_is_refused_at_creation(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, project_id = acme
    async with db.write() as session:
        with pytest.raises(InvalidInput):
            await campaigns.create_campaign(
                session, caller, project_id=project_id, name="Q1", readme="r" * (README_MAX_CHARS + 1), now=clock.now()
            )
    async with db.read() as session:
        assert (await campaigns.list_campaigns(session, caller)).items == []


async def test_description_needs_the_admin_scope(db: Database, clock: FrozenClock) -> None:
    admin, project_id = await make_org(db, clock, "Acme")
    writer = Caller(org_id=admin.org_id, scopes=frozenset({"read", "write"}))
    async with db.write() as session:
        await notes.set_description(session, admin, "project", project_id, "  Pay weekly.  ", now=clock.now())
    assert (await _stored(db, admin, "project", project_id)).description == "Pay weekly."
    async with db.write() as session:
        with pytest.raises(Forbidden) as exc:
            await notes.set_description(session, writer, "project", project_id, "Pay nobody.", now=clock.now())
    assert exc.value.code == "insufficient_scope"
    assert "'admin'" in exc.value.message
    assert (await _stored(db, admin, "project", project_id)).description == "Pay weekly."
    # A write-scoped key still writes its own notes on the same entity.
    async with db.write() as session:
        await notes.write_readme(session, writer, "project", project_id, "agent notes", now=clock.now())
    assert (await _stored(db, admin, "project", project_id)).readme == "agent notes"


async def test_an_overlong_description_is_refused_and_the_old_one_stays(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project_id = acme
    async with db.write() as session:
        await notes.set_description(session, caller, "project", project_id, "Original.", now=clock.now())
    async with db.write() as session:
        with pytest.raises(InvalidInput):
            await notes.set_description(
                session, caller, "project", project_id, "d" * (notes.DESCRIPTION_MAX_CHARS + 1), now=clock.now()
            )
    assert (await _stored(db, caller, "project", project_id)).description == "Original."


async def test_a_read_only_key_cannot_write_notes(db: Database, clock: FrozenClock) -> None:
    reader, project_id = await make_org(db, clock, "Readers", scopes=("read",))
    async with db.write() as session:
        with pytest.raises(Forbidden):
            await notes.write_metadata(session, reader, "project", project_id, {"a": 1}, mode="merge", now=clock.now())
        with pytest.raises(Forbidden):
            await notes.write_readme(session, reader, "project", project_id, "x", now=clock.now())
    stored = await _stored(db, reader, "project", project_id)
    assert stored.meta == {} and stored.readme is None


async def test_unknown_entity_types_and_modes_are_refused(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, project_id = acme
    async with db.write() as session:
        with pytest.raises(InvalidInput) as exc:
            await notes.write_readme(session, caller, "organization", project_id, "x", now=clock.now())
        assert "'organization'" in exc.value.message
        with pytest.raises(InvalidInput):
            await notes.write_metadata(session, caller, "project", project_id, {"a": 1}, mode="upsert", now=clock.now())  # type: ignore[arg-type]
