"""Batch import (FORMATS.md §1): refused whole with every bad line named, or written once."""

from __future__ import annotations

import io
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.importing import ANALYZE_AFTER, ImportRefused, import_batch
from app.models import Batch, Candidate, Comparison, Prompt
from app.projects import project_counts
from tests.factories import import_rows, jsonl, make_project, native_rows


def refused(session: Session, data: bytes | list[Any], **kw: Any) -> ImportRefused:
    project = kw.pop("project", None) or make_project(session)
    raw = jsonl(data) if isinstance(data, list) else data
    with pytest.raises(ImportRefused) as info:
        import_batch(session, project, io.BytesIO(raw), max_bytes=kw.pop("max_bytes", 1 << 30))
    assert project_counts(session, project)["prompts"] == 0, "a refused file wrote nothing"
    return info.value


def messages_of(exc: ImportRefused) -> list[str]:
    return [str(e) for e in exc.errors]


GOOD = {"prompt": "Hi?", "candidates": ["Hello!", "Hi."]}


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"prompt": "Hi?", "candidates": ["only one"]}, "candidates: at least 2 required"),
        ({"prompt": "Hi?", "candidates": []}, "candidates: at least 2 required"),
        ({"candidates": ["a", "b"]}, "messages: give either prompt or messages"),
        ({"prompt": "Hi?", "candidates": ["same", "same"]}, "candidates[1]: same text as"),
        ({"prompt": "Hi?", "candidates": ["a", "   "]}, "candidates[1].content: must not be"),
        ({"prompt": "Hi?", "candidates": [f"c{i}" for i in range(17)]}, "at most 16 allowed"),
        (
            {"prompt": "Hi?", "candidates": ["a", "x" * 200_001]},
            "candidates[1].content: longer than 200,000 characters",
        ),
        ({"prompt": "Hi?", "candidates": ["a", "b"], "colour": 1}, "colour: unknown field"),
        ({"prompt": "Hi?", "candidates": ["a", 3]}, "candidates[1]"),
        (
            {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}],
             "candidates": ["a", "b"]},
            "messages: must end with a user turn",
        ),
        (
            {"messages": [{"role": "user", "content": "x"}, {"role": "system", "content": "s"},
                          {"role": "user", "content": "y"}], "candidates": ["a", "b"]},
            "messages[1].role: a system message may only come first",
        ),
        (
            {"messages": [{"role": "tool", "content": "x"}], "candidates": ["a", "b"]},
            "messages[0].role: must be system, user or assistant",
        ),
        (
            {"system": "s", "messages": [{"role": "system", "content": "t"},
                                         {"role": "user", "content": "u"}],
             "candidates": ["a", "b"]},
            "messages[0].role: system is given twice",
        ),
        ({"prompt": "Hi?", "candidates": ["a", "b"], "pairs": [[0, 2]]}, "pairs[0]: index out"),
        ({"prompt": "Hi?", "candidates": ["a", "b"], "pairs": [[1, 1]]}, "pairs[0]: a candidate"),
        ({"prompt": "", "candidates": ["a", "b"]}, "prompt[0].content: must not be empty"),
    ],
)  # fmt: skip
def test_each_kind_of_bad_row_is_named_with_its_line(
    session: Session, row: dict[str, Any], expected: str
) -> None:
    exc = refused(session, [GOOD, {**GOOD, "prompt": "Other?"}, row])
    assert any(m.startswith("line 3: ") and expected in m for m in messages_of(exc)), exc.report()


def test_invalid_json_and_non_objects_are_named_by_line(session: Session) -> None:
    data = jsonl([GOOD]) + b'{"prompt": "x", \n[1, 2]\n"text"\n'
    exc = refused(session, data)
    assert messages_of(exc) == [
        "line 2: row: invalid JSON (unexpected end of data)",
        "line 3: row: expected a JSON object",
        "line 4: row: expected a JSON object",
    ]


def test_invalid_utf8_is_refused_clearly(session: Session) -> None:
    exc = refused(session, jsonl([GOOD]) + b'{"prompt": "\xff\xfe", "candidates": ["a", "b"]}\n')
    assert messages_of(exc) == ["line 2: row: not valid UTF-8"]


def test_every_bad_line_is_counted_but_only_50_listed(session: Session) -> None:
    rows = [{"prompt": f"q{i}", "candidates": ["one"]} for i in range(70)]
    exc = refused(session, rows)
    assert exc.error_count == 70
    assert len(exc.errors) == 50
    assert exc.errors[-1].line == 50
    assert exc.report().endswith("… and 20 more errors")


def test_an_error_after_many_good_rows_still_writes_nothing(session: Session) -> None:
    rows: list[Any] = native_rows(2500)
    rows.append({"prompt": "bad", "candidates": []})
    exc = refused(session, rows)
    assert [e.line for e in exc.errors] == [2501]
    assert session.scalar(select(func.count()).select_from(Batch)) == 0


