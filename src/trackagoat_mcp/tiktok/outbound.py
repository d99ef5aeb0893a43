"""How requests to TikTok leave the process: an outbound proxy per scheme, and cookies a person supplies.

TikTok answers datacenter addresses and cookie-less clients with challenge or shell pages often enough that a
self-hosted tracker needs ways through (`reference/tiktok-ledgers-jobs.md` §1.6-1.8):

* **Proxy**: `TRACKAGOAT_SCRAPE_PROXY` (every scheme) or `TRACKAGOAT_SCRAPE_PROXY_HTTP` /
  `TRACKAGOAT_SCRAPE_PROXY_HTTPS` (per scheme, winning over the first), each a URL such as
  `http://user:password@proxy.example:3128`. The credentials are secrets: they never appear in a log line, an
  error message or a `repr` (`redact` strips them from any text that might quote a URL).
* **Cookies**: `TRACKAGOAT_SCRAPE_COOKIES`, a `name=value; name2=value2` string as a browser's developer tools
  show the `Cookie` header, set on the TikTok site's host; and `TRACKAGOAT_SCRAPE_COOKIE_FILE`, a Netscape
  `cookies.txt` as browser extensions export it (tab-separated: domain, subdomains flag, path, secure flag,
  expiry, name, value; `#HttpOnly_` before a domain marks an HTTP-only cookie). The cookies a logged-out browser
  gets (`ttwid`, `tt_csrf_token`, `tt_chain_token`, `msToken`) are what help; a logged-in session's cookies
  would tie scraping to a person's account, which the README advises against.

Both apply to the plain HTTP client and to the browser fetcher alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import httpx2

from trackagoat_mcp.config import Settings
from trackagoat_mcp.errors import ConfigError

__all__ = [
    "OutboundCookie",
    "cookie_jar",
    "load_cookies",
    "parse_cookie_file",
    "parse_cookie_header",
    "proxy_for",
    "proxy_mounts",
    "redact",
]

_CREDENTIALS_RE = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
_COOKIE_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


@dataclass(frozen=True)
class OutboundCookie:
    """One cookie to send to TikTok (its value is a secret, so `repr` leaves it out)."""

    name: str
    value: str
    domain: str
    path: str = "/"
    secure: bool = False
    http_only: bool = False

    def __repr__(self) -> str:
        return f"OutboundCookie(name={self.name!r}, domain={self.domain!r}, path={self.path!r})"


def redact(text: str) -> str:
    """`text` with every `scheme://user:password@` in it shortened to `scheme://***@`."""
    return _CREDENTIALS_RE.sub(r"\g<scheme>***@", text)


def _check_proxy(env_name: str, url: str) -> str:
    parsed = httpx2.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(
            f"{env_name} {redact(url)!r} is not an HTTP proxy URL; give one such as 'http://user:password@host:3128' "
            "(SOCKS proxies are not supported)."
        )
    return url


def proxy_for(settings: Settings, scheme: str) -> str | None:
    """The proxy URL configured for requests to `scheme` (`http` or `https`), or `None` for direct requests."""
    specific = settings.scrape_proxy_https if scheme == "https" else settings.scrape_proxy_http
    chosen = specific or settings.scrape_proxy
    if not chosen:
        return None
    env = f"TRACKAGOAT_SCRAPE_PROXY_{scheme.upper()}" if specific else "TRACKAGOAT_SCRAPE_PROXY"
    return _check_proxy(env, chosen)


def proxy_mounts(settings: Settings) -> dict[str, httpx2.AsyncBaseTransport]:
    """`httpx2.AsyncClient(mounts=…)` routing each scheme with a configured proxy through it."""
    mounts: dict[str, httpx2.AsyncBaseTransport] = {}
    for scheme in ("http", "https"):
        url = proxy_for(settings, scheme)
        if url is not None:
            mounts[f"{scheme}://"] = httpx2.AsyncHTTPTransport(proxy=url)
    return mounts


def parse_cookie_header(raw: str, domain: str) -> list[OutboundCookie]:
    """Cookies from a `name=value; name2=value2` string, all set on `domain`.

    Raises:
        ConfigError: a part without `=` or with a name a cookie cannot have (the value is never quoted back).
    """
    cookies: list[OutboundCookie] = []
    for position, part in enumerate(raw.split(";"), start=1):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not _COOKIE_NAME_RE.match(name):
            raise ConfigError(
                f"TRACKAGOAT_SCRAPE_COOKIES part {position} is not 'name=value' (it is not quoted here: it may be "
                "a secret); give cookies as 'ttwid=…; msToken=…', as a browser's Cookie header shows them."
            )
        cookies.append(OutboundCookie(name, value.strip(), domain))
    return cookies


def parse_cookie_file(text: str, source: str) -> list[OutboundCookie]:
    """Cookies from a Netscape `cookies.txt` (expired ones included: TikTok decides what it still accepts).

    Raises:
        ConfigError: a line that is not seven tab-separated fields, naming the file and the line number.
    """
    cookies: list[OutboundCookie] = []
    for number, line in enumerate(text.splitlines(), start=1):
        http_only = line.startswith("#HttpOnly_")
        if http_only:
            line = line.removeprefix("#HttpOnly_")
        elif not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) != 7 or not fields[0] or not _COOKIE_NAME_RE.match(fields[5]):
            raise ConfigError(
                f"Line {number} of the cookie file {source!r} is not a Netscape cookies.txt line (seven "
                "tab-separated fields: domain, subdomains, path, secure, expiry, name, value); export the "
                "cookies again with a cookies.txt exporter."
            )
        domain, _subdomains, path, secure, _expiry, name, value = fields
        cookies.append(OutboundCookie(name, value, domain, path or "/", secure.upper() == "TRUE", http_only))
    return cookies


def load_cookies(settings: Settings) -> list[OutboundCookie]:
    """The cookies `settings` configure: the file's first, then the string's (set on the site's host).

    Raises:
        ConfigError: the file cannot be read or either source is malformed.
    """
    cookies: list[OutboundCookie] = []
    if settings.scrape_cookie_file:
        path = Path(settings.scrape_cookie_file).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"TRACKAGOAT_SCRAPE_COOKIE_FILE {str(path)!r} cannot be read ({exc.strerror}); give the path of a "
                "cookies.txt exported from a browser."
            ) from exc
        cookies += parse_cookie_file(text, str(path))
    if settings.scrape_cookies:
        host = httpx2.URL(settings.tiktok_base_url).host
        cookies += parse_cookie_header(settings.scrape_cookies, host)
    return cookies


def cookie_jar(cookies: list[OutboundCookie]) -> httpx2.Cookies:
    """An `httpx2.Cookies` jar holding `cookies`, each on its own domain and path."""
    jar = httpx2.Cookies()
    for cookie in cookies:
        jar.set(cookie.name, cookie.value, domain=cookie.domain, path=cookie.path)
    return jar
