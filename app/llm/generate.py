"""Candidates from models: each prompt's missing (label, sample) answers, landed per prompt.

A candidate made here carries ``model`` = the endpoint's LABEL and, in ``meta.generation``,
the request (label, sample number, model id, base URL, temperature, max_tokens, system) and
what the endpoint said of it (finish reason, token usage). A run asks only for the samples
``0 … per_prompt-1`` of each label that no candidate of the prompt holds yet, so running it
again after a failure or a kill completes the work and adds no duplicate; a sample, once
made, is not asked again whatever the run's other parameters (a new setting wants a new
LABEL). All of one prompt's answers are written in one transaction, with the comparisons
that pair them with each other and with the prompt's other candidates (every pair, as the
import makes them), once the last of its calls has finished.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.annotation import active, tallies
from app.db import Database
from app.errors import NotFound
from app.i18n import N_
from app.importing.rows import MAX_CANDIDATE_CHARS
from app.llm.client import CallFailed, ChatClient, Reply, bounded_map, until
from app.llm.endpoints import Endpoint, GenerateParams
from app.models import Batch, BatchStatus, Candidate, Comparison, Project, Prompt

META_KEY = "generation"


@dataclass(frozen=True)
class Ask:
    """One request: sample ``sample`` of ``endpoint`` for one prompt."""

    prompt_id: int
    endpoint: Endpoint
    sample: int
    messages: tuple[dict[str, str], ...]


@dataclass
class Summary:
    """What a run did, as the CLI prints it and a job's progress shows it."""

    prompts: int = 0
    """Prompts of the chosen batches."""
    present: int = 0
    """(prompt, label, sample) answers already there, not asked again."""
    requested: int = 0
    done: int = 0
    """Requests finished (answered or failed)."""
    candidates: int = 0
    comparisons: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    tokens: Counter[str] = field(default_factory=Counter)
    failed_prompts: int = 0
    """Prompts left without one or more of their candidates (a call failed for good)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "prompts": self.prompts, "present": self.present, "requested": self.requested,
            "done": self.done, "total": self.requested, "candidates": self.candidates,
            "comparisons": self.comparisons, "failures": dict(self.failures),
            "tokens": dict(self.tokens), "failed_prompts": self.failed_prompts,
        }  # fmt: skip


def chosen_batches(session: Session, project: Project, names: list[str]) -> list[Batch]:
    """The named batches of ``project`` (every batch not archived when none is named)."""
    stmt = select(Batch).where(Batch.project_id == project.id).order_by(Batch.id)
    found = list(session.scalars(stmt))
    if not names:
        return [b for b in found if b.status is not BatchStatus.ARCHIVED]
    by_name = {b.name: b for b in found}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise NotFound(N_("batch: no batch named %(name)s in project %(project)s"),
                       name=repr(missing[0]), project=repr(project.name))  # fmt: skip
    return [by_name[n] for n in dict.fromkeys(names)]


def conversation(params_system: str | None, prompt: Prompt) -> tuple[dict[str, str], ...]:
    """What is sent: the run's system text, the prompt's own system text, then its turns."""
    turns = [{"role": "system", "content": s} for s in (params_system, prompt.system) if s]
    turns += [{"role": m["role"], "content": m["content"]} for m in prompt.messages]
    return tuple(turns)


#: Prompts read (and their asks made) at a time: a run's memory does not grow with the batch.
SLICE = 200


@dataclass
class Plan:
    """What is missing, found in one short read; the prompts' texts are read slice by slice."""

    prompt_ids: list[int]
    present: set[tuple[int, str, int]]
    params: GenerateParams
    waiting: Counter[int] = field(default_factory=Counter)
    """Per prompt, the calls handed out and not yet back."""

    def asks(self, db: Database) -> Iterator[Ask]:
        """The missing asks, prompt by prompt, read ``SLICE`` prompts at a time."""
        endpoints = self.params.endpoints
        for start in range(0, len(self.prompt_ids), SLICE):
            with db.read_only() as session:
                stmt = select(Prompt).where(Prompt.id.in_(self.prompt_ids[start : start + SLICE]))
                prompts = sorted(
                    ((p.id, conversation(self.params.system, p)) for p in session.scalars(stmt)),
                    key=lambda found: found[0],
                )
            for prompt_id, messages in prompts:
                mine = [
                    Ask(prompt_id, endpoint, sample, messages)
                    for endpoint in endpoints
                    for sample in range(self.params.per_prompt)
                    if (prompt_id, endpoint.label, sample) not in self.present
                ]
                if mine:
                    self.waiting[prompt_id] = len(mine)
                yield from mine


def plan(session: Session, project: Project, params: GenerateParams, summary: Summary) -> Plan:
    """Every missing (prompt, label, sample), counted; ``Plan.asks`` makes them."""
    batch_ids = [b.id for b in chosen_batches(session, project, params.batch)]
    stmt = select(Prompt.id).where(Prompt.batch_id.in_(batch_ids)).order_by(Prompt.id)
    prompt_ids = list(session.scalars(stmt)) if batch_ids else []
    labels = [e.label for e in params.endpoints]
    present = {
        key
        for key in _present(session, batch_ids, labels)
        if key[2] < params.per_prompt
    } if batch_ids else set()  # fmt: skip
    summary.prompts = len(prompt_ids)
    summary.present = len(present)
    summary.requested = len(prompt_ids) * len(labels) * params.per_prompt - len(present)
    return Plan(prompt_ids, present, params)


