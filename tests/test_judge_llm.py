"""`arbiter judge`: every comparison asked twice with the sides swapped; flips caught."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import Database
from app.llm import judge as judge_module
from app.llm import verdicts
from app.llm.client import CallFailed
from app.models import Candidate, Comparison, JudgeAnswer, Judgement, Project, User
from tests.conftest import Arbiter
from tests.factories import import_rows, make_project
from tests.factories_llm import fast_retries
from tests.fake_llm import fake_llm
from tests.tally_checks import assert_tallies_exact

__all__ = ["fast_retries"]


def _pairs_project(session: Session, **kw: object) -> Project:
    """Three prompts; in each pair the longer answer is the better one for the fair judge."""
    project = make_project(session, name="Judged", **kw)
    rows = [
        {"id": f"p{i}", "prompt": f"Question {i}?",
         "candidates": [f"short {i}", f"a much longer answer {i}", f"medium {i}!"]}
        for i in range(3)
    ]  # fmt: skip
    import_rows(session, project, rows, batch_name="b1")
    return project


def _count(session: Session, model: type, *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_a_fair_judge_labels_every_comparison_as_judge_label(
    db: Database, arbiter: Arbiter, fast_retries: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(judge_module, "SLICE", 2)  # comparisons read two at a time
    with db.scope() as session:
        _pairs_project(session)
    with fake_llm() as (url, script):
        output = arbiter("judge", "--project", "Judged", "--model", f"fair={url},model=judge-fair")
    assert "9 comparisons (0 already answered); 9 judgements recorded as judge:fair" in output
    assert "0 position-inconsistent (0.0%)" in output
    assert len(script.requests) == 18  # twice each
    with db.scope() as session:
        judge = session.scalars(select(User).where(User.username == "judge:fair")).one()
        assert not judge.is_active and not judge.password_hash.startswith("$argon2")
        assert _count(session, JudgeAnswer, JudgeAnswer.consistent.is_(True)) == 9
        # the longer candidate wins each pair, in candidate terms
        for j in session.scalars(select(Judgement)):
            c = session.get(Comparison, j.comparison_id)
            assert c is not None
            a, b = (
                session.get_one(Candidate, x).content for x in (c.candidate_a_id, c.candidate_b_id)
            )
            assert j.verdict.value == ("a" if len(a) > len(b) else "b")
            assert j.left_candidate_id is None
        # never counted toward overlap: the queue still wants every pair
        assert _count(session, Comparison, Comparison.judgement_count > 0) == 0
        assert_tallies_exact(session)
    with fake_llm() as (url, script):
        again = arbiter("judge", "--project", "Judged", "--model", f"fair={url},model=judge-fair")
    assert "9 comparisons (9 already answered); 0 judgements" in again
    assert not script.requests


def test_a_position_biased_judge_is_caught(
    db: Database, arbiter: Arbiter, fast_retries: None
) -> None:
    with db.scope() as session:
        _pairs_project(session)
    with fake_llm() as (url, _):
        output = arbiter(
            "judge", "--project", "Judged", "--model", f"lazy={url},model=judge-biased"
        )
    assert "0 judgements recorded as judge:lazy; 9 position-inconsistent (100.0%)" in output
    with db.scope() as session:
        assert _count(session, Judgement) == 0
        answers = list(session.scalars(select(JudgeAnswer)))
        assert len(answers) == 9
        assert {(a.a_first.value, a.b_first.value, a.consistent) for a in answers} == {
            ("a", "b", False)
        }


def test_an_answer_that_does_not_parse_is_a_failure_and_retried_later(
    db: Database, arbiter: Arbiter, fast_retries: None
) -> None:
    with db.scope() as session:
        _pairs_project(session)
    with fake_llm() as (url, _):
        output = arbiter("judge", "--project", "Judged", "--model", f"g={url},model=judge-garbled")
    assert "failures: unparsed 18" in output
    with db.scope() as session:
        assert _count(session, JudgeAnswer) == 0 and _count(session, Judgement) == 0
    with fake_llm() as (url, _):
        output = arbiter("judge", "--project", "Judged", "--model", f"g={url},model=judge-fair")
    assert "9 judgements recorded as judge:g" in output


def test_a_ties_verdict_where_ties_are_off_is_refused(db: Database) -> None:
    with db.scope() as session:
        project = make_project(session, name="NoTies", allow_tie=False)
    with pytest.raises(CallFailed) as caught:
        verdicts.parse("Equal.\nVerdict: tie", project)
    assert caught.value.reason == "verdict_not_allowed"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Reasons.\nVerdict: 1", verdicts.Choice.FIRST),
        ("Reasons.\n\nverdict:2  \n", verdicts.Choice.SECOND),
        ("**Verdict:** both_bad", verdicts.Choice.BOTH_BAD),
        ("Verdict: Both bad", verdicts.Choice.BOTH_BAD),
        ("Verdict: TIE", verdicts.Choice.TIE),
        ("Verdict: 1\nActually no.", None),
        ("Verdict: 1\nVerdict: 2", None),
        ("I prefer response 1.", None),
        ("Verdict: 1 because it is longer", None),
        ("Verdict: 3", None),
        ("", None),
    ],
)
def test_verdicts_are_parsed_strictly(
    session: Session, reply: str, expected: verdicts.Choice | None
) -> None:
    project = make_project(session)
    if expected is None:
        with pytest.raises(CallFailed):
            verdicts.parse(reply, project)
    else:
        assert verdicts.parse(reply, project) is expected


def test_the_template_can_be_replaced(
    db: Database, arbiter: Arbiter, tmp_path: Path, fast_retries: None
) -> None:
    with db.scope() as session:
        _pairs_project(session, guidelines="Prefer brevity.")
    bad = tmp_path / "bad.txt"
    bad.write_text("Judge {response_1} alone.", encoding="utf-8")
    out = arbiter("judge", "--project", "Judged", "--model", "j=http://127.0.0.1:9/v1",
                  "--rubric", str(bad), code=2)  # fmt: skip
    assert "{response_2}" in out
    mine = tmp_path / "mine.txt"
    mine.write_text(
        "Rules: {guidelines}\n{conversation}\n# Response 1\n{response_1}\n\n# Response 2\n"
        "{response_2}\n\n# Your answer\n{options}\nBraces {like this} stay.",
        encoding="utf-8",
    )
    with fake_llm() as (url, script):
        arbiter("judge", "--project", "Judged", "--model", f"j={url},model=judge-fair",
                "--rubric", str(mine), "--batch", "b1")  # fmt: skip
    text = script.requests[0]["messages"][0]["content"]
    assert text.startswith("Rules: Prefer brevity.\n[user]\nQuestion 0?")
    assert "Verdict: 1\nVerdict: 2\nVerdict: tie\nVerdict: both_bad\nBraces {like this}" in text


def test_the_judge_can_be_left_out_of_an_export(
    db: Database, arbiter: Arbiter, tmp_path: Path, fast_retries: None
) -> None:
    with db.scope() as session:
        _pairs_project(session)
    with fake_llm() as (url, _):
        arbiter("judge", "--project", "Judged", "--model", f"fair={url},model=judge-fair")
    out = tmp_path / "j.jsonl"
    arbiter("export", "--project", "Judged", "--format", "openai-dpo", "--output", str(out))
    assert len(out.read_bytes().splitlines()) == 9
    arbiter("export", "--project", "Judged", "--format", "openai-dpo", "--output", str(out),
            "--exclude-annotator", "judge:fair")  # fmt: skip
    manifest = orjson.loads((tmp_path / "j.jsonl.manifest.json").read_bytes())
    assert manifest["rows"] == 0


def test_a_label_that_names_a_persons_login_is_refused(db: Database, arbiter: Arbiter) -> None:
    from tests.factories_labels import make_labeller

    with db.scope() as session:
        _pairs_project(session)
        make_labeller(session, "judge:eve")
    out = arbiter("judge", "--project", "Judged", "--model", "eve=http://127.0.0.1:9/v1", code=1)
    assert "'judge:eve' is a person's account" in out
