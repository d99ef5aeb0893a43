"""The simulated site's accounts and pages: who exists, how their numbers grow, and the exact page shapes.

Pure and synchronous, so parser tests can render a page without a server and the ASGI app in `sim.py`
stays about routing and faults. Shapes follow `reference/tiktok-ledgers-jobs.md` §1.2-1.5: the
`__UNIVERSAL_DATA_FOR_REHYDRATION__` blob (or the legacy `SIGI_STATE` one, as JSON or in its 2021-22
`window['SIGI_STATE']=…;` script form), the mobile post page (`webapp.reflow.video.detail`), `statsV2` string
counters, optional signed-32-bit wraps, photo posts, the item-list JSON, and the pages TikTok answers
instead of data: a private profile showing `videoCount` 0, 10221 with an empty `userInfo` for a handle that
does not exist, and a challenge that renders its data only after a script runs (`render_script_challenge`).
Counters are functions of the time passed in, so a frozen clock gives the same page every time.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from trackagoat_mcp.tiktok.parsing import UNIVERSAL_SCRIPT_ID

__all__ = [
    "STATUS_MESSAGES",
    "SimAccount",
    "SimVideo",
    "item_struct",
    "render_captcha_json",
    "render_challenge_page",
    "render_missing_profile",
    "render_mobile_video_page",
    "render_script_challenge",
    "script_challenge_cookie",
    "render_item_list",
    "render_profile_page",
    "render_shell_page",
    "render_sigi_page",
    "render_status_page",
    "render_universal_page",
    "render_video_page",
    "video_id_for",
]

_INT32_SPAN = 2**32

STATUS_MESSAGES = {
    10202: "user not exist",
    10204: "item doesn't exist",
    10216: "item is private",
    10221: "user banned",
    10222: "author secret",
    10231: "region not available",
}


@dataclass
class SimVideo:
    """A post whose views grow linearly with time since it was posted; it is invisible before `created_at`."""

    video_id: str
    created_at: datetime
    description: str = ""
    base_plays: int = 0
    plays_per_hour: float = 100.0
    is_photo: bool = False

    @classmethod
    def posted(cls, created_at: datetime, seq: int = 0, **fields: Any) -> SimVideo:
        """A video whose id encodes `created_at` the way TikTok's do (upper 32 bits = Unix seconds)."""
        return cls(video_id=video_id_for(created_at, seq), created_at=created_at, **fields)

    def plays_at(self, now: datetime) -> int:
        """Cumulative views at `now`."""
        hours = max(0.0, (now - self.created_at).total_seconds() / 3600)
        return self.base_plays + int(self.plays_per_hour * hours)

    def counters_at(self, now: datetime) -> dict[str, int]:
        """All counters at `now`, under TikTok's names; likes and the rest are fixed fractions of views."""
        plays = self.plays_at(now)
        return {
            "playCount": plays,
            "diggCount": plays // 10,
            "commentCount": plays // 200,
            "shareCount": plays // 500,
            "collectCount": plays // 300,
        }


