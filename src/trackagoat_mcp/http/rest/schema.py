"""`GET /schema`: the data model document of `get_schema`, generated from the same record models."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from trackagoat_mcp.http.rest.envelope import Envelope, success
from trackagoat_mcp.server.guide import SchemaDocument, schema_document

router = APIRouter(tags=["schema"])


@router.get("/schema", response_model=Envelope[SchemaDocument])
async def get_schema() -> Response:
    """Entities, their fields and meanings, and the conventions; call once at the start of a session."""
    return success(schema_document())
