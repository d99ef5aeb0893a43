"""Slow clients cannot hold connections: a real `trackagoat-mcp serve --transport http` with 1-second deadlines.

Each test speaks raw HTTP/1.1 over a TCP socket so it can send a request as slowly as an attacker would,
and measures how long the server keeps the connection.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest
from anyio.abc import SocketStream

from tests.e2e.support import CLI, Store
from tests.http.support import server_processes

pytestmark = pytest.mark.slow

DEADLINE = 1.0
"""TRACKAGOAT_HEADER_TIMEOUT_SECONDS and TRACKAGOAT_BODY_TIMEOUT_SECONDS of the server under test."""
SLACK = 3.0
"""How much later than the deadline the connection may close (a busy test machine)."""
GIVE_UP = 8.0
"""How long a test waits for the close before failing (the server would otherwise wait forever)."""


@dataclass(frozen=True)
class Running:
    host: str
    port: int
    key: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("slow_clients")
    home = root / "home"
    home.mkdir()
    store = Store(url=f"sqlite+aiosqlite:///{root / 'store.db'}", home=home)
    key = store.init()
    env = store.env(TRACKAGOAT_HEADER_TIMEOUT_SECONDS=str(DEADLINE), TRACKAGOAT_BODY_TIMEOUT_SECONDS=str(DEADLINE))
    with server_processes([str(CLI)], env, [Path(root / "server.log")], cwd=home) as (url,):
        host, port = url.removeprefix("http://").split(":")
        yield Running(host=host, port=int(port), key=key)


async def trickle(stream: SocketStream, chunk: bytes) -> None:
    """Send `chunk` every 0.2 s until the server closes the connection."""
    try:
        while True:
            await stream.send(chunk)
            await anyio.sleep(0.2)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        return


async def read_until_closed(stream: SocketStream) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when (monotonic) it did."""
    received = b""
    with anyio.fail_after(GIVE_UP):
        try:
            while True:
                received += await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
            return received, time.monotonic()


async def held_for(server: Running, opening: bytes, drip: bytes | None) -> tuple[bytes, float]:
    """Send `opening`, then `drip` every 0.2 s; returns what the server answered and how long it kept the connection."""
    started = time.monotonic()
    async with await anyio.connect_tcp(server.host, server.port) as stream, anyio.create_task_group() as tg:
        await stream.send(opening)
        if drip is not None:
            tg.start_soon(trickle, stream, drip)
        received, closed = await read_until_closed(stream)
        tg.cancel_scope.cancel()
    return received, closed - started


async def test_a_connection_that_never_sends_a_request_is_closed_after_the_header_deadline(server):
    received, seconds = await held_for(server, b"", None)

    assert received == b""
    assert DEADLINE * 0.8 <= seconds <= DEADLINE + SLACK


async def test_headers_sent_a_line_at_a_time_are_cut_off_at_the_header_deadline(server):
    opening = f"GET /healthz HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n".encode()
    received, seconds = await held_for(server, opening, b"X-Slow: a\r\n")

    assert received == b"", "no request was ever complete, so nothing is answered"
    assert seconds <= DEADLINE + SLACK


async def test_a_body_that_never_finishes_gets_408_and_the_connection_closes_at_the_body_deadline(server):
    opening = (
        f"POST /mcp HTTP/1.1\r\nHost: {server.host}:{server.port}\r\nAuthorization: Bearer {server.key}\r\n"
        "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
        "Content-Length: 4000\r\n\r\n{"
    ).encode()
    received, seconds = await held_for(server, opening, b" ")

    assert received.startswith(b"HTTP/1.1 408 "), received[:200]
    assert b"did not arrive within 1 s" in received
    assert seconds <= DEADLINE + SLACK


async def test_a_body_still_trickling_after_an_early_answer_does_not_keep_the_connection(server):
    opening = (
        f"POST /mcp HTTP/1.1\r\nHost: {server.host}:{server.port}\r\nContent-Type: application/json\r\n"
        "Content-Length: 100000\r\n\r\n{"
    ).encode()
    received, seconds = await held_for(server, opening, b" ")

    assert received.startswith(b"HTTP/1.1 401 "), "no key: answered at once, before the body"
    assert seconds <= DEADLINE + SLACK


async def test_a_prompt_client_is_served_normally_on_the_same_server(server):
    request = f"GET /healthz HTTP/1.1\r\nHost: {server.host}:{server.port}\r\nConnection: close\r\n\r\n".encode()
    received, seconds = await held_for(server, request, None)

    assert received.startswith(b"HTTP/1.1 200 "), received[:200]
    assert seconds < DEADLINE
