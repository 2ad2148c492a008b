"""An LLM judge: each comparison asked twice with the sides swapped.

The model sees the conversation and the two candidates once with candidate A first and once
with B first (``verdicts.py`` renders the prompt and reads the answer). Both answers, in
candidate terms, are kept in ``judge_answers``. When they agree, the verdict also becomes
the judgement of the annotator ``judge:LABEL``, which, like an import's ``source:`` annotator,
is inactive, has no usable password, is never counted toward a comparison's overlap (its
judgements do not move ``judgement_count``), and can be left out of an export with
``--exclude-annotator judge:LABEL``. When they differ, the judge was swayed by the order:
the answer is recorded as position-inconsistent and no judgement is made. An answer that
does not parse, or a call that fails, records nothing; running the judge again asks only
about the comparisons with no recorded answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.db import Database
from app.errors import Conflict
from app.i18n import N_
from app.importing.labels import inactive_annotator
from app.llm import verdicts
from app.llm.client import CallFailed, ChatClient, Reply, bounded_map, until
from app.llm.endpoints import Endpoint, JudgeParams
from app.llm.generate import chosen_batches
from app.models import (
    Candidate,
    Comparison,
    JudgeAnswer,
    Judgement,
    Project,
    Prompt,
    User,
    Verdict,
)

JUDGE_PREFIX = "judge:"


def judge_username(label: str) -> str:
    return (JUDGE_PREFIX + label)[:64]


@dataclass(frozen=True)
class Ask:
    comparison_id: int
    a_first: bool
    text: str


@dataclass
class Summary:
    comparisons: int = 0
    """Comparisons of the chosen batches."""
    present: int = 0
    """Already answered by this judge, not asked again."""
    requested: int = 0
    done: int = 0
    judged: int = 0
    """Both answers agreed: a judgement was recorded."""
    inconsistent: int = 0
    """The answers flipped with the sides."""
    failures: Counter[str] = field(default_factory=Counter)
    tokens: Counter[str] = field(default_factory=Counter)

    @property
    def inconsistency_rate(self) -> float | None:
        answered = self.judged + self.inconsistent
        return self.inconsistent / answered if answered else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "comparisons": self.comparisons, "present": self.present,
            "requested": self.requested, "done": self.done, "total": self.requested,
            "judged": self.judged, "inconsistent": self.inconsistent,
            "failures": dict(self.failures), "tokens": dict(self.tokens),
        }  # fmt: skip


def judge_annotator(session: Session, label: str) -> User:
    """The annotator ``judge:LABEL`` (made on first use); never a person's login."""
    user = inactive_annotator(session, judge_username(label))
    if user.is_active:
        raise Conflict(N_("model: %(username)s is a person's login; choose another LABEL"),
                       username=user.username)  # fmt: skip
    return user


def template_of(params: JudgeParams) -> str:
    return verdicts.check_template(params.rubric) if params.rubric else verdicts.DEFAULT_TEMPLATE


#: Comparisons read (and their prompts rendered) at a time.
SLICE = 200


def plan(
    session: Session, project: Project, params: JudgeParams, user_id: int, summary: Summary
) -> list[int]:
    """The chosen batches, counting what there is and what this judge already answered."""
    batch_ids = [b.id for b in chosen_batches(session, project, params.batch)]
    template_of(params)  # a bad template stops the run before any call
    in_batches = Comparison.batch_id.in_(batch_ids)
    total = session.scalar(select(func.count()).select_from(Comparison).where(in_batches))
    answered = session.scalar(
        select(func.count())
        .select_from(JudgeAnswer)
        .join(Comparison, Comparison.id == JudgeAnswer.comparison_id)
        .where(in_batches, JudgeAnswer.user_id == user_id)
    )
    summary.comparisons, summary.present = int(total or 0), int(answered or 0)
    summary.requested = 2 * (summary.comparisons - summary.present)
    return batch_ids


