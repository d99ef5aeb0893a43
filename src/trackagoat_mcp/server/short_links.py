"""TikTok short links in `add_creators` and `add_videos`: opened on TikTok before the domain reads the list.

The TikTok app shares links as short links (`vm.tiktok.com/…`, `vt.tiktok.com/…`, `tiktok.com/t/…`), so that is
what people paste. The domain only reads full URLs (it does no I/O), so these tools first follow each short link
through the process's TikTok client to the page it names and pass that URL on. A short link to a video also names
its creator, so it works in `add_creators` too. Bulk adds are all-or-nothing: one link that cannot be opened
rejects the call, nothing is written, and the sentence names every such link with its reason.

Order: the caller's `check` (scope, project, every other entry) runs before any link is opened, so nothing a
caller may not do, or that would be refused anyway, sends a request out; the links are opened outside any
transaction, and the tool writes in its own short one afterwards. Where links may lead is the TikTok client's
rule (`tiktok.links`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

from trackagoat_mcp.domain.handles import is_short_link
from trackagoat_mcp.errors import InvalidInput, RateLimited, TrackagoatError, Unavailable
from trackagoat_mcp.jobs.tiktok_access import TikTokAccess

Progress = Callable[[int, int], Awaitable[None]]
Check = Callable[[], Awaitable[None]]

__all__ = ["MAX_SHORT_LINKS", "expand_short_links"]

MAX_CONCURRENT = 8
"""Short links opened at once (the client's per-host pacing still applies)."""
MAX_SHORT_LINKS = 10
"""Short links per call: each waits its turn in the client's pacing (one request per 3 s by default), so ten
already take about half a minute, near where MCP clients give up on a call."""


async def expand_short_links(
    tiktok: TikTokAccess, entries: list[str], *, code: str, check: Check, progress: Progress | None = None
) -> list[str]:
    """`entries` with every short link replaced by the URL it redirects to (the others untouched, in order).

    Args:
        tiktok: the process's TikTok client (built only if there is a short link to open).
        entries: handles or URLs as the caller sent them.
        code: the error code for a link that does not lead anywhere (`invalid_handle` or `invalid_url`).
        check: raises what the call would be refused for without opening anything (in its own read); awaited
            before the first link is opened, and only if there is one.
        progress: called with (opened, total) after each link, for the client's progress notifications.

    Raises:
        TrackagoatError: whatever `check` raises.
        InvalidInput: more than `MAX_SHORT_LINKS` short links, or some link does not exist or is not public.
        Unavailable: TikTok could not be reached for some link, and every other link opened; retrying may work.
    """
    positions = [index for index, entry in enumerate(entries) if is_short_link(entry)]
    if not positions:
        return entries
    await check()
    if len(positions) > MAX_SHORT_LINKS:
        raise InvalidInput(
            f"This call has {len(positions)} short links; each is opened on TikTok at the scraper's pace, so send at "
            f"most {MAX_SHORT_LINKS} per call (full https://www.tiktok.com/… URLs need no opening and have no such "
            "limit). Nothing was added.",
            code=code,
        )
    client = tiktok.client()
    expanded = list(entries)
    problems: dict[int, TrackagoatError] = {}
    opened: list[int] = []
    limiter = anyio.CapacityLimiter(MAX_CONCURRENT)

    async def open_link(index: int) -> None:
        async with limiter:
            try:
                expanded[index] = await client.resolve_short_link(entries[index])
            except TrackagoatError as exc:
                problems[index] = exc
        opened.append(index)
        if progress is not None:
            await progress(len(opened), len(positions))

    async with anyio.create_task_group() as group:
        for index in positions:
            group.start_soon(open_link, index)
    if not problems:
        return expanded
    listed = "; ".join(f"{entries[i]!r}: {problems[i].message}" for i in sorted(problems))
    if all(isinstance(problem, RateLimited | Unavailable) for problem in problems.values()):
        raise Unavailable(
            f"TikTok could not be reached to open {len(problems)} short link(s), so nothing was added ({listed}). "
            "Try again in a minute, or pass the full https://www.tiktok.com/… URLs."
        )
    raise InvalidInput(
        f"{len(problems)} short link(s) could not be opened, so nothing was added ({listed}). Check them in a "
        "browser, or pass the full https://www.tiktok.com/… URLs.",
        code=code,
    )
