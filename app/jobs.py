"""Background jobs: long model runs recorded in the database, visible to every app process.

A job row holds its kind, parameters (never a secret: the API key's variable name only),
status, progress and a heartbeat. At most one job per project is queued or running (a
partial unique index). App processes each run a ``JobRunner`` thread that takes the oldest
queued job, or a running one whose process stopped beating (it died, or was restarted), and
runs it; the work itself is resumable (only what is missing is asked for), so a job taken
over simply goes on. A graceful shutdown puts the running job back in the queue. Runs of
`arbiter generate` / `arbiter judge` are recorded the same way (``origin='cli'``) and beat
while they run; one that stopped beating is marked interrupted, never taken over by a
server (its key lives in the shell that started it).

No job library fitted: those with a database queue are Postgres-only (procrastinate,
pgqueuer, beanqueue, pq) or need a broker (celery, dramatiq, rq, arq); huey stores in
SQLite or Redis but not Postgres; none keeps "one per project" or progress for the page.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import Database
from app.errors import Conflict
from app.i18n import N_, Text
from app.models import ACTIVE_JOB_STATUSES, Job, JobKind, JobStatus, Project, utcnow

logger = logging.getLogger(__name__)

BEAT_SECONDS = 5.0
"""How often a running job's process beats."""
STALE_AFTER = timedelta(seconds=60)
"""A running job whose beat is older than this is taken to be dead."""
POLL_SECONDS = 5.0
"""How often an idle runner looks for work (it is also woken when a job is started here)."""
HOST = socket.gethostname()[:40]


def worker_tag() -> str:
    """``host:pid:random``: which process holds a job."""
    return f"{HOST}:{os.getpid()}:{secrets.token_hex(3)}"


def _dead_here(worker: str | None) -> bool:
    """Whether ``worker`` names a process of this host that no longer exists."""
    host, _, rest = (worker or "").partition(":")
    pid = rest.partition(":")[0]
    if host != HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _stale(job: Job, now: datetime) -> bool:
    beat = job.heartbeat_at or job.created_at
    return job.status is JobStatus.RUNNING and (now - beat > STALE_AFTER or _dead_here(job.worker))


def start_job(
    session: Session,
    project: Project,
    kind: JobKind,
    params: dict[str, Any],
    *,
    origin: str,
    created_by: int | None = None,
    worker: str | None = None,
) -> Job:
    """Record a job (queued, or running for the CLI's ``worker``); Conflict while another of
    the project's jobs is queued or running."""
    now = utcnow()
    active = session.scalar(
        select(Job).where(Job.project_id == project.id, Job.status.in_(ACTIVE_JOB_STATUSES))
    )
    if active is not None and active.origin == "cli" and _stale(active, now):
        _set(session, active, JobStatus.INTERRUPTED, error="the command stopped (killed?)")
        active = None
    if active is not None:
        raise Conflict(
            N_("job: %(kind)s job #%(id)s is already %(status)s on this project (one at a time)"),
            kind=Text(active.kind.value),
            id=str(active.id),
            status=Text(active.status.value),
        )
    job = Job(project_id=project.id, kind=kind, params=params, origin=origin,
              created_by=created_by, progress={})  # fmt: skip
    if worker is not None:
        job.status, job.worker, job.started_at, job.heartbeat_at = (
            JobStatus.RUNNING, worker, now, now)  # fmt: skip
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        raise Conflict(N_("job: another job was started on this project just now")) from None
    return job


def _set(session: Session, job: Job, status: JobStatus, *, error: str | None = None) -> None:
    job.status = status
    job.error = error
    if status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        job.finished_at = utcnow()
    session.flush()


