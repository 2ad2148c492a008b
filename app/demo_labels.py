"""The demo's second project, "Demo (labelled)": thirty pairs in three languages, judged over
the past week by four demo annotators with overlap 3, one of whom mostly picks the left side,
so the dashboard's agreement and position-bias sections and every export have rows to show."""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.auth import create_user, generate_password
from app.annotation.assign import load_pair, next_assignment
from app.annotation.judge import ScreenVerdict, Side, VerdictIn, record_verdict
from app.importing import import_batch
from app.models import Batch, Candidate, Project, RationaleMode, Role, User, utcnow
from app.projects import create_project
from app.settings import Settings

NAME = "Demo (labelled)"
ANNOTATORS = ("mika", "jonas", "lea")
BIASED = "lefty"
"""A demo annotator who picks the left side nine times in ten, whatever is shown there."""
DAYS = 7
SEED = 20261203

GUIDELINES = """\
Prefer the answer that is **correct**; between two correct answers, the clearer one.
Mark each response good or bad on its own as well.
"""

_FACTS: list[tuple[str, str, str]] = [
    ("What is 7 × 8?", "7 × 8 = 56.", "7 × 8 = 54."),
    ("What is the boiling point of water at sea level in °C?", "100 °C.", "90 °C."),
    ("How many continents are there?", "Seven, by the usual count.", "Five."),
    ("Which planet is closest to the Sun?", "Mercury.", "Venus."),
    ("Who wrote *Faust*?", "Johann Wolfgang von Goethe.", "Friedrich Schiller."),
    ("What is the square root of 144?", "12.", "14."),
    ("In which year did the Berlin Wall fall?", "1989.", "1991."),
    ("What gas do plants take in for photosynthesis?", "Carbon dioxide (CO₂).", "Oxygen."),
    ("What is the largest ocean?", "The Pacific Ocean.", "The Atlantic Ocean."),
    ("How many sides has a hexagon?", "Six.", "Eight."),
    ("富士山の高さは？", "約3,776メートルです。", "約2,000メートルです。"),
    ("日本で一番長い川は？", "信濃川です。", "利根川です。"),
    ("「ありがとう」を英語で言うと？", "Thank you です。", "Good morning です。"),
    ("一年は何日ですか？", "365日（うるう年は366日）です。", "300日です。"),
    ("東京タワーの色は？", "白とインターナショナルオレンジです。", "青です。"),
    ("Wie heißt die Hauptstadt von Österreich?", "Wien.", "Salzburg."),
    ("Wie viele Bundesländer hat Deutschland?", "16.", "12."),
    ("Was ist der längste Fluss Deutschlands?", "Der Rhein (auf deutschem Gebiet).", "Die Spree."),
    ("Wann beginnt der Sommer astronomisch?", "Um den 21. Juni.", "Am 1. Mai."),
    ("Wie viele Minuten hat ein Tag?", "1.440 Minuten.", "1.200 Minuten."),
]

_CODE = (
    "Reverse a list in Python without changing it.",
    "Use slicing:\n\n```python\nitems = [1, 2, 3]\nbackwards = items[::-1]\n```",
    "```python\nitems.reverse()\n```\nThis changes `items` itself.",
)
_TABLE = (
    "Compare two models in a table: name and score.",
    "| Model | Score |\n|---|---|\n| Alpha | 0.91 |\n| Beta | 0.87 |",
    "Alpha 0.91, Beta 0.87",
)


#: Who wrote each row's (better, worse) answer, in turn: the leaderboard ranks large over
#: medium over small.
MODELS = (("demo-large", "demo-small"), ("demo-large", "demo-medium"),
          ("demo-medium", "demo-small"))  # fmt: skip


