"""Who is calling: the organization a request acts for, the scopes its key grants, and the key format.

Nothing here touches the store, so the server can name its caller before the store layer is even imported
(`serve` answers `tools/list` that early). `admin` implies `write`, and `write` implies `read`.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

from trackagoat_mcp.errors import Forbidden

__all__ = ["ALL_SCOPES", "KEY_RE", "Caller", "hash_key"]

KEY_RE = re.compile(r"^tga_[0-9a-f]{64}$")
"""An API key as `keys create` prints it."""


def hash_key(key: str) -> str:
    """SHA-256 hex of a key: what the store keeps instead of the key."""
    return hashlib.sha256(key.encode()).hexdigest()


ALL_SCOPES: tuple[str, ...] = ("read", "write", "admin")
_IMPLIED = {"admin": {"admin", "write", "read"}, "write": {"write", "read"}, "read": {"read"}}


@dataclass(frozen=True)
class Caller:
    """The organization a request acts for and the scopes its key grants."""

    org_id: uuid.UUID
    scopes: frozenset[str]
    key_id: uuid.UUID | None = None

    @property
    def effective_scopes(self) -> frozenset[str]:
        """Scopes including the ones implied by stronger scopes."""
        granted: set[str] = set()
        for scope in self.scopes:
            granted |= _IMPLIED.get(scope, set())
        return frozenset(granted)

    def can(self, scope: str) -> bool:
        """Whether the caller holds `scope` (directly or implied)."""
        return scope in self.effective_scopes

    def require(self, scope: str) -> None:
        """Raise `Forbidden` unless the caller holds `scope`."""
        if not self.can(scope):
            granted = sorted(self.scopes)
            raise Forbidden(
                f"This action requires the {scope!r} scope; this key grants {granted!r}. "
                "Use a key created with that scope (trackagoat-mcp keys create --scopes ...).",
                required=scope,
                granted=granted,
            )