@dataclass
class SimAccount:
    """A creator on the simulated site.

    Attributes:
        handle: the `uniqueId` (lowercase).
        followers: follower count at `since`, growing by `followers_per_hour` after it.
        since: when `followers` held; `add_account` sets it to the site clock's now when left `None`.
        stats_v2: also send `statsV2` (string counters), as current pages do.
        wrap_int32: send counters of 2^31 and more in `stats` as negative signed-32-bit wraps (the embed quirk).
        layout: `universal` (current pages), `sigi` (the legacy `SIGI_STATE` JSON blob), `sigi_script` (the
            2021-22 `window['SIGI_STATE']=…;` script form) or `mobile` (post pages as an iPhone browser gets them:
            `webapp.reflow.video.detail`, next to a `shareUser` module naming someone else).
    """

    handle: str
    nickname: str = ""
    signature: str = ""
    followers: int = 1_000
    followers_per_hour: float = 0.0
    following: int = 100
    base_hearts: int = 0
    videos: list[SimVideo] = field(default_factory=list)
    since: datetime | None = None
    user_id: str = ""
    sec_uid: str = ""
    verified: bool = False
    stats_v2: bool = True
    wrap_int32: bool = False
    layout: Literal["universal", "sigi", "sigi_script", "mobile"] = "universal"

    def __post_init__(self) -> None:
        self.handle = self.handle.lower()
        digest = hashlib.sha256(self.handle.encode()).hexdigest()
        self.user_id = self.user_id or str(int(digest[:15], 16))
        self.sec_uid = self.sec_uid or "MS4wLjABAAAA" + digest
        self.nickname = self.nickname or self.handle.title()

    def visible_videos(self, now: datetime) -> list[SimVideo]:
        """Videos posted by `now`, newest first."""
        return sorted((v for v in self.videos if v.created_at <= now), key=lambda v: v.created_at, reverse=True)

    def followers_at(self, now: datetime) -> int:
        """Follower count at `now`."""
        hours = max(0.0, (now - self.since).total_seconds() / 3600) if self.since else 0.0
        return self.followers + int(self.followers_per_hour * hours)

    def counters_at(self, now: datetime) -> dict[str, int]:
        """Profile counters at `now`, under TikTok's names; total likes are the base plus every video's likes."""
        visible = self.visible_videos(now)
        hearts = self.base_hearts + sum(v.counters_at(now)["diggCount"] for v in visible)
        return {
            "followerCount": self.followers_at(now),
            "followingCount": self.following,
            "heartCount": hearts,
            "heart": hearts,
            "videoCount": len(visible),
            "diggCount": 0,
            "friendCount": 0,
        }


def video_id_for(created_at: datetime, seq: int = 0) -> str:
    """A 64-bit TikTok-style id: creation Unix seconds in the upper 32 bits, `seq` in the lower."""
    return str((int(created_at.timestamp()) << 32) | (seq & 0xFFFFFFFF))


# --- pure rendering ----------------------------------------------------------------------------------------


def _stats_blocks(account: SimAccount, counters: dict[str, int]) -> dict[str, Any]:
    stats: dict[str, int] = dict(counters)
    if account.wrap_int32:
        stats = {k: v - _INT32_SPAN if v >= 2**31 else v for k, v in stats.items()}
    blocks: dict[str, Any] = {"stats": stats}
    if account.stats_v2:
        blocks["statsV2"] = {k: str(v) for k, v in counters.items()}
    return blocks


def _user_json(account: SimAccount, *, private: bool = False) -> dict[str, Any]:
    return {
        "id": account.user_id,
        "uniqueId": account.handle,
        "nickname": account.nickname,
        "secUid": account.sec_uid,
        "signature": account.signature,
        "verified": account.verified,
        "privateAccount": private,
        "avatarLarger": f"https://p16-sign.tiktokcdn.com/{account.handle}~large.jpeg",
        "avatarThumb": f"https://p16-sign.tiktokcdn.com/{account.handle}~thumb.jpeg",
        "region": "US",
        "roomId": "",
    }


def item_struct(account: SimAccount, video: SimVideo, now: datetime) -> dict[str, Any]:
    """The `itemStruct` of `video` at `now`, the same shape the item list uses for each entry."""
    counters = video.counters_at(now)
    item: dict[str, Any] = {
        "id": video.video_id,
        "desc": video.description,
        # TikTok sends createTime as a number on some pages and a numeric string on others.
        "createTime": str(int(video.created_at.timestamp())),
        "author": {
            "id": account.user_id,
            "uniqueId": account.handle,
            "nickname": account.nickname,
            "secUid": account.sec_uid,
        },
        **_stats_blocks(account, counters),
        "authorStats": _stats_blocks(account, account.counters_at(now))["stats"],
        "video": {"duration": 0 if video.is_photo else 15, "playAddr": "", "cover": ""},
        "isContentClassified": False,
    }
    if account.stats_v2:
        item["statsV2"]["repostCount"] = "0"
    if video.is_photo:
        item["imagePost"] = {"images": [{"imageURL": {"urlList": ["https://p16-sign.tiktokcdn.com/1.jpeg"]}}]}
    return item


def _script(script_id: str, payload: Any) -> str:
    # "</" inside JSON would end the script tag early; "\/" is valid JSON for "/".
    body = json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")
    return f'<script id="{script_id}" type="application/json">{body}</script>'


