"""Completions: ids by name or handle, handles and enums, always from the caller's organization."""

from mcp import Client
from mcp.types import PromptReference, ResourceTemplateReference

from tests.conftest import make_org, make_server
from trackagoat_mcp.domain import campaigns, creators, projects


async def _seed(db, clock, caller, project_id):
    async with db.write() as session:
        await creators.add_creators(
            session, caller, project_id=project_id, handles=["anna_bakes", "andy", "bob"], now=clock.now()
        )
        spring = await campaigns.create_campaign(
            session, caller, project_id=project_id, name="Spring launch", now=clock.now()
        )
        await campaigns.create_campaign(session, caller, project_id=project_id, name="Summer", now=clock.now())
        other = await projects.create_project(session, caller, name="Spare program", now=clock.now())
    return spring, other


async def test_ids_complete_from_names_and_handles_of_the_callers_org_only(db, clock, acme):
    caller, project_id = acme
    spring, _other = await _seed(db, clock, caller, project_id)
    globex, globex_project = await make_org(db, clock, "Globex")
    async with db.write() as session:
        await creators.add_creators(session, globex, project_id=globex_project, handles=["anonymous"], now=clock.now())

    prompt = PromptReference(type="ref/prompt", name="analyze_campaign")
    async with Client(make_server(db, clock, caller)) as client:
        by_name = await client.complete(prompt, {"name": "campaign_id", "value": "spr"})
        handles = await client.complete(
            PromptReference(type="ref/prompt", name="onboard_creator_with_goal_payout"),
            {"name": "handle", "value": "@an"},
        )
        projects_ = await client.complete(
            ResourceTemplateReference(type="ref/resource", uri="trackagoat://projects/{id}"),
            {"name": "id", "value": "a"},
        )
        periods = await client.complete(
            PromptReference(type="ref/prompt", name="find_underperforming_creators"), {"name": "period", "value": "w"}
        )
        nothing = await client.complete(prompt, {"name": "campaign_id", "value": "zzz"})

    assert by_name.completion.values == [str(spring.id)]
    assert handles.completion.values == ["andy", "anna_bakes"]  # not Globex's "anonymous"
    assert projects_.completion.values == [str(project_id)]  # "Acme program", not "Spare program" or Globex's
    assert periods.completion.values == ["weekly"]
    assert nothing.completion.values == []


async def test_creator_ids_narrow_to_the_chosen_project_and_context_entity_ids_follow_the_entity_type(db, clock, acme):
    caller, project_id = acme
    _spring, other = await _seed(db, clock, caller, project_id)
    async with db.write() as session:
        await creators.add_creators(session, caller, project_id=other.id, handles=["bobby"], now=clock.now())

    async with Client(make_server(db, clock, caller)) as client:
        everywhere = await client.complete(
            PromptReference(type="ref/prompt", name="record_payment"), {"name": "creator_id", "value": "bob"}
        )
        in_other = await client.complete(
            PromptReference(type="ref/prompt", name="record_payment"),
            {"name": "creator_id", "value": "bob"},
            context_arguments={"project_id": str(other.id)},
        )
        context_ids = await client.complete(
            ResourceTemplateReference(type="ref/resource", uri="trackagoat://context/{entity_type}/{id}"),
            {"name": "id", "value": "sum"},
            context_arguments={"entity_type": "campaign"},
        )
    assert len(everywhere.completion.values) == 2
    assert len(in_other.completion.values) == 1
    assert len(context_ids.completion.values) == 1


async def test_like_wildcards_in_the_typed_value_are_literal(db, clock, acme):
    caller, project_id = acme
    await _seed(db, clock, caller, project_id)
    async with Client(make_server(db, clock, caller)) as client:
        result = await client.complete(
            PromptReference(type="ref/prompt", name="onboard_creator_with_goal_payout"),
            {"name": "handle", "value": "%"},
        )
    assert result.completion.values == []
