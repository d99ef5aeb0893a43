"""The remote transport: one ASGI app serving MCP over Streamable HTTP (`/mcp`) and legacy SSE (`/sse`).

Modules, each with one job:

* `app.py`: `build_app(settings)`, the Starlette app, its lifespan and `/healthz`.
* `guard.py`: the ASGI middleware every request passes (Host/Origin checks, failed-authentication throttle,
  bearer key, per-key and per-organization rate limits).
* `keys.py`: the `TokenVerifier` that turns a `tga_…` key into the request's organization and scopes.
* `limits.py`: the sliding-window counter behind every rate limit.
* `budget.py`: the `SessionBudget` of open sessions per key, per organization and per process.
* `sessions.py`, `streams.py`: the middleware applying it to Streamable HTTP sessions and SSE streams.
* `deadlines.py`: read deadlines for request headers (a uvicorn protocol) and bodies (ASGI middleware).

This layer sits above `server` (it serves the `MCPServer` that `build_server` makes) and below `cli`
(which runs it under uvicorn).
"""

from trackagoat_mcp.http.app import MAX_BODY_BYTES, build_app

__all__ = ["MAX_BODY_BYTES", "build_app"]
