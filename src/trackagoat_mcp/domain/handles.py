"""Parsing of what people paste: `@handle`, bare handles, profile URLs and video/photo URLs (pure, no I/O).

Rules (reference/tiktok-ledgers-jobs.md §1.9): handles are lowercased, lose a leading `@`, and must
match `[a-z0-9_.]{1,30}`; video ids are 64-bit decimals whose upper 32 bits are the creation Unix
time. Short links (`vm.tiktok.com/…`, `/t/…`) need a network round trip to resolve: the MCP tools open them
first (`is_short_link` says which entries are), and any that reach this module are refused with a sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from trackagoat_mcp.errors import InvalidInput

__all__ = ["ParsedVideoUrl", "is_short_link", "normalize_handle", "parse_video_url", "posted_at_from_video_id"]

HANDLE_RE = re.compile(r"^[a-z0-9_.]{1,30}$")
_VIDEO_ID_RE = re.compile(r"^\d{6,20}$")
_TIKTOK_HOSTS = ("tiktok.com", "tiktokv.com")
_SHORT_HOSTS = ("vm.tiktok.com", "vt.tiktok.com")


@dataclass(frozen=True)
class ParsedVideoUrl:
    """A video or photo post URL reduced to what identifies it."""

    tiktok_video_id: str
    handle: str | None
    is_photo: bool

    @property
    def canonical_url(self) -> str:
        kind = "photo" if self.is_photo else "video"
        return f"https://www.tiktok.com/@{self.handle or '_'}/{kind}/{self.tiktok_video_id}"


def _is_tiktok_host(host: str) -> bool:
    host = host.lower().split(":")[0]
    return any(host == h or host.endswith("." + h) for h in _TIKTOK_HOSTS)


def _split_url(raw: str) -> tuple[str, list[str]]:
    text = raw.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:  # e.g. "http://[": an unclosed IPv6 bracket; callers then say it is no TikTok URL
        return "", []
    segments = [s for s in parts.path.split("/") if s]
    return host.lower(), segments


def _looks_like_url(raw: str) -> bool:
    text = raw.strip().lower()
    return "://" in text or "tiktok.com" in text or "/" in text


def is_short_link(raw: str) -> bool:
    """Whether `raw` is a TikTok short link (`vm.tiktok.com/…`, `vt.tiktok.com/…`, `tiktok.com/t/…`)."""
    if not _looks_like_url(raw):
        return False
    host, segments = _split_url(raw)
    return host in _SHORT_HOSTS or (_is_tiktok_host(host) and bool(segments) and segments[0] == "t")


def _short_link_error(raw: str, code: str) -> InvalidInput:
    return InvalidInput(
        f"{raw!r} is a TikTok short link, which must be opened to find where it points; open it in a browser "
        "and pass the full https://www.tiktok.com/@handle/... URL instead.",
        code=code,
    )


def normalize_handle(raw: str) -> str:
    """Turn `@Name`, `name` or `https://www.tiktok.com/@name` into `name`.

    Raises:
        InvalidInput: with code `invalid_handle` when no valid handle can be read from `raw`.
    """
    text = raw.strip()
    if _looks_like_url(text):
        if is_short_link(text):
            raise _short_link_error(raw, "invalid_handle")
        host, segments = _split_url(text)
        if not _is_tiktok_host(host) or not segments or not segments[0].startswith("@"):
            raise InvalidInput(
                f"{raw!r} is not a TikTok profile URL; use a handle like '@name' or a URL like "
                "'https://www.tiktok.com/@name'.",
                code="invalid_handle",
            )
        text = segments[0]
    handle = text.lstrip("@").strip().lower()
    if not HANDLE_RE.match(handle):
        raise InvalidInput(
            f"{raw!r} is not a valid TikTok handle; handles have 1-30 letters, digits, '_' or '.', "
            "optionally written with a leading '@'.",
            code="invalid_handle",
        )
    return handle


def parse_video_url(raw: str) -> ParsedVideoUrl:
    """Read the video id (and handle, when present) from a TikTok video or photo URL.

    Accepts `/@handle/video/ID`, `/@handle/photo/ID`, `/embed/ID`, `/embed/v2/ID`, `/share/video/ID`
    and `/v/ID.html`, on tiktok.com and its subdomains; tracking query strings are ignored.
    """
    if not _looks_like_url(raw):
        raise InvalidInput(
            f"{raw!r} is not a TikTok video URL; use one like 'https://www.tiktok.com/@name/video/7300000000000000000'.",
            code="invalid_url",
        )
    if is_short_link(raw):
        raise _short_link_error(raw, "invalid_url")
    host, segments = _split_url(raw)
    if not _is_tiktok_host(host):
        raise InvalidInput(
            f"{raw!r} is not a TikTok URL (host {host!r}); only tiktok.com video links can be added.",
            code="invalid_url",
        )
    handle: str | None = None
    video_id: str | None = None
    is_photo = False
    if len(segments) >= 3 and segments[0].startswith("@") and segments[1] in ("video", "photo"):
        candidate = segments[0][1:].lower()
        handle = candidate if HANDLE_RE.match(candidate) else None
        video_id, is_photo = segments[2], segments[1] == "photo"
    elif len(segments) >= 2 and segments[0] == "embed":
        video_id = segments[2] if segments[1] == "v2" and len(segments) >= 3 else segments[1]
    elif len(segments) >= 3 and segments[0] == "share" and segments[1] == "video":
        video_id = segments[2]
    elif len(segments) >= 2 and segments[0] == "v":
        video_id = segments[1].removesuffix(".html")
    if video_id is None or not _VIDEO_ID_RE.match(video_id) or posted_at_from_video_id(video_id) is None:
        raise InvalidInput(
            f"{raw!r} does not contain a TikTok video id; use a URL like "
            "'https://www.tiktok.com/@name/video/7300000000000000000' (or /photo/ for photo posts).",
            code="invalid_url",
        )
    return ParsedVideoUrl(tiktok_video_id=video_id, handle=handle, is_photo=is_photo)


_EARLIEST_POST = datetime(2014, 1, 1, tzinfo=UTC)


def posted_at_from_video_id(video_id: str) -> datetime | None:
    """The creation time encoded in a TikTok video id (upper 32 bits), or None if it is implausible."""
    value = int(video_id)
    if value >= 2**64:
        return None
    seconds = value >> 32
    try:
        when = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return when if when >= _EARLIEST_POST else None
