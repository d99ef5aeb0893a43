"""Every entity's full record, read through MCP, carries each field the product's data model names, by that name.

The field lists below are copied from the product's data model page ("For agents → Data model", kept at
`shared/seed/data-model-page.txt`; its text is scrambled after "Payout Payment": the trailing rows belong, in order,
to the tables above it) and from SPEC §4. A record is read wherever an agent can read it whole: the `get_*` tool's
structured content and its text, and the matching `trackagoat://…/{id}` resource.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from mcp import Client

from tests.conftest import make_org, make_server
from tests.server.conftest import ADMIN_TOOLSETS, FENCE_OPEN, World, error_text, mask, ok, seed_world, text_of, unfence
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.scope import Caller

PAGE_FIELDS: dict[str, set[str]] = {
    "project": {"id", "name", "description", "org_id", "created_at", "updated_at"},
    "creator": {
        "id",
        "project_id",
        "tiktok_handle",
        "display_name",
        "description",
        "metadata",
        "tracking_mode",
        "follower_count",
        "total_likes_count",
        "video_count",
        "last_scraped_at",
        "is_active",
    },
    "video": {
        "id",
        "creator_id",
        "url",
        "description",
        "metadata",
        "view_count",
        "like_count",
        "comment_count",
        "share_count",
        "tracking_status",
        "posted_at",
        "last_scraped_at",
        "updated_at",
    },
    "campaign": {"id", "project_id", "name", "description", "metadata", "created_at"},
    "payout_method": {"id", "org_id", "name", "icon_url", "is_default", "is_active", "metadata", "readme"},
    "payout_structure": {
        "id",
        "project_id",
        "name",
        "is_active",
        "current_version",
        "versions",
        "assignment_count",
        "metadata",
        "readme",
    },
    "payout_accrual": {
        "id",
        "creator_id",
        "structure_id",
        "structure_version_id",
        "period_start_at",
        "period_end_at",
        "amount_cents",
        "currency",
        "status",
        "inputs_snapshot",
    },
    "payout_payment": {
        "id",
        "project_id",
        "creator_id",
        "method_id",
        "method_name_snapshot",
        "total_amount_cents",
        "status",
        "paid_at",
        "payout_payment_lines",
        "payout_adjustments",
        "metadata",
        "readme",
    },
}
"""The data model page's fields per entity."""

PAGE_CURRENT_VERSION = {"period", "amount_cents", "currency", "criteria_type", "criteria_params", "proration_mode"}
"""The page's Payout Structure `current_version`: "Active rule snapshot: period, amount_cents, currency, …"."""

SPEC_FIELDS: dict[str, set[str]] = {
    "project": {"readme", "metadata"},
    "creator": {
        "tiktok_user_id",
        "sec_uid",
        "avatar_url",
        "readme",
        "tracking_start_date",
        "scrape_state",
        "disabled_reason",
    },
    "video": {
        "project_id",
        "tiktok_video_id",
        "caption",
        "readme",
        "save_count",
        "tracking_disabled_at",
        "is_photo",
    },
    "campaign": {"readme", "target_views", "target_at", "updated_at"},
    "payout_method": {"created_at", "updated_at"},
    "payout_structure": {"created_at", "updated_at"},
    "payout_accrual": {"outstanding_cents", "status_reason", "metadata", "readme", "created_at", "updated_at"},
    "payout_payment": {"currency", "idempotency_key", "void_reason", "created_at", "updated_at"},
}
"""SPEC §4's further fields per entity (beyond the page's)."""

SPEC_VERSION = PAGE_CURRENT_VERSION | {"version", "created_at"}
SPEC_LINE = {"accrual_id", "applied_amount_cents"}
SPEC_ADJUSTMENT = {"amount_cents", "kind", "reason"}


def data_of(text: str) -> Any:
    """The JSON a result or resource text carries (TikTok users' values unwrapped from their fence)."""
    return unfence(text).data if FENCE_OPEN.search(text) else json.loads(text)


def missing(record: dict[str, Any], entity: str) -> set[str]:
    """The page's and SPEC's fields of `entity` that `record` lacks."""
    return (PAGE_FIELDS[entity] | SPEC_FIELDS[entity]) - set(record)


async def pay_from_credit(client: Client, world: World) -> dict[str, Any]:
    """Pay everything the world's creator is owed: the 400-cent advance is spent first, so the payment has a line
    (the 1,000-cent accrual) and an adjustment (credit_applied, −400), and 600 cents were sent."""
    return ok(
        await client.call_tool(
            "create_payout_payment",
            {
                "project_id": str(world.project),
                "creator_id": str(world.creator),
                "method_id": str(world.of("method")),
                "auto_apply_outstanding": True,
                "idempotency_key": f"records-{world.creator}",
            },
        )
    )


