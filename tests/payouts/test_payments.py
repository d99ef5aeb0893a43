"""Worked examples, one per Payments rule of SPEC §5: lines, partial lines, auto-apply oldest first, totals, credit,
settle_in_full, ad-hoc payments, methods. Every test ends with `audit()`, which re-derives the ledger from the rows and
checks the invariant total = Σ lines + Σ adjustments for every payment."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.domain._support import count_rows
from tests.payouts.payments_support import (
    FIRST_MONDAY,
    WEEK,
    Program,
    accrual,
    add_accrual,
    adjustments_of,
    applied_of,
    audit,
    pay,
    seed_program,
    void,
)
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import (
    IdempotencyKey,
    PayoutMethod,
    PayoutPayment,
    PayoutStructure,
    PayoutStructureVersion,
)
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import projects
from trackagoat_mcp.domain.payouts.payment_records import get_payout_payment, list_payout_payments
from trackagoat_mcp.errors import Conflict, InvalidInput, NotFound


@pytest.fixture
async def program(db: Database, clock: FrozenClock, acme) -> Program:
    return await seed_program(db, clock, acme)


async def test_a_line_for_the_whole_outstanding_marks_the_accrual_paid(db, clock, program):
    a = await add_accrual(db, program, program.alice, 10_000)

    payment = await pay(db, clock, program, program.alice, lines=[(a, None)])

    assert (payment.total_amount_cents, applied_of(payment), payment.payout_adjustments) == (10_000, {a: 10_000}, [])
    assert (payment.status, payment.currency, payment.paid_at) == ("paid", "USD", clock.now())
    row = await accrual(db, a)
    assert (row.status, row.outstanding_cents) == ("paid", 0)
    await audit(db, program.caller.org_id)


async def test_each_line_names_the_structure_so_two_accruals_of_one_week_are_told_apart(db, clock, program):
    async with db.write() as session:
        bonus = PayoutStructure(org_id=program.caller.org_id, project_id=program.project, name="Goal bonus")
        session.add(bonus)
        await session.flush()
        version = PayoutStructureVersion(
            structure_id=bonus.id, version=1, period="weekly", amount_cents=500, criteria_type="goals"
        )
        session.add(version)
    retainer = await add_accrual(db, program, program.alice, 10_000, week=0)
    bonus_accrual = await add_accrual(
        db, dataclasses.replace(program, structure=bonus.id, version=version.id), program.alice, 500, week=0
    )

    payment = await pay(db, clock, program, program.alice, auto_apply_outstanding=True)

    assert [
        (ln.structure_name, ln.structure_id, ln.period_start_at, ln.accrual_id) for ln in payment.payout_payment_lines
    ] == [
        ("Goal bonus", bonus.id, FIRST_MONDAY, bonus_accrual),
        ("Weekly retainer", program.structure, FIRST_MONDAY, retainer),
    ]
    await audit(db, program.caller.org_id)


async def test_a_partial_line_leaves_the_accrual_earned_with_the_rest_outstanding(db, clock, program):
    a = await add_accrual(db, program, program.alice, 10_000)

    first = await pay(db, clock, program, program.alice, lines=[(a, 4_000)])
    assert first.total_amount_cents == 4_000
    row = await accrual(db, a)
    assert (row.status, row.outstanding_cents) == ("earned", 6_000)

    second = await pay(db, clock, program, program.alice, lines=[(a, None)])
    assert applied_of(second) == {a: 6_000}
    assert (await accrual(db, a)).status == "paid"
    await audit(db, program.caller.org_id)


async def test_auto_apply_pays_the_oldest_period_first_and_leaves_the_rest(db, clock, program):
    newest = await add_accrual(db, program, program.alice, 1_000, week=2)
    oldest = await add_accrual(db, program, program.alice, 2_000, week=0)
    middle = await add_accrual(db, program, program.alice, 3_000, week=1)

    payment = await pay(db, clock, program, program.alice, auto_apply_outstanding=True, total_amount_cents=2_500)

    assert applied_of(payment) == {oldest: 2_000, middle: 500}
    assert [line.period_start_at for line in payment.payout_payment_lines] == [FIRST_MONDAY, FIRST_MONDAY + WEEK]
    assert [(r.status, r.outstanding_cents) for r in [await accrual(db, x) for x in (oldest, middle, newest)]] == [
        ("paid", 0),
        ("earned", 2_500),
        ("earned", 1_000),
    ]
    await audit(db, program.caller.org_id)


async def test_auto_apply_without_a_total_pays_everything_outstanding(db, clock, program):
    ids = [await add_accrual(db, program, program.alice, cents) for cents in (1_500, 2_500, 4_000)]
    bobs = await add_accrual(db, program, program.creators["bob"], 9_999)

    payment = await pay(db, clock, program, program.alice, auto_apply_outstanding=True)

    assert payment.total_amount_cents == 8_000
    assert applied_of(payment) == dict(zip(ids, (1_500, 2_500, 4_000), strict=True))
    assert (await accrual(db, bobs)).status == "earned"  # another creator's money is untouched
    ledger = await audit(db, program.caller.org_id)
    assert ledger.owed == {program.creators["bob"]: 9_999}


async def test_auto_apply_with_nothing_outstanding_is_refused(db, clock, program):
    with pytest.raises(Conflict) as refused:
        await pay(db, clock, program, program.alice, auto_apply_outstanding=True)

    assert refused.value.code == "nothing_outstanding"
    assert "@alice" in refused.value.message
    assert await count_rows(db, PayoutPayment) == 0


async def test_paying_more_than_applied_books_a_credit_that_the_next_payment_spends_first(db, clock, program):
    week0 = await add_accrual(db, program, program.alice, 5_000)
    first = await pay(db, clock, program, program.alice, lines=[(week0, None)], total_amount_cents=7_000)
    assert adjustments_of(first, "overpayment") == [2_000]
    assert (await audit(db, program.caller.org_id)).credit == {program.alice: 2_000}

    week1 = await add_accrual(db, program, program.alice, 3_000)
    second = await pay(db, clock, program, program.alice, auto_apply_outstanding=True)

    assert second.total_amount_cents == 1_000  # 3,000 owed − 2,000 credit
    [spent] = [a for a in second.payout_adjustments if a.kind == "credit_applied"]
    overpayment = next(a for a in first.payout_adjustments if a.kind == "overpayment")
    assert (spent.amount_cents, spent.source_adjustment_id) == (-2_000, overpayment.id)
    assert applied_of(second) == {week1: 3_000}
    ledger = await audit(db, program.caller.org_id)
    assert ledger.credit == {program.alice: 0} and ledger.owed == {}


async def test_credit_is_spent_from_the_oldest_overpayment_first(db, clock, program):
    older = await pay(db, clock, program, program.alice, total_amount_cents=1_000)  # an advance: all credit
    clock.advance(timedelta(minutes=1))
    newer = await pay(db, clock, program, program.alice, total_amount_cents=500)
    assert adjustments_of(older, "overpayment") == [1_000] and adjustments_of(newer, "overpayment") == [500]
    await add_accrual(db, program, program.alice, 1_200)

    payment = await pay(db, clock, program, program.alice, auto_apply_outstanding=True)

    sources = {older.payout_adjustments[0].id: "older", newer.payout_adjustments[0].id: "newer"}
    spent = {sources[a.source_adjustment_id]: a.amount_cents for a in payment.payout_adjustments}
    assert spent == {"older": -1_000, "newer": -200}
    assert payment.total_amount_cents == 0  # credit covered all of it; the record still settles the accrual
    assert (await audit(db, program.caller.org_id)).credit == {program.alice: 300}


async def test_settle_in_full_with_less_than_owed_marks_the_accruals_paid_and_books_an_underpayment(db, clock, program):
    a = await add_accrual(db, program, program.alice, 3_000)
    b = await add_accrual(db, program, program.alice, 2_000)

    payment = await pay(
        db, clock, program, program.alice, auto_apply_outstanding=True, settle_in_full=True, total_amount_cents=4_500
    )

    assert applied_of(payment) == {a: 3_000, b: 2_000}
    assert adjustments_of(payment, "underpayment") == [-500]
    assert [(await accrual(db, x)).status for x in (a, b)] == ["paid", "paid"]
    ledger = await audit(db, program.caller.org_id)
    assert ledger.owed == {} and ledger.credit == {}


async def test_settle_in_full_works_on_explicit_lines_and_needs_them_whole(db, clock, program):
    a = await add_accrual(db, program, program.alice, 3_000)
    with pytest.raises(InvalidInput, match="omit applied_amount_cents"):
        await pay(db, clock, program, program.alice, lines=[(a, 1_000)], settle_in_full=True, total_amount_cents=900)

    payment = await pay(
        db, clock, program, program.alice, lines=[(a, None)], settle_in_full=True, total_amount_cents=900
    )

    assert adjustments_of(payment, "underpayment") == [-2_100]
    assert (await accrual(db, a)).status == "paid"
    await audit(db, program.caller.org_id)


async def test_a_total_below_what_the_lines_apply_is_refused_without_settle_in_full(db, clock, program):
    a = await add_accrual(db, program, program.alice, 3_000)

    with pytest.raises(InvalidInput) as refused:
        await pay(db, clock, program, program.alice, lines=[(a, None)], total_amount_cents=2_000)

    assert "2000 cents ($20.00) is less than the 3000 cents ($30.00)" in refused.value.message
    assert "settle_in_full=true" in refused.value.message
    assert (await accrual(db, a)).outstanding_cents == 3_000
    assert await count_rows(db, PayoutPayment) == 0


async def test_every_payment_total_is_its_lines_plus_its_adjustments(db, clock, program):
    """One payment with money applied, credit spent and a new overpayment at once."""
    await pay(db, clock, program, program.alice, total_amount_cents=700)  # an advance: credit 700
    a = await add_accrual(db, program, program.alice, 1_000)
    b = await add_accrual(db, program, program.alice, 2_000)

    payment = await pay(db, clock, program, program.alice, lines=[(a, None), (b, 1_500)], total_amount_cents=2_000)

    assert sum(applied_of(payment).values()) == 2_500
    assert adjustments_of(payment, "credit_applied") == [-700]  # 2,500 applied − 700 credit = 1,800 due
    assert adjustments_of(payment, "overpayment") == [200]  # 2,000 sent − 1,800 due
    assert payment.total_amount_cents == 2_500 - 700 + 200
    ledger = await audit(db, program.caller.org_id)
    assert ledger.credit == {program.alice: 200} and ledger.owed == {program.alice: 500}


async def test_lines_only_take_earned_accruals_of_the_paid_creator(db, clock, program, globex):
    bobs = await add_accrual(db, program, program.creators["bob"], 1_000)
    with pytest.raises(InvalidInput, match="belongs to another creator"):
        await pay(db, clock, program, program.alice, lines=[(bobs, None)])

    other = await seed_program(db, clock, globex, handles=("carol",))
    foreign = await add_accrual(db, other, other.creators["carol"], 1_000)
    with pytest.raises(NotFound, match="No payout accrual"):
        await pay(db, clock, program, program.alice, lines=[(foreign, None)])

    mine = await add_accrual(db, program, program.alice, 1_000)
    with pytest.raises(Conflict) as too_much:
        await pay(db, clock, program, program.alice, lines=[(mine, 1_001)])
    assert too_much.value.code == "exceeds_outstanding"

    await pay(db, clock, program, program.alice, lines=[(mine, None)])
    with pytest.raises(Conflict) as paid:
        await pay(db, clock, program, program.alice, lines=[(mine, 1)])
    assert paid.value.code == "accrual_not_payable" and "'paid'" in paid.value.message
    assert await count_rows(db, PayoutPayment) == 1
    await audit(db, program.caller.org_id)


async def test_a_creator_is_paid_only_under_their_own_project(db, clock, program):
    async with db.write() as session:
        second = await projects.create_project(session, program.caller, name="Second program", now=clock.now())
    elsewhere = dataclasses.replace(program, project=second.id)

    with pytest.raises(InvalidInput, match="belongs to another project"):
        await pay(db, clock, elsewhere, program.alice, total_amount_cents=100)
    assert await count_rows(db, PayoutPayment) == 0


async def test_a_disabled_method_cannot_receive_new_payments(db, clock, program):
    a = await add_accrual(db, program, program.alice, 1_000)
    async with db.write() as session:
        await session.execute(update(PayoutMethod).where(PayoutMethod.id == program.venmo).values(is_active=False))

    with pytest.raises(Conflict) as refused:
        await pay(db, clock, program, program.alice, lines=[(a, None)], key="retry-me")

    assert refused.value.code == "method_inactive" and "'Venmo'" in refused.value.message
    assert await count_rows(db, PayoutPayment) == 0
    assert await count_rows(db, IdempotencyKey) == 0  # released: the corrected retry may use the same key
    payment = await pay(db, clock, program, program.alice, lines=[(a, None)], key="retry-me", method="PayPal")
    assert payment.method_name_snapshot == "PayPal"


async def test_the_method_name_snapshot_survives_a_rename(db, clock, program):
    payment = await pay(db, clock, program, program.alice, total_amount_cents=100)
    async with db.write() as session:
        await session.execute(update(PayoutMethod).where(PayoutMethod.id == program.venmo).values(name="Venmo Biz"))

    async with db.read() as session:
        again = await get_payout_payment(session, program.caller, payment.id)
    assert (again.method_name_snapshot, again.method_id) == ("Venmo", program.venmo)


async def test_an_ad_hoc_payment_has_no_creator_and_books_its_total_as_one_ad_hoc_adjustment(db, clock, program):
    payment = await pay(db, clock, program, None, total_amount_cents=2_500, metadata={"for": "event travel"})

    assert (payment.creator_id, payment.payout_payment_lines, adjustments_of(payment, "ad_hoc")) == (None, [], [2_500])
    assert payment.metadata == {"for": "event travel"}
    ledger = await audit(db, program.caller.org_id)
    assert ledger.credit == {} and ledger.owed == {}
    with pytest.raises(InvalidInput, match="ad-hoc payment"):
        await pay(db, clock, program, None, auto_apply_outstanding=True)
    with pytest.raises(InvalidInput, match="needs total_amount_cents"):
        await pay(db, clock, program, None)


async def test_a_creator_payment_without_lines_or_auto_apply_is_an_advance_held_as_credit(db, clock, program):
    sent = clock.now() - timedelta(days=3)  # recorded after the fact: paid_at keeps when the money went out

    payment = await pay(db, clock, program, program.alice, total_amount_cents=5_000, paid_at=sent)

    assert (payment.paid_at, payment.created_at) == (sent, clock.now())
    assert adjustments_of(payment, "overpayment") == [5_000]
    assert (await audit(db, program.caller.org_id)).credit == {program.alice: 5_000}
    with pytest.raises(InvalidInput, match="Nothing to pay"):
        await pay(db, clock, program, program.alice)


MALFORMED = [
    ({"total_amount_cents": 0}, "out of range"),
    ({"total_amount_cents": 10**10 + 1}, "out of range"),
    ({"total_amount_cents": -5}, "out of range"),
    ({"key": "x" * 256, "total_amount_cents": 1}, "1 to 255"),
    ({"key": "", "total_amount_cents": 1}, "1 to 255"),
    ({"key": "tab\there", "total_amount_cents": 1}, "printable ASCII"),
    ({"key": " padded", "total_amount_cents": 1}, "printable ASCII"),
    ({"total_amount_cents": 1, "paid_at": FIRST_MONDAY + timedelta(days=3650)}, "in the future"),
    ({"total_amount_cents": 1, "metadata": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}}, "nested"),
    ({"total_amount_cents": 1, "readme": "x" * 20_001}, "limit is 20,000"),
    ({"auto_apply_outstanding": True, "lines": [("A", None)]}, "not both"),
    ({"lines": [("A", 1), ("A", 2)]}, "two lines"),
    ({"lines": [("A", 0)]}, "out of range"),
    ({"settle_in_full": True, "total_amount_cents": 5}, "settle_in_full needs lines"),
]


async def test_malformed_requests_are_refused_before_the_key_is_touched(db, clock, program):
    a = await add_accrual(db, program, program.alice, 1_000)
    for arguments, message in MALFORMED:
        if "lines" in arguments:
            arguments = {**arguments, "lines": [(a, cents) for _, cents in arguments["lines"]]}
        with pytest.raises(InvalidInput, match=message):
            await pay(db, clock, program, program.alice, **arguments)

    with pytest.raises(NotFound):  # a well-formed id that is not there is found out inside the transaction
        await pay(db, clock, program, program.alice, lines=[(uuid.uuid4(), None)])
    assert await count_rows(db, PayoutPayment) == 0
    assert await count_rows(db, IdempotencyKey) == 0


async def test_list_payout_payments_filters_and_pages_newest_first(db, clock, program):
    day = clock.now()
    made = []
    for i, creator in enumerate((program.alice, program.alice, program.creators["bob"], None)):
        made.append(await pay(db, clock, program, creator, total_amount_cents=100 + i, paid_at=day - timedelta(days=i)))
    await void(db, clock, program, made[1].id)

    async def listed(**filters) -> list[int]:
        items, cursor = [], None
        while True:
            async with db.read() as session:
                page = await list_payout_payments(session, program.caller, limit=2, cursor=cursor, **filters)
            items += [p.total_amount_cents for p in page.items]
            if (cursor := page.next_cursor) is None:
                return items

    assert await listed() == [100, 101, 102, 103]
    assert await listed(creator_id=program.alice) == [100, 101]
    assert await listed(status="voided") == [101]
    assert await listed(project_id=program.project, status="paid") == [100, 102, 103]
    assert await listed(paid_from=(day - timedelta(days=2)).date(), paid_to=(day - timedelta(days=1)).date()) == [
        101,
        102,
    ]
    with pytest.raises(InvalidInput, match="is after"):
        await listed(paid_from=day.date(), paid_to=(day - timedelta(days=1)).date())
