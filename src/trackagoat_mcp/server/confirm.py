"""Confirmation before money moves: a person approves the exact effect of a money-moving tool call.

`create_payout_payment`, `void_payout_payment`, `update_payout_accrual` (reject, void) and `assign_payout_structure`
each declare a `Confirmation`. Before the tool body runs, its `gate` resolver works the call out in a dry run (the
real code in a transaction that is rolled back, `effects`) and decides how the person confirms it, by
`TRACKAGOAT_MONEY_CONFIRMATION`:

* `elicit` (default): the `ask` resolver shows the effect through elicitation (`Resolve(Elicit(...))`, which works in
  both protocol eras: an `elicitation/create` request in 2025-era sessions, an `InputRequiredResult` round in
  2026-07-28 ones). Accept writes; decline or cancel writes nothing and says so. A client that declared no
  elicitation gets the token flow instead.
* `token`: the first call answers `[confirmation_required]` with the preview and a confirmation token (see
  `domain.payouts.confirmations`); only a second call with the same arguments and `confirmation_token` writes.
* `off`: writes at once, for trusted automation.

Whatever the route, the write describes its own effect inside its transaction and refuses (`confirmation_stale`)
unless it is the one confirmed, so a ledger that changed while the person read never gets a write they did not see.
A call with nothing to confirm (an idempotent replay of a finished payment, an assignment that already exists) runs
as before. A token is signed with a key derived from the first `TRACKAGOAT_REQUEST_STATE_KEYS` entry when set (the
same on every replica), else with a random key of the process (tokens then die with it; the person re-confirms).
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import AcceptedElicitation, CancelledElicitation, Context, Elicit, ElicitationResult, Resolve
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.config import Settings
from trackagoat_mcp.domain.payouts import confirmations
from trackagoat_mcp.domain.payouts.effects import MoneyEffect
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import Conflict, TrackagoatError
from trackagoat_mcp.server.auth import request_caller
from trackagoat_mcp.server.context import app_context
from trackagoat_mcp.server.fencing import compact_json
from trackagoat_mcp.server.registry import on_the_calendar, unstorable_text

__all__ = ["Approval", "Check", "Confirmation", "Gate", "TokenArg", "confirmation_key"]

T = TypeVar("T")
Check = Callable[[AsyncSession, MoneyEffect | None], Awaitable[None]]
"""Runs in the write's transaction with the effect about to commit; raising rolls the write back."""
Write = Callable[[Check | None], Awaitable[T]]
DryRun = Callable[[AsyncSession, Caller, dict[str, Any], datetime, Settings], Awaitable[MoneyEffect | None]]
"""Works a call out in a session that is rolled back and describes its effect (None: nothing to confirm)."""
Replay = Callable[[AsyncSession, Caller, dict[str, Any]], Awaitable[bool]]
_RACED = (
    "Other requests were changing the same records at this moment, so no preview could be made and nothing was "
    "written. Retry the call."
)
SHOWN_ITEMS = 60
"""Lines of a preview written out in its text (all of them stay in the structured content)."""

TokenArg = Annotated[str | None, Field(max_length=200)]
"""`confirmation_token`: its name and the tool descriptions say what it is (every description costs catalogue)."""


class Approval(BaseModel):
    """The person's answer to a money confirmation (an elicitation form of one checkbox)."""

    approve: bool = Field(title="Approve", description="Yes writes exactly this; no writes nothing.")


How = Literal["off", "refused", "none", "elicit", "token", "confirm_token"]


@dataclass(frozen=True)
class Gate:
    """How this call is confirmed, decided before its body runs.

    `off`: no confirmation (the setting); `refused`: the dry run refused the call (`error`); `none`: nothing to
    confirm; `elicit`/`token`: ask through elicitation / answer a token; `confirm_token`: a token came with the call.
    """

    how: How
    effect: MoneyEffect | None = None
    error: TrackagoatError | None = None


def confirmation_key(settings: Settings) -> bytes:
    """The key tokens are signed with: derived from the shared request-state key, else random for this process."""
    if settings.request_state_keys:
        return hmac.new(
            settings.request_state_keys[0].encode(), b"trackagoat money confirmation v1", hashlib.sha256
        ).digest()
    return secrets.token_bytes(32)


