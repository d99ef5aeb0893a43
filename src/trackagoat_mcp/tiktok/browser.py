"""The browser fetcher: load a page TikTok blocked for the plain client in real headless Chromium.

Optional (`pip install "trackagoat-mcp[browser]"`, which brings Playwright for Python) and off unless
`TRACKAGOAT_BROWSER_FETCHER=1`. It drives the Chromium already on the machine (`TRACKAGOAT_BROWSER_EXECUTABLE`,
default `/usr/bin/chromium`, Debian's `chromium` package); it never downloads a browser (`playwright install`
is not needed and not used).

Rules:

* One browser per process, launched on the first page that needs it (a server whose plain client is never
  blocked never starts Chromium) and closed by `aclose` at shutdown. A few tabs are kept open and reused: a
  new tab costs more than a navigation. One browser context holds the cookies, so
  a challenge passed once (its cookie set) stays passed for later pages, as in a person's browser.
* Only pages the plain client found blocked come here (`TikTokClient` decides), inside the client's pacing,
  concurrency bound and the cycle's claims: the browser is a second try of the same fetch, not more fetching.
* A page is read after its scripts ran: the fetcher waits until the page holds a data blob, or stops being a
  challenge page (a reload in flight counts as still waiting), for at most the timeout, then hands the DOM to
  the same parsers. JSON endpoints are fetched through the context's request API after the page is passed,
  sharing its cookies, so the body is the raw JSON.
* The configured proxy (for the site's scheme) and cookies apply here too. Chromium ignores a proxy for
  loopback addresses unless told otherwise; `<-loopback>` tells it, so a stand-in site on 127.0.0.1 is also
  reached through the proxy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import httpx2

from trackagoat_mcp.errors import ConfigError
from trackagoat_mcp.tiktok.outbound import OutboundCookie, redact

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Playwright

__all__ = ["CHROMIUM_ARGS", "BrowserFetcher", "BrowserPage", "browser_available"]

log = logging.getLogger(__name__)

CHROMIUM_ARGS: tuple[str, ...] = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)
"""Flags every launch gets: no GPU, no background or update traffic of Chromium's own, small /dev/shm safe."""

_POLL_SECONDS = 0.05
_IDLE_TABS = 4
"""Tabs kept open between pages (one per request the client may have in flight by default)."""
_STATE_JS = """() => {
  const ids = ['__UNIVERSAL_DATA_FOR_REHYDRATION__', 'SIGI_STATE', 'sigi-persisted-data'];
  if (ids.some((id) => document.getElementById(id))) return 'data';
  if (document.getElementById('cs')) return 'challenge';
  return document.readyState === 'complete' ? 'settled' : 'loading';
}"""
"""What the page is now: `data` (a blob is there), `challenge` (its script is still working), `settled`, `loading`."""


@dataclass(frozen=True)
class BrowserPage:
    """What the browser ended up showing: the HTTP status of the last document (or JSON body), its URL, its text."""

    status: int
    url: str
    text: str