def test_a_file_over_the_upload_limit_is_refused(session: Session) -> None:
    exc = refused(session, native_rows(50), max_bytes=1000)
    assert messages_of(exc) == ["line 1: file: larger than the 0 MB upload limit"] or (
        "upload limit" in exc.report()
    )


def test_an_empty_file_is_refused(session: Session) -> None:
    assert messages_of(refused(session, b"\n\n")) == ["line 1: file: no rows found"]


def test_a_file_that_is_not_json_is_refused(session: Session) -> None:
    assert "expected JSON Lines" in refused(session, b"prompt,candidates\n").report()


def test_an_id_reused_for_other_content_is_refused(session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, [{"id": "x1", **GOOD}])
    with pytest.raises(ImportRefused) as info:
        import_rows(session, project, [{"id": "x1", "prompt": "Other?", "candidates": ["a", "b"]}])
    assert messages_of(info.value) == [
        "line 1: id: 'x1' already names a different prompt in this project"
    ]


def test_known_content_under_a_new_id_is_refused(session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, [{"id": "x1", **GOOD}])
    with pytest.raises(ImportRefused) as info:
        import_rows(session, project, [{"id": "x2", **GOOD}])
    assert messages_of(info.value) == [
        "line 1: id: this prompt is already in the project as id 'x1'"
    ]


def test_a_valid_file_writes_prompts_candidates_and_all_pairs(session: Session) -> None:
    project = make_project(session)
    result = import_rows(
        session,
        project,
        [
            {"id": "a", "system": "Be brief.", "prompt": "Hi?", "candidates": ["x", "y", "z"],
             "meta": {"source": "t"}},
            {"id": "b", "prompt": "Yo?", "candidates": [{"content": "1", "model": "m1"}, "2",
                                                       "3", "4"], "pairs": [[0, 1], [3, 2]]},
        ],
    )  # fmt: skip
    assert result.counts.as_dict() == {
        "rows": 2, "prompts": 2, "candidates": 7, "comparisons": 5, "duplicates": 0
    }  # fmt: skip
    prompt = session.scalar(select(Prompt).where(Prompt.external_id == "a"))
    assert prompt is not None
    assert prompt.system == "Be brief."
    assert prompt.messages == [{"role": "user", "content": "Hi?"}]
    assert prompt.meta == {"source": "t"}
    pairs = session.execute(select(Comparison.candidate_a_id, Comparison.candidate_b_id)).all()
    assert all(a < b for a, b in pairs)
    model = session.scalar(select(Candidate.model).where(Candidate.content == "1"))
    assert model == "m1"


def test_reimporting_the_same_rows_adds_nothing_and_says_so(session: Session) -> None:
    project = make_project(session)
    rows = native_rows(30)
    first = import_rows(session, project, rows)
    again = import_rows(session, project, rows)
    assert first.counts.prompts == 30
    assert again.added_nothing
    assert again.counts.duplicates == 30
    assert "already in the project; nothing added" in again.summary()
    assert project_counts(session, project)["comparisons"] == 30
    assert session.scalar(select(func.count()).select_from(Batch)) == 1


def test_the_summary_counts_one_of_a_kind_in_the_singular(session: Session) -> None:
    project = make_project(session)
    first = import_rows(session, project, native_rows(1))
    assert first.summary() == "1 row read: 1 prompt, 2 candidates, 1 comparison added."
    rows = [*native_rows(1), {"id": "p9", "prompt": "New?", "candidates": ["x", "y"]}]
    again = import_rows(session, project, rows)
    assert again.summary() == (
        "2 rows read: 1 prompt, 2 candidates, 1 comparison added, 1 row already present."
    )


def test_a_new_candidate_for_a_known_prompt_adds_only_what_is_new(session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, [{"prompt": "Q?", "candidates": ["a", "b"]}])
    result = import_rows(session, project, [{"prompt": "Q?", "candidates": ["a", "b", "c"]}])
    assert (result.counts.prompts, result.counts.candidates, result.counts.comparisons) == (0, 1, 2)


def test_duplicate_rows_within_one_file_are_counted(session: Session) -> None:
    project = make_project(session)
    result = import_rows(
        session, project, [GOOD, GOOD, {"prompt": "Q2?", "candidates": GOOD["candidates"]}]
    )
    assert (result.counts.prompts, result.counts.duplicates) == (2, 1)


def test_a_json_array_is_read_with_line_numbers(session: Session) -> None:
    data = (
        b'[\n  {"prompt": "a?", "candidates": ["1", "2"]},\n'
        b'  {"prompt": "b?",\n   "candidates": ["1"]}\n]\n'
    )
    assert messages_of(refused(session, data)) == [
        "line 3: candidates: at least 2 required (1 is allowed only in projects that rate single "
        "responses)"
    ]
    project = make_project(session)
    ok = (
        b'\xef\xbb\xbf[{"prompt": "a?", "candidates": ["1", "2"]},'
        b' {"prompt": "b?", "candidates": ["1", "2"]}]'
    )
    result = import_batch(session, project, io.BytesIO(ok), max_bytes=1 << 20)
    assert result.counts.prompts == 2


