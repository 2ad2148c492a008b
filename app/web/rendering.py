"""Jinja2 pages and HTMX fragments, and Markdown rendered to sanitized HTML.

A route renders a whole page, or only one named block of it when htmx asks (``HX-Request``):
the "template fragments" pattern, via jinja2-fragments. Every response says
``Vary: HX-Request`` so a cache never serves one for the other.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from html import escape
from typing import Any
from urllib.parse import urlsplit

import nh3
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2_fragments import render_block
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

from app import RESOURCES, __version__, i18n

_ALLOWED_TAGS = set(nh3.ALLOWED_TAGS)
_ALLOWED_CLASSES = {"span": {*STANDARD_TYPES.values(), "blocked-image"} - {""}}
MAX_HIGHLIGHT = 100_000
"""Longer code blocks are shown plain: highlighting them would cost more than it helps."""


def _highlight(code: str, lang: str, _attrs: str) -> str:
    """A fenced block's code as Pygments' spans (class names only; app.css colours them).
    Unknown languages and very long blocks stay plain (markdown-it escapes them)."""
    if not lang or len(code) > MAX_HIGHLIGHT:
        return ""
    try:
        lexer = get_lexer_by_name(lang.split()[0], stripnl=False, ensurenl=False)
    except ClassNotFound:
        return ""
    html: str = highlight(code, lexer, _FORMATTER)
    return f'<pre><code class="language-{escape(lang.split()[0])}">{html}</code></pre>\n'


def _image(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """An image from another site would be blocked by the page's security policy and shown as
    a broken icon: say so instead, with its description and address."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    if not src.startswith(("http:", "https:", "//")):
        return str(self.image(tokens, idx, options, env))
    alt = self.renderInlineAsText(token.children or [], options, env)
    host = urlsplit(src).hostname or src
    return (
        f'<span class="blocked-image">Image not shown: pictures from other sites '
        f"({escape(host)}) are not loaded here. {escape(alt)} "
        f'<a href="{escape(src)}">{escape(src)}</a></span>'
    )


_FORMATTER = HtmlFormatter(nowrap=True)
_markdown = MarkdownIt(
    "commonmark",
    {"html": False, "linkify": False, "typographer": False, "highlight": _highlight},
)
_markdown.enable(["table", "strikethrough"])
_markdown.add_render_rule("image", _image)


MARKUP_BUDGET = 10_000
"""A text with more link and emphasis marks than this (outside fenced code) is shown as plain
text: markdown-it's cost grows with them (``![`` repeated costs 60 µs a character)."""
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
COSTLY = "[]*_"
CACHE_CHARS = 32 << 20
"""Rendered HTML kept per process, in characters: a text is rendered once, then served."""


