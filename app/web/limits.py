"""Request bodies over their limit are refused with 413, before they are read whole.

A declared ``Content-Length`` over the limit is refused at once, without reading a byte; a
body without one (chunked) is counted as it arrives, and the moment it passes the limit the
client gets the 413 and the app is told the client went away, so it stops reading. Which
limit applies is the gate's choice (app/web/gate.py): ``ARBITER_MAX_UPLOAD_MB`` for a batch
file upload, ``ARBITER_MAX_JSON_KB`` for every other body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class Limit:
    max_bytes: int
    label: str
    """How the limit is named to the client, e.g. "1024 MB limit (ARBITER_MAX_UPLOAD_MB)"."""


def declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


async def within_limit(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: Limit
) -> None:
    """Run ``app`` with its body cut off (and answered 413) past ``limit``."""
    if declared_length(scope) > limit.max_bytes:
        await refuse(scope, send, limit)
        return
    received, refused, started = 0, False, False

    async def counting_receive() -> Message:
        nonlocal received, refused
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit.max_bytes:
                if not started and not refused:
                    refused = True
                    await refuse(scope, send, limit)
                return {"type": "http.disconnect"}
        return message

    async def guarded_send(message: Message) -> None:
        nonlocal started
        if refused:
            return  # the 413 is the answer; what the app sends after it is dropped
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, counting_receive, guarded_send)
    except Exception:
        if not refused:
            raise


async def refuse(scope: Scope, send: Send, limit: Limit) -> None:
    detail = f"the request body is larger than the {limit.label}"
    if scope["path"].startswith("/api/"):
        body, kind = json.dumps({"detail": detail}).encode(), b"application/json"
    else:
        body, kind = detail.encode(), b"text/plain; charset=utf-8"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]  # fmt: skip
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
