"""The site's own furniture: the favicon, and the interactive API documentation at ``/docs``
(Swagger UI) and ``/redoc`` (Redoc), both read from ``/openapi.json`` with their scripts
vendored under static/vendor/ (static/VENDORED.md): the policy allows no other host."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from app import RESOURCES
from app.web.rendering import get_renderer
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