def _html(title: str, head: str = "", body: str = "") -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
        f'<body><div id="app">{body}</div></body></html>'
    )


def render_universal_page(scope: dict[str, Any], title: str = "TikTok") -> str:
    """An HTML page whose `__UNIVERSAL_DATA_FOR_REHYDRATION__` blob holds `{"__DEFAULT_SCOPE__": scope}`."""
    app_context = {"webapp.app-context": {"language": "en", "region": "US"}}
    return _html(title, body=_script(UNIVERSAL_SCRIPT_ID, {"__DEFAULT_SCOPE__": {**app_context, **scope}}))


def render_sigi_page(state: dict[str, Any], title: str = "TikTok", *, script_form: bool = False) -> str:
    """An HTML page in the legacy layout: a `SIGI_STATE` script holding `state`.

    With `script_form`, the 2021-22 variant: `<script id="sigi-persisted-data">` holding JavaScript that assigns
    the object (`window['SIGI_STATE']={…};window['SIGI_RETRY']=…`), not plain JSON.
    """
    if not script_form:
        return _html(title, body=_script("SIGI_STATE", state))
    body = json.dumps(state, separators=(",", ":")).replace("</", "<\\/")
    retry = json.dumps({"retry": 0, "ts": 0})
    script = f"<script id=\"sigi-persisted-data\">window['SIGI_STATE']={body};window['SIGI_RETRY']={retry};</script>"
    return _html(title, body=script)


def render_status_page(module: str, status_code: int, status_msg: str | None = None) -> str:
    """A page whose `module` (`webapp.user-detail` or `webapp.video-detail`) carries only a status code."""
    message = status_msg if status_msg is not None else STATUS_MESSAGES.get(status_code, "")
    return render_universal_page({module: {"statusCode": status_code, "statusMsg": message}})


def render_profile_page(account: SimAccount, now: datetime, *, status_code: int = 0) -> str:
    """The profile page (`/@handle`) of `account` at `now`.

    10222 renders the private-account variant (a filled `userInfo` whose `videoCount` is 0, as a logged-out
    visitor sees it); 10221 a banned account, still named but without counters.
    """
    private = status_code == 10222
    if account.layout in ("sigi", "sigi_script") and status_code == 0:
        return render_sigi_page(
            {
                "UserModule": {
                    "users": {account.handle: _user_json(account)},
                    "stats": {account.handle: _stats_blocks(account, account.counters_at(now))["stats"]},
                },
                "UserPage": {"uniqueId": account.handle, "statusCode": 0},
            },
            script_form=account.layout == "sigi_script",
        )
    if status_code == 10221:
        user = {key: value for key, value in _user_json(account).items() if key in ("id", "uniqueId", "nickname")}
        module: dict[str, Any] = {"statusCode": 10221, "statusMsg": STATUS_MESSAGES[10221], "userInfo": {"user": user}}
        return render_universal_page({"webapp.user-detail": module})
    if status_code not in (0, 10222):
        return render_status_page("webapp.user-detail", status_code)
    counters = account.counters_at(now)
    if private:
        counters["videoCount"] = 0
    module = {
        "statusCode": status_code,
        "statusMsg": STATUS_MESSAGES.get(status_code, ""),
        "userInfo": {
            "user": _user_json(account, private=private),
            **_stats_blocks(account, counters),
            "itemList": [],
        },
    }
    return render_universal_page({"webapp.user-detail": module}, title=f"{account.nickname} (@{account.handle})")


def render_video_page(account: SimAccount, video: SimVideo, now: datetime, *, status_code: int = 0) -> str:
    """The video (or photo) page of `video` at `now`."""
    if status_code != 0:
        return render_status_page("webapp.video-detail", status_code)
    item = item_struct(account, video, now)
    if account.layout in ("sigi", "sigi_script"):
        return render_sigi_page(
            {
                "ItemModule": {video.video_id: {**item, "author": account.handle}},
                "VideoPage": {"statusCode": 0},
            },
            script_form=account.layout == "sigi_script",
        )
    if account.layout == "mobile":
        return render_mobile_video_page(item)
    module = {"statusCode": 0, "statusMsg": "", "itemInfo": {"itemStruct": item}}
    return render_universal_page({"webapp.video-detail": module})