def can_elicit(ctx: Context[Any]) -> bool:
    """Whether the client declared form elicitation (a bare `elicitation: {}` counts, as in the SDK)."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


class Confirmation:
    """The confirmation of one money-moving tool: its two resolvers and the rules its body follows (`settle`)."""

    def __init__(self, tool: str, dry_run: DryRun, *, replay: Replay | None = None) -> None:
        self.tool = tool
        self._dry_run = dry_run
        self._replay = replay

        async def gate(ctx: Context[Any], **arguments: Any) -> Gate:
            return await self._decide(ctx, arguments)

        async def ask(decided: Gate) -> Elicit[Approval] | None:
            if decided.how != "elicit" or decided.effect is None:
                return None
            return Elicit(_question(decided.effect), Approval)

        ask.__annotations__ = {"decided": Annotated[Gate, Resolve(gate)]}
        self.gate = gate
        self.ask = ask

    def bind(self, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """Decorator: let the gate resolver take the tool's arguments by name (all but ctx and the resolved ones)."""
        names = [name for name in inspect.signature(fn).parameters if name not in ("ctx", "gate", "answer")]
        kinds = inspect.Parameter.KEYWORD_ONLY
        self.gate.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter("ctx", kinds, annotation=Context)] + [inspect.Parameter(n, kinds) for n in names]
        )
        self.gate.__annotations__ = {"ctx": Context}
        return fn

    async def _decide(self, ctx: Context[Any], arguments: dict[str, Any]) -> Gate:
        app = app_context(ctx)
        if app.settings.money_confirmation == "off":
            return Gate("off")
        if unstorable_text(arguments) is not None:
            return Gate("none")  # the tool's own guard refuses the call before its body runs
        token = arguments.get("confirmation_token")
        try:
            fixed = await on_the_calendar({**arguments, "ctx": ctx})
            caller = request_caller(app)
            async with app.db.dry_run() as session:
                if self._replay is not None and await self._replay(session, caller, fixed):
                    return Gate("none")
                if token is not None:
                    await confirmations.refuse_spent(session, caller.org_id, self.tool, token)
                effect = await self._dry_run(session, caller, fixed, app.clock.now(), app.settings)
        except TrackagoatError as exc:
            return Gate("refused", error=exc)
        except IntegrityError:
            # A concurrent write inserted the same unique key while the dry run worked (the tool body would retry;
            # a preview is simply asked for again).
            return Gate("refused", error=Conflict(_RACED, code="conflict"))
        if effect is None:
            return Gate("none")
        if token is not None:
            return Gate("confirm_token", effect)
        if app.settings.money_confirmation == "elicit" and can_elicit(ctx):
            return Gate("elicit", effect)
        return Gate("token", effect)

    async def settle(
        self,
        ctx: Context[Any],
        arguments: dict[str, Any],
        gate: Gate,
        answer: ElicitationResult[Approval],
        write: Write[T],
    ) -> T | CallToolResult:
        """Run the tool's `write` as the gate decided: at once, after an approval, after a valid token, or not at all
        (a decline, or a preview with a token to confirm)."""
        app = app_context(ctx)
        if gate.how == "off":
            return await write(None)
        if gate.error is not None:
            raise gate.error
        caller = request_caller(app)
        now = app.clock.now()
        secret = app.confirmation_key
        binding = confirmations.Binding(
            caller.org_id,
            caller.key_id,
            self.tool,
            confirmations.arguments_digest({k: v for k, v in arguments.items() if k != "confirmation_token"}),
        )
        tool = self.tool
        if gate.how == "none":

            async def nothing_to_confirm(session: AsyncSession, effect: MoneyEffect | None) -> None:
                if effect is not None:
                    raise confirmations.stale(tool)

            return await write(nothing_to_confirm)
        assert gate.effect is not None
        shown = gate.effect
        if gate.how == "confirm_token":
            token = confirmations.verify(secret, str(arguments["confirmation_token"]), binding, now=now)

            async def token_matches(session: AsyncSession, effect: MoneyEffect | None) -> None:
                await confirmations.spend(session, caller.org_id, tool, token, now=now)
                if effect is None or not token.matches(secret, effect.digest):
                    raise confirmations.stale(tool)

            return await write(token_matches)
        if gate.how == "elicit":
            if isinstance(answer, AcceptedElicitation) and isinstance(answer.data, Approval) and answer.data.approve:

                async def as_approved(session: AsyncSession, effect: MoneyEffect | None) -> None:
                    if effect is None or effect.digest != shown.digest:
                        raise confirmations.stale(tool)

                return await write(as_approved)
            cancelled = isinstance(answer, CancelledElicitation)
            raise Conflict(
                f"The person {'cancelled' if cancelled else 'declined'} the confirmation of {tool}; nothing was "
                "written. Do not retry unless they ask for it.",
                code="confirmation_cancelled" if cancelled else "confirmation_declined",
            )
        token_text, expires_at = confirmations.issue(secret, binding, shown.digest, now=now)
        return _confirmation_required(tool, shown, token_text, expires_at)


def _lines(effect: MoneyEffect) -> str:
    text = effect.text().split("\n")
    if len(text) > SHOWN_ITEMS:
        text = [*text[:SHOWN_ITEMS], f"… and {len(text) - SHOWN_ITEMS} more lines (structuredContent has them all)"]
    return "\n".join(text)


def _question(effect: MoneyEffect) -> str:
    return f"Approve this change? Nothing is written unless you approve.\n\n{_lines(effect)}"


def _confirmation_required(tool: str, effect: MoneyEffect, token: str, expires_at: datetime) -> CallToolResult:
    """The preview and its token, as an error result (nothing was written, and the call's own record does not
    exist yet, so the tool's output schema cannot describe this answer)."""
    text = (
        f"Error executing tool {tool}: [confirmation_required] Nothing was written. Show the person this effect; "
        f"only if they approve it, call {tool} again with the same arguments plus confirmation_token "
        f"(valid until {expires_at.isoformat()}).\n{_lines(effect)}\n"
        + compact_json({"confirmation_token": token, "expires_at": expires_at.isoformat()})
    )
    data = {
        "confirmation_token": token,
        "expires_at": expires_at.isoformat(),
        "effect": effect.model_dump(mode="json"),
    }
    return CallToolResult(is_error=True, content=[TextContent(type="text", text=text)], structured_content=data)
