"""Logging in and out of the browser session."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from app.auth import verify_password
from app.deps import SessionDep
from app.guards import csrf_protect, login_session
from app.models import User
from app.rendering import get_renderer

router = APIRouter(include_in_schema=False)

BAD_LOGIN = "Wrong username or password."


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host after login."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return urlparse(target).path or "/"


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return get_renderer(request).render(request, "session/login.html", {"next": _safe_next(next)})


@router.post("/login", dependencies=[Depends(csrf_protect)])
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        context = {"next": _safe_next(next), "error": BAD_LOGIN, "username": username}
        return get_renderer(request).render(request, "session/login.html", context, status_code=401)
    login_session(request, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
