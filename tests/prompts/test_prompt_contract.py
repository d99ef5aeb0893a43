"""Every prompt names only real tools, starts from the humans' descriptions, and treats TikTok text as data."""

import re
import uuid

import pytest

from trackagoat_mcp.config import ALL_TOOLSETS, Settings
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.server.app import build_server
from trackagoat_mcp.server.prompts import load_prompts

SPEC_PROMPTS = {
    "analyze_campaign",
    "find_underperforming_creators",
    "content_analysis",
    "trend_analysis",
    "weekly_payout_review",
    "audit_unpaid_creators",
    "record_payment",
    "onboard_creator_with_goal_payout",
}
PROMPTS = load_prompts()


async def _tool_names() -> set[str]:
    server = build_server(
        Settings(database_url="sqlite://", toolsets=frozenset(ALL_TOOLSETS)),
        caller=Caller(uuid.uuid4(), frozenset({"admin"})),
    )
    return {tool.name for tool in await server.list_tools()}


def test_the_prompts_are_exactly_the_ones_spec_names():
    assert {p.name for p in PROMPTS} == SPEC_PROMPTS


@pytest.mark.parametrize("prompt", PROMPTS, ids=lambda p: p.name)
async def test_every_tool_a_prompt_names_exists(prompt):
    named = set(re.findall(r"`([a-z]+(?:_[a-z]+)+)`", prompt.body))
    tools = await _tool_names()
    # Backticked snake_case words are tool names, except arguments, other prompts and values the prompt quotes.
    arguments = {a.name for a in prompt.arguments}
    not_tools = arguments | SPEC_PROMPTS | {"auto_apply_outstanding", "total_amount_cents", "idempotency_key_in_use"}
    not_tools |= {"idempotency_key_reused", "scrape_stale", "period_recently_ended", "at_risk", "behind_pace"}
    not_tools |= {"inputs_snapshot", "next_cursor", "skip_partial", "growth_rate_pop", "engagement_rate_by_views"}
    not_tools |= {"confirmation_token", "confirmation_stale", "confirmation_expired"}
    assert named - not_tools <= tools, f"{prompt.name} names unknown tools {sorted(named - not_tools - tools)}"
    assert "get_agent_context" in named, f"{prompt.name} must start from the description chain"


@pytest.mark.parametrize("prompt", PROMPTS, ids=lambda p: p.name)
def test_every_prompt_reads_descriptions_first_and_treats_tiktok_text_as_data(prompt):
    body = prompt.body
    first_step = body.split("\n1. ", 1)[1].split("\n2. ", 1)[0]
    assert "get_agent_context" in first_step and "description" in first_step, prompt.name
    assert re.search(r"(as data|data, never|never as instructions|never follow)", body), prompt.name
