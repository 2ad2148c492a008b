"""No work before authentication: who is asking is settled before a byte of the body is read.

FastAPI reads and parses a request's body before its dependencies (the guards) run, so an
anonymous 100 MB JSON body would be parsed, and a 1 GB upload spooled to disk, only to be
answered 401. This pure ASGI middleware matches the request to its route first: when the
route's guards need a signed-in user (or an admin) and the request carries a body, it looks
the caller up (one read-only query on the token or session key). A caller the route would
refuse gets the route without its body, so the route's own guards give their usual answer
(401, the login page, 403) and nothing is read (a stranger's declared body of at most 8 KB
to an annotator's route excepted: a verdict kept across a login). Every body then has its limit
(app/web/limits.py): ``ARBITER_MAX_UPLOAD_MB`` for a multipart upload to a route that takes
a file, ``ARBITER_MAX_JSON_KB`` for everything else.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from anyio import to_thread
from fastapi import params
from fastapi.dependencies.models import Dependant
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts.auth import role_for_token
from app.accounts.sessions import role_for_session
from app.i18n import N_, Text
from app.models import Role
from app.settings import Settings
from app.text import problem
from app.web.guards import require_admin, require_caller, require_user
from app.web.limits import Limit, declared_length, within_limit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Needs:
    """What a route's guards ask of the caller, and whether it takes a file."""

    user: bool = False
    admin: bool = False
    upload: bool = False


NOTHING = Needs()
STRANGER_BODY = Limit(
    8 * 1024,
    "8 KB a request without a session may send",
    Text(
        N_(
            "The request is larger than the 8 KB a visitor who is not logged in may send; "
            "nothing was kept."
        )
    ),
)


class Gate:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.json_limit = Limit.of_setting(settings.max_json_kb, "KB", "ARBITER_MAX_JSON_KB")
        self.upload_limit = Limit.of_setting(settings.max_upload_mb, "MB", "ARBITER_MAX_UPLOAD_MB")
        self._table: list[tuple[re.Pattern[str], set[str], Needs]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _unnameable(scope["path"]):
            await _not_found(scope, send)
            return
        needs = self.needs(scope)
        if needs.user and _has_body(scope):
            role = await to_thread.run_sync(self._role, scope)
            if needs.admin and role is not None and role is not Role.ADMIN:
                await self.app(_without_body(scope), _no_body(), send)
                return
            if role is None:
                await self._stranger(needs, scope, receive, send)
                return
        limit = self.upload_limit if needs.upload and _multipart(scope) else self.json_limit
        await within_limit(self.app, scope, receive, send, limit)

    async def _stranger(self, needs: Needs, scope: Scope, receive: Receive, send: Send) -> None:
        """No one the route would let in: its guards answer without the body. Only a small
        declared body is let through to a route for annotators, so that a verdict sent just
        after a session ended can be kept across the login (app/web/routes/annotate.py)."""
        length = declared_length(scope)
        if needs.admin or not 0 < length <= STRANGER_BODY.max_bytes:
            await self.app(_without_body(scope), _no_body(), send)
            return
        await within_limit(self.app, scope, receive, send, STRANGER_BODY)

    def needs(self, scope: Scope) -> Needs:
        """The guards of the route that will answer ``scope`` (nothing, if none matches)."""
        if self._table is None:
            self._table = _route_table(scope["app"].router.routes)
        path, method = scope["path"], scope["method"]
        for regex, methods, needs in self._table:
            if method in methods and regex.match(path):
                return needs
        return NOTHING

    def _role(self, scope: Scope) -> Role | None:
        """The caller's role, or None for no one (or when the database cannot say: the
        route's guards then meet the same trouble and answer it)."""
        token = _bearer(scope)
        session_key = scope.get("session", {}).get("sid")
        if token is None and not isinstance(session_key, str):
            return None
        idle = timedelta(minutes=self.settings.session_idle_minutes)
        try:
            with scope["app"].state.db.read_only() as session:
                if token is not None:
                    return role_for_token(session, token)
                return role_for_session(session, session_key, idle=idle)
        except SQLAlchemyError as exc:
            logger.warning("gate: cannot look the caller up: %s", type(exc).__name__)
            return None


def _route_table(routes: list[Any]) -> list[tuple[re.Pattern[str], set[str], Needs]]:
    """Every API route with what its guards need, in matching order (an included router
    lists its routes with the router's own dependencies folded in)."""
    table = []
    for route in routes:
        contexts = (
            route.effective_route_contexts()
            if hasattr(route, "effective_route_contexts")
            else [route]
        )
        for context in contexts:
            dependant = getattr(context, "dependant", None)
            if dependant is not None and getattr(context, "path_regex", None) is not None:
                table.append((context.path_regex, set(context.methods or ()), _needs(dependant)))
    return table


def _needs(root: Dependant) -> Needs:
    calls = set()
    pending = [root]
    while pending:
        dependant = pending.pop()
        calls.add(dependant.call)
        pending.extend(dependant.dependencies)
    upload = any(isinstance(f.field_info, params.File) for f in root.body_params)
    admin = require_admin in calls
    return Needs(
        user=admin or bool(calls & {require_user, require_caller}), admin=admin, upload=upload
    )


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    return (length is not None and length != b"0") or _header(
        scope, b"transfer-encoding"
    ) is not None


def _multipart(scope: Scope) -> bool:
    return (_header(scope, b"content-type") or b"").lower().startswith(b"multipart/form-data")


def _bearer(scope: Scope) -> str | None:
    scheme, _, token = (_header(scope, b"authorization") or b"").decode("latin-1").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


BODY_HEADERS = frozenset({b"content-length", b"content-type", b"transfer-encoding"})


def _without_body(scope: Scope) -> Scope:
    headers = [(k, v) for k, v in scope["headers"] if k not in BODY_HEADERS]
    return {**scope, "headers": [*headers, (b"content-length", b"0")]}


def _no_body() -> Receive:
    """An empty body, then the client gone (the route stops listening)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": b"", "more_body": False}

    return receive


def _unnameable(path: str) -> bool:
    """A path with a NUL or a lone surrogate names nothing that could be stored."""
    return problem(path) is not None


async def _not_found(scope: Scope, send: Send) -> None:
    detail = "no such page or resource"
    if scope["path"].startswith("/api/"):
        body, kind = json.dumps({"detail": detail}).encode(), b"application/json"
    else:
        body, kind = detail.encode(), b"text/plain; charset=utf-8"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})