def test_a_json_array_syntax_error_names_its_line(session: Session) -> None:
    data = b'[\n {"prompt": "a?", "candidates": ["1", "2"]}\n {"prompt": "b?"}\n]'
    assert messages_of(refused(session, data)) == ["line 3: file: expected ',' or ']' after a row"]


def test_openai_dpo_rows_become_two_candidates(session: Session) -> None:
    project = make_project(session)
    row = {
        "input": {
            "messages": [{"role": "developer", "content": "Be kind."},
                         {"role": "user", "content": "Hello"}],
            "tools": [], "parallel_tool_calls": True,
        },
        "preferred_output": [{"role": "assistant", "content": "Hi there!"}],
        "non_preferred_output": [{"role": "assistant", "content": "What?"}],
    }  # fmt: skip
    result = import_rows(session, project, [row])
    assert result.kind == "openai-dpo"
    prompt = session.scalars(select(Prompt)).one()
    assert prompt.system == "Be kind."
    assert sorted(session.scalars(select(Candidate.content))) == ["Hi there!", "What?"]
    assert result.counts.comparisons == 1


def test_openai_dpo_row_with_two_outputs_is_refused(session: Session) -> None:
    row = {
        "input": {"messages": [{"role": "user", "content": "Hello"}]},
        "preferred_output": [{"role": "assistant", "content": "a"},
                             {"role": "assistant", "content": "b"}],
        "non_preferred_output": [{"role": "assistant", "content": "c"}],
    }  # fmt: skip
    assert messages_of(refused(session, [row])) == [
        "line 1: preferred_output: must hold exactly one assistant message"
    ]


@pytest.mark.parametrize(
    "row",
    [
        {"prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Lyon."},
        {
            "prompt": [{"role": "user", "content": "Capital of France?"}],
            "chosen": [{"role": "assistant", "content": "Paris."}],
            "rejected": [{"role": "assistant", "content": "Lyon."}],
        },
    ],
)
def test_trl_preference_rows_become_two_candidates(session: Session, row: dict[str, Any]) -> None:
    project = make_project(session)
    result = import_rows(session, project, [row])
    assert result.kind == "trl"
    assert (result.counts.prompts, result.counts.candidates) == (1, 2)


def test_single_candidates_are_allowed_where_the_project_rates_them(session: Session) -> None:
    project = make_project(session, rate_singletons=True)
    result = import_rows(session, project, [{"prompt": "Q?", "candidates": ["only"]}])
    # The one candidate is work of its own: a single to rate (it used to be never shown).
    assert (result.counts.candidates, result.counts.comparisons) == (1, 1)


def test_non_ascii_text_is_kept_exactly(session: Session) -> None:
    project = make_project(session)
    import_rows(
        session,
        project,
        [{"prompt": "日本の首都は？", "candidates": ["東京です。", "Grüß Gott – ‏שלום"]}],
    )
    texts = set(session.scalars(select(Candidate.content)))
    assert texts == {"東京です。", "Grüß Gott – ‏שלום"}


@pytest.mark.slow
def test_a_100k_prompt_file_streams_through(session: Session, tmp_path: Any) -> None:
    project = make_project(session)
    path = tmp_path / "big.jsonl"
    with path.open("wb") as fh:
        for i in range(100_000):
            fh.write(orjson.dumps({"prompt": f"Question {i}?", "candidates": [f"A{i}", f"B{i}"]}))
            fh.write(b"\n")
    seen: list[int] = []
    result = import_batch(session, project, path, max_bytes=1 << 30, progress=seen.append)
    assert result.counts.prompts == 100_000
    assert result.counts.comparisons == 100_000
    assert sum(seen) == path.stat().st_size
    assert max(seen) <= 1 << 20, "read in chunks, never whole"


def test_an_import_leaves_the_planner_statistics_of_what_it_wrote(
    session: Session, database_url: str
) -> None:
    """Annotators may start at once: without statistics, the planner takes a fresh project
    for a handful of rows, and the queue query then sorts the whole level per lease."""
    if not database_url.startswith("postgresql"):
        pytest.skip("planner statistics: Postgres (SQLite plans without them)")
    project = make_project(session)
    small = import_batch(session, project, io.BytesIO(jsonl(native_rows(3))), max_bytes=1 << 30)
    session.commit()
    assert small.counts.comparisons < ANALYZE_AFTER  # too few to say anything of the project
    rows = native_rows(ANALYZE_AFTER, prefix="q")
    import_batch(session, project, io.BytesIO(jsonl(rows)), max_bytes=1 << 30)
    session.commit()
    reltuples = session.execute(
        text("SELECT relname, reltuples FROM pg_class WHERE relname IN "
             "('prompts', 'candidates', 'comparisons')")
    ).all()  # fmt: skip
    n = ANALYZE_AFTER + 3
    assert dict(reltuples) == {"prompts": n, "candidates": 2 * n, "comparisons": n}