def asks(
    db: Database, project: Project, params: JudgeParams, user_id: int, batch_ids: list[int]
) -> Iterator[Ask]:
    """Two asks (A first, B first) per comparison not answered, ``SLICE`` at a time."""
    template = template_of(params)
    a, b = aliased(Candidate), aliased(Candidate)
    answered = (
        select(JudgeAnswer.id)
        .where(JudgeAnswer.comparison_id == Comparison.id, JudgeAnswer.user_id == user_id)
        .exists()
    )
    after = 0
    while True:
        stmt = (
            select(Comparison.id, Prompt.system, Prompt.messages, a.content, b.content)
            .join(Prompt, Prompt.id == Comparison.prompt_id)
            .join(a, a.id == Comparison.candidate_a_id)
            .join(b, b.id == Comparison.candidate_b_id)
            .where(Comparison.batch_id.in_(batch_ids), Comparison.id > after, ~answered)
            .order_by(Comparison.id)
            .limit(SLICE)
        )
        with db.read_only() as session:
            rows = session.execute(stmt).all()
        if not rows:
            return
        for cid, system, messages, text_a, text_b in rows:
            for a_first, (one, two) in ((True, (text_a, text_b)), (False, (text_b, text_a))):
                yield Ask(cid, a_first, verdicts.render(template, project, system, messages,
                                                        one, two))  # fmt: skip
        after = rows[-1][0]


def request_body(endpoint: Endpoint, ask: Ask, params: JudgeParams) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": endpoint.model, "messages": [{"role": "user", "content": ask.text}],
    }  # fmt: skip
    if params.temperature is not None:
        body["temperature"] = params.temperature
    if params.max_tokens is not None:
        body["max_tokens"] = params.max_tokens
    return body


def run_judge(
    db: Database,
    project_id: int,
    params: JudgeParams,
    client: ChatClient,
    *,
    report: Callable[[Summary], None] = lambda s: None,
) -> Summary:
    endpoint = params.endpoints[0]
    summary = Summary()
    with db.scope() as session:
        project = session.get(Project, project_id)
        assert project is not None
        user_id = judge_annotator(session, endpoint.label).id
        batch_ids = plan(session, project, params, user_id, summary)
    report(summary)
    halves: dict[int, dict[bool, verdicts.Choice | None]] = {}

    def call(ask: Ask) -> Reply:
        return client.complete(endpoint.base_url, request_body(endpoint, ask, params))

    todo = until(asks(db, project, params, user_id, batch_ids), client.stop)
    for ask, result in bounded_map(call, todo, params.concurrency):
        summary.done += 1
        pair = halves.setdefault(ask.comparison_id, {})
        pair[ask.a_first] = _read(result, project, summary)
        if len(pair) < 2:
            continue
        del halves[ask.comparison_id]
        if pair[True] is not None and pair[False] is not None:
            a_first, b_first = _in_candidate_terms(pair)
            with db.scope() as session:
                record(session, ask.comparison_id, user_id, a_first, b_first)
            summary.judged += a_first == b_first
            summary.inconsistent += a_first != b_first
        report(summary)
    report(summary)
    return summary


def _read(
    result: Reply | BaseException, project: Project, summary: Summary
) -> verdicts.Choice | None:
    """The verdict of one answer, or None with the failure counted."""
    try:
        if isinstance(result, BaseException):
            raise result
        summary.tokens.update(result.usage)
        return verdicts.parse(result.text, project)
    except CallFailed as exc:
        summary.failures[exc.reason] += 1
        summary.tokens.update(exc.usage)
    except Exception:
        summary.failures["error"] += 1
    return None


_A_FIRST = {verdicts.Choice.FIRST: Verdict.A, verdicts.Choice.SECOND: Verdict.B}
_B_FIRST = {verdicts.Choice.FIRST: Verdict.B, verdicts.Choice.SECOND: Verdict.A}
_OTHER = {verdicts.Choice.TIE: Verdict.TIE, verdicts.Choice.BOTH_BAD: Verdict.BOTH_BAD}


def _in_candidate_terms(pair: dict[bool, verdicts.Choice | None]) -> tuple[Verdict, Verdict]:
    shown_a, shown_b = pair[True], pair[False]
    assert shown_a is not None and shown_b is not None
    return ({**_A_FIRST, **_OTHER}[shown_a], {**_B_FIRST, **_OTHER}[shown_b])


def record(
    session: Session, comparison_id: int, user_id: int, a_first: Verdict, b_first: Verdict
) -> None:
    """Both answers; and, when they agree, the judge's judgement (no side was 'left')."""
    if session.get(Comparison, comparison_id) is None:
        return  # deleted while the judge was asked
    consistent = a_first == b_first
    session.add(JudgeAnswer(comparison_id=comparison_id, user_id=user_id, a_first=a_first,
                            b_first=b_first, consistent=consistent))  # fmt: skip
    if consistent:
        session.add(Judgement(comparison_id=comparison_id, user_id=user_id, verdict=a_first))
    session.flush()
