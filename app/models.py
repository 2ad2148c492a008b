"""The schema. Invariants live here as constraints, not as hopes in application code."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both databases (SQLite keeps no zone itself)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a named CHECK, the same on both databases."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Role(enum.StrEnum):
    """What a user may do."""

    ADMIN = "admin"
    """Runs projects: imports batches, manages people, exports."""
    ANNOTATOR = "annotator"
    """Labels comparisons in the projects open to them."""


class RationaleMode(enum.StrEnum):
    """Whether a judgement asks for a written reason."""

    OFF = "off"
    OPTIONAL = "optional"
    REQUIRED = "required"


class Verdict(enum.StrEnum):
    """The outcome of one judgement, always in terms of candidate ids, never screen sides."""

    A = "a"
    """candidate_a is better."""
    B = "b"
    """candidate_b is better."""
    TIE = "tie"
    """Both are acceptable and equally good: no preference pair is derived."""
    BOTH_BAD = "both_bad"
    """Neither is acceptable: no preference pair; both may become KTO negatives."""


class Protocol(enum.StrEnum):
    """How a project asks for labels (FORMATS.md "Protocols")."""

    PAIRWISE = "pairwise"
    """Two candidates side by side, one verdict (a comparison of kind ``pair``)."""
    RATING = "rating"
    """One candidate at a time, good or bad (a comparison of kind ``single``)."""
    RANKING = "ranking"
    """All of a prompt's candidates at once, ordered best to worst (kind ``ranking``)."""


class ComparisonKind(enum.StrEnum):
    """What one unit of work in the queue shows; which candidate columns it fills says it."""

    PAIR = "pair"
    """``candidate_a_id < candidate_b_id``: a verdict between the two."""
    SINGLE = "single"
    """``candidate_a_id`` alone (``candidate_b_id`` NULL): a good/bad rating of it."""
    RANKING = "ranking"
    """Both NULL: every candidate of the prompt (2 to 9), ranked best to worst."""


#: How many candidates a ranking shows at most.
MAX_RANKED = 9


class Sampling(enum.StrEnum):
    """In which order a project's comparisons are handed out (app/annotation/assign.py)."""

    QUEUE = "queue"
    """Most judgements first (overlap sets complete early), then import order."""
    ACTIVE = "active"
    """Between the models whose pair has the fewest votes first (app/annotation/active.py)."""


class BatchStatus(enum.StrEnum):
    """Whether a batch's comparisons are handed out."""

    ACTIVE = "active"
    """In the queue."""
    PAUSED = "paused"
    """Out of the queue for now; its labels stay and export."""
    ARCHIVED = "archived"
    """Out of the queue for good; its labels stay and export."""


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The interface language they chose (app/i18n.py LOCALES); None: their browser's.
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("overlap >= 1", name="overlap_positive"),
        CheckConstraint("max_strength IN (2, 3)", name="max_strength_range"),
        CheckConstraint("gold_rate >= 0 AND gold_rate <= 0.5", name="gold_rate_range"),
        CheckConstraint("repeat_rate >= 0 AND repeat_rate <= 0.2", name="repeat_rate_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    guidelines: Mapped[str] = mapped_column(Text, default="")
    overlap: Mapped[int] = mapped_column(Integer, default=1)
    allow_tie: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_both_bad: Mapped[bool] = mapped_column(Boolean, default=True)
    rationale: Mapped[RationaleMode] = mapped_column(
        _enum(RationaleMode, "rationale"), default=RationaleMode.OFF
    )
    rate_singletons: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    protocol: Mapped[Protocol] = mapped_column(
        _enum(Protocol, "protocol"), default=Protocol.PAIRWISE, server_default="pairwise"
    )
    #: Aspects scored for each response shown: ``[{"name", "min", "max", "description",
    #: "labels"}]`` (app/annotation/rubric.py checks the shape); empty for none.
    rubric: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONType, default=list, server_default="[]"
    )
    #: The strongest "how much better": 2 (slightly, much) or 3 (HelpSteer3's scale).
    max_strength: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    sampling: Mapped[Sampling] = mapped_column(
        _enum(Sampling, "sampling"), default=Sampling.QUEUE, server_default=Sampling.QUEUE.value
    )
    # The quality loop (app/quality/): gold pairs and swapped repeats mixed into the queue.
    gold_rate: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    repeat_rate: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    too_fast_ms: Mapped[int] = mapped_column(Integer, default=3000, server_default="3000")


