"""The site's own furniture: the favicon, and the interactive API documentation at ``/docs``
(Swagger UI) and ``/redoc`` (Redoc), both read from ``/openapi.json`` with their scripts
vendored under static/vendor/ (static/VENDORED.md): the policy allows no other host."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from app import RESOURCES, i18n
from app.web.deps import SessionDep
from app.web.guards import OptionalUserDep, csrf_protect
from app.web.rendering import LANGUAGE_COOKIE, get_renderer
from app.web.security import CSP

router = APIRouter(include_in_schema=False)

DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'") + (
    "; worker-src 'self' blob:; font-src 'self' data:"
)
"""Both viewers style their widgets with inline styles, and Redoc searches in a worker."""


@router.get("/favicon.ico")
def favicon() -> Response:
    return FileResponse(RESOURCES / "static" / "favicon.svg", media_type="image/svg+xml")


@router.get("/docs")
def swagger_ui(request: Request) -> Response:
    return _docs(request, "swagger", "Try it")


@router.get("/redoc")
def redoc(request: Request) -> Response:
    return _docs(request, "redoc", "Reference")


def _docs(request: Request, viewer: str, title: str) -> Response:
    context = {"viewer": viewer, "title": title}
    response = get_renderer(request).render(request, "api_docs.html", context)
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


LANGUAGE_MAX_AGE = 365 * 24 * 3600


@router.post("/language", dependencies=[Depends(csrf_protect)])
def choose_language(
    session: SessionDep, user: OptionalUserDep, locale: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:  # fmt: skip
    """Keep the chosen interface language (on the account, and in a cookie for the login
    page); an empty choice goes back to the browser's."""
    chosen = locale if locale in i18n.LOCALES else None
    if user is not None:
        user.locale = chosen
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if chosen is None:
        response.delete_cookie(LANGUAGE_COOKIE)
    else:
        response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=LANGUAGE_MAX_AGE, samesite="lax")
    return response
