"""Helpers of the HTTP tests: real servers on loopback sockets, keys, authenticated clients, a load balancer.

`serve(app)` runs the app in this process (so tests can use the `db` fixture on both backends and a frozen
clock) but over real TCP, so every request passes the same ASGI stack, headers and status codes as in
production. The socket is bound and listening before the server starts (port 0), so there is no free-port
race and no readiness wait: early connections wait in the backlog.

`server_processes(...)` starts real `trackagoat-mcp serve --transport http` processes instead, and
`RoundRobin` is an HTTP transport that sends each request to the next of several servers, the way a load
balancer without sticky sessions does.
"""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import ExitStack, asynccontextmanager, contextmanager
from pathlib import Path

import anyio
import httpx2
import uvicorn
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from starlette.types import ASGIApp

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import keys

SESSION_SECONDS = 60.0
"""Upper bound for one whole client session."""

START_SECONDS = 60.0
"""Upper bound for a server process to answer /healthz."""

MODERN, LEGACY = "2026-07-28", "2025-11-25"
ERAS = [("auto", MODERN), ("legacy", LEGACY)]


@asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 (a free port) for the block; yields the base URL, e.g. `http://127.0.0.1:PORT`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.listen(128)  # connections queue in the backlog until uvicorn has run the lifespan and accepts them
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on", timeout_graceful_shutdown=2))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
    sock.close()


async def make_key(
    db: Database, clock: FrozenClock, org_id: uuid.UUID, scopes: tuple[str, ...] = ("read", "write")
) -> str:
    """Create a key for `org_id` with `scopes`; returns the plaintext key."""
    async with db.write() as session:
        _row, key = await keys.create_key(session, org_id=org_id, name="http test", scopes=scopes, now=clock.now())
    return key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@asynccontextmanager
async def mcp_client(base_url: str, key: str, mode: str = "auto") -> AsyncIterator[Client]:
    """An `mcp.Client` on `/mcp` sending `key` (mode "auto" lands on 2026-07-28, "legacy" on the handshake)."""
    with anyio.fail_after(SESSION_SECONDS):
        async with create_mcp_http_client(headers=bearer(key)) as http:
            async with Client(streamable_http_client(f"{base_url}/mcp", http_client=http), mode=mode) as client:
                yield client


@asynccontextmanager
async def sse_mcp_client(base_url: str, key: str) -> AsyncIterator[Client]:
    """An `mcp.Client` over the legacy SSE transport (`/sse` + `/messages/`) sending `key`."""
    with anyio.fail_after(SESSION_SECONDS):
        async with Client(sse_client(f"{base_url}/sse", headers=bearer(key))) as client:
            yield client


def raw_client(base_url: str) -> httpx2.AsyncClient:
    """A plain HTTP client for status-code checks (no MCP)."""
    return httpx2.AsyncClient(base_url=base_url, timeout=10.0)


DISCOVER = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "server/discover",
    "params": {
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
        }
    },
}
"""A complete 2026-07-28 request, for raw HTTP checks."""

DISCOVER_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": MODERN,
    "Mcp-Method": "server/discover",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for server processes, which bind it themselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server_processes(
    command: Sequence[str], env: dict[str, str], logs: Sequence[Path], *, cwd: Path, extra: Sequence[str] = ()
) -> Iterator[list[str]]:
    """Run one `command serve --transport http --port PORT *extra` process per log file; yields their base URLs.

    The processes start together and are each waited for (bounded) until `/healthz` answers 200; they are always
    terminated (then killed if they linger) when the block ends.
    """
    ports = [free_port() for _ in logs]
    with ExitStack() as stack:
        processes = []
        for port, log in zip(ports, logs, strict=True):
            out = stack.enter_context(log.open("w"))
            process = subprocess.Popen(
                [*command, "serve", "--transport", "http", "--host", "127.0.0.1", "--port", str(port), *extra],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=str(cwd),
            )
            stack.callback(_stop, process)
            processes.append(process)
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, process, log in zip(urls, processes, logs, strict=True):
            _wait_healthy(url, process, log)
        yield urls


def _wait_healthy(url: str, process: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        assert process.poll() is None, f"the server exited early:\n{log.read_text()}"
        try:
            if httpx2.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        assert time.monotonic() < deadline, f"no /healthz within {START_SECONDS} s:\n{log.read_text()}"
        time.sleep(0.1)


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


class RoundRobin(httpx2.AsyncBaseTransport):
    """Send each request to the next of several servers in turn: a load balancer without sticky sessions.

    `targets` are either base URLs of real servers (requests keep their path, query and headers, only the
    scheme, host and port change) or in-process ASGI transports. `served[i]` counts the requests target i got;
    `log` lists `(target index, Mcp-Method header, Mcp-Name header)` per request (2026-07-28 requests name their
    method and tool in headers, so a test can tell which replica answered which call).
    """

    def __init__(self, targets: Sequence[str | httpx2.AsyncBaseTransport]) -> None:
        self._network = httpx2.AsyncHTTPTransport()
        self._targets = list(targets)
        self._next = 0
        self.served = [0] * len(self._targets)
        self.log: list[tuple[int, str | None, str | None]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        index = self._next
        self._next = (index + 1) % len(self._targets)
        self.served[index] += 1
        self.log.append((index, request.headers.get("mcp-method"), request.headers.get("mcp-name")))
        target = self._targets[index]
        if isinstance(target, httpx2.AsyncBaseTransport):
            return await target.handle_async_request(request)
        base = httpx2.URL(target)
        request.url = request.url.copy_with(scheme=base.scheme, host=base.host, port=base.port)
        return await self._network.handle_async_request(request)

    def replicas_of(self, method: str, name: str | None = None) -> list[int]:
        """Which target answered each request with this `Mcp-Method` (and `Mcp-Name`), in order."""
        return [index for index, m, n in self.log if m == method and (name is None or n == name)]

    async def aclose(self) -> None:
        await self._network.aclose()


@asynccontextmanager
async def balanced_client(
    balancer: RoundRobin, key: str | None = None, *, mode: str = "auto", **client_options: object
) -> AsyncIterator[Client]:
    """An `mcp.Client` on `/mcp` whose every HTTP request goes through `balancer` (sending `key` if given)."""
    headers = bearer(key) if key else {}
    with anyio.fail_after(SESSION_SECONDS):
        async with httpx2.AsyncClient(transport=balancer, headers=headers, timeout=30.0) as http:
            # The address is never dialled (the balancer picks the server); it is what goes into the Host header.
            transport = streamable_http_client("http://127.0.0.1:9/mcp", http_client=http)
            async with Client(transport, mode=mode, **client_options) as client:
                yield client
