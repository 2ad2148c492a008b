"""Labels for export tests: judgements and ratings made directly with the models (the
judging service lives elsewhere), and one labelled project of mixed languages and shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.auth import hash_password
from app.annotation import tallies
from app.models import Candidate, Comparison, Judgement, Project, Rating, Role, User, Verdict
from tests.factories import PASSWORD, import_rows, make_project

T0 = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def make_labeller(session: Session, username: str, role: Role = Role.ANNOTATOR) -> User:
    """A user (password ``PASSWORD``, annotator unless said), without a fresh argon2 hash."""
    user = User(username=username, role=role, password_hash=_password_hash())
    session.add(user)
    session.flush()
    return user


def make_judgement(
    session: Session, comparison: Comparison, user: User, verdict: str, **kw: Any
) -> Judgement:
    """A verdict in candidate terms; keeps ``Comparison.judgement_count`` exact."""
    judgement = Judgement(
        comparison_id=comparison.id, user_id=user.id, verdict=Verdict(verdict), **kw
    )
    session.add(judgement)
    session.flush()
    tallies.bump(session, comparison.id, +1)  # the count and its tally, as a verdict does
    session.expire(comparison, ["judgement_count"])
    return judgement


def make_rating(
    session: Session, candidate: Candidate, user: User, good: bool, **kw: Any
) -> Rating:
    rating = Rating(candidate_id=candidate.id, user_id=user.id, good=good, **kw)
    session.add(rating)
    session.flush()
    return rating


def candidate(session: Session, content: str) -> Candidate:
    return session.scalars(select(Candidate).where(Candidate.content == content)).one()


def comparison(session: Session, first: str, second: str) -> Comparison:
    """The comparison of the candidates with these texts (in either order)."""
    ids = sorted((candidate(session, first).id, candidate(session, second).id))
    stmt = select(Comparison).where(
        Comparison.candidate_a_id == ids[0], Comparison.candidate_b_id == ids[1]
    )
    return session.scalars(stmt).one()


def judge(
    session: Session, first: str, second: str, votes: list[tuple[User, str]], **kw: Any
) -> None:
    """Judgements on the comparison of two texts; ``"first"``/``"second"`` name the winner."""
    pair = comparison(session, first, second)
    first_is_a = candidate(session, first).id == pair.candidate_a_id
    for user, vote in votes:
        verdict = {"first": "a" if first_is_a else "b", "second": "b" if first_is_a else "a"}
        make_judgement(session, pair, user, verdict.get(vote, vote), **kw)


KYOTO = ["Layers and a light rain jacket: April evenings in Kyoto are cool.",
         "Pack for summer heat.", "Bring an umbrella."]  # fmt: skip
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]},
    },
}  # fmt: skip

MIXED_ROWS: list[dict[str, Any]] = [
    {"id": "multi-turn", "system": "You are a concise travel assistant.",
     "messages": [{"role": "user", "content": "I'm planning a trip to Kyoto."},
                  {"role": "assistant", "content": "Great choice! When are you going?"},
                  {"role": "user", "content": "In April. What should I pack?"}],
     "candidates": KYOTO},
    {"id": "tools", "prompt": "How cold is San Francisco today?", "tools": [WEATHER_TOOL],
     "candidates": ["Not quite as cold as expected: a high near 68°F (20°C).",
                    "It is not particularly cold today."]},
    {"id": "ja-de", "system": "日本語とドイツ語で答えてください。",
     "prompt": "京都で一番いい季節はいつですか？",
     "candidates": ["春です。桜が咲きます。Im Frühling blühen die Kirschbäume – wunderschön!",
                    "Im Sommer ist es schwül und heiß. Grüße aus München."]},
    {"id": "tie", "prompt": "Name a primary colour.", "candidates": ["Red.", "Blue."]},
    {"id": "both-bad", "prompt": "What is 2 + 2?", "candidates": ["5", "22"]},
    {"id": "disputed", "prompt": "Is a tomato a fruit?",
     "candidates": ["Botanically, yes: it is a berry.", "No, it is a vegetable."]},
    {"id": "reserved", "prompt": "How should I format a chat transcript?",
     "candidates": ["Write each line as 'User: message' and 'Assistant: reply'.",
                    "Just paste it."]},
    {"id": "same-role",
     "messages": [{"role": "user", "content": "Here is my draft: 'Their going home.'"},
                  {"role": "user", "content": "Please proofread it."}],
     "candidates": ["It should be 'They're going home.'", "Looks fine to me."]},
    {"id": "developer",
     "messages": [{"role": "developer", "content": "Answer in formal English."},
                  {"role": "user", "content": "hey what's up"}],
     "candidates": ["Yo, not much.", "Good day. How may I assist you?"]},
    {"id": "haiku", "prompt": "Write a haiku about autumn.",
     "candidates": ["Crisp leaves drift down / the river takes them home / dusk comes early now"]},
    {"id": "hamlet", "prompt": "Summarise Hamlet in one sentence.",
     "candidates": ["Hamlet is a comedy about a Danish baker."]},
    {"id": "danke", "prompt": "Translate 'thank you' into German.", "candidates": ["Danke schön."]},
]  # fmt: skip


def make_mixed_project(session: Session, name: str = "Mixed") -> Project:
    """Every shape FORMATS.md cares about, labelled; the golden files are exported from it."""
    project = make_project(session, name=name, rate_singletons=True)
    import_rows(session, project, MIXED_ROWS, batch_name="mixed")
    ann1, ann2, ann3 = (make_labeller(session, f"ann{i}") for i in (1, 2, 3))
    times = (T0 + timedelta(minutes=i) for i in range(100))

    def vote(first: str, second: str, votes: list[tuple[User, str]], **details: Any) -> None:
        for user, v in votes:
            judge(session, first, second, [(user, v)], created_at=next(times), **details)

    vote(KYOTO[0], KYOTO[1], [(ann1, "first"), (ann2, "first")])
    vote(KYOTO[0], KYOTO[2], [(ann1, "first")])
    vote(KYOTO[1], KYOTO[2], [(ann1, "first"), (ann2, "both_bad"), (ann3, "first")])
    vote(*MIXED_ROWS[1]["candidates"], [(ann1, "first")])
    ja, de = MIXED_ROWS[2]["candidates"]
    vote(ja, de, [(ann2, "first")], strength=2, duration_ms=5400,
         left_candidate_id=candidate(session, de).id,
         rationale="Der erste nennt den Frühling – richtig. 桜の季節です。")  # fmt: skip
    vote("Red.", "Blue.", [(ann1, "tie")])
    vote("5", "22", [(ann1, "both_bad"), (ann2, "both_bad")])
    vote(*MIXED_ROWS[5]["candidates"], [(ann1, "first"), (ann2, "second")])
    vote(*MIXED_ROWS[6]["candidates"], [(ann1, "first")])
    vote(*MIXED_ROWS[7]["candidates"], [(ann2, "first")])
    vote(*MIXED_ROWS[8]["candidates"], [(ann1, "second"), (ann3, "second")])
    _rate(session, [(ann1, True), (ann2, True)], MIXED_ROWS[9], times)
    _rate(session, [(ann1, False)], MIXED_ROWS[10], times)
    _rate(session, [(ann1, True), (ann2, False)], MIXED_ROWS[11], times)
    _rate(session, [(ann3, True)], {"candidates": [KYOTO[0]]}, times)
    return project


def _rate(
    session: Session, votes: list[tuple[User, bool]], row: dict[str, Any], times: Any
) -> None:
    target = candidate(session, row["candidates"][0])
    for user, good in votes:
        make_rating(session, target, user, good, created_at=next(times))
