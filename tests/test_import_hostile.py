"""Broken and hostile import input: always a clear, line-numbered refusal, never a crash,
and valid text kept byte for byte."""

from __future__ import annotations

import io
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.importing import ImportRefused, import_batch
from app.models import Candidate, Project
from tests.factories import jsonl, make_project

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def attempt(session: Session, project: Project, data: bytes, max_bytes: int = 1 << 24) -> str:
    """Import inside a savepoint that is always undone; 'ok' or the refusal's report."""
    savepoint = session.begin_nested()
    try:
        import_batch(session, project, io.BytesIO(data), max_bytes=max_bytes)
    except ImportRefused as exc:
        assert exc.errors, "a refusal always says why"
        assert all(e.line >= 1 and e.field and e.message for e in exc.errors)
        return exc.report()
    finally:
        savepoint.rollback()
    return "ok"


@pytest.fixture
def project(session: Session) -> Project:
    return make_project(session)


@FUZZ
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_are_refused_clearly_or_imported(
    session: Session, project: Project, data: bytes
) -> None:
    attempt(session, project, data)


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "assistant", "system", "developer", "tool", ""]),
         "content": st.one_of(st.text(max_size=30), json_value)}
    ),
    max_size=4,
)  # fmt: skip
near_valid_row = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=10), st.integers(-(2**63), 2**63 - 1), json_value),
        "system": st.one_of(st.text(max_size=20), json_value),
        "prompt": st.one_of(st.text(max_size=20), json_value),
        "messages": st.one_of(messages, json_value),
        "candidates": st.one_of(
            st.lists(st.one_of(st.text(max_size=20), json_value), max_size=5), json_value
        ),
        "pairs": st.one_of(
            st.lists(st.lists(st.integers(-2, 6), max_size=3), max_size=3), json_value
        ),
        "meta": json_value,
        "chosen": st.text(max_size=10),
        "preferred_output": json_value,
    },
)


@FUZZ
@given(rows=st.lists(near_valid_row, min_size=1, max_size=5))
def test_near_valid_rows_are_refused_clearly_or_imported(
    session: Session, project: Project, rows: list[dict[str, Any]]
) -> None:
    attempt(session, project, jsonl(rows))
    attempt(session, project, orjson.dumps(rows))


DEEP = b"[" * 5000 + b"]" * 5000
ROW = b'{"prompt": "x", "candidates": ["a", "b"]'
BAD_UTF8_ROW = b'{"prompt": "\xc3\x28", "candidates": ["a", "b"]}'


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (ROW + b', "meta": ' + DEEP + b"}\n", "line 1: row: invalid JSON (nested too deeply)"),
        (b"[" + ROW + b', "meta": ' + DEEP + b"}]",
         "line 1: file: invalid JSON (nested too deeply)"),
        (ROW + b', "meta": {"a": ' + b"[" * 100 + b"]" * 100 + b"}}\n",
         "line 1: meta: nested more than 64 levels deep"),
        (ROW + b"}\n" + BAD_UTF8_ROW + b"\n", "line 2: row: not valid UTF-8"),
        (b"[" + ROW + b"},\n" + BAD_UTF8_ROW + b"]", "file: not valid UTF-8"),
        (b"\x00\x01\x02", "line 1: file: expected JSON Lines"),
        (b'{"id": 123456789012345678901234567890, "prompt": "x", "candidates": ["a", "b"],'
         b' "pairs": [[0, 99999999999999999999999]]}\n', "line 1: "),
    ],
)  # fmt: skip
def test_hostile_structure_is_refused_with_a_clear_reason(
    session: Session, project: Project, data: bytes, expected: str
) -> None:
    assert expected in attempt(session, project, data)


def test_a_line_longer_than_the_row_limit_is_refused_without_reading_it_whole(
    session: Session, project: Project
) -> None:
    huge = b'{"prompt": "' + b"x" * (17 << 20) + b'", "candidates": ["a", "b"]}\n'
    data = jsonl([{"prompt": "ok", "candidates": ["a", "b"]}]) + huge
    report = attempt(session, project, data, max_bytes=1 << 26)
    assert report == "line 2: row: longer than 16 MB"


HOSTILE_TEXTS = [
    "<script>alert('x')</script>",
    "[click](javascript:alert(1))",
    '<img src=x onerror="alert(1)">',
    "zero\u200bwidth\u200d joiner\ufeff inside",
    "\u202eright-to-left override\u202c and \u05e9\u05dc\u05d5\u05dd",
    "line\r\nbreaks\u2028and\u2029separators",
    "emoji 👩🏽‍💻 and CJK 漢字 and combining e\u0301",
]


def test_hostile_but_valid_text_is_stored_byte_exact(session: Session, project: Project) -> None:
    rows = [{"prompt": f"Q{i}?", "candidates": [text, f"plain {i}"]}
            for i, text in enumerate(HOSTILE_TEXTS)]  # fmt: skip
    data = b"\xef\xbb\xbf" + jsonl(rows)  # a BOM is accepted and not stored
    import_batch(session, project, io.BytesIO(data), max_bytes=1 << 20)
    stored = set(session.scalars(select(Candidate.content)))
    assert set(HOSTILE_TEXTS) <= stored


NUL = "contains a NUL character (\\u0000), which cannot be stored"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"prompt": "a\u0000b", "candidates": ["x", "y"]}, f"line 2: messages[0].content: {NUL}"),
        ({"system": "\u0000", "prompt": "q", "candidates": ["x", "y"]}, f"line 2: system: {NUL}"),
        ({"prompt": "q", "candidates": ["x", "y\u0000"]}, f"line 2: candidates[1]: {NUL}"),
        ({"prompt": "q", "candidates": ["x", "y"], "meta": {"k": ["\u0000"]}},
         f"line 2: meta: {NUL}"),
        ({"prompt": "q", "candidates": ["x", "y"], "meta": {"\u0000": 1}}, f"line 2: meta: {NUL}"),
        ({"id": "a\u0000", "prompt": "q", "candidates": ["x", "y"]}, f"line 2: id: {NUL}"),
        ({"prompt": "q", "candidates": [{"content": "x", "meta": {"m": "\u0000"}}, "y"]},
         f"line 2: candidates[0].meta: {NUL}"),
        ({"id": "i" * 201, "prompt": "q", "candidates": ["x", "y"]},
         "line 2: id: longer than 200 characters (201)"),
        ({"prompt": "q", "candidates": [{"content": "x", "model": "m" * 300}, "y"]},
         "line 2: candidates[0].model: longer than 200 characters (300)"),
    ],
)  # fmt: skip
def test_what_the_database_cannot_store_is_refused_with_its_line(
    session: Session, project: Project, row: dict[str, Any], expected: str
) -> None:
    report = attempt(session, project, jsonl([{"prompt": "fine", "candidates": ["a", "b"]}, row]))
    assert report == expected


def test_a_backslash_before_u0000_is_text_not_a_nul(session: Session, project: Project) -> None:
    row = {"prompt": "q", "candidates": ["x", "y"], "meta": {"code": "\\u0000 is NUL in JSON"}}
    assert attempt(session, project, jsonl([row])) == "ok"