class ModelPair(Base):
    """Two models whose candidates a project compares (``model_low < model_high``), with the
    human judgements on their comparisons so far: what active sampling ranks pairs by."""

    __tablename__ = "model_pairs"
    __table_args__ = (
        UniqueConstraint("project_id", "model_low", "model_high"),
        CheckConstraint("model_low < model_high", name="ordered_models"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    model_low: Mapped[str] = mapped_column(String(200))
    model_high: Mapped[str] = mapped_column(String(200))
    judgements: Mapped[int] = mapped_column(Integer, default=0)


class ProjectMember(Base):
    """Who may work on a project. A project with no members is open to every annotator."""

    __tablename__ = "project_members"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Batch(Base):
    __tablename__ = "batches"
    #: The key a prompt's or a comparison's ``(batch_id, project_id)`` refers to: one foreign
    #: key checks both, and that the batch is the row's project's.
    __table_args__ = (UniqueConstraint("id", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    source_filename: Mapped[str | None] = mapped_column(String(500))
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[BatchStatus] = mapped_column(
        _enum(BatchStatus, "status"), default=BatchStatus.ACTIVE
    )


class Prompt(Base):
    """One conversation to be answered: optional system prompt and a history ending in user.

    On Postgres its long columns (system, messages, tools, meta) are compressed with lz4,
    as are a candidate's content and meta: set by a migration, since models cannot say it.
    """

    __tablename__ = "prompts"
    __table_args__ = (
        UniqueConstraint("project_id", "content_hash"),
        UniqueConstraint("project_id", "external_id"),
        # One check per row instead of two (project, batch): the batch's project exists.
        ForeignKeyConstraint(
            ["batch_id", "project_id"], ["batches.id", "batches.project_id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int] = mapped_column(Integer, index=True)
    external_id: Mapped[str | None] = mapped_column(String(200))
    system: Mapped[str | None] = mapped_column(Text)
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    tools: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    content_hash: Mapped[str] = mapped_column(String(64))


class Candidate(Base):
    """One model response to a prompt. ``model`` and ``meta`` are never shown to annotators."""

    __tablename__ = "candidates"
    __table_args__ = (UniqueConstraint("prompt_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"))
    content: Mapped[str] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(200))
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    content_hash: Mapped[str] = mapped_column(String(64))


class Comparison(Base):
    """One unit of labelling work on a prompt, of one ``kind`` (``ComparisonKind``): a pair
    stored with ``candidate_a_id < candidate_b_id``, a single candidate (``candidate_a_id``),
    or a ranking of all the prompt's candidates (neither). Leases, overlap and judgement
    counts work the same for every kind."""

    __tablename__ = "comparisons"
    __table_args__ = (
        UniqueConstraint("prompt_id", "candidate_a_id", "candidate_b_id"),
        CheckConstraint(
            "(kind = 'pair' AND candidate_a_id IS NOT NULL AND candidate_b_id IS NOT NULL"
            " AND candidate_a_id < candidate_b_id)"
            " OR (kind = 'single' AND candidate_a_id IS NOT NULL AND candidate_b_id IS NULL)"
            " OR (kind = 'ranking' AND candidate_a_id IS NULL AND candidate_b_id IS NULL)",
            name="kind_shape",
        ),
        # NULLs are distinct in the unique constraint above: one single per candidate and
        # one ranking per prompt are said here.
        Index(
            "uq_comparisons_single",
            "candidate_a_id",
            unique=True,
            sqlite_where=text("kind = 'single'"),
            postgresql_where=text("kind = 'single'"),
        ),
        Index(
            "uq_comparisons_ranking",
            "prompt_id",
            unique=True,
            sqlite_where=text("kind = 'ranking'"),
            postgresql_where=text("kind = 'ranking'"),
        ),
        CheckConstraint("judgement_count >= 0", name="judgement_count_non_negative"),
        Index("ix_comparisons_queue", "project_id", "judgement_count", "id"),
        # Each batch's own queue: the claim searches active batches one by one (and it
        # serves every lookup by batch, so there is no index on batch_id alone).
        Index("ix_comparisons_batch_queue", "batch_id", "judgement_count", "id"),
        # Each model pair's own queue, for active sampling (app/annotation/active.py).
        Index("ix_comparisons_pair_queue", "model_pair_id", "judgement_count", "id"),
        Index(
            "ix_comparisons_gold",
            "project_id",
            "id",
            postgresql_where=text("gold IS NOT NULL"),
            sqlite_where=text("gold IS NOT NULL"),
        ),
        # As for prompts: one check for the batch and its project (docs/PERFORMANCE.md).
        ForeignKeyConstraint(
            ["batch_id", "project_id"], ["batches.id", "batches.project_id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int] = mapped_column(Integer)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"))
    kind: Mapped[ComparisonKind] = mapped_column(
        _enum(ComparisonKind, "kind"), default=ComparisonKind.PAIR, server_default="pair"
    )
    candidate_a_id: Mapped[int | None] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), index=True
    )
    candidate_b_id: Mapped[int | None] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), index=True
    )
    #: The known answer of a gold pair (app/quality/gold.py); NULL for every other pair. A
    #: gold pair is out of the regular queue and of the tallies, and out of exports by default.
    gold: Mapped[Verdict | None] = mapped_column(_enum(Verdict, "gold"))
    #: Human judgements handed out through the queue (what ``Project.overlap`` asks for);
    #: a source's imported labels (``--keep-labels``) are judgements but are not counted here.
    judgement_count: Mapped[int] = mapped_column(Integer, default=0)
    #: The pair of models compared (``model_pairs.id``), when the candidates name two
    #: different models. No foreign key: SQLite cannot add one to a table without copying
    #: it, and a pair is only deleted with its project, whose comparisons go with it.
    model_pair_id: Mapped[int | None] = mapped_column(Integer)


class BatchTally(Base):
    """How many comparisons of a batch sit at each judgement count (app/annotation/tallies.py).

    Row (batch, shard, count) holds the batch's comparisons with ``id % SHARDS == shard`` and
    that ``judgement_count``: verdicts on one batch spread their updates over several rows.
    """

    __tablename__ = "batch_tallies"

    batch_id: Mapped[int] = mapped_column(
        ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True
    )
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    judgement_count: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    comparisons: Mapped[int] = mapped_column(Integer, default=0)


class Assignment(Base):
    """A lease of one comparison to one annotator; which candidate is shown left is random
    (for a single: the candidate; for a ranking: the first of ``shown``, the random order).

    The lease is live while ``expires_at`` is in the future; a verdict or a skip ends it. The
    row stays, so the comparison is never handed to that annotator again (app/annotation/assign.py).
    """

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("comparison_id", "user_id", "repeat"),
        Index("ix_assignments_user_expires", "user_id", "expires_at"),
        # What a user was leased, in queue order: the claim reads it as one set (or walks it
        # beside the queue) without touching the table.
        Index("ix_assignments_user_comparison", "user_id", "comparison_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comparison_id: Mapped[int] = mapped_column(ForeignKey("comparisons.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    left_candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), index=True
    )
    #: A ranking's candidate ids in the order shown (NULL for a pair or a single).
    shown: Mapped[list[int] | None] = mapped_column(JSONType)
    leased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: A swapped repeat of a pair this user judged before (app/quality/repeats.py): its
    #: verdict goes to ``repeat_answers``, never to ``judgements``.
    repeat: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Judgement(Base):
    """One annotator's answer to one comparison (at most one: a unique constraint).

    By the comparison's kind: a pair's ``verdict`` (and ``strength``); a single's good/bad
    is its ``Rating`` row (the KTO source), the judgement holding the queue's record; a
    ranking's ``ranking`` (candidate ids, best first), ``none_acceptable`` and ``shown``.
    Rubric scores of any kind are ``Score`` rows."""

    __tablename__ = "judgements"
    __table_args__ = (
        UniqueConstraint("comparison_id", "user_id"),
        CheckConstraint("strength IS NULL OR strength IN (1, 2, 3)", name="strength_scale"),
        CheckConstraint("verdict IS NULL OR ranking IS NULL", name="verdict_or_ranking"),
        Index("ix_judgements_user_created", "user_id", "created_at"),
        # What a user judged, in queue order (the claim's check, whichever way it is planned).
        Index("ix_judgements_user_comparison", "user_id", "comparison_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comparison_id: Mapped[int] = mapped_column(ForeignKey("comparisons.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    verdict: Mapped[Verdict | None] = mapped_column(_enum(Verdict, "verdict"))
    strength: Mapped[int | None] = mapped_column(Integer)
    rationale: Mapped[str | None] = mapped_column(Text)
    left_candidate_id: Mapped[int | None] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), index=True
    )
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    ranking: Mapped[list[int] | None] = mapped_column(JSONType)
    none_acceptable: Mapped[bool | None] = mapped_column(Boolean)
    shown: Mapped[list[int] | None] = mapped_column(JSONType)


class Score(Base):
    """One rubric aspect's score of one candidate, given with a judgement (goes with it)."""

    __tablename__ = "scores"
    __table_args__ = (Index("ix_scores_candidate_aspect", "candidate_id", "aspect"),)

    judgement_id: Mapped[int] = mapped_column(
        ForeignKey("judgements.id", ondelete="CASCADE"), primary_key=True
    )
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), primary_key=True
    )
    aspect: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class Rating(Base):
    """A good/bad mark on a single candidate (the KTO source)."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("candidate_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    good: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Export(Base):
    """Audit log: who exported what, with the manifest of the file written."""

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    format: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserSession(Base):
    """One signed-in browser session (app/accounts/sessions.py). The cookie carries a random
    key; only its digest is stored. Deleting the row ends the session at once."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginCounter(Base):
    """Failed logins counted for one throttle key in a fixed window (app/accounts/throttle.py).

    One row per key, raised by an atomic upsert, so concurrent attempts cannot all read the
    same count: each gets its own number."""

    __tablename__ = "login_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


