"""Where a TikTok short link may be opened and where its redirects may lead (pure: no I/O).

A short link is an address anyone can paste, so opening one is the only request the server makes to a place a
caller chose. The rules keep that place TikTok:

* Only TikTok's own short links are opened: `vm.tiktok.com/…`, `vt.tiktok.com/…`, and `/t/…` on a host of
  `TIKTOK_HOSTS` (reference `tiktok-ledgers-jobs.md` §1.9), always over https on the default port, whatever
  scheme, port or user part the caller wrote.
* A redirect is accepted only to an https address on a host of `TIKTOK_HOSTS` (default port). Anything else (an
  IP address such as the cloud metadata service, another domain, plain http, another port) is refused and not
  requested: a redirect is TikTok's word, and a short link whose redirect leaves TikTok is not one to trust.
* When the configured site is not TikTok (`TRACKAGOAT_TIKTOK_BASE_URL` pointing at the simulated site, in tests
  and the demo), every short link is opened on that site as `/t/<code>/` instead, and the site's own origin stands
  in for `https://www.tiktok.com` in its redirects, so nothing ever reaches the real TikTok.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx2

from trackagoat_mcp.errors import InvalidInput

__all__ = [
    "CANONICAL_ORIGIN",
    "SHORT_HOSTS",
    "TIKTOK_HOSTS",
    "ShortLinkSite",
    "is_short_link",
    "parse_short_link",
    "strip_tracking",
]

_TRACKING_KEYS = frozenset({"_r", "_t", "_d", "is_from_webapp", "sender_device", "is_copy_url", "web_id", "refer"})
_TRACKING_PREFIXES = ("share_", "utm_")


TIKTOK_HOSTS = frozenset({"tiktok.com", "www.tiktok.com", "m.tiktok.com", "vm.tiktok.com", "vt.tiktok.com"})
"""TikTok's own web hosts: the only ones a short link is opened on or may redirect to."""
SHORT_HOSTS = frozenset({"vm.tiktok.com", "vt.tiktok.com"})
"""Hosts where every path is a short link (elsewhere only `/t/…` is)."""
CANONICAL_ORIGIN = "https://www.tiktok.com"


def _on_tiktok(url: httpx2.URL) -> bool:
    return url.host in TIKTOK_HOSTS and url.port is None


def is_short_link(url: httpx2.URL) -> bool:
    """Whether `url` is one of TikTok's short links (whatever its scheme): it needs a redirect to resolve."""
    return _on_tiktok(url) and (url.host in SHORT_HOSTS or url.path.startswith("/t/"))


def _https(url: httpx2.URL) -> httpx2.URL:
    """`url` over https on the default port, without a user part or fragment."""
    return httpx2.URL(scheme="https", host=url.host, path=url.path, query=url.query or None)


def parse_short_link(raw: str) -> httpx2.URL:
    """The short link `raw` as the https URL to open (a missing scheme, or `http`, reads as https).

    Raises:
        InvalidInput: `raw` is not a URL, or not a TikTok short link.
    """
    text = raw.strip()
    try:
        url = httpx2.URL(text if "://" in text else "https://" + text)
    except (httpx2.InvalidURL, ValueError) as exc:
        raise InvalidInput(f"{raw!r} is not a URL; pass a link like 'https://vm.tiktok.com/ZM…/'.") from exc
    if url.scheme not in ("http", "https") or not is_short_link(url):
        raise InvalidInput(
            f"{raw!r} is not a TikTok short link (vm.tiktok.com/…, vt.tiktok.com/… or tiktok.com/t/…); "
            "pass a full profile or video URL where one is expected instead."
        )
    return _https(url)


@dataclass(frozen=True)
class ShortLinkSite:
    """The site short links are opened on: TikTok itself, or the configured stand-in (see the module docstring)."""

    origin: httpx2.URL
    """The configured site's origin (`Settings.tiktok_base_url`)."""

    @classmethod
    def of(cls, base_url: str) -> ShortLinkSite:
        """The site for a client configured with `base_url`."""
        return cls(httpx2.URL(base_url.rstrip("/") or CANONICAL_ORIGIN))

    @property
    def is_tiktok(self) -> bool:
        """Whether the configured site is TikTok itself (https on one of its hosts)."""
        return self.origin.scheme == "https" and _on_tiktok(self.origin)

    def request_url(self, link: httpx2.URL) -> httpx2.URL:
        """Where to send the request that opens the short link `link` (from `parse_short_link` or `read_redirect`)."""
        if self.is_tiktok:
            return link
        path = link.path if link.host not in SHORT_HOSTS else "/t" + link.path
        return self.origin.copy_with(path=path, query=link.query or None)

    def read_redirect(self, requested: httpx2.URL, location: str) -> httpx2.URL | None:
        """The redirect `location` (answered to `requested`) as a TikTok https URL; None if it leads off TikTok."""
        try:
            target = requested.join(location)
        except (httpx2.InvalidURL, ValueError):
            return None
        if not self.is_tiktok and (target.scheme, target.host, target.port) == (
            self.origin.scheme,
            self.origin.host,
            self.origin.port,
        ):
            return httpx2.URL(CANONICAL_ORIGIN).copy_with(path=target.path, query=target.query or None)
        if target.scheme != "https" or not _on_tiktok(target):
            return None
        return _https(target)


def strip_tracking(url: httpx2.URL) -> str:
    """`url` as a string without TikTok's share-tracking query parameters or a fragment."""
    kept = [
        (key, value)
        for key, value in url.params.multi_items()
        if key not in _TRACKING_KEYS and not key.startswith(_TRACKING_PREFIXES)
    ]
    return str(url.copy_with(params=kept, fragment=None))
