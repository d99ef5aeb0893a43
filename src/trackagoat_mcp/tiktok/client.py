"""Fetch TikTok pages politely and classify what came back, through an `httpx2.AsyncClient` it is given.

The client does not create its HTTP client (tests hand it one over `ASGITransport` to the simulated site or
a `MockTransport`; the app hands it one from the lifespan), so its cookie jar is the one TikTok's first
answer fills. Around every request it applies, in order: one token bucket per host (`rate` requests per
second), a `CapacityLimiter` bounding requests in flight, and a timeout. 429, 5xx, timeouts and connection
errors retry with exponential backoff and jitter, honouring `Retry-After`; everything else answers at once.

What callers get (`reference/tiktok-ledgers-jobs.md` §1.4, §1.7):

* a `PageResult` for page-level states: `ok`, `not_found`, `private`, `banned`, `region_locked`,
  `restricted`, `unknown`. These are facts about the account or post and are never retried.
* `Blocked` for a challenge, captcha, shell page, empty body, HTTP 403 or a login redirect (its `code` is
  `login_required` for the last), `RateLimited` when 429s outlast the retries (or ask for a longer wait than
  `max_retry_after`), `Unavailable` for timeouts, connection errors and 5xx that outlast them.

When a page comes back blocked (challenge, shell, captcha, empty, HTTP 403 or 451) and a `BrowserFetcher` was
given, the same URL is loaded once more in headless Chromium, under the same host bucket and concurrency bound;
what it shows goes through the same parsers, and a page read that way carries `blocked_by` (what stopped the
plain client) so block rates stay honest. A login wall is not retried in the browser: it needs an account.

Short links are the one request whose address a caller writes: `tiktok.links` says where they are opened and
which redirects are followed (TikTok's own hosts over https, or the configured stand-in site).

Every wait (pacing and backoff) goes through the injected `sleep`, and pacing reads the injected
`monotonic`, so tests run on fake time.
"""

from __future__ import annotations

import random
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import anyio
import httpx2

from trackagoat_mcp.clock import Clock, SystemClock, ensure_utc
from trackagoat_mcp.config import Settings
from trackagoat_mcp.errors import Blocked, ConfigError, InvalidInput, NotFound, RateLimited, Unavailable, UpstreamError
from trackagoat_mcp.tiktok.browser import BrowserFetcher
from trackagoat_mcp.tiktok.comments import COMMENT_LIST_PATH, CommentPage, parse_comment_list
from trackagoat_mcp.tiktok.links import ShortLinkSite, is_short_link, parse_short_link, strip_tracking
from trackagoat_mcp.tiktok.outbound import redact
from trackagoat_mcp.tiktok.pacing import Sleep, TokenBucket
from trackagoat_mcp.tiktok.parsing import (
    BLOCKED_STATES,
    PageResult,
    Profile,
    Video,
    VideoPage,
    block_kind,
    parse_item_list,
    parse_profile_page,
    parse_video_page,
)

__all__ = [
    "API_HEADERS",
    "BROWSER_HEADERS",
    "MAX_SHORT_LINK_HOPS",
    "TikTokClient",
    "TokenBucket",
    "is_short_link",
    "strip_tracking",
]

_CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 Safari/537.36"
)
BROWSER_HEADERS: Mapping[str, str] = {
    "User-Agent": _CHROME_UA,
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.9",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Site": "none",
    "Upgrade-Insecure-Requests": "1",
}
API_HEADERS: Mapping[str, str] = {
    "User-Agent": _CHROME_UA,
    "Accept": "application/json, text/plain, */*",
    "Accept-Language": "en-US,en;q=0.9",
    "Sec-Fetch-Dest": "empty",
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Site": "same-origin",
}
# yt-dlp and gallery-dl resolve short links as a link-preview bot (reference §1.9).
_SHORT_LINK_HEADERS: Mapping[str, str] = {"User-Agent": "facebookexternalhit/1.1", "Accept": "*/*"}

_HANDLE_RE = re.compile(r"^[a-z0-9_.]{1,30}$")
MAX_SHORT_LINK_HOPS = 3
"""Requests one short link may take: TikTok answers with the page in one, a `/t/` link in between takes two."""

_BLOCK_STATUSES = {403: "http_403", 451: "http_451"}
"""HTTP statuses that mean "not for you" rather than "try later": the fingerprint, the address or the region."""
_NOT_FOR_BROWSER = frozenset({"login", "redirect"})
"""Blocks the browser fetcher cannot get past either (a login wall needs an account)."""

