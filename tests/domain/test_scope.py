"""Organization isolation: another organization's id looks exactly like an id that does not exist."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import make_org
from tests.domain._support import count_rows, video_url
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import Creator, Video
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import campaigns, creators, notes, projects, videos
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import Forbidden, NotFound

Org = tuple[Caller, uuid.UUID]
Getter = Callable[[AsyncSession, Caller, Any], Awaitable[Any]]


async def _acme_entities(db: Database, clock: FrozenClock, acme: Org) -> dict[str, uuid.UUID]:
    caller, project_id = acme
    async with db.write() as session:
        added = await creators.add_creators(session, caller, project_id=project_id, handles=["alice"], now=clock.now())
        vids = await videos.add_videos(
            session, caller, project_id=project_id, urls=[video_url("alice", clock.now())], now=clock.now()
        )
        campaign = await campaigns.create_campaign(session, caller, project_id=project_id, name="Q1", now=clock.now())
    return {
        "project": project_id,
        "creator": added.results[0].creator_id,
        "video": vids.results[0].video_id,
        "campaign": campaign.id,
    }


def _note_reader(entity_type: str) -> Getter:
    async def read(session: AsyncSession, caller: Caller, entity_id: Any) -> Any:
        return await notes.load_entity(session, caller, entity_type, entity_id)

    return read


def _readme_writer(entity_type: str) -> Getter:
    async def write(session: AsyncSession, caller: Caller, entity_id: Any) -> Any:
        return await notes.write_readme(session, caller, entity_type, entity_id, "mine now", now=FrozenClock().now())

    return write


GETTERS: list[tuple[str, str, Getter]] = [
    ("get_project", "project", projects.get_project),
    ("get_creator", "creator", creators.get_creator),
    ("get_video", "video", videos.get_video),
    ("get_campaign_row", "campaign", campaigns.get_campaign_row),
    ("get_campaign", "campaign", campaigns.get_campaign),
    *[(f"load_entity:{kind}", kind, _note_reader(kind)) for kind in ("project", "creator", "video", "campaign")],
    *[(f"write_readme:{kind}", kind, _readme_writer(kind)) for kind in ("project", "creator", "video", "campaign")],
]


async def _not_found_message(db: Database, caller: Caller, getter: Getter, entity_id: Any) -> str:
    async with db.write() as session:
        with pytest.raises(NotFound) as exc:
            await getter(session, caller, entity_id)
    assert exc.value.code == "not_found"
    return exc.value.message


async def test_another_organizations_id_is_indistinguishable_from_a_missing_one(
    db: Database, clock: FrozenClock, acme: Org, globex: Org
) -> None:
    ids = await _acme_entities(db, clock, acme)
    outsider, _ = globex
    owner, _ = acme
    for name, kind, getter in GETTERS:
        theirs = ids[kind]
        random_id = uuid.uuid4()
        foreign = await _not_found_message(db, outsider, getter, theirs)
        missing = await _not_found_message(db, outsider, getter, random_id)
        assert foreign.replace(str(theirs), "<id>") == missing.replace(str(random_id), "<id>"), name
        assert str(theirs) in foreign, name
        # ...while the owner still sees it, untouched by the outsider's attempt.
        async with db.read() as session:
            row = await notes.load_entity(session, owner, kind, theirs)
        assert row.id == theirs, name
        assert row.readme is None, name


async def test_a_malformed_id_is_not_found_and_named(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    for name, kind, getter in GETTERS:
        message = await _not_found_message(db, caller, getter, "not-a-uuid")
        assert "'not-a-uuid'" in message, name
        assert kind in message, name


async def test_an_excluded_video_is_reported_exactly_like_a_missing_one(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    ids = await _acme_entities(db, clock, acme)
    caller, _ = acme
    async with db.write() as session:
        await session.execute(update(Video).where(Video.id == ids["video"]).values(tracking_status="excluded"))
    random_id = uuid.uuid4()
    hidden = await _not_found_message(db, caller, videos.get_video, ids["video"])
    missing = await _not_found_message(db, caller, videos.get_video, random_id)
    assert hidden.replace(str(ids["video"]), "<id>") == missing.replace(str(random_id), "<id>")


async def test_lists_never_show_another_organizations_rows(
    db: Database, clock: FrozenClock, acme: Org, globex: Org
) -> None:
    await _acme_entities(db, clock, acme)
    outsider, outsider_project = globex
    async with db.read() as session:
        assert (await creators.list_creators(session, outsider, status="all")).items == []
        assert (await videos.list_videos(session, outsider)).items == []
        assert (await campaigns.list_campaigns(session, outsider)).items == []
        assert [p.id for p in (await projects.list_projects(session, outsider)).items] == [outsider_project]


async def test_a_project_of_another_organization_cannot_receive_creators(
    db: Database, clock: FrozenClock, acme: Org, globex: Org
) -> None:
    _, acme_project = acme
    outsider, _ = globex
    async with db.write() as session:
        with pytest.raises(NotFound):
            await creators.add_creators(
                session, outsider, project_id=acme_project, handles=["mallory"], now=clock.now()
            )
    assert await count_rows(db, Creator) == 0


async def test_a_read_only_key_cannot_write(db: Database, clock: FrozenClock) -> None:
    reader, project_id = await make_org(db, clock, "Readers", scopes=("read",))
    async with db.write() as session:
        with pytest.raises(Forbidden) as exc:
            await creators.add_creators(session, reader, project_id=project_id, handles=["alice"], now=clock.now())
    assert exc.value.code == "insufficient_scope"
    assert "'write'" in exc.value.message


def test_stronger_scopes_imply_weaker_ones() -> None:
    admin = Caller(org_id=uuid.uuid4(), scopes=frozenset({"admin"}))
    writer = Caller(org_id=uuid.uuid4(), scopes=frozenset({"write"}))
    assert admin.effective_scopes == {"admin", "write", "read"}
    assert writer.can("read") and writer.can("write") and not writer.can("admin")


async def test_listing_videos_of_another_organizations_project_or_creator_is_not_found_and_of_an_empty_one_is_empty(
    db: Database, clock: FrozenClock, acme: Org, globex: Org
) -> None:
    ids = await _acme_entities(db, clock, acme)
    outsider, outsider_project = globex
    async with db.read() as session:
        for filters in ({"project_id": ids["project"]}, {"creator_id": ids["creator"]}, {"project_id": uuid.uuid4()}):
            with pytest.raises(NotFound):
                await videos.list_videos(session, outsider, **filters)
        assert (await videos.list_videos(session, outsider, project_id=outsider_project)).items == []
        assert (await videos.list_videos(session, acme[0], project_id=ids["project"])).items != []
