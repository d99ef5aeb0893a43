"""A simulated TikTok site: a plain ASGI app serving profile pages, video pages and the item list.

Tests, benchmarks and the offline demo scrape this instead of tiktok.com. It serves the real shapes from
`reference/tiktok-ledgers-jobs.md` §1 (the `__UNIVERSAL_DATA_FOR_REHYDRATION__` blob, or the legacy
`SIGI_STATE` layout per account), for accounts you configure, whose views grow with an injected clock so
every test is deterministic. Faults (429, 5xx, slow answers, 403/451, challenge and shell pages, a challenge
only a browser passes, login redirects, private, not found, not found answered as 10221, banned,
region-locked) and other page shapes seen in the wild (mobile post pages, the `window['SIGI_STATE']=…;`
script form) switch on per account or for the whole site, optionally for a number of requests only. Every
request served is counted per path (and per origin) so tests can assert retries and where requests went.
Short links redirect to a profile or video page, or, to test what a client follows, to any address at all
(`redirect_short_link`). Posts may carry comments (`set_comments`, `sim_comments`), served by
`/api/comment/list/` with paging, pinned, deleted and reply comments, under the post owner's faults.

Accounts, posts and the pure `render_*` page builders live in `sim_pages` (the account classes are
re-exported here), so parser tests can build pages without a server.

    sim = SimulatedTikTok(clock=FrozenClock())
    sim.add_account(SimAccount("alice", videos=[SimVideo.posted(clock.now() - timedelta(hours=2))]))
    sim.set_fault(Fault("rate_limited", times=2, retry_after=7))
    http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=sim.app), base_url="https://www.tiktok.com")
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from urllib.parse import parse_qs

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from trackagoat_mcp.clock import Clock
from trackagoat_mcp.tiktok.sim_comments import SimComment, render_comment_list, render_comment_status
from trackagoat_mcp.tiktok.sim_pages import (
    STATUS_MESSAGES,
    SimAccount,
    SimVideo,
    render_captcha_json,
    render_challenge_page,
    render_item_list,
    render_missing_profile,
    render_profile_page,
    render_script_challenge,
    render_shell_page,
    render_status_page,
    render_video_page,
    script_challenge_cookie,
    video_id_for,
)

__all__ = [
    "SHAPE_FAULTS",
    "Fault",
    "FaultKind",
    "SimAccount",
    "SimComment",
    "SimVideo",
    "SimulatedTikTok",
    "video_id_for",
]

FaultKind = Literal[
    "rate_limited",
    "server_error",
    "slow",
    "challenge",
    "empty_shell",
    "login_redirect",
    "private",
    "not_found",
    "banned",
    "region_locked",
    "forbidden",
    "script_challenge",
    "missing",
    "mobile_pages",
    "sigi_script",
]
SHAPE_FAULTS: frozenset[FaultKind] = frozenset({"mobile_pages", "sigi_script"})
"""Faults that change only a page's shape: the data is all there, read right it is an ordinary `ok` page."""
_TRANSPORT_FAULTS: frozenset[FaultKind] = frozenset({"rate_limited", "server_error", "slow"})
_SHORT_HOSTS = frozenset({"vm.tiktok.com", "vt.tiktok.com"})
_INT32_SPAN = 2**32

# statusCode per fault and page kind (reference §1.4).
_PROFILE_CODES = {"private": 10222, "not_found": 10202, "banned": 10221, "region_locked": 10231}
_VIDEO_CODES = {"private": 10216, "not_found": 10204, "banned": 10221, "region_locked": 10231}


@dataclass(frozen=True)
class Fault:
    """A misbehaviour to switch on.

    Attributes:
        kind: what goes wrong.
        times: how many requests it affects before clearing itself; `None` until `set_fault(None)`.
        retry_after: the `Retry-After` seconds sent with `rate_limited` (and `server_error`); `None` sends none.
        delay: seconds a `slow` response waits (through the site's injected sleep) before answering.
        status: the HTTP status of `server_error`, and of `forbidden` when 451 (else it answers 403).
        seed: what the `script_challenge` page's script must work on to get its pass cookie.

    Kinds beyond the obvious: `forbidden` answers HTTP 403 (or 451); `script_challenge` answers a "Please
    wait…" page whose script sets a pass cookie and reloads, and serves the real page to requests carrying
    that cookie (a browser passes, a plain HTTP client never does); `missing` answers as TikTok now does for a
    handle that does not exist (statusCode 10221 with an empty `userInfo`); `mobile_pages` serves post pages
    as an iPhone browser gets them; `sigi_script` serves the legacy `window['SIGI_STATE']=…;` script form.
    """

    kind: FaultKind
    times: int | None = None
    retry_after: float | None = 30.0
    delay: float = 5.0
    status: int = 503
    seed: str = "sim-seed"