async def seed_records(db: Database, clock: FrozenClock, org: tuple[Caller, uuid.UUID]) -> tuple[World, Any]:
    """`seed_world`, plus a second rule version of its structure and a payment with a line and an adjustment."""
    world = await seed_world(db, clock, org, "acme")
    async with Client(make_server(db, clock, world.caller, toolsets=ADMIN_TOOLSETS)) as client:
        update = ok(
            await client.call_tool(
                "update_payout_structure", {"structure_id": str(world.of("structure")), "amount_cents": 1500}
            )
        )
        assert update["new_version_created"] is True
        payment = await pay_from_credit(client, world)
    world.ids["paid"] = uuid.UUID(payment["id"])
    return world, payment


async def test_every_full_record_carries_the_data_model_pages_fields_in_tools_text_and_resources(db, clock, acme):
    world, _ = await seed_records(db, clock, acme)
    reads = {
        "project": ("get_project", {"project_id": str(world.project)}, f"projects/{world.project}"),
        "creator": ("get_creator", {"creator_id": str(world.creator)}, f"creators/{world.creator}"),
        "video": ("get_video", {"video_id": str(world.counted_video)}, f"videos/{world.counted_video}"),
        "campaign": ("get_campaign", {"campaign_id": str(world.campaign)}, f"campaigns/{world.campaign}"),
        "payout_structure": (
            "get_payout_structure",
            {"structure_id": str(world.of("structure"))},
            f"payout-structures/{world.of('structure')}",
        ),
        "payout_accrual": (
            "get_payout_accrual",
            {"accrual_id": str(world.of("accrual"))},
            f"payout-accruals/{world.of('accrual')}",
        ),
        "payout_payment": (
            "get_payout_payment",
            {"payment_id": str(world.of("paid"))},
            f"payout-payments/{world.of('paid')}",
        ),
    }
    records: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    async with Client(make_server(db, clock, world.caller, toolsets=ADMIN_TOOLSETS)) as client:
        for entity, (tool, arguments, path) in reads.items():
            result = await client.call_tool(tool, arguments)
            resource = (await client.read_resource(f"trackagoat://{path}")).contents[0]
            records[entity] = [
                (f"{tool} structured content", ok(result)),
                (f"{tool} text", data_of(text_of(result))),
                (f"trackagoat://{path}", data_of(resource.text)),  # type: ignore[union-attr]
            ]
        methods = ok(await client.call_tool("list_payout_methods", {"include_inactive": True}))["items"]
        records["payout_method"] = [("list_payout_methods item", method) for method in methods]

    assert set(records) == set(PAGE_FIELDS)
    gaps = [
        f"{where}: {sorted(missing(record, entity))}"
        for entity, readings in records.items()
        for where, record in readings
        if missing(record, entity)
    ]
    assert gaps == []
    for where, structure in records["payout_structure"]:
        assert [v["version"] for v in structure["versions"]] == [2, 1], where  # newest first
        for version in [structure["current_version"], *structure["versions"]]:
            assert SPEC_VERSION <= set(version), where
        assert structure["current_version"]["amount_cents"] == 1500 and structure["assignment_count"] == 1, where
    for where, payment in records["payout_payment"]:
        (line,) = payment["payout_payment_lines"]
        (adjustment,) = payment["payout_adjustments"]
        assert SPEC_LINE <= set(line) and SPEC_ADJUSTMENT <= set(adjustment), where
        assert (line["accrual_id"], line["applied_amount_cents"]) == (str(world.of("accrual")), 1000), where
        assert (adjustment["kind"], adjustment["amount_cents"], payment["total_amount_cents"]) == (
            "credit_applied",
            -400,
            600,
        ), where
        assert (payment["status"], payment["method_name_snapshot"]) == ("paid", "Wise"), where
    for where, accrual in records["payout_accrual"]:
        assert accrual["inputs_snapshot"], where
    (_, project), *_ = records["project"]
    assert project["org_id"] == str(world.caller.org_id)
    assert {method["org_id"] for _, method in records["payout_method"]} == {str(world.caller.org_id)}


async def test_get_schema_and_the_schema_resource_name_every_field_of_the_data_model_page(db, clock, acme):
    caller, _ = acme
    async with Client(make_server(db, clock, caller)) as client:
        tool = ok(await client.call_tool("get_schema", {}))
        resource = json.loads((await client.read_resource("trackagoat://schema")).contents[0].text)  # type: ignore[union-attr]

    for document in (tool, resource):
        entities = document["entities"]
        gaps = {e: sorted(PAGE_FIELDS[e] - set(entities[e]["fields"])) for e in PAGE_FIELDS if e in entities}
        assert set(PAGE_FIELDS) <= set(entities)
        assert gaps == dict.fromkeys(PAGE_FIELDS, [])
        assert "lines" not in entities["payout_payment"]["fields"]


