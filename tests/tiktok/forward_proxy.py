"""A tiny HTTP forward proxy for tests: Basic proxy authentication, one request per connection, and a record of
everything that passed through it (the simulated site is plain http on loopback, so no CONNECT is needed)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import anyio
from anyio.abc import SocketAttribute, SocketStream


@dataclass
class Passed:
    """One request the proxy forwarded: its target path and the headers the client sent (lowercase names)."""

    path: str
    headers: dict[str, str]


@dataclass
class ForwardProxy:
    """What the proxy saw: forwarded requests, and requests refused for missing or wrong credentials."""

    username: str
    password: str
    port: int = 0
    forwarded: list[Passed] = field(default_factory=list)
    refused: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.username}:{self.password}@127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        return [passed.path for passed in self.forwarded]

    async def handle(self, client: SocketStream) -> None:
        try:
            await self._handle(client)
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError, TimeoutError):
            pass  # a client that went away mid-request; nothing to record

    async def _handle(self, client: SocketStream) -> None:
        async with client:
            head = b""
            with anyio.fail_after(10):
                while b"\r\n\r\n" not in head:
                    chunk = await client.receive()
                    if not chunk:
                        return
                    head += chunk
            request_line, *lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            method, target, version = request_line.split(" ")
            headers = {}
            for line in lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            if headers.get("proxy-authorization") != expected:
                self.refused += 1
                await client.send(
                    b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n'
                    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
                return
            if method == "CONNECT":  # Playwright's request API tunnels even plain http through a proxy
                await self._tunnel(client, target, head.split(b"\r\n\r\n", 1)[1])
                return
            parts = urlsplit(target)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            self.forwarded.append(Passed(parts.path, headers))
            kept = [
                f"{name}: {value}"
                for name, value in headers.items()
                if not name.startswith("proxy-") and name not in ("connection", "keep-alive")
            ]
            upstream_head = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close", "", ""])
            async with await anyio.connect_tcp(parts.hostname or "127.0.0.1", parts.port or 80) as upstream:
                await upstream.send(upstream_head.encode("latin-1"))
                with anyio.fail_after(30):
                    while True:
                        try:
                            data = await upstream.receive()
                        except (anyio.EndOfStream, anyio.BrokenResourceError):
                            break
                        await client.send(data)

    async def _tunnel(self, client: SocketStream, target: str, rest: bytes) -> None:
        """Relay a CONNECT tunnel, recording the plain-http request that comes through it first."""
        host, _, port = target.rpartition(":")
        await client.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
        inner = rest
        with anyio.fail_after(10):
            while b"\r\n\r\n" not in inner:
                inner += await client.receive()
        request_line, *lines = inner.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.forwarded.append(Passed(urlsplit(request_line.split(" ")[1]).path, headers))
        async with await anyio.connect_tcp(host, int(port)) as upstream:
            await upstream.send(inner)

            async def pump(source: SocketStream, sink: SocketStream) -> None:
                try:
                    async for data in source:
                        await sink.send(data)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    pass
                await sink.send_eof()

            with anyio.fail_after(30):
                async with anyio.create_task_group() as group:
                    group.start_soon(pump, client, upstream)
                    group.start_soon(pump, upstream, client)


@asynccontextmanager
async def forward_proxy(username: str = "proxyuser", password: str = "pr0xy-s3cret") -> AsyncIterator[ForwardProxy]:
    """Serve a `ForwardProxy` on a free loopback port for the duration of the block."""
    proxy = ForwardProxy(username, password)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    proxy.port = listener.extra(SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, proxy.handle)
        try:
            yield proxy
        finally:
            group.cancel_scope.cancel()
