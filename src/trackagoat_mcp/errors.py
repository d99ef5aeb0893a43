"""The one exception tree of trackagoat-mcp.

Every error a caller can act on is a `TrackagoatError`; the MCP layer turns it into a tool error whose
text is the message, the CLI prints it, and nothing else leaks. Messages are full sentences that name
the offending value with `!r` and say what to do.

```
TrackagoatError                 code
├── InvalidInput                invalid_input (or a specific code such as invalid_handle)
├── NotFound                    not_found      (a missing id and another organization's id look the same)
├── Conflict                    conflict       (or handle_taken, no_change, campaign_cycle, duplicate, …)
├── Forbidden                   insufficient_scope
├── ConfigError                 config_error   (bad settings or an uninitialised store; raised at start)
└── UpstreamError               upstream_error (TikTok or another outside service failed)
    ├── RateLimited             rate_limited   (carries retry_after seconds)
    ├── Blocked                 blocked        (challenge page, login wall, empty shell; redirect_refused:
    │                                           a short link's redirect leads off TikTok)
    └── Unavailable             unavailable    (timeouts, 5xx after retries)
```
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "RateLimited",
    "StoreUnavailable",
    "TrackagoatError",
    "Blocked",
    "Unavailable",
    "UpstreamError",
]


class TrackagoatError(Exception):
    """Base of every error a caller can understand and act on."""

    default_code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    def __str__(self) -> str:
        return self.message


class InvalidInput(TrackagoatError):
    """Raised when an argument is malformed or out of bounds (a handle, a URL, a date, a size)."""

    default_code = "invalid_input"


class NotFound(TrackagoatError):
    """Raised when an id does not exist in the caller's organization."""

    default_code = "not_found"


class Conflict(TrackagoatError):
    """Raised when a valid request clashes with the current state (duplicates, cycles, taken names)."""

    default_code = "conflict"


class Forbidden(TrackagoatError):
    """Raised when the caller's key lacks the scope an action needs; `required` and `granted` name the scopes."""

    default_code = "insufficient_scope"

    def __init__(
        self, message: str, *, code: str | None = None, required: str | None = None, granted: list[str] | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.required = required
        self.granted = granted


class ConfigError(TrackagoatError):
    """Raised at start-up when settings are invalid or the store is not ready."""

    default_code = "config_error"


class StoreUnavailable(TrackagoatError):
    """Raised when the database cannot be reached or stays locked; the request can be retried."""

    default_code = "store_unavailable"


class UpstreamError(TrackagoatError):
    """Raised when TikTok (or another outside service) fails in a way retries did not fix."""

    default_code = "upstream_error"


class RateLimited(UpstreamError):
    """Raised when the upstream keeps answering 429; `retry_after` is in seconds when known."""

    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Blocked(UpstreamError):
    """Raised when the upstream serves a challenge, a login wall or a page without data.

    `reason` says what stood in the way, for block-rate statistics: `challenge`, `shell`, `captcha`, `empty`,
    `http_403`, `http_451`, `login`, `redirect` or `other`.
    """

    default_code = "blocked"

    def __init__(self, message: str, *, code: str | None = None, reason: str = "other") -> None:
        super().__init__(message, code=code)
        self.reason = reason


class Unavailable(UpstreamError):
    """Raised on timeouts and server errors that outlasted the retries."""

    default_code = "unavailable"
