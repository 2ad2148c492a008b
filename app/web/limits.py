"""Request bodies over their limit are refused with 413, before they are read whole.

A declared ``Content-Length`` over the limit is refused at once, without reading a byte; a
body without one (chunked) is counted as it arrives, and the moment it passes the limit the
client gets the 413 and the app is told the client went away, so it stops reading. Which
limit applies is the gate's choice (app/web/gate.py): ``ARBITER_MAX_UPLOAD_MB`` for a batch
file upload, ``ARBITER_MAX_JSON_KB`` for every other body.

The API's 413 says why in English (``detail``); a page's says it in the language chosen before
logging in (the language cookie) or the browser's: no route has run, so the person's own
setting is not known yet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.i18n import N_, Text, translate
from app.web.rendering import page_locale


@dataclass(frozen=True)
class Limit:
    max_bytes: int
    label: str
    """How the API names the limit, e.g. "1024 MB limit (ARBITER_MAX_UPLOAD_MB)"."""
    text: Text
    """What a page says when a body passes it, in the reader's language."""

    @classmethod
    def of_setting(cls, amount: int, unit: str, setting: str) -> Limit:
        """The limit a setting gives, ``amount`` KB or MB."""
        shift = {"KB": 10, "MB": 20}[unit]
        text = Text(N_("The request is larger than the %(amount)s %(unit)s limit (%(setting)s); "
                       "nothing was kept. Go back and send less (a smaller file, or the file "
                       "in parts)."), amount=str(amount), unit=unit, setting=setting)  # fmt: skip
        return cls(amount << shift, f"{amount} {unit} limit ({setting})", text)


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
    if scope["path"].startswith("/api/"):
        detail = f"the request body is larger than the {limit.label}"
        body, kind = json.dumps({"detail": detail}).encode(), b"application/json"
    else:
        body = translate(limit.text, page_locale(Request(scope))).encode()
        kind = b"text/plain; charset=utf-8"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]  # fmt: skip
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
