"""Where the browser tests find Chromium, and what they do without it: skip saying why, or fail when CI requires it."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

EXECUTABLE = os.environ.get("TRACKAGOAT_BROWSER_EXECUTABLE", "/usr/bin/chromium")
REQUIRED = os.environ.get("TRACKAGOAT_REQUIRE_CHROMIUM") == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip the module's browser tests for `reason`, or fail them when `TRACKAGOAT_REQUIRE_CHROMIUM=1` (CI)."""
    if REQUIRED:
        pytest.fail(f"TRACKAGOAT_REQUIRE_CHROMIUM=1 but Chromium cannot run: {reason}")
    pytest.skip(reason)