# --- model runs: background jobs and the LLM judge (app/jobs.py, app/llm/) -----------------


class JobKind(enum.StrEnum):
    """What a background job does."""

    GENERATE = "generate"
    """Ask model endpoints for candidates (app/llm/generate.py)."""
    JUDGE = "judge"
    """Ask a model for a verdict on comparisons, twice with the sides swapped (app/llm/judge.py)."""


class JobStatus(enum.StrEnum):
    """Where a job is; ``app/jobs.py`` is the one place that moves it."""

    QUEUED = "queued"
    """Waiting for an app process to take it (also after a graceful shutdown)."""
    RUNNING = "running"
    """Taken by a process, which beats ``heartbeat_at``; a stale beat means it died."""
    DONE = "done"
    """Finished; the failures it met (if any) are in ``progress``."""
    FAILED = "failed"
    """Stopped by an error that a re-run would meet again (``error`` says which)."""
    INTERRUPTED = "interrupted"
    """A command-line run that stopped beating (killed); running it again resumes the work."""


#: The statuses of a job that holds its project: at most one per project (an index says so).
ACTIVE_JOB_STATUSES = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
_ACTIVE_JOB = "status IN ('queued', 'running')"


class Job(Base):
    """One generation or judge run, with its parameters (never a secret) and its progress."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index(
            "ix_jobs_one_active_per_project",
            "project_id",
            unique=True,
            sqlite_where=text(_ACTIVE_JOB),
            postgresql_where=text(_ACTIVE_JOB),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[JobKind] = mapped_column(_enum(JobKind, "kind"))
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus, "status"), default=JobStatus.QUEUED)
    #: ``cli`` (run by `arbiter generate`/`judge` in the foreground) or ``web`` (app processes).
    origin: Mapped[str] = mapped_column(String(16), default="web")
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    progress: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Which process holds a running job (host, pid and a random tag).
    worker: Mapped[str | None] = mapped_column(String(100))


class JudgeAnswer(Base):
    """An LLM judge's two answers on one comparison: shown A first, then B first.

    Verdicts are in candidate terms (a/b). When both say the same, that verdict is also the
    judge annotator's ``Judgement``; when they differ the judge was position-inconsistent.
    """

    __tablename__ = "judge_answers"
    __table_args__ = (UniqueConstraint("comparison_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comparison_id: Mapped[int] = mapped_column(ForeignKey("comparisons.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    a_first: Mapped[Verdict] = mapped_column(_enum(Verdict, "a_first"))
    b_first: Mapped[Verdict] = mapped_column(_enum(Verdict, "b_first"))
    consistent: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RepeatAnswer(Base):
    """The verdict on a swapped repeat: kept apart from the votes, compared with the first."""

    __tablename__ = "repeat_answers"
    __table_args__ = (
        UniqueConstraint("assignment_id"),
        Index("ix_repeat_answers_user_comparison", "user_id", "comparison_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    comparison_id: Mapped[int] = mapped_column(
        ForeignKey("comparisons.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    verdict: Mapped[Verdict] = mapped_column(_enum(Verdict, "verdict"))
    strength: Mapped[int | None] = mapped_column(Integer)
    rationale: Mapped[str | None] = mapped_column(Text)
    left_candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), index=True
    )
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # A repeat is always of a pair: it answers as a pair's judgement does.
    @property
    def ranking(self) -> list[int] | None:
        return None

    @property
    def none_acceptable(self) -> bool:
        return False


class Adjudication(Base):
    """An admin's verdict on a comparison: its outcome in every export, whatever the votes."""

    __tablename__ = "adjudications"

    comparison_id: Mapped[int] = mapped_column(
        ForeignKey("comparisons.id", ondelete="CASCADE"), primary_key=True
    )
    verdict: Mapped[Verdict] = mapped_column(_enum(Verdict, "verdict"))
    note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ItemFlag(Base):
    """An annotator's flag on a comparison while labelling (one per person and pair)."""

    __tablename__ = "item_flags"
    __table_args__ = (UniqueConstraint("comparison_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comparison_id: Mapped[int] = mapped_column(ForeignKey("comparisons.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExportFile(Base):
    """The bytes of a recorded export, zlib-compressed, so that it can be downloaded again."""

    __tablename__ = "export_files"

    export_id: Mapped[int] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)
