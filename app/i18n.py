"""The interface in English, Japanese and German (gettext catalogs kept with Babel), and the
choice of language: the person's own setting, else their browser's ``Accept-Language``,
else English. Numbers and dates are written the way the chosen language writes them.

The catalogs are ``locale/<lang>/LC_MESSAGES/messages.po`` (extracted with ``make messages``,
babel.cfg); they are compiled in memory when first used, so no binary file is kept.
"""

from __future__ import annotations

import gettext
from datetime import UTC, datetime
from functools import cache
from io import BytesIO

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

from app import RESOURCES

LOCALES = ("en", "ja", "de")
"""The interface languages; the first is the one the messages are written in."""
NAMES = {"en": "English", "ja": "日本語", "de": "Deutsch"}
DEFAULT = LOCALES[0]
LOCALE_DIR = RESOURCES / "locale"
MAX_TAGS = 20


def N_(message: str) -> str:
    """Mark a message for extraction; the page translates it when it shows it."""
    return message


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The catalog of ``locale`` (English: the messages as written)."""
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def negotiate(chosen: str | None, accept_language: str | None) -> str:
    """The person's choice if it is one of ours, else the browser's first language we have
    (by its q-values), else English."""
    if chosen in LOCALES:
        return str(chosen)
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")[:MAX_TAGS]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower().split("-")[0]))
    for quality, _, language in sorted(ranked):
        if quality < 0 and language in LOCALES:
            return language
    return DEFAULT


def number(value: float | int, locale: str) -> str:
    return format_decimal(value, locale=locale)


def percent(share: float, locale: str, digits: int = 0) -> str:
    """A share (0–1) as the locale writes a percentage ("47 %" in German)."""
    return format_percent(round(share, digits + 2), locale=locale, decimal_quantization=False)


def when(moment: datetime, locale: str) -> str:
    """A moment in UTC, in the locale's medium date and short time."""
    return format_datetime(moment.astimezone(UTC), "medium", tzinfo=UTC, locale=locale)


WORDS = (
    N_("queued"), N_("running"), N_("done"), N_("failed"), N_("interrupted"),
    N_("generate"), N_("judge"), N_("active"), N_("paused"), N_("archived"),
)  # fmt: skip
"""Values of the app's own states (a job's status and kind, a batch's status) that pages show
through ``tr``: marked here so the catalogs hold them."""
