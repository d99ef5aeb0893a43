"""Schemathesis, a client nobody here wrote, drives the whole REST API from its own /api/v1/openapi.json.

It generates requests from every operation's schema (fuzzing, then stateful sequences that reuse created ids) against
a real server on a loopback socket, and checks every answer: no 500, status codes, content types, headers and bodies
as documented, schema-violating requests refused. Two checks are left out, for reasons the schema cannot carry:
`positive_data_acceptance` (a schema-valid cursor, handle or URL can still be one this server never issued or TikTok
never had: 400 is the right answer) and `ensure_resource_availability` (it reads a 404 about an id in the body of a
later request as the created resource having vanished). The coverage phase (boundary values of every parameter)
is left to a manual run, as it takes about 80 s more on two CPUs:

    .venv/bin/python -m schemathesis.cli run http://127.0.0.1:8000/api/v1/openapi.json \
        -H "Authorization: Bearer tga_…" --checks all \
        --exclude-checks positive_data_acceptance,ensure_resource_availability
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import anyio
import httpx2
import pytest

from tests.http.support import make_key, serve
from tests.server.conftest import acme_world
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.http import build_app

RUN_SECONDS = 240.0
EXAMPLES = "5"
STORES = ["sqlite", "postgres"] if os.environ.get("TRACKAGOAT_LONG_TESTS") == "1" else ["sqlite"]
"""The API's contract does not depend on the store (the REST suites run on both); CI fuzzes it on SQLite, and
`TRACKAGOAT_LONG_TESTS=1` adds PostgreSQL."""


@pytest.mark.slow
@pytest.mark.parametrize("db_url", STORES, indirect=True)
async def test_schemathesis_finds_no_server_error_or_schema_mismatch_anywhere_in_the_api(
    db: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    world = await acme_world(db, clock)
    key = await make_key(db, clock, world.caller.org_id)
    app = build_app(Settings(database_url="sqlite://", rate_limit_per_minute=0), db=db, clock=clock)
    async with serve(app) as url:
        # Build the OpenAPI document once before Schemathesis asks for it: its loader gives up after 10 s, which a
        # first build of the whole document can take on a loaded 2-vCPU machine.
        async with httpx2.AsyncClient(timeout=120) as client:
            document = await client.get(f"{url}/api/v1/openapi.json", headers={"Authorization": f"Bearer {key}"})
            document.raise_for_status()
        command = [
            sys.executable, "-m", "schemathesis.cli", "run", f"{url}/api/v1/openapi.json",
            "--header", f"Authorization: Bearer {key}",
            "--max-examples", EXAMPLES,
            "--phases", "fuzzing,stateful",
            "--checks", "all",
            "--exclude-checks", "positive_data_acceptance,ensure_resource_availability",
            "--generation-deterministic",
            "--no-color",
        ]  # fmt: skip
        with anyio.fail_after(RUN_SECONDS):
            result = await anyio.run_process(command, check=False, cwd=tmp_path)  # its cache goes there
    report = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0, report[-8000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", report)
    assert counts is not None, report[-2000:]
    generated, passed = int(counts[1]), int(counts[2])
    assert generated == passed >= 100, report[-2000:]
