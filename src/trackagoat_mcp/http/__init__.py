"""The remote transport: one ASGI app serving MCP over Streamable HTTP (`/mcp`) and legacy SSE (`/sse`).

Modules, each with one job:

* `app.py`: `build_app(settings)`, the Starlette app, its lifespan and `/healthz`.
* `guard.py`: the ASGI middleware every MCP request passes (Host/Origin checks, bearer key, rate limit).
* `keys.py`: the `TokenVerifier` that turns a `tga_…` key into the request's organization and scopes.
* `limits.py`: the per-key sliding-window rate limiter.

This layer sits above `server` (it serves the `MCPServer` that `build_server` makes) and below `cli`
(which runs it under uvicorn).
"""

from trackagoat_mcp.http.app import MAX_BODY_BYTES, build_app

__all__ = ["MAX_BODY_BYTES", "build_app"]