def demo_rows() -> list[dict[str, object]]:
    """The project's rows, the better answer first or second at random (seeded), each answer
    named by its model (:data:`MODELS`)."""
    facts = [*_FACTS, _CODE, _TABLE]
    facts += [(f"{q} Answer in one word if you can.", good, bad) for q, good, bad in _FACTS[:8]]
    order = random.Random(SEED)
    rows: list[dict[str, object]] = []
    for i, (question, good, bad) in enumerate(facts):
        better, worse = MODELS[i % len(MODELS)]
        pair = [{"content": good, "model": better}, {"content": bad, "model": worse}]
        candidates = pair if order.random() < 0.5 else pair[::-1]
        rows.append({"id": f"labelled-{i}", "prompt": question, "candidates": candidates})
    return rows


BETTER = frozenset(good for _, good, _ in (*_FACTS, _CODE, _TABLE))
"""The better answer of every row."""


def seed_labelled(session: Session, settings: Settings, admin: User) -> Project:
    """Create the project and the demo annotators, and judge it as they would have."""
    project = create_project(session, NAME, overlap=3, guidelines=GUIDELINES,
                             rationale=RationaleMode.OPTIONAL, rate_singletons=True)  # fmt: skip
    data = b"\n".join(orjson.dumps(row) for row in demo_rows())
    import_batch(session, project, io.BytesIO(data), max_bytes=settings.max_upload_mb << 20,
                 batch_name="labelled", filename="labelled.jsonl", created_by=admin.id)  # fmt: skip
    rng = random.Random(SEED)
    start = utcnow() - timedelta(days=DAYS)
    users = [create_user(session, name, Role.ANNOTATOR, generate_password())
             for name in (*ANNOTATORS, BIASED)]  # fmt: skip
    clocks = {u.id: start + timedelta(hours=rng.uniform(0, 12)) for u in users}
    # The project, its batch and its people date from before the first verdict, as they would.
    before = start - timedelta(hours=2)
    batches = session.scalars(select(Batch).where(Batch.project_id == project.id))
    for made in (project, *batches, *users):
        made.created_at = before
    while users:  # turns taken at random, so each of them judges a share of every comparison
        user = rng.choice(users)
        if not _judge_one(session, settings, project, user, rng, clocks):
            users.remove(user)
    return project


def _judge_one(
    session: Session, settings: Settings, project: Project, user: User, rng: random.Random,
    clocks: dict[int, datetime],
) -> bool:  # fmt: skip
    """One verdict by ``user`` at their own clock; False when nothing is left for them."""
    now = clocks[user.id]
    lease = settings.lease_seconds
    assignment = next_assignment(session, user, project, lease_seconds=lease, now=now, rng=rng)
    if assignment is None:
        return False
    pair = load_pair(session, assignment)
    later = now + timedelta(seconds=rng.uniform(8, 90))
    record_verdict(session, assignment, project, _verdict(pair.left, rng, user.username == BIASED),
                   now=later)  # fmt: skip
    clocks[user.id] = min(later + timedelta(hours=rng.uniform(0.5, 10)),
                          utcnow() - timedelta(minutes=5))  # fmt: skip
    return True


def _verdict(left: Candidate, rng: random.Random, biased: bool) -> VerdictIn:
    """Mostly the better answer; the biased annotator mostly the left side."""
    left_is_better = left.content in BETTER
    roll = rng.random()
    if biased:
        side = ScreenVerdict.LEFT if roll < 0.9 else ScreenVerdict.RIGHT
    elif roll < 0.8:
        side = ScreenVerdict.LEFT if left_is_better else ScreenVerdict.RIGHT
    elif roll < 0.9:
        return VerdictIn(ScreenVerdict.TIE)
    else:
        side = ScreenVerdict.RIGHT if left_is_better else ScreenVerdict.LEFT
    good_side = Side.LEFT if left_is_better else Side.RIGHT
    bad_side = Side.RIGHT if left_is_better else Side.LEFT
    strength = rng.choice((None, 1, 2))
    why = "Correct and to the point." if rng.random() < 0.3 else None
    return VerdictIn(side, strength, why, {good_side: True, bad_side: False})
