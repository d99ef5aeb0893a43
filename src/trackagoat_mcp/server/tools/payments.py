"""The `payouts` toolset, payments half: record payments exactly once, read, list and void them, and balances."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, ElicitationResult, Resolve
from mcp.types import CallToolResult
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.config import Settings
from trackagoat_mcp.domain.pagination import Page
from trackagoat_mcp.domain.payouts import balance, payment_records, payments
from trackagoat_mcp.domain.payouts.balance import PayoutBalance
from trackagoat_mcp.domain.payouts.effects import MoneyEffect, payment_effect, void_effect
from trackagoat_mcp.domain.payouts.payment_records import PaymentOut, PaymentSummary
from trackagoat_mcp.domain.payouts.payments import MAX_CENTS, MAX_LINES
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.server.auth import request_caller
from trackagoat_mcp.server.budget import fit_page, fit_page_of
from trackagoat_mcp.server.confirm import Approval, Check, Confirmation, Gate, TokenArg
from trackagoat_mcp.server.context import app_context, unit
from trackagoat_mcp.server.fencing import respond
from trackagoat_mcp.server.registry import ToolGroup
from trackagoat_mcp.server.tools import Cursor, Limit, ProjectId, id_arg

group = ToolGroup("payouts")

Cents = Annotated[int, Field(ge=1, le=MAX_CENTS)]
PaymentId = Annotated[str, id_arg("payout payment")]
OptionalId = Annotated[str | None, Field(min_length=1, max_length=64)]


class LineArg(BaseModel):
    """Money applied to one earned accrual."""

    accrual_id: Annotated[str, Field(min_length=1, max_length=64)]
    applied_amount_cents: Annotated[int | None, Field(ge=1, le=MAX_CENTS, description="Default: all outstanding.")] = (
        None
    )


def _payment_request(arguments: dict[str, Any]) -> payments.PaymentRequest:
    lines = arguments["lines"] or []
    return payments.PaymentRequest(
        project_id=arguments["project_id"],
        creator_id=arguments["creator_id"],
        method_id=arguments["method_id"],
        idempotency_key=arguments["idempotency_key"],
        total_amount_cents=arguments["total_amount_cents"],
        lines=tuple(payments.LineRequest(line.accrual_id, line.applied_amount_cents) for line in lines),
        auto_apply_outstanding=arguments["auto_apply_outstanding"],
        settle_in_full=arguments["settle_in_full"],
        paid_at=arguments["paid_at"],
        metadata=arguments["metadata"],
        readme=arguments["readme"],
    )


async def _payment_replays(session: AsyncSession, caller: Caller, arguments: dict[str, Any]) -> bool:
    return await payments.finished_payment(session, caller, _payment_request(arguments)) is not None


async def _dry_run_payment(
    session: AsyncSession, caller: Caller, arguments: dict[str, Any], now: datetime, settings: Settings
) -> MoneyEffect | None:
    request = _payment_request(arguments)
    payment = await payments.record_payment(session, caller, request, now=now)
    return await payment_effect(session, payment, paid_at_given=request.paid_at is not None)


PAYMENT = Confirmation("create_payout_payment", _dry_run_payment, replay=_payment_replays)


@group.tool(title="Record a payout payment", scope="write", idempotent=True)
@PAYMENT.bind
async def create_payout_payment(
    ctx: Context[Any],
    project_id: ProjectId,
    creator_id: Annotated[str | None, Field(min_length=1, max_length=64, description="null: an ad-hoc payment.")],
    method_id: Annotated[str, Field(min_length=1, max_length=64, description="An active payout method.")],
    idempotency_key: Annotated[
        str, Field(min_length=1, max_length=255, description="A new UUID per payment; reuse it only to retry.")
    ],
    gate: Annotated[Gate, Resolve(PAYMENT.gate)],
    answer: Annotated[ElicitationResult[Approval], Resolve(PAYMENT.ask)],
    total_amount_cents: Annotated[
        int | None, Field(ge=1, le=MAX_CENTS, description="Cents sent. Default: what is settled.")
    ] = None,
    lines: Annotated[list[LineArg], Field(max_length=MAX_LINES, description="Accruals to pay.")] = [],  # noqa: B006
    auto_apply_outstanding: Annotated[bool, Field(description="Pay earned accruals, oldest first.")] = False,
    settle_in_full: Annotated[bool, Field(description="Mark paid even if the total is short.")] = False,
    paid_at: Annotated[datetime | None, Field(description="Default: now.")] = None,
    metadata: dict[str, Any] | None = None,
    readme: Annotated[str | None, Field(max_length=20_000)] = None,
    confirmation_token: TokenArg = None,
) -> Annotated[CallToolResult, PaymentOut]:
    """Record money sent (USD cents) settling a creator's earned accruals. A retry with the same idempotency_key
    and arguments returns the first payment (replayed=true). auto_apply_outstanding=true pays all owed, oldest first
    (total defaults to it), or give lines. Credit is spent first; paying more books credit; settle_in_full writes a
    shortfall off. No lines: an advance held as credit. creator_id null: ad-hoc (total required)."""
    app = app_context(ctx)
    arguments: dict[str, Any] = {
        "project_id": project_id,
        "creator_id": creator_id,
        "method_id": method_id,
        "idempotency_key": idempotency_key,
        "total_amount_cents": total_amount_cents,
        "lines": lines,
        "auto_apply_outstanding": auto_apply_outstanding,
        "settle_in_full": settle_in_full,
        "paid_at": paid_at,
        "metadata": metadata,
        "readme": readme,
        "confirmation_token": confirmation_token,
    }
    request = _payment_request(arguments)

    async def write(check: Check | None) -> CallToolResult:
        async def in_transaction(session: AsyncSession, payment: PaymentOut) -> None:
            if check is not None:
                await check(session, await payment_effect(session, payment, paid_at_given=paid_at is not None))

        caller = request_caller(app)
        result = await payments.create_payout_payment(
            app.db, caller, request, now=app.clock.now(), check=in_transaction
        )
        return respond(result)

    return await PAYMENT.settle(ctx, arguments, gate, answer, write)


@group.tool(title="List payout payments")
@fit_page
async def list_payout_payments(
    ctx: Context[Any],
    project_id: OptionalId = None,
    creator_id: OptionalId = None,
    status: Literal["paid", "voided"] | None = None,
    from_: Annotated[date | None, Field(alias="from")] = None,
    to: date | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, Page[PaymentSummary]]:
    """List payments, newest paid_at first (compact rows; get_payout_payment has the full record). from/to are
    local days of paid_at."""
    async with unit(ctx) as u:
        page = await payment_records.list_payout_payments(
            u.session,
            u.caller,
            project_id=project_id,
            creator_id=creator_id,
            status=status,
            paid_from=from_,
            paid_to=to,
            cursor=cursor,
            limit=limit,
        )
    return respond(page)


@group.tool(title="Get a payout payment")
async def get_payout_payment(ctx: Context[Any], payment_id: PaymentId) -> Annotated[CallToolResult, PaymentOut]:
    """Get one payment with its payout_payment_lines (accruals settled) and payout_adjustments (credit, write-offs,
    ad-hoc)."""
    async with unit(ctx) as u:
        result = await payment_records.get_payout_payment(u.session, u.caller, payment_id)
    return respond(result)


async def _dry_run_void(
    session: AsyncSession, caller: Caller, arguments: dict[str, Any], now: datetime, settings: Settings
) -> MoneyEffect | None:
    voided = await payments.void_payout_payment(
        session, caller, arguments["payment_id"], reason=arguments["reason"], now=now
    )
    return await void_effect(session, voided)


VOID = Confirmation("void_payout_payment", _dry_run_void)


@group.tool(title="Void a payout payment", scope="write", destructive=True, idempotent=True)
@VOID.bind
async def void_payout_payment(
    ctx: Context[Any],
    payment_id: PaymentId,
    reason: Annotated[str, Field(min_length=1, max_length=2000)],
    gate: Annotated[Gate, Resolve(VOID.gate)],
    answer: Annotated[ElicitationResult[Approval], Resolve(VOID.ask)],
    confirmation_token: TokenArg = None,
) -> Annotated[CallToolResult, PaymentOut]:
    """Void a mistaken or bounced payment: its lines and adjustments stop counting, so what it paid is owed
    again and credit it spent is restored. Refused (credit_consumed) while a live payment spent its overpayment
    credit: void that first. Again: already_voided."""
    arguments = {"payment_id": payment_id, "reason": reason, "confirmation_token": confirmation_token}

    async def write(check: Check | None) -> CallToolResult:
        async with unit(ctx, write=True) as u:
            result = await payments.void_payout_payment(u.session, u.caller, payment_id, reason=reason, now=u.now)
            if check is not None:
                await check(u.session, await void_effect(u.session, result))
        return respond(result)

    return await VOID.settle(ctx, arguments, gate, answer, write)


@group.tool(title="Payout balance")
@fit_page_of("creators")
async def get_payout_balance(
    ctx: Context[Any],
    creator_id: OptionalId = None,
    project_id: OptionalId = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, PayoutBalance]:
    """Cents owed (outstanding of earned accruals), credit (unspent overpayments), net = owed − credit (negative:
    credit left), oldest unpaid period and earned accrual count. Exactly one of creator_id or project_id; a project
    also pages through its creators with a balance, by handle."""
    async with unit(ctx) as u:
        result = await balance.get_payout_balance(
            u.session, u.caller, creator_id=creator_id, project_id=project_id, cursor=cursor, limit=limit
        )
    return respond(result)