def jobs_of(session: Session, project: Project, limit: int = 20) -> list[Job]:
    stmt = select(Job).where(Job.project_id == project.id).order_by(Job.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def active_job(session: Session, project: Project) -> Job | None:
    stmt = select(Job).where(Job.project_id == project.id, Job.status.in_(ACTIVE_JOB_STATUSES))
    return session.scalar(stmt)


def beat(db: Database, job_id: int, worker: str, progress: dict[str, Any] | None = None) -> bool:
    """Beat (and save ``progress``); False when this process no longer holds the job."""
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = progress
    with db.scope() as session:
        stmt = (
            update(Job)
            .where(Job.id == job_id, Job.worker == worker, Job.status == JobStatus.RUNNING)
            .values(**values)
        )
        return bool(session.execute(stmt).rowcount)


def finish(
    db: Database,
    job_id: int,
    worker: str,
    status: JobStatus,
    progress: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "error": error, "heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = progress
    if status is JobStatus.QUEUED:
        values["worker"] = None
    else:
        values["finished_at"] = utcnow()
    with db.scope() as session:
        session.execute(update(Job).where(Job.id == job_id, Job.worker == worker).values(**values))


def claim(db: Database, worker: str) -> Job | None:
    """Take the oldest queued server job, or a running one whose process died: its beat is
    stale, or it names a process of this host that is gone (a restart resumes it at once)."""
    now = utcnow()
    cutoff = now - STALE_AFTER
    takeable = or_(
        Job.status == JobStatus.QUEUED,
        (Job.status == JobStatus.RUNNING) & (Job.heartbeat_at < cutoff),
    )
    with db.read_only() as session:
        found = session.execute(
            select(Job.id, Job.status, Job.heartbeat_at, Job.worker)
            .where(Job.origin == "web", Job.status.in_(ACTIVE_JOB_STATUSES))
            .order_by(Job.id)
        ).all()  # fmt: skip
    for job_id, status, beat_at, holder in found:
        if status is JobStatus.RUNNING and not (
            (beat_at is not None and beat_at < cutoff) or _dead_here(holder)
        ):
            continue
        condition = takeable if status is JobStatus.QUEUED or not _dead_here(holder) else (
            (Job.status == JobStatus.RUNNING) & (Job.worker == holder)
        )  # fmt: skip
        with db.scope() as session:
            taken = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.origin == "web", condition)
                .values(status=JobStatus.RUNNING, worker=worker, heartbeat_at=now,
                        started_at=now, error=None)
            ).rowcount  # fmt: skip
        if taken:
            with db.scope() as session:
                job: Job | None = session.get(Job, job_id)
                return job
    return None


class Heartbeat:
    """Beats for a running job from a thread of its own, so a slow call never looks dead;
    ``latest`` progress rides along. ``lost`` is set if another process took the job."""

    def __init__(
        self, db: Database, job_id: int, worker: str, on_lost: Callable[[], None] = lambda: None
    ) -> None:
        self.db, self.job_id, self.worker, self.on_lost = db, job_id, worker, on_lost
        self.latest: dict[str, Any] | None = None
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"job-{job_id}-beat", daemon=True)

    def report(self, progress: dict[str, Any]) -> None:
        """Keep ``progress`` for the next beat; the first one (the plan) is saved at once."""
        first = self.latest is None
        self.latest = progress
        if first:
            beat(self.db, self.job_id, self.worker, progress)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(BEAT_SECONDS):
            try:
                if not beat(self.db, self.job_id, self.worker, self.latest):
                    self.lost.set()  # taken over, or deleted with its project: stop asking
                    self.on_lost()
            except Exception:  # the database may be away for a moment; beat again later
                logger.warning("job %s: heartbeat failed", self.job_id, exc_info=True)


#: Runs one job: (database, job, progress callback, stop event) → final progress.
Executor = Callable[[Database, Job, Callable[[dict[str, Any]], None], threading.Event],
                    dict[str, Any]]  # fmt: skip


def run_claimed(db: Database, job: Job, worker: str, execute: Executor,
                stop: threading.Event) -> None:  # fmt: skip
    """Run a job this process holds, beating, and record how it ended (``stop``: this job's
    own event, set on shutdown or when the job is lost; a lost job's ending records nothing,
    since every write is conditioned on still holding it)."""
    assert job.worker == worker
    with Heartbeat(db, job.id, worker, on_lost=stop.set) as heart:
        try:
            final = execute(db, job, heart.report, stop)
        except Exception as exc:
            logger.exception("job %s failed", job.id)
            finish(db, job.id, worker, JobStatus.FAILED, heart.latest, _message(exc))
            return
    if stop.is_set():
        finish(db, job.id, worker, JobStatus.QUEUED, final)
    else:
        finish(db, job.id, worker, JobStatus.DONE, final)


def _message(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text[:500]


class JobRunner:
    """The thread an app process runs jobs in, one at a time."""

    def __init__(self, db: Database, execute: Executor) -> None:
        self.db, self.execute = db, execute
        self.worker = worker_tag()
        self.stop = threading.Event()
        self.wake = threading.Event()
        self._job_stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-runner", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._job_stop.set()
        self.stop.set()
        self.wake.set()
        self._thread.join(30)

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                job = claim(self.db, self.worker)
                if job is not None:
                    self._job_stop = threading.Event()
                    if self.stop.is_set():  # closed while claiming: leave it to the next one
                        self._job_stop.set()
                    run_claimed(self.db, job, self.worker, self.execute, self._job_stop)
                    continue
            except Exception:  # the database may be away; look again at the next poll
                logger.warning("job runner: could not look for work", exc_info=True)
            self.wake.wait(POLL_SECONDS)
            self.wake.clear()
