"""Everything the quality dashboard shows about one project, gathered in a few queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from app.models import Project, Protocol
from app.stats import progress as prog
from app.stats.agreement import Agreement, agreement, majority_by_user
from app.stats.annotators import Bias, Verdicts, median_seconds, tallies_by_user, usernames
from app.stats.judges import JudgeFigures, judge_figures
from app.stats.protocols import AspectFigures, RankingFigures, aspect_figures, ranking_figures

#: How many days the per-annotator activity covers, ending on the last day with judgements.
ACTIVITY_DAYS = 28


@dataclass(frozen=True)
class DayPoint:
    day: date
    counted: int
    cumulative: int
    of_target: float | None


@dataclass(frozen=True)
class ActivityRow:
    day: date
    counts: list[int]
    """One per annotator, in the order of ``Activity.users``."""
    total: int


@dataclass(frozen=True)
class Activity:
    users: list[str]
    rows: list[ActivityRow]
    """Oldest day first; days without judgements included."""


@dataclass(frozen=True)
class AnnotatorRow:
    username: str
    verdicts: Verdicts
    bias: Bias
    median_seconds: float | None
    agreed: int = 0
    disagreed: int = 0

    @property
    def majority_share(self) -> float | None:
        total = self.agreed + self.disagreed
        return self.agreed / total if total else None


@dataclass(frozen=True)
class Dashboard:
    progress: prog.Progress
    queue_open: int
    timeline: list[DayPoint]
    activity: Activity
    annotators: list[AnnotatorRow]
    overall: AnnotatorRow
    agreement: Agreement | None
    """None when the project's overlap is 1 (no comparison is meant to be judged twice)."""
    judges: JudgeFigures | None = None
    """LLM judges beside the humans (app/stats/judges.py)."""
    rankings: RankingFigures | None = None
    """A ranking project's agreement and position bias (app/stats/protocols.py)."""
    aspects: list[AspectFigures] = field(default_factory=list)
    """α (interval) per rubric aspect, where the project has a rubric."""


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def timeline(session: Session, project: Project, needed: int) -> list[DayPoint]:
    per_day = dict(prog.counted_per_day(session, project))
    if not per_day:
        return []
    points, total = [], 0
    for day in _days(min(per_day), max(per_day)):
        total += per_day.get(day, 0)
        share = total / needed if needed else None
        points.append(DayPoint(day, per_day.get(day, 0), total, share))
    return points


def activity(session: Session, project: Project, names: dict[int, str]) -> Activity:
    counts = {(u, d): n for u, d, n in prog.judgements_per_user_day(session, project)}
    if not counts:
        return Activity([], [])
    last = max(d for _, d in counts)
    first = last - timedelta(days=ACTIVITY_DAYS - 1)
    counts = {(u, d): n for (u, d), n in counts.items() if d >= first}
    users = sorted({u for u, _ in counts}, key=lambda u: names.get(u, ""))
    rows = []
    for day in _days(first, last):
        row = [counts.get((u, day), 0) for u in users]
        rows.append(ActivityRow(day, row, sum(row)))
    return Activity([names.get(u, f"#{u}") for u in users], rows)


def annotators(session: Session, project: Project) -> tuple[list[AnnotatorRow], dict[int, str]]:
    tallies = tallies_by_user(session, project)
    medians = median_seconds(session, project, by_user=True)
    majority = majority_by_user(session, project) if project.overlap >= 2 else {}
    names = usernames(session, set(tallies))
    rows = [
        AnnotatorRow(names[uid], *tallies[uid], medians.get(uid), *majority.get(uid, (0, 0)))
        for uid in sorted(tallies, key=lambda u: names[u])
    ]
    return rows, names


def overall(session: Session, project: Project, rows: list[AnnotatorRow]) -> AnnotatorRow:
    def total(attr: str, of: str) -> int:
        return sum(getattr(getattr(r, of), attr) for r in rows)

    verdicts = Verdicts(*(total(a, "verdicts") for a in ("judgements", "ties", "both_bad")))
    bias = Bias(total("decisive", "bias"), total("left", "bias"))
    median = median_seconds(session, project, by_user=False).get(None)
    agreed, disagreed = sum(r.agreed for r in rows), sum(r.disagreed for r in rows)
    return AnnotatorRow("All annotators", verdicts, bias, median, agreed, disagreed)


def build_dashboard(session: Session, project: Project) -> Dashboard:
    rows, names = annotators(session, project)
    progress = prog.project_progress(session, project)
    return Dashboard(
        progress=progress,
        queue_open=prog.queue_open(session, project),
        timeline=timeline(session, project, progress.needed),
        activity=activity(session, project, names),
        annotators=rows,
        overall=overall(session, project, rows),
        agreement=agreement(session, project) if project.overlap >= 2 else None,
        judges=judge_figures(session, project),
        rankings=ranking_figures(session, project)
        if project.protocol is Protocol.RANKING
        else None,
        aspects=aspect_figures(session, project) if project.rubric else [],
    )
