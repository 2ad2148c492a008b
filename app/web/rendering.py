"""Jinja2 pages and HTMX fragments, and Markdown rendered to sanitized HTML.

A route renders a whole page, or only one named block of it when htmx asks (``HX-Request``):
the "template fragments" pattern, via jinja2-fragments. Every response says
``Vary: HX-Request`` so a cache never serves one for the other.
"""

from __future__ import annotations

from typing import Any

import nh3
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2_fragments import render_block
from markdown_it import MarkdownIt
from markupsafe import Markup

from app import RESOURCES, __version__

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.enable(["table", "strikethrough"])
_ALLOWED_TAGS = set(nh3.ALLOWED_TAGS)


def render_markdown(text: str | None) -> Markup:
    """Markdown → HTML with raw HTML off, then sanitized (no scripts, no javascript: links)."""
    html = _markdown.render(text or "")
    clean = nh3.clean(html, tags=_ALLOWED_TAGS, link_rel="noopener noreferrer nofollow")
    return Markup(clean)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


class Renderer:
    def __init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(RESOURCES / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["markdown"] = render_markdown
        self.env.globals["version"] = __version__

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any] | None = None,
        *,
        block: str | None = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        """The whole page, or only ``block`` when the request comes from htmx."""
        ctx = {
            "request": request,
            "user": getattr(request.state, "user", None),
            "csrf_token": csrf_token(request),
            **(context or {}),
        }
        if block is not None and is_htmx(request):
            html = render_block(self.env, template, block, ctx)
        else:
            html = self.env.get_template(template).render(ctx)
        response = HTMLResponse(html, status_code=status_code, headers=headers)
        response.headers["Vary"] = "HX-Request"
        return response


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    from app.web.guards import ensure_csrf_token

    return ensure_csrf_token(request)


def get_renderer(request: Request) -> Renderer:
    renderer: Renderer = request.app.state.renderer
    return renderer
