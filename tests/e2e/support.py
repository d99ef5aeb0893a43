"""Helpers of the end-to-end tests: the real `trackagoat-mcp` console script, run in subprocesses.

Every subprocess gets an explicit environment built here (no `TRACKAGOAT_*` variable leaks in from the
developer's shell), a timeout, and a store of its own (see `conftest.py`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CLI = Path(sys.executable).parent / "trackagoat-mcp"
"""The console script of the environment running the tests (the venv's, not whatever is first on PATH)."""

TIMEOUT = 60.0
"""Seconds any one CLI subprocess may take (a cold start imports the whole package and may migrate)."""

KEY_RE = re.compile(r"^tga_[0-9a-f]{64}$")
ANY_KEY_RE = re.compile(r"tga_[0-9a-f]{64}")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
UNREACHABLE_TIKTOK = "http://127.0.0.1:9"
"""Where the scraper is pointed so that no test ever reaches the real TikTok (port 9 refuses connections)."""


def child_env(home: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess: ours minus every `TRACKAGOAT_*`, plus the store and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKAGOAT_")}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        TRACKAGOAT_DATABASE_URL=database_url,
        TRACKAGOAT_TIKTOK_BASE_URL=UNREACHABLE_TIKTOK,
    )
    env.update(extra)
    return env


def run_cli(
    args: Sequence[str], env: dict[str, str], *, stdin_text: str | None = None, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run `trackagoat-mcp *args` to completion (stdin is empty unless `stdin_text` is given)."""
    return subprocess.run(
        [str(CLI), *args],
        env=env,
        input=stdin_text if stdin_text is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def describe_result(result: subprocess.CompletedProcess[str]) -> str:
    """Everything needed to understand a CLI run, for assertion messages."""
    return f"exit {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


def assert_refused_with_a_sentence(result: subprocess.CompletedProcess[str], *phrases: str) -> None:
    """The run failed, printed nothing on stdout, and explained itself on stderr without a traceback."""
    shown = describe_result(result)
    assert result.returncode != 0, shown
    assert result.stdout == "", f"stdout must stay empty (it is the protocol channel): {shown}"
    assert "Traceback" not in result.stderr, shown
    message = result.stderr.strip()
    assert message.endswith("."), f"stderr should end with a whole sentence: {shown}"
    for phrase in phrases:
        assert phrase in message, f"stderr should mention {phrase!r}: {shown}"


@dataclass(frozen=True)
class Store:
    """A database the CLI subprocesses share, and how to run the CLI against it."""

    url: str
    home: Path

    def env(self, **extra: str) -> dict[str, str]:
        return child_env(self.home, self.url, **extra)

    def cli(self, *args: str, stdin_text: str | None = None, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return run_cli(args, self.env(**extra_env), stdin_text=stdin_text)

    def ok(self, *args: str, stdin_text: str | None = None, **extra_env: str) -> subprocess.CompletedProcess[str]:
        """Run the CLI and insist that it succeeded."""
        result = self.cli(*args, stdin_text=stdin_text, **extra_env)
        assert result.returncode == 0, f"trackagoat-mcp {' '.join(args)} failed: {describe_result(result)}"
        return result

    def init(self) -> str:
        """`trackagoat-mcp init`; returns the one key it printed."""
        result = self.ok("init")
        found = [line.strip() for line in result.stdout.splitlines() if KEY_RE.match(line.strip())]
        assert len(found) == 1, f"init should print exactly one key: {describe_result(result)}"
        return found[0]

    def create_key(self, *args: str) -> tuple[str, str]:
        """`trackagoat-mcp keys create *args`; returns (key id, key)."""
        result = self.ok("keys", "create", *args)
        key = result.stdout.strip()
        assert KEY_RE.match(key), f"keys create should print only the key on stdout: {describe_result(result)}"
        ids = UUID_RE.findall(result.stderr)
        assert ids, f"keys create should name the new key's id on stderr: {describe_result(result)}"
        return ids[0], key