class HtmlCache:
    """Rendered Markdown by a digest of its text, least recently used out first, bounded by
    the HTML's total length. Shared by the request threads, so it takes a lock."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self.entries: OrderedDict[bytes, Markup] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, text: str) -> Markup:
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        html = _render(text)
        with self.lock:
            if key not in self.entries and len(html) <= self.budget:
                self.entries[key] = html
                self.used += len(html)
                while self.used > self.budget:
                    _, dropped = self.entries.popitem(last=False)
                    self.used -= len(dropped)
        return html


_cache = HtmlCache(CACHE_CHARS)


def render_markdown(text: str | None) -> Markup:
    """Markdown → sanitized HTML, rendered once per text and process (see :class:`HtmlCache`)."""
    return _cache.get(text or "")


def prerender(*texts: str | None) -> None:
    """Render ``texts`` into the cache now (a page then renders them at no cost)."""
    for text in texts:
        render_markdown(text)


def _render(text: str) -> Markup:
    """Markdown → HTML with raw HTML off, then sanitized (no scripts, no javascript: links);
    a text too costly to parse as Markdown is shown as plain text instead."""
    if _markup(text) > MARKUP_BUDGET:
        note = '<p class="muted small">Shown as plain text (too much markup to format).</p>'
        return Markup(f'{note}<pre class="raw">{escape(text)}</pre>')
    html = _markdown.render(text)
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        allowed_classes=_ALLOWED_CLASSES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)


def _markup(text: str) -> int:
    """How many link and emphasis marks ``text`` has outside fenced code (one pass)."""
    count, fence = 0, ""
    for line in text.split("\n"):
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1).startswith(fence):
                fence = ""
        elif opening:
            fence = opening.group(1)
        else:
            count += sum(line.count(mark) for mark in COSTLY)
    return count


def sentence(text: object) -> str:
    """A message as a page shows it: capitalised, ending in a full stop (domain errors are
    written in lower case, to read well inside an API's ``detail`` too)."""
    words = str(text or "").strip()
    if not words:
        return words
    words = words[0].upper() + words[1:]
    if words[-1] in ".!?…:。！？：":
        return words
    return words + ("。" if _ends_in_japanese(words) else ".")


def _ends_in_japanese(words: str) -> bool:
    """Kana, kanji or a full-width form (）」０) last: the sentence takes Japanese's stop."""
    last = words[-1]
    return "\u3000" <= last <= "\u9fff" or "\uff00" <= last <= "\uffef"


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
            extensions=["jinja2.ext.i18n"],
        )
        # Each page passes its own gettext (``translating``); these serve only a template
        # rendered without a request.
        self.env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
        self.env.filters["markdown"] = render_markdown
        self.env.filters["sentence"] = sentence
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
        locale = page_locale(request)
        ctx = {
            "request": request,
            "user": getattr(request.state, "user", None),
            "csrf_token": csrf_token(request),
            **translating(locale),
            **(context or {}),
        }
        if block is not None and is_htmx(request):
            html = render_block(self.env, template, block, ctx)
        else:
            html = self.env.get_template(template).render(ctx)
        response = HTMLResponse(html, status_code=status_code, headers=headers)
        response.headers["Vary"] = "HX-Request"
        return response


LANGUAGE_COOKIE = "arbiter_lang"
"""The language chosen before logging in (a person's own choice is kept on their account)."""


def page_locale(request: Request) -> str:
    """The person's chosen language, else the browser's (Accept-Language), else English."""
    chosen = getattr(request.state, "locale", None) or request.cookies.get(LANGUAGE_COOKIE)
    return i18n.negotiate(chosen, request.headers.get("accept-language"))


def translating(locale: str) -> dict[str, Any]:
    """What templates call to translate and to write numbers and dates, for one page: gettext
    in Jinja's "new style" (``_("%(n)s pairs", n=3)``, escaped, formatted by name)."""
    catalog = i18n.translations(locale)

    def gettext(message: str, **values: Any) -> str:
        return _format(catalog.gettext(message), values)

    def ngettext(singular: str, plural: str, num: int, **values: Any) -> str:
        values.setdefault("num", i18n.number(num, locale))
        return _format(catalog.ngettext(singular, plural, num), values)

    def pgettext(context: str, message: str, **values: Any) -> str:
        """A message whose English names two things (a protocol "Rating" and a model's
        "Rating"), told apart by its context."""
        return _format(catalog.pgettext(context, message), values)

    def tr(text: str | None) -> str:
        """A message the code chose (a notice, an error), translated when the catalog has it
        (``i18n.Text`` by its id and values); plain text, so the page escapes it."""
        return i18n.translate(text, locale)

    return {
        "locale": locale,
        "tr": tr,
        "gettext": gettext,
        "_": gettext,
        "ngettext": ngettext,
        "pgettext": pgettext,
        "number": lambda value: i18n.number(value, locale),
        "decimal": lambda value, digits=1, signed=False: i18n.decimal(
            value, locale, digits, signed=signed
        ),
        "significant": lambda value, digits=3: i18n.significant(value, locale, digits),
        "percent": lambda share, digits=0: i18n.percent(share, locale, digits),
        "when": lambda moment: i18n.when(moment, locale),
        "day": lambda moment: i18n.day(moment, locale),
        "languages": i18n.NAMES,
        "gap": i18n.gap(locale),
    }


def _format(text: str, values: dict[str, Any]) -> str:
    """As Jinja's own new-style gettext: the message is the template's (trusted) markup, the
    values are escaped as they are put in."""
    safe = Markup(text)
    return safe % values if values else safe


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    from app.web.guards import ensure_csrf_token

    return ensure_csrf_token(request)


def get_renderer(request: Request) -> Renderer:
    renderer: Renderer = request.app.state.renderer
    return renderer