async def test_a_payment_reads_back_by_id_with_its_lines_and_adjustments_and_stays_readable_once_voided(
    db, clock, acme
):
    world, created = await seed_records(db, clock, acme)
    async with Client(make_server(db, clock, world.caller, toolsets=frozenset({"payouts"}))) as client:
        got = ok(await client.call_tool("get_payout_payment", {"payment_id": str(world.of("paid"))}))
        ok(await client.call_tool("void_payout_payment", {"payment_id": str(world.of("paid")), "reason": "bounced"}))
        voided = ok(await client.call_tool("get_payout_payment", {"payment_id": str(world.of("paid"))}))
        owed = ok(await client.call_tool("get_payout_accrual", {"accrual_id": str(world.of("accrual"))}))

    assert got == created
    lines, adjustments = got["payout_payment_lines"], got["payout_adjustments"]
    assert sum(x["applied_amount_cents"] for x in lines) + sum(x["amount_cents"] for x in adjustments) == 600
    assert (voided["status"], voided["void_reason"]) == ("voided", "bounced")
    assert voided["payout_payment_lines"] == lines and voided["payout_adjustments"] == adjustments
    assert (owed["status"], owed["outstanding_cents"]) == ("earned", 1000)  # the voided payment no longer counts


async def test_an_accrual_read_by_id_has_its_inputs_and_keeps_the_version_it_was_earned_under(db, clock, acme):
    world, _ = await seed_records(db, clock, acme)
    async with Client(make_server(db, clock, world.caller, toolsets=frozenset({"payouts"}))) as client:
        accrual = ok(await client.call_tool("get_payout_accrual", {"accrual_id": str(world.of("accrual"))}))
        (listed,) = ok(await client.call_tool("list_payout_accruals", {}))["items"]
        structure = ok(await client.call_tool("get_payout_structure", {"structure_id": str(world.of("structure"))}))

    second, first = structure["versions"]  # newest first
    assert (accrual["structure_version_id"], accrual["structure_version"]) == (first["id"], 1)
    assert structure["current_version"]["id"] == second["id"] != accrual["structure_version_id"]
    assert accrual["inputs_snapshot"]["amount_cents"] == accrual["amount_cents"] == 1000
    assert listed["inputs_snapshot"] is None  # lists leave the large part out unless include_inputs=true
    assert {k: v for k, v in listed.items() if k != "inputs_snapshot"} == {
        k: v for k, v in accrual.items() if k != "inputs_snapshot"
    }


async def test_a_project_reads_back_with_its_organization_and_the_peoples_description(db, clock, acme):
    world, _ = await seed_records(db, clock, acme)
    async with Client(make_server(db, clock, world.caller)) as client:
        project = ok(await client.call_tool("get_project", {"project_id": str(world.project)}))
        (listed,) = ok(await client.call_tool("list_projects", {}))["items"]

    assert (project["id"], project["org_id"], project["name"]) == (
        str(world.project),
        str(world.caller.org_id),
        "Acme program",
    )
    assert project["name"] == listed["name"] and project["description"] == listed["description"]


async def test_a_read_only_key_reads_a_project_payment_and_accrual_by_id(db, clock, acme):
    world, _ = await seed_records(db, clock, acme)
    reader = Caller(world.caller.org_id, frozenset({"read"}))
    calls = {
        "get_project": {"project_id": str(world.project)},
        "get_payout_payment": {"payment_id": str(world.of("paid"))},
        "get_payout_accrual": {"accrual_id": str(world.of("accrual"))},
    }
    async with Client(make_server(db, clock, reader, toolsets=ADMIN_TOOLSETS)) as client:
        ids = {tool: ok(await client.call_tool(tool, arguments))["id"] for tool, arguments in calls.items()}

    assert ids == {tool: next(iter(arguments.values())) for tool, arguments in calls.items()}


async def test_another_organizations_project_payment_or_accrual_id_is_exactly_like_a_missing_one(db, clock, acme):
    victim, _ = await seed_records(db, clock, acme)
    intruder, _ = await make_org(db, clock, "Globex")
    cases = {
        "get_project": ("project_id", victim.project),
        "get_payout_payment": ("payment_id", victim.of("paid")),
        "get_payout_accrual": ("accrual_id", victim.of("accrual")),
    }
    async with Client(make_server(db, clock, intruder, toolsets=ADMIN_TOOLSETS)) as client:
        for tool, (argument, foreign) in cases.items():
            unknown = uuid.uuid4()
            foreign_error = error_text(await client.call_tool(tool, {argument: str(foreign)}))
            unknown_error = error_text(await client.call_tool(tool, {argument: str(unknown)}))

            assert "[not_found]" in foreign_error, foreign_error
            assert mask(foreign_error, foreign) == mask(unknown_error, unknown), tool
            assert "acme" not in foreign_error.lower(), tool
