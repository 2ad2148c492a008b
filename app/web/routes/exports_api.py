"""The export API: download a training file as a stream, and list past exports (admins only).

``GET /api/v1/projects/{slug}/export?format=...`` streams ``application/jsonl``: the same bytes
``arbiter export`` writes for the same parameters. The export is recorded (with its manifest
and sha256) once the last byte has been sent; a download that breaks off is not recorded.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from app import exports
from app.exports import ExportParams
from app.models import utcnow
from app.web.deps import DatabaseDep, SessionDep, SettingsDep
from app.web.guards import AdminDep
from app.web.routes.loaders import AdminProjectDep

router = APIRouter(prefix="/api/v1/projects/{slug}", tags=["exports"])


class ClosingStream(StreamingResponse):
    """A stream whose generator is closed however the response ends.

    Starlette leaves a generator that was not read to the end (the client hung up) for the
    garbage collector, and with it the export's open snapshot and pooled connection. Closing
    it here ends the read-only transaction at once; an export cut short is not recorded.
    """

    def __init__(self, body: Generator[bytes], **kwargs: Any) -> None:
        super().__init__(body, **kwargs)
        self._body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(self._body.close)


@router.get("/export", response_class=StreamingResponse)
def download(
    params: Annotated[ExportParams, Query()],
    project: AdminProjectDep,
    admin: AdminDep,
    session: SessionDep,
    db: DatabaseDep,
    settings: SettingsDep,
) -> StreamingResponse:
    plan = exports.plan_export(
        session, project, params.one_file(), secret=settings.resolved_secret_key()
    )
    filename = exports.download_name(plan, utcnow())
    body = exports.stream_download(
        db, plan, filename=filename, exported_by=admin.username, user_id=admin.id
    )
    # End the request's transaction now rather than after the stream: on SQLite it holds the
    # write lock, which the audit row written at the end of the stream needs.
    session.commit()
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return ClosingStream(body, media_type="application/jsonl", headers=headers)


@router.get("/exports")
def history(
    project: AdminProjectDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """The project's exports, newest first, each with its manifest."""
    return {"exports": exports.list_exports(session, project, limit)}
