"""The interface in English, Japanese and German (gettext catalogs kept with Babel), and the
choice of language: the person's own setting, else their browser's ``Accept-Language``,
else English. Numbers and dates are written the way the chosen language writes them.

The catalogs are ``locale/<lang>/LC_MESSAGES/messages.po`` (extracted with ``make messages``,
babel.cfg); they are compiled in memory when first used, so no binary file is kept.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache
from io import BytesIO
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
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


class Text(str):
    """A message in English, as the API, the logs and the command line show it, that keeps its
    catalog id and values, so a page can show it in the reader's language (``translate``).

    ``Text(N_("no batch named %(name)s"), name=name)``; with ``plural`` and ``n`` it is an
    ngettext message (``n`` is also a value).
    """

    msgid: str
    plural: str | None
    values: dict[str, object]

    def __new__(cls, msgid: str, /, plural: str | None = None, **values: object) -> Text:
        n = values.get("n")
        chosen = plural if plural is not None and n != 1 else msgid
        self = super().__new__(cls, chosen % _written(values, DEFAULT) if values else chosen)
        self.msgid, self.plural, self.values = msgid, plural, values
        return self

    def dump(self) -> list[object]:
        """As JSON can keep it (a flashed message in the session cookie); a value that is a
        message itself is kept as one."""
        values = {k: v.dump() if isinstance(v, Text) else v for k, v in self.values.items()}
        return [self.msgid, self.plural, values]

    @classmethod
    def load(cls, kept: object) -> str | None:
        """Back from ``dump`` (or a plain string kept as it was)."""
        if isinstance(kept, list) and len(kept) == 3 and isinstance(kept[2], dict):
            values = {k: cls.load(v) if isinstance(v, list) else v for k, v in kept[2].items()}
            return cls(str(kept[0]), plural=kept[1], **values)
        return kept if isinstance(kept, str) else None


def kept(english: str, msgid: str, /, **values: object) -> Text:
    """A message whose English is written elsewhere (pydantic's, FastAPI's) and stays exactly
    as it is, with an id and values of ours to translate it by."""
    self = str.__new__(Text, english)
    self.msgid, self.plural, self.values = msgid, None, values
    return self


def ngettext(singular: str, plural: str, n: int, /, **values: object) -> Text:
    """A message with a count (``%(n)s``), in English now and translated by the page in the
    reader's plural forms; named so extraction takes it as a plural entry."""
    return Text(singular, plural, n=n, **values)


def _written(values: dict[str, object], locale: str) -> dict[str, object]:
    """The values of a message, numbers written the locale's way, messages in its language."""
    return {
        key: number(value, locale) if isinstance(value, int | float) and not isinstance(value, bool)
        else translate(value, locale) if isinstance(value, Text) and locale != DEFAULT
        else value
        for key, value in values.items()
    }  # fmt: skip


def translate(text: str | None, locale: str) -> str:
    """``text`` in ``locale``: a ``Text`` by its id and values (numbers written the locale's
    way), a plain string when the catalog has it as it stands; else as it is."""
    if not text:
        return ""
    if locale == DEFAULT and isinstance(text, Text):
        return str(text)  # as written (a ``kept`` message's English is someone else's)
    catalog = translations(locale)
    if not isinstance(text, Text):
        return catalog.gettext(text)
    values = _written(text.values, locale)
    if text.plural is not None:
        message = catalog.ngettext(text.msgid, text.plural, int(text.values.get("n", 0)))  # type: ignore[call-overload]
    else:
        message = catalog.gettext(text.msgid)
    return message % values if values else message


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


def gap(locale: str) -> str:
    """What goes between two sentences (or a sentence and a link) that a page writes side by
    side: a space, but none in Japanese, whose 「。」 and 「：」 carry their own."""
    return "" if locale == "ja" else " "


def number(value: float | int, locale: str) -> str:
    return format_decimal(value, locale=locale)


def decimal(value: float, locale: str, digits: int = 1, *, signed: bool = False) -> str:
    """A figure with ``digits`` places always shown ("30.0" in English, "30,0" in German);
    ``signed``: with its sign even when positive ("+12", as ``%+.0f`` writes it)."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    if signed:
        pattern = f"+{pattern};-{pattern}"
    return format_decimal(value, format=pattern, locale=locale)


def significant(value: float, locale: str, digits: int = 3) -> str:
    """A figure to ``digits`` significant places, as ``%.3g`` writes it but in the locale's
    way ("0,0123" in German); one below 0.0001 as "< 0.0001" ("< 0,0001"), as a p-value is
    reported, rather than in scientific notation."""
    if value != 0 and abs(value) < 1e-4:
        return "< " + format_decimal(0.0001, locale=locale, decimal_quantization=False)
    return format_decimal(float(f"{value:.{digits}g}"), locale=locale, decimal_quantization=False)


def percent(share: float, locale: str, digits: int = 0) -> str:
    """A share (0–1) as the locale writes a percentage ("47 %" in German), with ``digits``
    places always shown, so a column reads "55.0%" under "65.7%" rather than "55%"."""
    return format_percent(round(share, digits + 2), format=_percent_pattern(locale, digits),
                          locale=locale)  # fmt: skip


@cache
def _percent_pattern(locale: str, digits: int) -> str:
    """The locale's percent pattern ("#,##0 %") with ``digits`` fixed places ("#,##0.0 %")."""
    pattern: str = Locale.parse(locale).percent_formats[None].pattern
    if digits and "." not in pattern:
        pattern = pattern.replace("0", "0." + "0" * digits, 1)
    return pattern


