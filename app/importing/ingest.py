"""Writing validated rows in bulk, one chunk at a time, de-duplicated against the database.

Earlier chunks of the same file are already flushed when a later one is written, so one set of
lookups per chunk finds duplicates both within the file and against earlier imports, and the
memory used does not grow with the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, union_all
from sqlalchemy.orm import Session

from app.annotation import tallies
from app.i18n import N_, Text
from app.importing.bulk import allocate_ids, json_encoder, keys, probe, write_rows
from app.importing.rows import CandidateRow, PromptRow
from app.models import Candidate, Comparison, Prompt

PROMPTS: Table = Prompt.__table__  # type: ignore[assignment]
CANDIDATES: Table = Candidate.__table__  # type: ignore[assignment]
COMPARISONS: Table = Comparison.__table__  # type: ignore[assignment]
PROMPT_COLUMNS = (
    "id", "project_id", "batch_id", "external_id", "system", "messages", "tools", "meta",
    "content_hash",
)  # fmt: skip
CANDIDATE_COLUMNS = ("id", "prompt_id", "content", "model", "meta", "content_hash")
COMPARISON_COLUMNS = (
    "id", "project_id", "batch_id", "prompt_id", "candidate_a_id", "candidate_b_id",
    "judgement_count", "gold",
)  # fmt: skip


@dataclass
class Counts:
    rows: int = 0
    prompts: int = 0
    candidates: int = 0
    comparisons: int = 0
    duplicates: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class _Target:
    """Where a row's prompt lives: an existing prompt id, or a new one inserted this chunk."""

    content_hash: str
    external_id: str | None
    id: int | None = None
    new: bool = False
    row: PromptRow | None = None


#: Ids are drawn from each sequence for up to this many rows ahead (Postgres): one round trip
#: per table every few chunks rather than one per chunk. What an import leaves unused is a gap
#: in the ids, as a rolled-back insert leaves one.
IDS_AHEAD = 4_000


class _Ids:
    """A table's fresh ids, drawn ahead of need on Postgres (exactly as needed on SQLite,
    whose ids follow from the table's largest)."""

    def __init__(self, session: Session, table: Table) -> None:
        self.session = session
        self.table = table
        self.ahead = session.get_bind().dialect.name == "postgresql"
        self.spare: list[int] = []

    def take(self, n: int) -> list[int]:
        if len(self.spare) < n:
            more = max(n - len(self.spare), min(4 * n, IDS_AHEAD)) if self.ahead else n
            self.spare += allocate_ids(self.session, self.table, more)
        taken, self.spare = self.spare[:n], self.spare[n:]
        return taken


#: Called once per written row with the row and its candidates' ids (in the row's order).
RowHook = Callable[[PromptRow, list[int]], None]


