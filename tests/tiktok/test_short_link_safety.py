"""Where opening a short link may send requests: TikTok's own hosts over https, a few hops, or the configured site.

The simulated site answers every host it is addressed as (the transport is in-process), so `sim.origins` shows
where the client meant each request to go, and `sim.redirect_short_link` plays a short link whose redirect
points anywhere at all: the cloud metadata address, another domain, plain http, a chain of short links.
"""

from __future__ import annotations

import httpx2
import pytest

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.errors import Blocked, InvalidInput
from trackagoat_mcp.tiktok.client import MAX_SHORT_LINK_HOPS
from trackagoat_mcp.tiktok.sim import SimulatedTikTok

from .conftest import FakeTime
from .test_client import make_client

SITE_ELSEWHERE = "http://sim.test:8080"


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/t/x/",
        "https://evil.example/t/x/",
        "http://www.tiktok.com/t/x/",
        "https://www.tiktok.com:8443/t/x/",
        "https://evil.example/@alice/video/7300000000000000000",
    ],
)
async def test_a_redirect_off_tiktok_or_off_https_is_refused_naming_the_link_and_never_requested(
    http: httpx2.AsyncClient, fake_time: FakeTime, clock: FrozenClock, sim: SimulatedTikTok, location: str
) -> None:
    sim.redirect_short_link("ZMbad", location)
    client = make_client(http, fake_time, clock)

    with pytest.raises(Blocked) as refused:
        await client.resolve_short_link("https://vm.tiktok.com/ZMbad/")

    assert refused.value.code == "redirect_refused"
    assert "'https://vm.tiktok.com/ZMbad/'" in refused.value.message and repr(location) in refused.value.message
    assert sim.count("/t/x/") == 0
    assert sim.origins == {"https://vm.tiktok.com": 1}


async def test_a_chain_of_short_links_is_followed_for_at_most_three_requests(
    http: httpx2.AsyncClient, fake_time: FakeTime, clock: FrozenClock, sim: SimulatedTikTok
) -> None:
    for n in range(1, 6):
        sim.redirect_short_link(f"ZM{n}", f"https://vm.tiktok.com/ZM{n + 1}/")
    sim.add_short_link("ZM6", "alice")
    sim.redirect_short_link("ZMvia", "https://www.tiktok.com/t/ZTalice/")
    sim.add_short_link("ZTalice", "alice")
    client = make_client(http, fake_time, clock)

    with pytest.raises(Blocked, match=f"after {MAX_SHORT_LINK_HOPS} requests"):
        await client.resolve_short_link("https://vm.tiktok.com/ZM1/")
    two_hops = await client.resolve_short_link("https://vm.tiktok.com/ZMvia/")

    assert MAX_SHORT_LINK_HOPS == 3
    assert [sim.count(f"/ZM{n}/") for n in range(1, 6)] == [1, 1, 1, 0, 0]
    assert two_hops == "https://www.tiktok.com/@alice"


async def test_links_written_with_http_are_opened_over_https_and_other_ports_are_not_opened(
    http: httpx2.AsyncClient, fake_time: FakeTime, clock: FrozenClock, sim: SimulatedTikTok
) -> None:
    sim.add_short_link("ZMx", "alice")
    client = make_client(http, fake_time, clock)

    resolved = await client.resolve_short_link("http://vm.tiktok.com/ZMx/")
    with pytest.raises(InvalidInput, match="not a TikTok short link"):
        await client.resolve_short_link("https://vm.tiktok.com:8443/ZMx/")
    with pytest.raises(InvalidInput, match="not a TikTok short link"):
        await client.resolve_short_link("https://evil.example/t/ZMx/")

    assert resolved == "https://www.tiktok.com/@alice"
    assert sim.origins == {"https://vm.tiktok.com": 1}


async def test_with_the_site_configured_elsewhere_every_short_link_is_opened_there_and_read_as_a_tiktok_url(
    http: httpx2.AsyncClient, fake_time: FakeTime, clock: FrozenClock, sim: SimulatedTikTok
) -> None:
    video_id = sim.account("alice").videos[0].video_id
    sim.add_short_link("ZMvid", "alice", video_id)
    sim.add_short_link("ZTprofile", "alice")
    client = make_client(http, fake_time, clock, base_url=SITE_ELSEWHERE)

    via_vm = await client.resolve_short_link("https://vm.tiktok.com/ZMvid/")
    via_vt = await client.resolve_short_link("vt.tiktok.com/ZMvid")
    via_t = await client.resolve_short_link("https://www.tiktok.com/t/ZTprofile/")

    assert via_vm == via_vt == f"https://www.tiktok.com/@alice/video/{video_id}"
    assert via_t == "https://www.tiktok.com/@alice"
    assert sim.origins == {SITE_ELSEWHERE: 3}
    assert (sim.count("/t/ZMvid/"), sim.count("/t/ZMvid"), sim.count("/t/ZTprofile/")) == (1, 1, 1)


async def test_with_the_site_configured_elsewhere_a_redirect_to_real_tiktok_or_beyond_is_not_requested(
    http: httpx2.AsyncClient, fake_time: FakeTime, clock: FrozenClock, sim: SimulatedTikTok
) -> None:
    sim.redirect_short_link("ZMmeta", "http://169.254.169.254/latest/meta-data/")
    sim.redirect_short_link("ZMhop", "https://vm.tiktok.com/ZMend/")
    sim.add_short_link("ZMend", "alice")
    client = make_client(http, fake_time, clock, base_url=SITE_ELSEWHERE)

    with pytest.raises(Blocked) as refused:
        await client.resolve_short_link("https://vm.tiktok.com/ZMmeta/")
    hopped = await client.resolve_short_link("https://vm.tiktok.com/ZMhop/")

    assert refused.value.code == "redirect_refused"
    assert hopped == "https://www.tiktok.com/@alice"
    assert sim.origins == {SITE_ELSEWHERE: 3}
