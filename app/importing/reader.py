"""Streamed reading of a batch file: JSON Lines or one JSON array, never whole in memory.

Yields ``(line_number, value)`` for every row; a row that cannot be read at all yields a
``Problem`` instead, so the caller can keep collecting errors. A JSON array with a syntax
error cannot be resynchronised, so its reading stops at the first one.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson

from app.i18n import N_, Text

CHUNK_BYTES = 1 << 20
#: A row may hold 16 candidates of 200,000 characters plus its conversation.
MAX_ROW_BYTES = 16 << 20
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_BOM = codecs.BOM_UTF8


@dataclass(frozen=True)
class Problem:
    """A row (or the file) that could not be read as JSON."""

    field: str
    message: str


class FileTooLarge(Exception):
    def __init__(self, limit_bytes: int) -> None:
        self.text = Text(N_("larger than the %(mb)s MB upload limit"), mb=str(limit_bytes >> 20))
        super().__init__(self.text)
        self.limit_bytes = limit_bytes


class CountingReader(io.RawIOBase):
    """Wraps a binary stream: counts and hashes what passes, refuses more than ``limit``."""

    def __init__(
        self, raw: BinaryIO, limit: int, progress: Callable[[int], None] | None = None
    ) -> None:
        self.raw = raw
        self.limit = limit
        self.progress = progress
        self.bytes_read = 0
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        self.bytes_read += n
        if self.bytes_read > self.limit:
            raise FileTooLarge(self.limit)
        self.sha256.update(data)
        buffer[:n] = data
        if self.progress is not None and n:
            self.progress(n)
        return n


def iter_rows(stream: io.BufferedIOBase) -> Iterator[tuple[int, Any]]:
    """Rows of a JSONL file or a JSON array, each with the line it starts on."""
    head = stream.peek(4)[:3] if hasattr(stream, "peek") else b""
    if head.startswith(_BOM):
        stream.read(len(_BOM))
    first = _first_significant_byte(stream)
    if first == b"[":
        yield from _iter_array(io.TextIOWrapper(stream, encoding="utf-8", newline=""))  # type: ignore[type-var]
    elif first in (b"{", b""):
        yield from _iter_lines(stream)
    else:
        yield 1, Problem("file", "expected JSON Lines (one object per line) or a JSON array")


def _first_significant_byte(stream: io.BufferedIOBase) -> bytes:
    data: bytes = stream.peek(CHUNK_BYTES)  # type: ignore[attr-defined]
    stripped = data.lstrip(b" \t\r\n")
    return stripped[:1]


def _iter_lines(stream: io.BufferedIOBase) -> Iterator[tuple[int, Any]]:
    number = 0
    while True:
        line = stream.readline(MAX_ROW_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_ROW_BYTES and not line.endswith(b"\n"):
            _skip_to_newline(stream)
            yield number, Problem("row", Text(N_("longer than %(mb)s MB"), mb=MAX_ROW_BYTES >> 20))
            continue
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield number, Problem("row", _json_reason(str(exc)))
            continue
        yield number, value


def _skip_to_newline(stream: io.BufferedIOBase) -> None:
    while True:
        chunk = stream.readline(CHUNK_BYTES)
        if not chunk or chunk.endswith(b"\n"):
            return


def _json_reason(message: str) -> str:
    if "utf-8" in message.lower() or "surrogate" in message.lower():
        return NOT_UTF8
    if "recursion" in message.lower() or "depth" in message.lower():
        return TOO_DEEP
    return invalid_json(message.split(":")[0])


NOT_UTF8 = N_("not valid UTF-8")
TOO_DEEP = N_("invalid JSON (nested too deeply)")


def invalid_json(reason: str) -> Text:
    """JSON a row or the file does not parse as; ``reason`` is the parser's own (English)."""
    return Text(N_("invalid JSON (%(reason)s)"), reason=reason)


class _ArrayScanner:
    """Decodes one top-level JSON array element by element from a text stream."""

    def __init__(self, text: io.TextIOBase) -> None:
        self.text = text
        self.decoder = json.JSONDecoder(parse_constant=_no_constant)
        self.buf = ""
        self.pos = 0
        self.line = 1
        self.eof = False

    def _more(self, at_least: int = 0) -> bool:
        data = self.text.read(max(at_least, CHUNK_BYTES))
        if not data:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + data
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next non-whitespace character ('' at the end), without consuming it."""
        while True:
            end = _WHITESPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            self.line += self.buf.count("\n", self.pos, end)
            self.pos = end
            if self.pos < len(self.buf) or not self._more():
                return self.buf[self.pos : self.pos + 1]

    def value(self) -> Any:
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self.eof:
                    raise _ArrayError(self._line_at(exc.pos), invalid_json(exc.msg)) from None
            except RecursionError:
                raise _ArrayError(self.line, TOO_DEEP) from None
            except ValueError as exc:  # a number too long to convert, NaN or Infinity
                raise _ArrayError(self.line, invalid_json(str(exc).split(";")[0])) from None
            else:
                if end < len(self.buf) or self.eof:
                    _refuse_lone_surrogates(self.buf, self.pos, end, self.line)
                    self.line += self.buf.count("\n", self.pos, end)
                    self.pos = end
                    return value
            pending = len(self.buf) - self.pos
            if pending > MAX_ROW_BYTES:
                raise _ArrayError(
                    self.line, Text(N_("row longer than %(mb)s MB"), mb=MAX_ROW_BYTES >> 20)
                )
            self._more(pending)

    def _line_at(self, pos: int) -> int:
        return self.line + self.buf.count("\n", self.pos, pos)


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (JSON Lines refuses them too; stdlib would store null)."""
    raise ValueError(f"{name} is not valid JSON")


_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _refuse_lone_surrogates(buf: str, start: int, end: int, line: int) -> None:
    """A row with an escaped surrogate is checked by orjson, which refuses one left alone
    (as JSON Lines rows are); a valid pair passes. Rows without one cost a search."""
    if _ESCAPED_SURROGATE.search(buf, start, end) is None:
        return
    try:
        orjson.loads(buf[start:end])
    except orjson.JSONDecodeError:
        raise _ArrayError(line, N_("invalid JSON (a lone surrogate)")) from None


class _ArrayError(Exception):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message


def _iter_array(text: io.TextIOBase) -> Iterator[tuple[int, Any]]:
    scanner = _ArrayScanner(text)
    try:
        scanner.peek()
        scanner.pos += 1  # the opening '['
        if scanner.peek() == "]":
            scanner.pos += 1
        else:
            while True:
                scanner.peek()
                line = scanner.line
                yield line, scanner.value()
                sep = scanner.peek()
                scanner.pos += 1
                if sep == "]":
                    break
                if sep != ",":
                    raise _ArrayError(scanner.line, N_("expected ',' or ']' after a row"))
        if scanner.peek():
            raise _ArrayError(scanner.line, N_("unexpected data after the closing ']'"))
    except _ArrayError as exc:
        yield exc.line, Problem("file", exc.message)
    except UnicodeDecodeError:
        yield scanner.line, Problem("file", NOT_UTF8)
