"""Logging in and out of the browser session (with the login throttle, app/accounts/throttle.py)."""

from __future__ import annotations

import ipaddress
import math
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.accounts import throttle
from app.accounts.auth import password_owner
from app.i18n import N_, ngettext
from app.web.deps import DatabaseDep, SessionDep, get_settings
from app.web.guards import csrf_protect, login_session, logout_session
from app.web.rendering import get_renderer

router = APIRouter(include_in_schema=False)

BAD_LOGIN = N_("Wrong username or password.")
INACTIVE = N_("This account is inactive. Ask an admin to reactivate it.")


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host after login."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return urlparse(target).path or "/"


def client_address(request: Request) -> str:
    """The client's address: the peer's, unless the peer is a configured proxy
    (``ARBITER_TRUSTED_PROXIES``); then the nearest ``X-Forwarded-For`` hop that is not one."""
    peer = request.client.host if request.client else "unknown"
    proxies = get_settings(request).proxy_networks()
    if not proxies or not _within(peer, proxies):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _within(hop, proxies):
            return hop
    return peer


def _within(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


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
    db: DatabaseDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """The attempt is counted in a transaction of its own before the password is checked,
    so concurrent guesses see each other's counts at once."""
    context: dict[str, object] = {"next": _safe_next(next), "username": username}
    address = client_address(request)
    with db.scope() as session:
        wait = throttle.reserve(session, username, address)
    if wait is not None:
        minutes = math.ceil(wait / 60)
        context["error"] = ngettext("Too many failed logins. Try again in %(n)s minute.",
                                    "Too many failed logins. Try again in %(n)s minutes.",
                                    minutes)  # fmt: skip
        return _render(request, context, 429, headers={"Retry-After": str(wait)})
    with db.scope() as session:
        user = password_owner(session, username, password)
        if user is None:
            return _render(request, {**context, "error": BAD_LOGIN}, 401)
        if not user.is_active:  # told only to someone who knows the password
            return _render(request, {**context, "error": INACTIVE}, 403)
        throttle.release(session, username, address)
        login_session(request, session, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request, session: SessionDep) -> Response:
    logout_session(request, session)
    return RedirectResponse("/login", status_code=303)
