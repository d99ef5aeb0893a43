"""get_payout_balance: owed, credit, net, oldest unpaid period, for one creator and for a project page by page."""

from __future__ import annotations

import pytest

from tests.payouts.payments_support import FIRST_MONDAY, WEEK, Program, add_accrual, audit, pay, seed_program, void
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.payouts.balance import PayoutBalance, get_payout_balance
from trackagoat_mcp.errors import InvalidInput, NotFound


@pytest.fixture
async def program(db: Database, clock: FrozenClock, acme) -> Program:
    return await seed_program(db, clock, acme, handles=("alice", "bob", "carol", "dave"))


async def _balance(db: Database, program: Program, **kwargs) -> PayoutBalance:
    async with db.read() as session:
        return await get_payout_balance(session, program.caller, **kwargs)


async def test_a_creator_balance_is_owed_minus_credit_with_the_oldest_unpaid_period(db, clock, program):
    paid = await add_accrual(db, program, program.alice, 1_000, week=0)
    await add_accrual(db, program, program.alice, 2_000, week=1)
    await add_accrual(db, program, program.alice, 3_000, week=2)
    await pay(db, clock, program, program.alice, lines=[(paid, None)], total_amount_cents=1_400)  # 400 credit

    balance = await _balance(db, program, creator_id=program.alice)

    assert (balance.owed_cents, balance.credit_cents, balance.net_cents) == (5_000, 400, 4_600)
    assert (balance.oldest_unpaid_period_start_at, balance.earned_accrual_count) == (FIRST_MONDAY + WEEK, 2)
    assert (balance.creator_id, balance.project_id, balance.creators, balance.currency) == (
        program.alice,
        program.project,
        [],
        "USD",
    )


async def test_credit_beyond_what_is_owed_shows_as_a_negative_net_not_zero(db, clock, program):
    await pay(db, clock, program, program.alice, total_amount_cents=2_500)
    await add_accrual(db, program, program.alice, 1_000)

    balance = await _balance(db, program, creator_id=program.alice)

    assert (balance.owed_cents, balance.credit_cents, balance.net_cents) == (1_000, 2_500, -1_500)


async def test_a_project_balance_totals_its_creators_and_pages_through_those_with_money(db, clock, program):
    for handle, cents in (("dave", 700), ("bob", 300), ("alice", 100)):
        await add_accrual(db, program, program.creators[handle], cents)
    await pay(db, clock, program, program.creators["carol"], total_amount_cents=50)  # credit only
    await pay(db, clock, program, None, total_amount_cents=999)  # ad hoc: in no balance
    settled = await add_accrual(db, program, program.creators["bob"], 5_000)
    voided = await pay(db, clock, program, program.creators["bob"], lines=[(settled, None)])
    await void(db, clock, program, voided.id)  # bob owes 5,300 again

    pages, cursor = [], None
    while True:
        page = await _balance(db, program, project_id=program.project, limit=2, cursor=cursor)
        pages.append([(c.tiktok_handle, c.owed_cents, c.credit_cents, c.net_cents) for c in page.creators])
        cursor = page.next_cursor
        if cursor is None:
            break

    assert pages == [[("alice", 100, 0, 100), ("bob", 5_300, 0, 5_300)], [("carol", 0, 50, -50), ("dave", 700, 0, 700)]]
    assert (page.owed_cents, page.credit_cents, page.net_cents, page.earned_accrual_count) == (6_100, 50, 6_050, 4)
    ledger = await audit(db, program.caller.org_id)
    assert sum(ledger.owed.values()) == page.owed_cents and sum(ledger.credit.values()) == page.credit_cents
    assert page.oldest_unpaid_period_start_at == min(ledger.oldest.values())


async def test_a_balance_needs_exactly_one_scope_of_this_organization(db, clock, program, globex):
    with pytest.raises(InvalidInput, match="exactly one of creator_id"):
        await _balance(db, program)
    with pytest.raises(InvalidInput, match="exactly one of creator_id"):
        await _balance(db, program, creator_id=program.alice, project_id=program.project)
    other = await seed_program(db, clock, globex, handles=("zed",))
    with pytest.raises(NotFound, match="No creator"):
        await _balance(db, program, creator_id=other.creators["zed"])
    with pytest.raises(NotFound, match="No project"):
        await _balance(db, program, project_id=other.project)
    empty = await _balance(db, program, project_id=program.project)
    assert (empty.owed_cents, empty.creators, empty.oldest_unpaid_period_start_at) == (0, [], None)