def browser_available(executable: str) -> str | None:
    """Why the browser fetcher cannot run here (`None` when it can): Playwright missing or no such executable."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return 'Playwright for Python is not installed; pip install "trackagoat-mcp[browser]".'
    from pathlib import Path

    if not Path(executable).is_file():
        return f"No browser at {executable!r}; install Debian's chromium or set TRACKAGOAT_BROWSER_EXECUTABLE."
    return None


class BrowserFetcher:
    """Loads pages in one lazily launched headless Chromium.

    Args:
        executable: the Chromium executable.
        proxy: the proxy URL for the site's scheme (credentials allowed), or `None`.
        cookies: cookies put into the browser context before the first page.
        user_agent: the `User-Agent` the context sends (the plain client's, so both look alike).
        timeout: seconds one page may take, scripts and reloads included.
        no_sandbox: pass `--no-sandbox` (needed when running as root, e.g. in containers and CI).
    """

    def __init__(
        self,
        *,
        executable: str,
        proxy: str | None = None,
        cookies: Sequence[OutboundCookie] = (),
        user_agent: str | None = None,
        timeout: float = 30.0,
        no_sandbox: bool = False,
    ) -> None:
        if timeout <= 0:
            raise ConfigError(f"Browser timeout {timeout!r} must be a positive number of seconds.")
        self._executable = executable
        self._proxy = proxy
        self._cookies = tuple(cookies)
        self._user_agent = user_agent
        self._timeout = timeout
        self._no_sandbox = no_sandbox
        self._lock = anyio.Lock()
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._idle: list[Any] = []
        self.launches = 0
        """How many times Chromium was launched (one per process, unless it was closed in between)."""
        self.pages = 0
        """Pages loaded."""

    def __repr__(self) -> str:
        return f"BrowserFetcher(executable={self._executable!r}, proxy={'set' if self._proxy else None})"

    @property
    def running(self) -> bool:
        """Whether Chromium is running now."""
        return self._browser is not None

    async def fetch(self, url: str, *, json_body: bool = False) -> BrowserPage:
        """Load `url`, let its scripts run (a challenge's reload included), and return what it shows.

        Args:
            url: the page (or, with `json_body`, the JSON endpoint) to load.
            json_body: return the endpoint's raw body, fetched with the context's cookies once the page
                has passed whatever stood in front of it.

        Raises:
            ConfigError: Playwright is missing or Chromium cannot be launched.
            TimeoutError: the page did not load within the timeout.
        """
        context = await self._ensure()
        from playwright.async_api import Error as PlaywrightError

        page = self._idle.pop() if self._idle else await context.new_page()
        reusable = False
        try:
            try:
                response = await page.goto(url, wait_until="domcontentloaded", timeout=self._timeout * 1000)
            except PlaywrightError as exc:
                raise TimeoutError(f"The browser could not load {redact(url)!r}: {redact(str(exc))[:300]}") from exc
            await self._settle(page)
            self.pages += 1
            if json_body:
                answer = await context.request.get(url, timeout=self._timeout * 1000)
                reusable = True
                return BrowserPage(answer.status, answer.url, await answer.text())
            status = response.status if response is not None else 0
            html = await page.content()
            reusable = True
            return BrowserPage(status, page.url, html)
        finally:
            if reusable and len(self._idle) < _IDLE_TABS and self._context is context:
                self._idle.append(page)  # the next page loads in this tab: cheaper than a new one
            else:
                await page.close()

    async def aclose(self) -> None:
        """Close Chromium and Playwright if they were started; a later `fetch` launches them again."""
        async with self._lock:
            context, browser, playwright = self._context, self._browser, self._playwright
            self._context = self._browser = self._playwright = None
            self._idle.clear()
            with anyio.CancelScope(shield=True):
                if context is not None:
                    await context.close()
                if browser is not None:
                    await browser.close()
                if playwright is not None:
                    await playwright.stop()

    # --- machinery -----------------------------------------------------------------------------------------

    async def _settle(self, page: Any) -> None:
        """Wait until the page shows data or stops being a challenge (reloads included), up to the timeout."""
        from playwright.async_api import Error as PlaywrightError

        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            try:
                state = await page.evaluate(_STATE_JS)
            except PlaywrightError:  # the document went away under us: a reload or redirect in flight
                state = "loading"
            if state in ("data", "settled"):
                return
            await anyio.sleep(_POLL_SECONDS)

    async def _ensure(self) -> BrowserContext:
        async with self._lock:
            if self._context is not None:
                return self._context
            reason = browser_available(self._executable)
            if reason is not None:
                raise ConfigError(f"The browser fetcher cannot start: {reason}")
            from playwright.async_api import Error as PlaywrightError
            from playwright.async_api import async_playwright

            playwright = await async_playwright().start()
            args = list(CHROMIUM_ARGS) + (["--no-sandbox"] if self._no_sandbox else [])
            options: dict[str, Any] = {}
            if self._proxy:
                options["proxy"] = _playwright_proxy(self._proxy)
                args.append("--proxy-bypass-list=<-loopback>")
            try:
                browser = await playwright.chromium.launch(
                    executable_path=self._executable, headless=True, args=args, timeout=self._timeout * 1000, **options
                )
                context = await browser.new_context(
                    user_agent=self._user_agent, java_script_enabled=True, ignore_https_errors=False
                )
                if self._cookies:
                    await context.add_cookies([_playwright_cookie(cookie) for cookie in self._cookies])
            except PlaywrightError as exc:
                await playwright.stop()
                raise ConfigError(
                    f"Chromium at {self._executable!r} did not start: {redact(str(exc)).splitlines()[0][:300]}; "
                    "check TRACKAGOAT_BROWSER_EXECUTABLE (and run as a non-root user, or in a container)."
                ) from exc
            self._playwright, self._browser, self._context = playwright, browser, context
            self.launches += 1
            log.info("Browser fetcher started Chromium %s (%s)", browser.version, self._executable)
            return context


def _playwright_proxy(url: str) -> dict[str, str]:
    parsed = httpx2.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    proxy = {"server": f"{parsed.scheme}://{parsed.host}{port}"}
    if parsed.username:
        proxy["username"] = parsed.username
        proxy["password"] = parsed.password or ""
    return proxy


def _playwright_cookie(cookie: OutboundCookie) -> Any:
    return {
        "name": cookie.name,
        "value": cookie.value,
        "domain": cookie.domain,
        "path": cookie.path,
        "secure": cookie.secure,
        "httpOnly": cookie.http_only,
    }
