"""Logging in and out of the browser session (with the login throttle, app/accounts/throttle.py)."""

from __future__ import annotations

import math
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.accounts import throttle
from app.accounts.auth import password_owner
from app.web.deps import SessionDep
from app.web.guards import csrf_protect, login_session
from app.web.rendering import get_renderer

router = APIRouter(include_in_schema=False)

BAD_LOGIN = "Wrong username or password."
INACTIVE = "This account is inactive. Ask an admin to reactivate it."
TOO_MANY = "Too many failed logins. Try again in {minutes} minute{s}."


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host after login."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return urlparse(target).path or "/"


def client_address(request: Request) -> str:
    """The client's address (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return _render(request, {"next": _safe_next(next)})


def _render(
    request: Request,
    context: dict[str, object],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return get_renderer(request).render(
        request, "session/login.html", context, block="login", status_code=status_code,
        headers=headers,
    )  # fmt: skip


@router.post("/login", dependencies=[Depends(csrf_protect)])
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    context: dict[str, object] = {"next": _safe_next(next), "username": username}
    address = client_address(request)
    wait = throttle.retry_after(session, username, address)
    if wait is not None:
        minutes = math.ceil(wait / 60)
        context["error"] = TOO_MANY.format(minutes=minutes, s="" if minutes == 1 else "s")
        return _render(request, context, 429, headers={"Retry-After": str(wait)})
    user = password_owner(session, username, password)
    if user is None:
        throttle.record_failure(session, username, address)
        return _render(request, {**context, "error": BAD_LOGIN}, 401)
    if not user.is_active:
        return _render(request, {**context, "error": INACTIVE}, 403)
    throttle.forget_failures(session, username)
    login_session(request, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
