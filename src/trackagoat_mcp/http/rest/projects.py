"""`/projects`: list, get, create (Idempotency-Key), rename; the same domain calls as the `context` tools."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema
from starlette.requests import Request
from starlette.responses import Response

from trackagoat_mcp.domain import notes, projects
from trackagoat_mcp.domain.schemas import ProjectOut, ProjectSummary
from trackagoat_mcp.http.rest.common import Body, Id, ListQuery, Patch, at_least_one
from trackagoat_mcp.http.rest.deps import CallerDep, StateDep
from trackagoat_mcp.http.rest.envelope import Envelope, PageEnvelope, page_response, success
from trackagoat_mcp.http.rest.idempotency import IdempotencyKey, begin

router = APIRouter(tags=["projects"])


class ProjectCreate(Body):
    """A new project."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    readme: Annotated[str | None, Field(max_length=20_000, description="Your markdown notes.")] = None


class ProjectPatch(Patch):
    """Fields to change (at least one)."""

    not_null = ("name",)

    name: Annotated[str, Field(min_length=1, max_length=200)] | SkipJsonSchema[None] = None
    readme: Annotated[str | None, Field(max_length=20_000, description="null clears it.")] = None


@router.get("/projects", response_model=PageEnvelope[ProjectSummary])
async def list_projects(state: StateDep, caller: CallerDep, q: Annotated[ListQuery, Query()]) -> Response:
    """The organization's projects, oldest first."""
    async with state.db.read() as session:
        page = await projects.list_projects(session, caller, limit=q.limit, cursor=q.cursor)
    return page_response(page)


@router.get("/projects/{project_id}", response_model=Envelope[ProjectOut])
async def get_project(state: StateDep, caller: CallerDep, project_id: Id) -> Response:
    """One project's full record."""
    async with state.db.read() as session:
        return success(ProjectOut.of(await projects.get_project(session, caller, project_id)))


@router.post("/projects", status_code=201, response_model=Envelope[ProjectOut])
async def create_project(
    request: Request, state: StateDep, caller: CallerDep, body: ProjectCreate, _key: IdempotencyKey = None
) -> Response:
    """Create a project (201)."""
    slot = await begin(request, state, caller)
    if slot.replay is not None:
        return slot.replay
    async with slot.guard(), state.db.write() as session:
        result = await projects.create_project(
            session, caller, name=body.name, readme=body.readme, now=state.clock.now()
        )
        return await slot.respond(session, result)


@router.patch("/projects/{project_id}", response_model=Envelope[ProjectOut])
async def update_project(state: StateDep, caller: CallerDep, project_id: Id, body: ProjectPatch) -> Response:
    """Rename a project and/or replace its readme."""
    sent = at_least_one(body, "project")
    now = state.clock.now()
    async with state.db.write() as session:
        if body.name is not None:
            await projects.update_project(session, caller, project_id, name=body.name, now=now)
        if "readme" in sent:
            await notes.write_readme(session, caller, "project", project_id, body.readme, now=now)
        return success(ProjectOut.of(await projects.get_project(session, caller, project_id)))