def render_mobile_video_page(item: dict[str, Any], *, status_code: int = 0) -> str:
    """A post page as an iPhone browser gets it: `webapp.reflow.video.detail` (status in `statusMessage`) next to
    `webapp.reflow.global.shareUser`, the account that shared the link, which is not the author."""
    sharer = SimAccount("someone.sharing")
    return render_universal_page(
        {
            "webapp.reflow.video.detail": {
                "statusCode": status_code,
                "statusMessage": STATUS_MESSAGES.get(status_code, ""),
                "itemInfo": {"itemStruct": item},
            },
            "webapp.reflow.global.shareUser": {
                "statusCode": 0,
                "shareUser": {**_user_json(sharer), **sharer.counters_at(datetime.fromtimestamp(0, UTC))},
            },
        }
    )


def render_missing_profile() -> str:
    """TikTok's current answer for a handle that does not exist: statusCode 10221 with an empty `userInfo`."""
    return render_universal_page(
        {"webapp.user-detail": {"statusCode": 10221, "statusMsg": "", "userInfo": {}}}, title="TikTok"
    )


def script_challenge_cookie(seed: str) -> tuple[str, str]:
    """The cookie (name, value) the script challenge for `seed` sets once its script has run."""
    return "sim_waf_pass", hashlib.sha256(f"pass:{seed}".encode()).hexdigest()[:32]


def render_script_challenge(seed: str) -> str:
    """A "Please wait…" page whose data only a browser reaches: its script works out the pass cookie for `seed`
    (SHA-256 through the page's `crypto.subtle`, like the 2026 proof-of-work page), sets it and reloads; the
    site then serves the real page to requests carrying it. A client that does not run scripts sees only this
    page, with no data blob."""
    name, _value = script_challenge_cookie(seed)
    seed_b64 = base64.b64encode(f"pass:{seed}".encode()).decode()
    script = (
        "(async()=>{const d=await crypto.subtle.digest('SHA-256',Uint8Array.from(atob('" + seed_b64 + "'),"
        "c=>c.charCodeAt(0)));const h=Array.from(new Uint8Array(d)).map(b=>b.toString(16).padStart(2,'0'))"
        ".join('').slice(0,32);document.cookie='" + name + "='+h+'; path=/';location.reload();})();"
    )
    return _html(
        "Please wait...",
        body='<p>Please wait...</p><div id="cs" class="eyJ2Ijp7ImEiOiIiLCJjIjoiIn19"></div>'
        f'<div id="wci" class="{name}"></div><script>{script}</script>',
    )


def render_item_list(
    account: SimAccount, now: datetime, *, cursor: int | None = None, count: int = 15, status_code: int = 0
) -> str:
    """The `/api/creator/item_list/` JSON: up to `count` posts older than `cursor` (ms), newest first."""
    if status_code != 0:
        return json.dumps({"statusCode": status_code, "statusMsg": STATUS_MESSAGES.get(status_code, "")})
    limit = cursor if cursor else int(now.timestamp() * 1000) + 1
    older = [v for v in account.visible_videos(now) if int(v.created_at.timestamp()) * 1000 < limit]
    page = older[:count]
    return json.dumps(
        {
            "statusCode": 0,
            "statusMsg": "",
            "itemList": [item_struct(account, v, now) for v in page],
            "hasMorePrevious": len(older) > len(page),
            "hasMore": False,
        },
        separators=(",", ":"),
    )


def render_challenge_page() -> str:
    """The 2026 proof-of-work "Please wait…" page: no data blob, elements `cs` and `wci`."""
    return _html(
        "Please wait...",
        body='<p>Please wait...</p><div id="cs" class="eyJ2Ijp7ImEiOiIiLCJjIjoiIn19"></div>'
        '<div id="wci" class="_wafchallengeid"></div>',
    )


def render_shell_page() -> str:
    """The ~1.5 KB client-rendered shell: scripts, no data blob, no challenge."""
    return _html("TikTok - Make Your Day", head='<script src="/static/webapp-main.js" defer></script>')


def render_captcha_json() -> str:
    """The slider-captcha JSON the API answers instead of data."""
    return json.dumps({"code": "10000", "from": "", "type": "verify", "version": "", "subtype": "slide"})
