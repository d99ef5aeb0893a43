"""`/payout-accruals`, `/payout-payments`, `/payout-balances`: the payouts tools' domain calls.

`POST /payout-payments` requires an `Idempotency-Key`: the header is both the REST request's key (the stored
response is replayed byte for byte) and the payment's own idempotency key in the domain, so a REST retry and an MCP
`create_payout_payment` with the same key can never both write a payment. Voiding is `POST …/{id}/void` (trackagoat's
docs leave its shape unrecovered). Accrual and payment lists also answer `?format=csv` (every page's rows are read
and written; at most `CSV_MAX_ROWS`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from trackagoat_mcp.domain.pagination import MAX_LIMIT, Page
from trackagoat_mcp.domain.payouts import accrual_records, balance, payment_records, payments
from trackagoat_mcp.domain.payouts.accrual_records import AccrualOut
from trackagoat_mcp.domain.payouts.balance import PayoutBalance
from trackagoat_mcp.domain.payouts.payment_records import PaymentOut, PaymentSummary
from trackagoat_mcp.domain.payouts.payments import MAX_CENTS, MAX_LINES
from trackagoat_mcp.http.rest.common import Body, Day, Id, ListQuery, Moment, in_org_time
from trackagoat_mcp.http.rest.csv_export import CSV_RESPONSE, csv_response
from trackagoat_mcp.http.rest.deps import CallerDep, StateDep
from trackagoat_mcp.http.rest.envelope import Envelope, PageEnvelope, page_response, success
from trackagoat_mcp.http.rest.idempotency import RequiredIdempotencyKey, begin

router = APIRouter(tags=["payouts"])

OptionalId = Annotated[str | None, Field(min_length=1, max_length=64)]


class AccrualQuery(ListQuery):
    """Filters of the accrual list; `creator_id` + `status=earned` is what a creator is owed."""

    project_id: OptionalId = None
    creator_id: OptionalId = None
    structure_id: OptionalId = None
    status: Literal["earned", "paid", "rejected", "voided"] | None = None
    period_from: Day | None = None
    period_to: Day | None = None
    newest_first: bool = False
    include_inputs: bool = False
    format: Literal["json", "csv"] = "json"


class AccrualPatch(Body):
    """Reject (never earned), void (not owed) or restore an accrual."""

    action: Literal["reject", "void", "restore"]
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class PaymentQuery(ListQuery):
    """Filters of the payment list (`from`/`to`: local days of `paid_at`)."""

    project_id: OptionalId = None
    creator_id: OptionalId = None
    status: Literal["paid", "voided"] | None = None
    from_: Annotated[Day | None, Field(alias="from")] = None
    to: Day | None = None
    format: Literal["json", "csv"] = "json"


class BalanceQuery(ListQuery):
    """Exactly one of `creator_id` or `project_id`."""

    creator_id: OptionalId = None
    project_id: OptionalId = None


class LineIn(BaseModel):
    """Money applied to one earned accrual."""

    model_config = Body.model_config

    accrual_id: Annotated[str, Field(min_length=1, max_length=64)]
    applied_amount_cents: Annotated[int | None, Field(ge=1, le=MAX_CENTS)] = None


class PaymentIn(Body):
    """A payment to record (the `Idempotency-Key` header is its idempotency key)."""

    project_id: Annotated[str, Field(min_length=1, max_length=64)]
    creator_id: Annotated[str | None, Field(min_length=1, max_length=64, description="null: ad-hoc.")] = None
    method_id: Annotated[str, Field(min_length=1, max_length=64)]
    total_amount_cents: Annotated[int | None, Field(ge=1, le=MAX_CENTS)] = None
    lines: Annotated[list[LineIn], Field(max_length=MAX_LINES)] = []
    auto_apply_outstanding: bool = False
    settle_in_full: bool = False
    paid_at: Moment | None = None
    metadata: dict[str, Any] | None = None
    readme: Annotated[str | None, Field(max_length=20_000)] = None


class VoidIn(Body):
    """Why the payment is voided."""

    reason: Annotated[str, Field(min_length=1, max_length=2000)]


async def _accrual_page(state: StateDep, caller: CallerDep, q: AccrualQuery, cursor: str | None) -> Page[AccrualOut]:
    async with state.db.read() as session:
        return await accrual_records.list_accruals(
            session,
            caller,
            project_id=q.project_id,
            creator_id=q.creator_id,
            structure_id=q.structure_id,
            status=q.status,
            period_from=q.period_from,
            period_to=q.period_to,
            newest_first=q.newest_first,
            include_inputs=q.include_inputs,
            limit=q.limit,
            cursor=cursor,
        )


@router.get("/payout-accruals", response_model=PageEnvelope[AccrualOut], responses=CSV_RESPONSE)
async def list_accruals(state: StateDep, caller: CallerDep, q: Annotated[AccrualQuery, Query()]) -> Response:
    """Accruals, oldest period first; `?format=csv` exports every matching row."""
    if q.format == "csv":
        full = q.model_copy(update={"limit": MAX_LIMIT})
        return await csv_response("payout-accruals", AccrualOut, lambda c: _accrual_page(state, caller, full, c))
    return page_response(await _accrual_page(state, caller, q, q.cursor))


@router.get("/payout-accruals/{accrual_id}", response_model=Envelope[AccrualOut])
async def get_accrual(state: StateDep, caller: CallerDep, accrual_id: Id) -> Response:
    """One accrual with its inputs snapshot."""
    async with state.db.read() as session:
        return success(await accrual_records.get_accrual(session, caller, accrual_id))


@router.patch("/payout-accruals/{accrual_id}", response_model=Envelope[AccrualOut])
async def update_accrual(state: StateDep, caller: CallerDep, accrual_id: Id, body: AccrualPatch) -> Response:
    """Reject, void or restore an unpaid accrual (409 accrual_paid, no_change)."""
    async with state.db.write() as session:
        result = await accrual_records.update_accrual(
            session, caller, accrual_id, action=body.action, reason=body.reason, now=state.clock.now()
        )
    return success(result)


def _payment_pages(state: StateDep, caller: CallerDep, q: PaymentQuery) -> Callable[[str | None], Awaitable[Any]]:
    async def one(cursor: str | None) -> Page[PaymentSummary]:
        async with state.db.read() as session:
            return await payment_records.list_payout_payments(
                session,
                caller,
                project_id=q.project_id,
                creator_id=q.creator_id,
                status=q.status,
                paid_from=q.from_,
                paid_to=q.to,
                cursor=cursor,
                limit=q.limit,
            )

    return one


@router.get("/payout-payments", response_model=PageEnvelope[PaymentSummary], responses=CSV_RESPONSE)
async def list_payments(state: StateDep, caller: CallerDep, q: Annotated[PaymentQuery, Query()]) -> Response:
    """Payments, newest `paid_at` first; `?format=csv` exports every matching row."""
    if q.format == "csv":
        full = _payment_pages(state, caller, q.model_copy(update={"limit": MAX_LIMIT}))
        return await csv_response("payout-payments", PaymentSummary, full)
    return page_response(await _payment_pages(state, caller, q)(q.cursor))


@router.get("/payout-payments/{payment_id}", response_model=Envelope[PaymentOut])
async def get_payment(state: StateDep, caller: CallerDep, payment_id: Id) -> Response:
    """One payment with its `payout_payment_lines` and `payout_adjustments`."""
    async with state.db.read() as session:
        return success(await payment_records.get_payout_payment(session, caller, payment_id))


@router.post("/payout-payments", status_code=201, response_model=Envelope[PaymentOut])
async def create_payment(
    request: Request, state: StateDep, caller: CallerDep, body: PaymentIn, key: RequiredIdempotencyKey
) -> Response:
    """Record a payment exactly once (Idempotency-Key required; see the module docstring)."""
    slot = await begin(request, state, caller)
    if slot.replay is not None:
        return slot.replay
    payment = payments.PaymentRequest(
        project_id=body.project_id,
        creator_id=body.creator_id,
        method_id=body.method_id,
        idempotency_key=key,
        total_amount_cents=body.total_amount_cents,
        lines=tuple(payments.LineRequest(line.accrual_id, line.applied_amount_cents) for line in body.lines),
        auto_apply_outstanding=body.auto_apply_outstanding,
        settle_in_full=body.settle_in_full,
        paid_at=await in_org_time(state, caller, body.paid_at, "paid_at"),
        metadata=body.metadata,
        readme=body.readme,
    )
    async with slot.guard():
        result = await payments.create_payout_payment(state.db, caller, payment, now=state.clock.now())
        async with state.db.write() as session:
            return await slot.respond(session, result)


@router.post("/payout-payments/{payment_id}/void", response_model=Envelope[PaymentOut])
async def void_payment(state: StateDep, caller: CallerDep, payment_id: Id, body: VoidIn) -> Response:
    """Void a payment: the accruals it paid are owed again (409 credit_consumed, already_voided)."""
    async with state.db.write() as session:
        result = await payments.void_payout_payment(
            session, caller, payment_id, reason=body.reason, now=state.clock.now()
        )
    return success(result)


@router.get("/payout-balances", response_model=Envelope[PayoutBalance])
async def get_balance(state: StateDep, caller: CallerDep, q: Annotated[BalanceQuery, Query()]) -> Response:
    """Owed, credit and net of one creator, or of a project with its creators paged (`meta` is null; see data)."""
    async with state.db.read() as session:
        result = await balance.get_payout_balance(
            session, caller, creator_id=q.creator_id, project_id=q.project_id, cursor=q.cursor, limit=q.limit
        )
    return success(result)