@dataclass
class _ActiveFault:
    fault: Fault
    remaining: int | None


# --- the ASGI app ------------------------------------------------------------------------------------------


class SimulatedTikTok:
    """The simulated site. Mount `.app` under `httpx2.ASGITransport` (tests) or uvicorn on loopback (demo).

    Args:
        clock: where "now" comes from; views grow with it and posts appear when it passes their time.
        sleep: how slow responses wait (default `anyio.sleep`); tests may pass a gate they control.
        site_url: the canonical origin short links on `vm.tiktok.com`/`vt.tiktok.com` redirect to.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        site_url: str = "https://www.tiktok.com",
    ) -> None:
        self.clock = clock
        self.site_url = site_url.rstrip("/")
        self.requests: Counter[str] = Counter()
        self.origins: Counter[str] = Counter()
        """Requests served per origin as the client addressed it (`https://vm.tiktok.com`), faulted ones included."""
        self.in_flight = 0
        self.peak_in_flight = 0
        self.last_headers: dict[str, str] = {}
        self._sleep = sleep
        self._accounts: dict[str, SimAccount] = {}
        self._by_sec_uid: dict[str, SimAccount] = {}
        self._short_links: dict[str, str] = {}
        self._short_redirects: dict[str, str] = {}
        self._faults: dict[str | None, _ActiveFault] = {}  # keyed by handle; None is the whole site
        self._comments: dict[str, list[SimComment]] = {}  # keyed by video id

        # A plain function rather than a bound method: servers such as uvicorn tell ASGI 3 from ASGI 2 by
        # checking for a coroutine function, and a bound method's `__call__` does not pass that check.
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await self._serve(scope, receive, send)

        self.app: ASGIApp = app
        """The ASGI app to mount (`httpx2.ASGITransport(app=sim.app)`, or uvicorn on loopback)."""

    # configuration

    def add_account(self, account: SimAccount) -> SimAccount:
        """Add (or replace) an account; returns it with its derived ids filled in."""
        if account.since is None:
            account.since = self.clock.now()
        self._accounts[account.handle] = account
        self._by_sec_uid[account.sec_uid] = account
        return account

    def account(self, handle: str) -> SimAccount:
        """The account with `handle` (raises `KeyError` if none)."""
        return self._accounts[handle.lower()]

    def set_fault(self, fault: Fault | FaultKind | None, *, handle: str | None = None) -> None:
        """Switch a fault on for one account's pages (`handle`) or the whole site; `None` clears it."""
        key = handle.lower() if handle else None
        if fault is None:
            self._faults.pop(key, None)
            return
        active = Fault(fault) if isinstance(fault, str) else fault
        self._faults[key] = _ActiveFault(active, active.times)

    def clear_faults(self) -> None:
        """Switch every fault off."""
        self._faults.clear()

    def add_short_link(self, code: str, handle: str, video_id: str | None = None) -> None:
        """Make `/t/<code>/` (and `vm.tiktok.com/<code>/`) redirect to a profile or video page."""
        self._short_links[code] = f"/@{handle.lower()}" + (f"/video/{video_id}" if video_id else "")

    def redirect_short_link(self, code: str, location: str) -> None:
        """Make the short link `code` redirect to `location` exactly as given (another site, another short link)."""
        self._short_redirects[code] = location

    def set_comments(self, video_id: str, comments: list[SimComment]) -> None:
        """Give a post these comments (replacing any); `/api/comment/list/` serves them under the post owner's faults.

        The list is kept, not copied: marking one `deleted` or appending one later shows on the next request.
        """
        self._comments[video_id] = comments

    def comments_of(self, video_id: str) -> list[SimComment]:
        """The comments a post was given (empty if none)."""
        return self._comments.setdefault(video_id, [])

    def count(self, path: str) -> int:
        """How many requests the site served for `path` (faulted ones included)."""
        return self.requests[path]

    # serving

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":  # pragma: no cover - websockets are not part of the simulation
            return
        request = Request(scope, receive)
        self.requests[request.url.path] += 1
        self.origins[f"{request.url.scheme}://{request.url.netloc}"] += 1
        self.last_headers = {k.lower(): v for k, v in request.headers.items()}
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            response = await self._respond(request)
        finally:
            self.in_flight -= 1
        if "ttwid" not in request.cookies:
            response.set_cookie("ttwid", "1%7Csim", path="/", httponly=True)
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        host = (request.url.hostname or "").lower()
        segments = [s for s in request.url.path.split("/") if s]
        if host in _SHORT_HOSTS and len(segments) == 1:
            return await self._short_link(request, segments[0], self.site_url)
        if len(segments) == 2 and segments[0] == "t":
            return await self._short_link(request, segments[1], f"{request.url.scheme}://{request.url.netloc}")
        if segments == ["api", "creator", "item_list"]:
            return await self._item_list(request)
        if segments == ["api", "comment", "list"]:
            return await self._comment_list(request)
        if segments and segments[0].startswith("@"):
            handle = segments[0][1:].lower()
            if len(segments) == 1:
                return await self._profile(handle, request)
            if len(segments) == 3 and segments[1] in ("video", "photo"):
                return await self._video(handle, segments[2], request)
        if segments == ["login"]:
            return _html_response(render_shell_page())
        return Response("Not Found", status_code=404, media_type="text/plain")

    async def _take_fault(self, handle: str | None, kinds: frozenset[FaultKind] | None = None) -> Fault | None:
        """The fault in force for `handle` (its own first, then the site's), counting one use of it.

        With `kinds`, faults of other kinds are neither returned nor used up (short links only suffer
        transport faults).
        """
        for key in (handle, None) if handle else (None,):
            entry = self._faults.get(key)
            if entry is None or (kinds is not None and entry.fault.kind not in kinds):
                continue
            if entry.remaining is not None:
                entry.remaining -= 1
                if entry.remaining <= 0:
                    del self._faults[key]
            return entry.fault
        return None

    async def _transport_fault(self, fault: Fault | None) -> Response | None:
        """Apply a 429/5xx/slow fault: an error response, or `None` to serve normally (after a delay)."""
        if fault is None:
            return None
        headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
        if fault.kind == "rate_limited":
            return Response("Too Many Requests", status_code=429, headers=headers, media_type="text/plain")
        if fault.kind == "server_error":
            return Response("Service Unavailable", status_code=fault.status, headers=headers, media_type="text/plain")
        if fault.kind == "slow":
            await self._sleep(fault.delay)
        return None

    async def _page_fault(
        self, handle: str | None, codes: dict[str, int], request: Request
    ) -> tuple[Response | None, int, Fault | None]:
        """Common fault handling for page routes: an early response, or the statusCode to render (and the fault)."""
        fault = await self._take_fault(handle)
        early = await self._transport_fault(fault)
        if early is not None or fault is None or fault.kind in _TRANSPORT_FAULTS or fault.kind in SHAPE_FAULTS:
            return early, 0, fault
        if fault.kind == "forbidden":
            status = fault.status if fault.status == 451 else 403
            return Response("Access Denied", status_code=status, media_type="text/plain"), 0, fault
        if fault.kind == "script_challenge":
            name, value = script_challenge_cookie(fault.seed)
            if request.cookies.get(name) == value:
                return None, 0, fault
            return _html_response(render_script_challenge(fault.seed)), 0, fault
        if fault.kind == "missing":
            return None, -1, fault
        return (*self._page_fault_page(fault, codes), fault)

    @staticmethod
    def _page_fault_page(fault: Fault, codes: dict[str, int]) -> tuple[Response | None, int]:
        if fault.kind == "challenge":
            return _html_response(render_challenge_page()), 0
        if fault.kind == "empty_shell":
            return _html_response(render_shell_page()), 0
        if fault.kind == "login_redirect":
            return Response(status_code=302, headers={"Location": "/login?redirect_url=%2F"}), 0
        return None, codes[fault.kind]

    async def _profile(self, handle: str, request: Request) -> Response:
        early, code, fault = await self._page_fault(handle, _PROFILE_CODES, request)
        if early is not None:
            return early
        account = self._accounts.get(handle)
        if account is None or code < 0:
            # How TikTok answers a handle that does not exist today (TikTok-Api #1158); 10202 is the older code.
            return _html_response(render_missing_profile())
        return _html_response(render_profile_page(_shaped(account, fault), self.clock.now(), status_code=code))

    async def _video(self, handle: str, video_id: str, request: Request) -> Response:
        early, code, fault = await self._page_fault(handle, _VIDEO_CODES, request)
        if early is not None:
            return early
        now = self.clock.now()
        # Like TikTok, the handle in a post URL is not checked: `@_` or a stale handle still finds the post.
        found = self._find_video(video_id, now)
        if found is None or code < 0:
            return _html_response(render_status_page("webapp.video-detail", 10204))
        account, video = found
        return _html_response(render_video_page(_shaped(account, fault), video, now, status_code=code))

    def _find_video(self, video_id: str, now: datetime) -> tuple[SimAccount, SimVideo] | None:
        for account in self._accounts.values():
            for video in account.visible_videos(now):
                if video.video_id == video_id:
                    return account, video
        return None

    async def _item_list(self, request: Request) -> Response:
        query = parse_qs(request.url.query)
        sec_uid = query.get("secUid", [""])[0]
        account = self._by_sec_uid.get(sec_uid)
        early, code, fault = await self._page_fault(account.handle if account else None, _PROFILE_CODES, request)
        if early is not None:
            if fault is not None and fault.kind == "script_challenge":
                return early  # the WAF's script page stands in front of every path, the API's too
            # The API answers JSON endpoints' blocks with a captcha JSON or an empty body, not HTML.
            if early.status_code == 200 and b"Please wait" in early.body:
                return Response(render_captcha_json(), media_type="application/json")
            if early.status_code == 200:
                return Response(b"", media_type="application/json")
            return early
        if account is None or code < 0:
            return Response(
                render_item_list(SimAccount("_"), self.clock.now(), status_code=10202), media_type="application/json"
            )
        cursor = _int_param(query, "cursor", 0)
        count = max(1, min(35, _int_param(query, "count", 15)))
        body = render_item_list(account, self.clock.now(), cursor=cursor, count=count, status_code=code)
        return Response(body, media_type="application/json")

    async def _comment_list(self, request: Request) -> Response:
        """`/api/comment/list/?aweme_id=…&cursor=…&count=…`: a post's comments, under its owner's faults."""
        query = parse_qs(request.url.query)
        video_id = query.get("aweme_id", [""])[0]
        now = self.clock.now()
        found = self._find_video(video_id, now)
        early, code, _fault = await self._page_fault(found[0].handle if found else None, _VIDEO_CODES, request)
        if early is not None:
            if early.status_code == 200 and b"Please wait" in early.body:
                return Response(render_captcha_json(), media_type="application/json")
            if early.status_code == 200:
                return Response(b"", media_type="application/json")
            return early
        if found is None or code:
            status = 10204 if code in (0, -1) else code  # a post of a handle that does not exist is gone too
            body = render_comment_status(status, STATUS_MESSAGES.get(status, ""))
            return Response(body, media_type="application/json")
        cursor = max(0, _int_param(query, "cursor", 0))
        count = max(1, min(50, _int_param(query, "count", 20)))
        body = render_comment_list(self._comments.get(video_id, []), now, cursor=cursor, count=count)
        return Response(body, media_type="application/json")

    async def _short_link(self, request: Request, code: str, origin: str) -> Response:
        early = await self._transport_fault(await self._take_fault(None, _TRANSPORT_FAULTS))
        if early is not None:
            return early
        if code in self._short_redirects:
            return Response(status_code=301, headers={"Location": self._short_redirects[code]})
        target = self._short_links.get(code)
        location = f"{origin}{target}?_r=1&_t=8sim&share_app_id=1233" if target else f"{origin}/?_r=1"
        return Response(status_code=301, headers={"Location": location})


def _shaped(account: SimAccount, fault: Fault | None) -> SimAccount:
    """`account` as a shape fault renders it (its pages in another layout), else `account` itself."""
    if fault is not None and fault.kind == "mobile_pages":
        return replace(account, layout="mobile")
    if fault is not None and fault.kind == "sigi_script":
        return replace(account, layout="sigi_script")
    return account


def _html_response(html: str) -> Response:
    return Response(html, media_type="text/html; charset=utf-8")


def _int_param(query: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(query.get(name, [str(default)])[0])
    except ValueError:
        return default


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
