"""One rule set for text that comes in: at most so many characters, no NUL, no lone surrogate
(and :data:`WholeNumber` and :data:`Moment`, for values that must come as what they are).

Postgres refuses a NUL in any text value and cannot encode half of a surrogate pair; SQLite
stores either and hands them to every export. So they are refused where they arrive, with
the field named: :func:`problem` is the rule, :func:`check_text` raises it as a 422, and
:func:`walk` finds the first bad string anywhere in a parsed JSON body or form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

from app.errors import Unprocessable
from app.i18n import N_, Text

NAME_LENGTH = 200
"""Names of projects, batches and the like (their columns are VARCHAR(200))."""
FILENAME_LENGTH = 500


def problem(value: str, max_length: int | None = None) -> str | None:
    """What is wrong with ``value``, or None."""
    if max_length is not None and len(value) > max_length:
        return Text(N_("at most %(most)s characters"), most=str(max_length))
    if "\x00" in value:
        return Text(N_("must not contain a NUL character (\\u0000)"))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return Text(N_("must not contain a lone surrogate (half of a UTF-16 pair)"))
    return None


def check_text(value: str, *, field: str, max_length: int | None = None) -> str:
    """``value`` if it keeps the rules, else a 422 naming ``field``."""
    wrong = problem(value, max_length)
    if wrong is not None:
        raise Unprocessable(N_("%(where)s: %(problem)s"), field=field, where=field, problem=wrong)
    return value


def check_optional(value: str | None, *, field: str, max_length: int | None = None) -> str | None:
    return None if value is None else check_text(value, field=field, max_length=max_length)


def walk(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a parsed body (keys too), with where it sits (``ratings.left``)."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            place = f"{where}.{key}" if where else str(key)
            if isinstance(key, str):
                yield place, key
            yield from walk(item, place)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from walk(item, f"{where}[{index}]")


def first_problem(value: Any, where: str = "") -> tuple[str, str] | None:
    """The first string in ``value`` that breaks the rules (length aside): (where, what)."""
    for place, text in walk(value, where):
        wrong = problem(text)
        if wrong is not None:
            return printable(place), wrong
    return None


MAX_ECHO = 60


def printable(name: str) -> str:
    """A field name fit to echo: NULs and surrogates escaped, cut short."""
    shown = name.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode()
    return shown if len(shown) <= MAX_ECHO else shown[:MAX_ECHO] + "…"


def _a_number(value: Any) -> Any:
    """A count sent as text ("3") or as a switch (true) is a mistake to report, not to coerce
    (2.0 is still two; pydantic refuses 2.5)."""
    if isinstance(value, str | bool):
        raise ValueError(N_("a number is expected, not text or true/false"))
    return value


WholeNumber = Annotated[int, BeforeValidator(_a_number)]
"""An integer field of a JSON body: a JSON number, never "3" or true."""


_NUMERIC = re.compile(r"\s*[-+]?[0-9]+(\.[0-9]*)?\s*")


def _a_moment(value: Any) -> Any:
    """A number is not a date: pydantic would read ``-3548`` as seconds since 1970."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMERIC.fullmatch(value)):
        raise ValueError(N_("a date and time is expected, e.g. 2026-12-03T09:00:00Z"))
    return value


Moment = Annotated[datetime, BeforeValidator(_a_moment)]
"""A date and time given as ISO 8601 text, never as a bare number."""