def day(moment: datetime | date, locale: str) -> str:
    """The UTC day of a moment (or a day), in the locale's medium date ("03.12.2026" in
    German): every page writes days this way."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC).date()
    return format_date(moment, "medium", locale=locale)


def when(moment: datetime | str, locale: str) -> str:
    """A moment in UTC (or an ISO 8601 timestamp, as a manifest keeps it), in the locale's
    medium date and time: every page writes moments this way."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return format_datetime(moment.astimezone(UTC), "medium", tzinfo=UTC, locale=locale)


WORDS = (
    N_("queued"), N_("running"), N_("done"), N_("failed"), N_("interrupted"),
    N_("generate"), N_("judge"), N_("active"), N_("paused"), N_("archived"),
    N_("admin"), N_("annotator"),
)  # fmt: skip
"""Values of the app's own states (a job's status and kind, a batch's status, a role) that
pages show through ``tr``: marked here so the catalogs hold them."""


VALIDATION = {
    "missing": N_("required"),
    "string_too_short": N_("should have at least %(min_length)s characters"),
    "string_too_long": N_("should have at most %(max_length)s characters"),
    "too_short": N_("should have at least %(min_length)s items"),
    "too_long": N_("should have at most %(max_length)s items"),
    "greater_than_equal": N_("should be at least %(ge)s"),
    "less_than_equal": N_("should be at most %(le)s"),
    "greater_than": N_("should be more than %(gt)s"),
    "less_than": N_("should be less than %(lt)s"),
    "int_parsing": N_("should be a whole number"),
    "int_type": N_("should be a whole number"),
    "int_from_float": N_("should be a whole number"),
    "float_parsing": N_("should be a number"),
    "float_type": N_("should be a number"),
    "finite_number": N_("should be a number"),
    "bool_parsing": N_("should be true or false"),
    "bool_type": N_("should be true or false"),
    "string_type": N_("should be text"),
    "list_type": N_("should be a list"),
    "dict_type": N_("should be an object"),
    "model_type": N_("should be an object"),
    "enum": N_("should be one of %(expected)s"),
    "literal_error": N_("should be one of %(expected)s"),
    "string_pattern_mismatch": N_("should match the pattern %(pattern)s"),
    "json_invalid": N_("should be valid JSON"),
    "extra_forbidden": N_("is not expected here"),
}
"""pydantic's kinds of error, in words of ours that the catalogs translate (the English a
person reads stays pydantic's own)."""


def validation_problems(errors: list[tuple[str, Mapping[str, Any]]]) -> Text:
    """pydantic's errors as one message, ``field: reason; field: reason``, exactly as the
    English has always read (the API's detail, the command line), translated on a page."""
    parts = [
        kept(f"{where}: {error['msg'].removeprefix('Value error, ')}",
             N_("%(field)s: %(problem)s"), field=where, problem=validation_error(error))
        if where else validation_error(error)
        for where, error in errors
    ]  # fmt: skip
    told = parts[0]
    for part in parts[1:]:
        told = Text(N_("%(problems)s; %(problem)s"), problems=told, problem=part)
    return told


def validation_error(error: Mapping[str, Any]) -> Text:
    """One of pydantic's errors as a message: its English (``msg``, without pydantic's
    "Value error, " in front of a validator's own message) exactly as pydantic wrote it,
    translated by the validator's own message (``ValueError(Text(...))`` or ``N_``), else by
    the kind of error, else a general one."""
    english = str(error["msg"])
    context = error.get("ctx") or {}
    cause = context.get("error")
    if error["type"] == "value_error" and isinstance(cause, ValueError) and cause.args:
        message = cause.args[0]
        if isinstance(message, Text):
            return message
        return kept(english.removeprefix("Value error, "), str(message))
    msgid = VALIDATION.get(str(error["type"]))
    if msgid is None:
        return kept(english, N_("is not valid"))
    values = {key: value if isinstance(value, int | float) else str(value)
              for key, value in context.items()}  # fmt: skip
    if "expected" in values:
        values["expected"] = str(values["expected"]).replace(" or ", ", ")
    if "pattern" in values:
        values["pattern"] = repr(values["pattern"])
    return kept(english, msgid, **values)