T = TypeVar("T")


class TikTokClient:
    """Fetches TikTok profiles, posts, item lists and short links through a given `httpx2.AsyncClient`.

    Args:
        http: the HTTP client (its cookie jar and transport are used as they are; it is not closed here).
        base_url: the site's origin, `Settings.tiktok_base_url` (the simulated site's in tests and the demo).
        rate: requests per second per host; `None` for no pacing.
        burst: requests a host may receive back to back before pacing applies.
        max_concurrency: requests in flight at once, across hosts.
        timeout: seconds each attempt may take, end to end.
        max_attempts: attempts per request, the first included, for retryable failures.
        backoff_base: the first retry's delay in seconds; doubles per attempt, up to `backoff_cap`.
        backoff_cap: the longest backoff delay in seconds.
        max_retry_after: a `Retry-After` longer than this raises `RateLimited` at once instead of waiting.
        clock: wall time, for `Retry-After` dates and the item list's first cursor.
        monotonic: the pacing clock.
        sleep: how to wait (default `anyio.sleep`); tests pass a recorder.
        rng: randomness for jitter and the item list's device id.
        browser: loads pages the plain client found blocked in headless Chromium; `None` (default) never does.
    """

    def __init__(
        self,
        http: httpx2.AsyncClient,
        *,
        base_url: str = "https://www.tiktok.com",
        rate: float | None = None,
        burst: int = 1,
        max_concurrency: int = 4,
        timeout: float = 20.0,
        max_attempts: int = 4,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        max_retry_after: float = 120.0,
        clock: Clock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = anyio.sleep,
        rng: random.Random | None = None,
        browser: BrowserFetcher | None = None,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ConfigError(f"Scrape rate {rate!r} must be a positive number of requests per second, or None.")
        if max_concurrency < 1 or max_attempts < 1 or burst < 1:
            raise ConfigError(
                f"max_concurrency ({max_concurrency!r}), max_attempts ({max_attempts!r}) and burst ({burst!r}) "
                "must each be at least 1."
            )
        if timeout <= 0:
            raise ConfigError(f"Timeout {timeout!r} must be a positive number of seconds.")
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._short_links = ShortLinkSite.of(self._base_url)
        self._rate = rate
        self._burst = burst
        self._limiter = anyio.CapacityLimiter(max_concurrency)
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._max_retry_after = max_retry_after
        self._clock = clock or SystemClock()
        self._monotonic = monotonic
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._buckets: dict[str, TokenBucket] = {}
        self._browser = browser
        # creator/item_list works unsigned with a random device id (reference §1.5).
        self._device_id = str(self._rng.randint(7250000000000000000, 7325099899999994577))
        self._verify_fp = "verify_" + secrets.token_hex(4)[:7]

    @classmethod
    def from_settings(cls, http: httpx2.AsyncClient, settings: Settings, **options: Any) -> TikTokClient:
        """A client for `settings.tiktok_base_url`, paced at `settings.scrape_rate`; `options` go to `__init__`."""
        options.setdefault("rate", settings.scrape_rate)
        return cls(http, base_url=settings.tiktok_base_url, **options)

    @property
    def uses_browser(self) -> bool:
        """Whether pages found blocked get a second try in the browser fetcher."""
        return self._browser is not None

    # --- public API ----------------------------------------------------------------------------------------

    async def fetch_profile(self, handle: str) -> PageResult[Profile]:
        """Fetch and parse `/@handle`.

        Args:
            handle: the handle, with or without `@`.

        Returns:
            The page state and profile. States other than `ok` are facts about the account, not failures.

        Raises:
            InvalidInput: `handle` is not a handle.
            Blocked: challenge, captcha, shell or empty page, HTTP 403, or a login redirect.
            RateLimited: 429s outlasted the retries.
            Unavailable: timeouts, connection errors or 5xx outlasted the retries.
        """
        clean = _clean_handle(handle)
        url = f"{self._base_url}/@{clean}"
        return await self._page(
            url, None, BROWSER_HEADERS, lambda text: parse_profile_page(text, clean), f"profile @{clean}"
        )

    async def fetch_video(self, handle: str | None, video_id: str) -> PageResult[Video]:
        """Fetch and parse one post's page (photo posts are fetched through their `/video/` URL too).

        Args:
            handle: the author's handle; TikTok does not check it, so `None` sends `@_`.
            video_id: the post's numeric id.

        Returns:
            The page state and video.

        Raises:
            InvalidInput: a malformed handle or id.
            Blocked, RateLimited, Unavailable: as for `fetch_profile`.
        """
        clean = _clean_handle(handle) if handle else "_"
        if not video_id.isdigit():
            raise InvalidInput(f"Video id {video_id!r} is not a TikTok post id; pass the digits from its URL.")
        url = f"{self._base_url}/@{clean}/video/{video_id}"
        return await self._page(
            url, None, BROWSER_HEADERS, lambda text: parse_video_page(text, video_id), f"post {video_id}"
        )

    async def fetch_videos(self, sec_uid: str, cursor: int | None = None, *, count: int = 15) -> PageResult[VideoPage]:
        """Fetch one page of a creator's posts, newest first, with stats, from `/api/creator/item_list/`.

        Args:
            sec_uid: the creator's `secUid` (from their profile).
            cursor: milliseconds; posts older than it are listed. `None` starts from now. Pass the previous
                page's `cursor` to go further back.
            count: posts per page (TikTok gives at most 35 and usually 15).

        Returns:
            The state and, when `ok`, the videos with the next cursor and whether more exist.

        Raises:
            InvalidInput: an empty `sec_uid`.
            Blocked, RateLimited, Unavailable: as for `fetch_profile`.
        """
        if not sec_uid.strip():
            raise InvalidInput("A secUid is needed to list a creator's videos; fetch their profile first to get it.")
        start = cursor if cursor is not None else int(ensure_utc(self._clock.now()).timestamp() * 1000)
        params = {
            "aid": "1988",
            "app_name": "tiktok_web",
            "channel": "tiktok_web",
            "device_platform": "web_pc",
            "device_id": self._device_id,
            "verifyFp": self._verify_fp,
            "browser_language": "en-US",
            "browser_platform": "Win32",
            "region": "US",
            "tz_name": "UTC",
            "screen_width": "1920",
            "screen_height": "1080",
            "count": str(count),
            "cursor": str(start),
            "secUid": sec_uid,
            "type": "1",
        }
        url = f"{self._base_url}/api/creator/item_list/"
        headers = {**API_HEADERS, "Referer": f"{self._base_url}/"}
        return await self._page(
            url, params, headers, parse_item_list, f"video list of {sec_uid[:20]!r}…", json_body=True
        )

    async def fetch_comments(self, video_id: str, cursor: int = 0, *, count: int = 50) -> PageResult[CommentPage]:
        """Fetch one page of a post's comments, newest first (a pinned one on top), from `/api/comment/list/`.

        Args:
            video_id: the post's numeric id.
            cursor: the offset to start at: 0 for the newest, else the previous page's `cursor`.
            count: comments per page (TikTok gives at most 50).

        Returns:
            The state and, when `ok`, the comments with the next cursor, whether more exist and TikTok's total
            (`tiktok.comments` describes the shape).

        Raises:
            InvalidInput: a malformed id, cursor or count.
            Blocked, RateLimited, Unavailable: as for `fetch_profile`.
        """
        if not video_id.isdigit():
            raise InvalidInput(f"Video id {video_id!r} is not a TikTok post id; pass the digits from its URL.")
        if cursor < 0 or not 1 <= count <= 50:
            raise InvalidInput(f"Comment page cursor {cursor!r} and count {count!r} must be >= 0 and 1..50.")
        params = {
            "aid": "1988",
            "app_name": "tiktok_web",
            "device_platform": "web_pc",
            "device_id": self._device_id,
            "aweme_id": video_id,
            "cursor": str(cursor),
            "count": str(count),
        }
        headers = {**API_HEADERS, "Referer": f"{self._base_url}/@_/video/{video_id}"}
        url = f"{self._base_url}{COMMENT_LIST_PATH}"
        return await self._page(
            url, params, headers, parse_comment_list, f"comments of post {video_id}", json_body=True
        )

    async def resolve_short_link(self, url: str) -> str:
        """Follow a short link (`vm.tiktok.com/…`, `vt.tiktok.com/…`, `tiktok.com/t/…`) to the page it names.

        Redirects are followed one hop at a time, at most `MAX_SHORT_LINK_HOPS` requests, only within TikTok over
        https (`links` says where a short link is opened and which redirects are accepted); the last page is not
        fetched.

        Args:
            url: the short link, with or without a scheme.

        Returns:
            The target URL on `https://www.tiktok.com` (or another TikTok host) without its tracking query.

        Raises:
            InvalidInput: `url` is not a TikTok short link.
            NotFound: the link leads to TikTok's home page (TikTok's way of saying it does not exist).
            Blocked: the link led to a login page, did not redirect, redirected off TikTok (code
                `redirect_refused`, nothing requested there) or through too many short links.
            RateLimited, Unavailable: as for `fetch_profile`.
        """
        current = parse_short_link(url)
        for _ in range(MAX_SHORT_LINK_HOPS):
            requested = self._short_links.request_url(current)
            response = await self._get(str(requested), headers=_SHORT_LINK_HEADERS, follow_redirects=False)
            location = response.headers.get("location")
            if not response.is_redirect or not location:
                if response.status_code in (404, 410):
                    raise NotFound(f"Short link {url!r} does not exist (HTTP {response.status_code}).")
                raise Blocked(
                    f"Short link {url!r} answered HTTP {response.status_code} without a redirect; try again later."
                )
            target = self._short_links.read_redirect(requested, location)
            if target is None:
                raise Blocked(
                    f"Short link {url!r} redirects to {location[:200]!r}, which is not an https address on TikTok, "
                    "so it was not followed; pass the full https://www.tiktok.com/… URL instead.",
                    code="redirect_refused",
                    reason="redirect",
                )
            if target.path.startswith("/login"):
                raise Blocked(
                    f"Short link {url!r} leads to a login page; it is not public.",
                    code="login_required",
                    reason="login",
                )
            if not is_short_link(target):
                if target.path in ("", "/"):
                    raise NotFound(
                        f"Short link {url!r} leads to TikTok's home page, so the post or profile does not exist."
                    )
                return strip_tracking(target)
            current = target
        raise Blocked(
            f"Short link {url!r} still led to another short link after {MAX_SHORT_LINK_HOPS} requests; open it in a "
            "browser and pass the full https://www.tiktok.com/… URL instead."
        )

    # --- machinery -----------------------------------------------------------------------------------------

    def _bucket(self, host: str) -> TokenBucket | None:
        if self._rate is None:
            return None
        bucket = self._buckets.get(host)
        if bucket is None:
            bucket = TokenBucket(self._rate, burst=self._burst, monotonic=self._monotonic, sleep=self._sleep)
            self._buckets[host] = bucket
        return bucket

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: the capped delay times a random factor in [0.5, 1.5)."""
        delay = min(self._backoff_cap, self._backoff_base * 2.0 ** (attempt - 1))
        return delay * (0.5 + self._rng.random())

    def _retry_after(self, response: httpx2.Response) -> float | None:
        raw = response.headers.get("retry-after")
        if raw is None:
            return None
        try:
            return max(0.0, float(raw))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        return max(0.0, (ensure_utc(when) - ensure_utc(self._clock.now())).total_seconds())

    async def _get(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        follow_redirects: bool,
        params: Mapping[str, str] | None = None,
    ) -> httpx2.Response:
        """GET with pacing, bounded concurrency, a timeout and retries; returns any answer that is not retried."""
        host = httpx2.URL(url).host
        error: UpstreamError = Unavailable(f"No attempt was made to fetch {url!r}.")
        for attempt in range(1, self._max_attempts + 1):
            bucket = self._bucket(host)
            if bucket is not None:
                await bucket.acquire()
            try:
                async with self._limiter:
                    with anyio.fail_after(self._timeout):
                        response = await self._http.get(
                            url,
                            params=params,
                            headers=dict(headers),
                            follow_redirects=follow_redirects,
                            timeout=self._timeout,
                        )
            except (TimeoutError, httpx2.TimeoutException):
                error = Unavailable(
                    f"TikTok did not answer {url!r} within {self._timeout:g} s ({attempt} attempt(s)); try again later."
                )
                delay = self._backoff(attempt)
            except httpx2.TransportError as exc:
                error = Unavailable(
                    f"Could not reach {url!r} ({type(exc).__name__}: {redact(str(exc))}) after {attempt} attempt(s); "
                    "check the network (and the proxy, if one is set) and try again later."
                )
                delay = self._backoff(attempt)
            else:
                status = response.status_code
                if status == 429:
                    retry_after = self._retry_after(response)
                    error = RateLimited(
                        f"TikTok rate-limited {url!r} (HTTP 429) after {attempt} attempt(s)"
                        + (f"; retry after {retry_after:g} s." if retry_after is not None else "; slow down."),
                        retry_after=retry_after,
                    )
                    if retry_after is not None and retry_after > self._max_retry_after:
                        raise error
                    delay = retry_after if retry_after is not None else self._backoff(attempt)
                elif status >= 500:
                    error = Unavailable(
                        f"TikTok answered HTTP {status} for {url!r} after {attempt} attempt(s); try again later."
                    )
                    retry_after = self._retry_after(response)
                    use_header = retry_after is not None and retry_after <= self._max_retry_after
                    delay = retry_after if use_header and retry_after is not None else self._backoff(attempt)
                elif status == 407:
                    raise Unavailable(
                        f"The outbound proxy refused its credentials (HTTP 407) for {url!r}; check the user and "
                        "password in TRACKAGOAT_SCRAPE_PROXY (or _HTTP/_HTTPS).",
                        code="proxy_refused",
                    )
                elif status in _BLOCK_STATUSES:
                    raise Blocked(
                        f"TikTok refused {url!r} (HTTP {status}): the client's fingerprint, address or region is "
                        "blocked; back off, or use a proxy (TRACKAGOAT_SCRAPE_PROXY) or the browser fetcher.",
                        reason=_BLOCK_STATUSES[status],
                    )
                else:
                    return response
            if attempt < self._max_attempts:
                await self._sleep(delay)
        raise error

    async def _page(
        self,
        url: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str],
        parse: Callable[[str], PageResult[T]],
        what: str,
        *,
        json_body: bool = False,
    ) -> PageResult[T]:
        """Fetch and parse one page; when it is blocked and a browser is configured, try once in the browser."""
        try:
            response = await self._get(url, params=params, headers=headers, follow_redirects=True)
            return self._outcome(parse(response.text), response.status_code, response.url.path, what)
        except Blocked as blocked:
            if self._browser is None or blocked.reason in _NOT_FOR_BROWSER:
                raise
            first = blocked
        full_url = str(httpx2.URL(url, params=params)) if params else url
        return await self._through_browser(self._browser, full_url, parse, what, first, json_body)

    async def _through_browser(
        self,
        browser: BrowserFetcher,
        url: str,
        parse: Callable[[str], PageResult[T]],
        what: str,
        first: Blocked,
        json_body: bool,
    ) -> PageResult[T]:
        """The blocked fetch again in headless Chromium, paced and bounded like any request to the host."""
        bucket = self._bucket(httpx2.URL(url).host)
        if bucket is not None:
            await bucket.acquire()
        try:
            async with self._limiter:
                page = await browser.fetch(url, json_body=json_body)
        except (TimeoutError, ConfigError) as exc:
            raise Blocked(
                f"{first.message} The browser fetcher did not get past it either ({exc}).",
                code=first.code,
                reason=first.reason,
            ) from exc
        if page.status in _BLOCK_STATUSES:
            raise Blocked(
                f"TikTok refused the {what} in the browser too (HTTP {page.status}); use a proxy "
                "(TRACKAGOAT_SCRAPE_PROXY) or lower the rate.",
                reason=first.reason,
            )
        try:
            result = self._outcome(parse(page.text), page.status, httpx2.URL(page.url).path, what)
        except Blocked as again:
            raise Blocked(
                f"{again.message} (The browser fetcher saw the same.)", code=again.code, reason=first.reason
            ) from None
        return replace(result, blocked_by=first.reason)

    def _outcome(self, result: PageResult[T], status: int, path: str, what: str) -> PageResult[T]:
        """Turn a parsed page into the caller's answer: a state to return, or `Blocked` to raise."""
        if path.startswith("/login"):
            raise Blocked(
                f"TikTok sent the {what} request to a login page; it is not publicly visible.",
                code="login_required",
                reason="login",
            )
        if result.state == "blocked" and status in (404, 410):
            return PageResult("not_found", None, None, f"HTTP {status}")
        if result.state in BLOCKED_STATES:
            login = result.state == "login_required"
            raise Blocked(
                f"TikTok did not show the {what} ({result.detail or result.state}); keep the last good values "
                "and try again later.",
                code="login_required" if login else "blocked",
                reason="login" if login else block_kind(result.detail),
            )
        return result


def _clean_handle(raw: str) -> str:
    handle = raw.strip().removeprefix("@").lower()
    if not _HANDLE_RE.match(handle):
        raise InvalidInput(
            f"{raw!r} is not a TikTok handle; pass up to 30 letters, digits, '_' or '.', with or without '@'.",
            code="invalid_handle",
        )
    return handle