class ChunkWriter:
    def __init__(
        self, session: Session, project_id: int, batch_id: int, on_row: RowHook | None = None,
        *, make_pairs: bool = True, max_candidates: int | None = None,
    ) -> None:  # fmt: skip
        #: The most candidates a row may have (a ranking shows at most nine).
        self.max_candidates = max_candidates
        #: Whether rows become pair comparisons (a pairwise project); the other protocols'
        #: work is added after the import (app/annotation/work.py).
        self.make_pairs = make_pairs
        self.session = session
        self.project_id = project_id
        self.batch_id = batch_id
        self.on_row = on_row
        self.counts = Counts()
        self.ids = {table: _Ids(session, table) for table in (PROMPTS, CANDIDATES, COMPARISONS)}
        self.json = json_encoder(session)
        found = (Prompt.id, Prompt.content_hash, Prompt.external_id)
        in_project = Prompt.project_id == project_id
        self.by_hash = probe(session, found, Prompt.content_hash, "hashes", in_project)
        self.by_hash_or_id = union_all(
            self.by_hash, probe(session, found, Prompt.external_id, "ids", in_project)
        )
        candidates = (Candidate.prompt_id, Candidate.content_hash, Candidate.id)
        self.candidates_of = probe(session, candidates, Candidate.prompt_id, "prompts")
        pairs = (Comparison.prompt_id, Comparison.candidate_a_id, Comparison.candidate_b_id)
        self.pairs_of = probe(session, pairs, Comparison.prompt_id, "prompts")

    def check(self, chunk: list[tuple[int, PromptRow]]) -> list[tuple[int, str, str]]:
        """Conflicts between ids and contents, as ``(line, field, reason)``; writes nothing."""
        _, errors = self._resolve(chunk)
        return errors

    def write(self, chunk: list[tuple[int, PromptRow]]) -> list[tuple[int, str, str]]:
        targets, errors = self._resolve(chunk)
        if errors:
            return errors
        # Only prompts already in the database can have candidates and pairs to look up.
        older = {t.id for t in targets if not t.new}
        fresh = self._insert_prompts(targets)
        rows = [row for _, row in chunk]
        ids = [t.id for t in targets]
        candidate_ids, fresh_candidates = self._candidates(rows, ids, older)  # type: ignore[arg-type]
        fresh_pairs = self._comparisons(rows, ids, candidate_ids, older)  # type: ignore[arg-type]
        self.counts.rows += len(rows)
        for i, row in enumerate(rows):
            if not (i in fresh or fresh_candidates[i] or fresh_pairs[i]):
                self.counts.duplicates += 1
            if self.on_row is not None:
                self.on_row(row, candidate_ids[i])
        return []

    # --- prompts ------------------------------------------------------------------------------

    def _resolve(
        self, chunk: list[tuple[int, PromptRow]]
    ) -> tuple[list[_Target], list[tuple[int, str, str]]]:
        hashes = {row.content_hash for _, row in chunk}
        ext_ids = {row.external_id for _, row in chunk if row.external_id is not None}
        known: dict[str, _Target] = {}
        known_ext: dict[str, _Target] = {}
        params = {"hashes": keys(self.session, hashes), "ids": keys(self.session, ext_ids)}
        query = self.by_hash_or_id if ext_ids else self.by_hash
        for pid, content_hash, external_id in self.session.execute(query, params):
            target = _Target(content_hash, external_id, id=pid)
            known[content_hash] = target
            if external_id is not None:
                known_ext[external_id] = target
        targets: list[_Target] = []
        errors: list[tuple[int, str, str]] = []
        for line, row in chunk:
            target, problem = self._target(row, known, known_ext)
            if problem:
                errors.append((line, "id", problem))
            targets.append(target)
        return targets, errors

    def _target(
        self, row: PromptRow, known: dict[str, _Target], known_ext: dict[str, _Target]
    ) -> tuple[_Target, str | None]:
        by_ext = known_ext.get(row.external_id) if row.external_id is not None else None
        by_hash = known.get(row.content_hash)
        if by_ext is not None and by_ext.content_hash != row.content_hash:
            return by_ext, Text(
                N_("%(id)s already names a different prompt in this project"),
                id=repr(row.external_id),
            )
        if (
            by_hash is not None
            and by_hash.external_id != row.external_id
            and row.external_id is not None
            and by_ext is None
        ):
            if by_hash.external_id:
                return by_hash, Text(N_("this prompt is already in the project as id %(id)s"),
                                     id=repr(by_hash.external_id))  # fmt: skip
            return by_hash, N_("this prompt is already in the project without id")
        target = by_ext or by_hash
        if target is None:
            target = _Target(row.content_hash, row.external_id, new=True, row=row)
            known[row.content_hash] = target
            if row.external_id is not None:
                known_ext[row.external_id] = target
        return target, None

    def _insert_prompts(self, targets: list[_Target]) -> set[int]:
        """Insert the new prompts; the indexes of the rows that introduced them."""
        first: dict[int, int] = {}
        for i, t in enumerate(targets):
            if t.new:
                first.setdefault(id(t), i)
        new = [targets[i] for i in first.values()]
        if not new:
            return set()
        ids = self.ids[PROMPTS].take(len(new))
        json = self.json
        values = []
        for target, pid in zip(new, ids, strict=True):
            target.id = pid
            row = target.row
            assert row is not None
            values.append(
                (pid, self.project_id, self.batch_id, row.external_id, row.system,
                 json(row.messages), json(row.tools), json(row.meta), row.content_hash)
            )  # fmt: skip
        write_rows(self.session, PROMPTS, PROMPT_COLUMNS, values)
        self.counts.prompts += len(new)
        return set(first.values())

    # --- candidates and comparisons ----------------------------------------------------------

    def _existing_ids(self, prompt_ids: set[int]) -> dict[tuple[int, str], int]:
        if not prompt_ids:
            return {}
        found = self.session.execute(
            self.candidates_of, {"prompts": keys(self.session, prompt_ids)}
        )
        return {(p, h): cid for p, h, cid in found}

    def _candidates(
        self, rows: list[PromptRow], prompt_ids: list[int], older: set[int]
    ) -> tuple[list[list[int]], list[bool]]:
        """Each row's candidate ids, inserting the missing ones; whether a row added any."""
        existing = self._existing_ids(older)
        pending: dict[tuple[int, str], CandidateRow] = {}
        fresh = [False] * len(rows)
        for r, (row, pid) in enumerate(zip(rows, prompt_ids, strict=True)):
            for c in row.candidates:
                key = (pid, c.content_hash)
                if key not in existing and key not in pending:
                    fresh[r] = True
                    pending[key] = c
        if pending:
            new_ids = self.ids[CANDIDATES].take(len(pending))
            values = [
                (cid, pid, c.content, c.model, self.json(c.meta), c.content_hash)
                for cid, ((pid, _), c) in zip(new_ids, pending.items(), strict=True)
            ]
            write_rows(self.session, CANDIDATES, CANDIDATE_COLUMNS, values)
            existing.update(zip(pending.keys(), new_ids, strict=True))
            self.counts.candidates += len(pending)
        ids = [
            [existing[(pid, c.content_hash)] for c in row.candidates]
            for row, pid in zip(rows, prompt_ids, strict=True)
        ]
        return ids, fresh

    def _comparisons(
        self,
        rows: list[PromptRow],
        prompt_ids: list[int],
        candidate_ids: list[list[int]],
        older: set[int],
    ) -> list[bool]:
        """Insert the missing pairs; for each row, whether it added anything."""
        if not self.make_pairs:
            return [False] * len(rows)
        existing: set[tuple[int, int, int]] = set()
        if older:
            found = self.session.execute(self.pairs_of, {"prompts": keys(self.session, older)})
            existing.update(tuple(row) for row in found)
        pending: list[tuple[Any, ...]] = []
        added: list[bool] = []
        for row, pid, cids in zip(rows, prompt_ids, candidate_ids, strict=True):
            before = len(pending)
            for i, j in row.pair_indexes():
                a, b = sorted((cids[i], cids[j]))
                if (pid, a, b) not in existing:
                    existing.add((pid, a, b))
                    gold = gold_verdict(row.gold, cids, a)
                    pending.append((self.project_id, self.batch_id, pid, a, b, 0, gold))
            added.append(len(pending) > before)
        # Ids up front, as for prompts and candidates: the tallies count the pairs by id.
        ids = self.ids[COMPARISONS].take(len(pending))
        pending = [(cid, *row) for cid, row in zip(ids, pending, strict=True)]
        write_rows(self.session, COMPARISONS, COMPARISON_COLUMNS, pending)
        # Gold pairs are out of the queue, so out of the tallies (app/quality/gold.py).
        tallies.added(self.session, self.batch_id, [r[0] for r in pending if r[-1] is None])
        self.counts.comparisons += len(pending)
        return added


def gold_verdict(
    gold: int | str | None, candidate_ids: list[int], candidate_a_id: int
) -> str | None:
    """A row's ``gold`` in candidate terms: ``a`` or ``b`` for an index, else as given."""
    if gold is None or isinstance(gold, str):
        return gold
    return "a" if candidate_ids[gold] == candidate_a_id else "b"
