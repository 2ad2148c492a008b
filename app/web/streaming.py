"""Export downloads as HTTP streams, one way for the API and the admin page alike."""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

import anyio
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import Message, Receive, Scope, Send

from app import exports
from app.db import Database
from app.exports.run import ExportPlan
from app.exports.stored import stored_bytes, stored_name
from app.models import Project, User, utcnow
from app.web.deps import end_transaction

logger = logging.getLogger(__name__)


class Stalled(Exception):
    """The client stopped reading a download."""


class ClosingStream(StreamingResponse):
    """A stream whose generator is closed however the response ends.

    Starlette leaves a generator that was not read to the end (the client hung up) for the
    garbage collector, and with it the export's open snapshot and pooled connection. Closing
    it here ends the read-only transaction at once; an export cut short is not recorded.
    A client that stops reading without hanging up (a stalled download) is given up on once
    one piece has waited ``send_timeout`` seconds to go out, so no snapshot stays open.
    """

    send_timeout: float = 60.0

    def __init__(self, body: Generator[bytes], **kwargs: Any) -> None:
        super().__init__(body, **kwargs)
        self._body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def timed_send(message: Message) -> None:
            try:
                with anyio.fail_after(self.send_timeout):
                    await send(message)
            except TimeoutError:  # an OSError, which Starlette would take for a hang-up
                raise Stalled from None

        try:
            await super().__call__(scope, receive, timed_send)
        except* Stalled:  # grouped where Starlette runs the stream in a task group
            logger.warning("download stalled for %ss: given up", self.send_timeout)
        finally:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(self._body.close)


def download(session: Session, db: Database, plan: ExportPlan, admin: User) -> ClosingStream:
    """The export ``plan`` streamed as an attachment, recorded once the last byte is sent."""
    filename = exports.download_name(plan, utcnow())
    body = exports.stream_download(
        db, plan, filename=filename, exported_by=admin.username, user_id=admin.id
    )
    end_transaction(session)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return ClosingStream(body, media_type="application/jsonl", headers=headers)


def stored(session: Session, db: Database, project: Project, export_id: int) -> ClosingStream:
    """A past export's stored file, as it was first handed out (app/exports/stored.py), read
    from the database and decompressed a piece at a time as it is sent, in a snapshot of its
    own (the request's transaction ends before the body is sent). Starlette runs each step of
    the generator in its thread pool, so neither the reads nor zlib hold up the event loop."""
    name = stored_name(session, project, export_id)
    safe = "".join(c for c in name if c.isalnum() or c in "._-") or "export.jsonl"
    headers = {"Content-Disposition": f'attachment; filename="{safe}"'}
    return ClosingStream(_stored_body(db, export_id), media_type="application/jsonl",
                         headers=headers)  # fmt: skip


def _stored_body(db: Database, export_id: int) -> Generator[bytes]:
    with db.read_only() as session:
        yield from stored_bytes(session, export_id)
