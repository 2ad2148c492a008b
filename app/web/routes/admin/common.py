"""What every admin page shares: the guarded router, rendering, flash messages.

Every route under ``/admin`` is guarded by the router itself (``require_admin``), so a new
page cannot forget it: annotators get 403, anonymous visitors the login page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.i18n import Text
from app.web.guards import require_admin
from app.web.rendering import get_renderer, is_htmx


def admin_router() -> APIRouter:
    return APIRouter(
        prefix="/admin", dependencies=[Depends(require_admin)], include_in_schema=False
    )


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    block: str | None = None,
    status_code: int = 200,
    secret: bool = False,
) -> HTMLResponse:
    """The page, or only ``block`` for htmx; a pending flash message rides along.

    ``secret``: the page shows something once (a password, a token), so no cache keeps it.
    """
    context = {"flash": Text.load(request.session.pop("flash", None)), **context}
    headers = {"Cache-Control": "no-store"} if secret else None
    return get_renderer(request).render(
        request, f"admin/{template}", context, block=block, status_code=status_code,
        headers=headers,
    )  # fmt: skip


def done(request: Request, url: str, message: str | None = None) -> RedirectResponse:
    """After a plain form post: remember ``message`` and send the browser back (303)."""
    if message:
        request.session["flash"] = message.dump() if isinstance(message, Text) else message
    return RedirectResponse(url, status_code=303)


def after_action(
    request: Request, url: str, message: str, fragment: Callable[[str], Response]
) -> Response:
    """The answer to a successful action: for htmx the changed fragment, showing ``message``;
    for a plain form post a redirect back to ``url``, where the message is flashed."""
    if is_htmx(request):
        return fragment(message)
    return done(request, url, message)