def _present(
    session: Session, batch_ids: list[int], labels: list[str]
) -> set[tuple[int, str, int]]:
    stmt = (
        select(Candidate.prompt_id, Candidate.model, Candidate.meta)
        .join(Prompt, Prompt.id == Candidate.prompt_id)
        .where(Prompt.batch_id.in_(batch_ids), Candidate.model.in_(labels))
    )
    found = set()
    for prompt_id, label, meta in session.execute(stmt):
        sample = (meta or {}).get(META_KEY, {}).get("sample")
        if isinstance(sample, int):
            found.add((prompt_id, label, sample))
    return found


def request_body(ask: Ask, params: GenerateParams) -> dict[str, Any]:
    body: dict[str, Any] = {"model": ask.endpoint.model, "messages": list(ask.messages)}
    if params.temperature is not None:
        body["temperature"] = params.temperature
    if params.max_tokens is not None:
        body["max_tokens"] = params.max_tokens
    return body


def run_generation(
    db: Database,
    project_id: int,
    params: GenerateParams,
    client: ChatClient,
    *,
    report: Callable[[Summary], None] = lambda s: None,
) -> Summary:
    """Plan in one short transaction, call the endpoints, land each prompt in its own."""
    summary = Summary()
    with db.read_only() as session:
        project = session.get(Project, project_id)
        assert project is not None
        missing = plan(session, project, params, summary)
    report(summary)
    waiting = missing.waiting
    answers: dict[int, list[tuple[Ask, Reply]]] = {}
    failed: set[int] = set()

    def call(ask: Ask) -> Reply:
        return client.complete(ask.endpoint.base_url, request_body(ask, params))

    asks = until(missing.asks(db), client.stop)
    for ask, result in bounded_map(call, asks, params.concurrency):
        summary.done += 1
        if isinstance(result, Reply):
            summary.tokens.update(result.usage)
            answers.setdefault(ask.prompt_id, []).append((ask, result))
        else:
            _count_failure(summary, result)
            failed.add(ask.prompt_id)
        waiting[ask.prompt_id] -= 1
        if not waiting[ask.prompt_id]:
            del waiting[ask.prompt_id]
            with db.scope() as session:
                land(session, ask.prompt_id, answers.pop(ask.prompt_id, []), params, summary)
            summary.failed_prompts += ask.prompt_id in failed
            failed.discard(ask.prompt_id)
        report(summary)
    return summary


def _count_failure(summary: Summary, error: BaseException) -> None:
    if isinstance(error, CallFailed):
        summary.failures[error.reason] += 1
        summary.tokens.update(error.usage)
    else:
        summary.failures["error"] += 1


def land(
    session: Session,
    prompt_id: int,
    answers: list[tuple[Ask, Reply]],
    params: GenerateParams,
    summary: Summary,
) -> None:
    """One prompt's answers as candidates, and the comparisons that pair them."""
    if not answers:
        return
    prompt = session.get(Prompt, prompt_id)
    if prompt is None:  # deleted while the run was asking
        summary.failures["prompt_gone"] += len(answers)
        return
    stmt = select(Candidate.content_hash, Candidate.id).where(Candidate.prompt_id == prompt_id)
    known: dict[str, int] = {h: cid for h, cid in session.execute(stmt)}
    old = set(known.values())
    new: list[int] = []
    for ask, reply in sorted(answers, key=lambda a: (a[0].endpoint.label, a[0].sample)):
        problem = _unstorable(reply.text)
        digest = hashlib.sha256(reply.text.encode()).hexdigest()
        if problem or digest in known:
            summary.failures[problem or "duplicate_text"] += 1
            continue
        candidate = Candidate(
            prompt_id=prompt_id, content=reply.text, model=ask.endpoint.label,
            meta={META_KEY: _meta(ask, reply, params)}, content_hash=digest,
        )  # fmt: skip
        session.add(candidate)
        session.flush()
        known[digest] = candidate.id
        new.append(candidate.id)
    summary.candidates += len(new)
    summary.comparisons += _pair(session, prompt, old, new)


def _unstorable(text: str) -> str | None:
    if "\x00" in text:
        return "nul_character"
    if len(text) > MAX_CANDIDATE_CHARS:
        return "too_long"
    return None


def _meta(ask: Ask, reply: Reply, params: GenerateParams) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "label": ask.endpoint.label, "sample": ask.sample, "model": ask.endpoint.model,
        "base_url": ask.endpoint.public_url, "temperature": params.temperature,
        "max_tokens": params.max_tokens, "system": params.system,
        "finish_reason": reply.finish_reason,
    }  # fmt: skip
    if reply.usage:
        meta["usage"] = reply.usage
    return meta


def _pair(session: Session, prompt: Prompt, old: set[int], new: list[int]) -> int:
    """Every pair of the new candidates with each other and with the older ones."""
    pairs = {tuple(sorted((n, o))) for n in new for o in old}
    pairs |= {(a, b) for i, a in enumerate(new) for b in new[i + 1 :]}
    rows = [
        Comparison(project_id=prompt.project_id, batch_id=prompt.batch_id, prompt_id=prompt.id,
                   candidate_a_id=a, candidate_b_id=b, judgement_count=0)
        for a, b in sorted(pairs)
    ]  # fmt: skip
    session.add_all(rows)
    session.flush()
    tallies.added(session, prompt.batch_id, [c.id for c in rows])
    active.link(session, prompt.project_id, Comparison.prompt_id == prompt.id)  # model pairs
    batch = session.get(Batch, prompt.batch_id)
    if batch is not None and rows:
        counts = dict(batch.counts or {})
        for key, n in (("candidates", len(new)), ("comparisons", len(rows))):
            counts[key] = int(counts.get(key, 0)) + n
        batch.counts = counts
    return len(rows)
