"""Business rules over a database session: organization scoping, creators, videos, campaigns, stats, notes.

Nothing here imports MCP, HTTP or ASGI code; every function takes an `AsyncSession`, the `Caller`
(organization and scopes) and plain values, and returns the I/O models of `domain.schemas`.
"""
