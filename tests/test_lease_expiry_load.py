"""Leases that run out while others keep working, through the API of a real server.

Three slow annotators lease a pair each and wander off; their leases are made to run out (by
moving ``expires_at`` in the database, not by sleeping) while four others work through the
project. The abandoned pairs are handed out again; no comparison ends with more than
``overlap`` judgements except where a slow annotator's late verdict was kept; and export
consensus counts every annotator once.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db import Database
from app.exports.consensus import Selection, comparison_votes
from app.models import Assignment, Comparison, Judgement, Prompt, utcnow
from app.settings import Settings
from tests.clients import bearer
from tests.concurrency import verdict_for
from tests.factories import import_rows, make_annotator, make_project, native_rows
from tests.live import live_server

SLUG = "leases-run-out"
OVERLAP = 2
PROMPTS = 40


def work(
    base: str, headers: dict[str, str], started: threading.Event, expired: threading.Event
) -> int:
    """Lease and judge until nothing is left; verdicts made. "Nothing left" is final only when
    asked after the slow leases ran out: a fast worker may empty the rest of the queue first."""
    made = 0
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        while True:
            asked_after_expiry = expired.is_set()
            lease = client.post(f"/api/v1/projects/{SLUG}/assignments")
            if lease.status_code == 204:
                if asked_after_expiry:
                    return made
                assert expired.wait(60), "the slow leases were made to run out"
                continue
            assert lease.status_code == 201, lease.text
            cid = lease.json()["comparison_id"]
            judged = client.post(f"/api/v1/assignments/{lease.json()['id']}/judgement",
                                 json={"verdict": verdict_for(cid).value})  # fmt: skip
            assert judged.status_code in (200, 201), judged.text
            made += judged.status_code == 201
            started.set()


def test_expired_leases_are_handed_out_again_and_late_verdicts_count_once(
    db: Database, session: Session, settings: Settings
) -> None:
    project = make_project(session, name="Leases run out", overlap=OVERLAP)
    import_rows(session, project, native_rows(PROMPTS))
    slow = [bearer(session, make_annotator(session)) for _ in range(3)]
    busy = [bearer(session, make_annotator(session)) for _ in range(4)]
    session.commit()
    with live_server(settings) as base, httpx.Client(base_url=base, timeout=60) as client:
        held = [client.post(f"/api/v1/projects/{SLUG}/assignments", headers=h) for h in slow]
        assert [r.status_code for r in held] == [201] * 3
        abandoned = {r.json()["comparison_id"] for r in held}
        started, expired = threading.Event(), threading.Event()
        with ThreadPoolExecutor(len(busy)) as pool:
            made = [pool.submit(work, base, h, started, expired) for h in busy]
            assert started.wait(60), "the busy annotators got going"
            with db.scope() as s:  # the slow annotators' leases run out, mid-work
                ids = [r.json()["id"] for r in held]
                past = utcnow() - timedelta(seconds=1)
                s.execute(update(Assignment).where(Assignment.id.in_(ids)).values(expires_at=past))
            expired.set()  # committed
            verdicts = sum(f.result() for f in made)
        late = [
            client.post(f"/api/v1/assignments/{r.json()['id']}/judgement", headers=h,
                        json={"verdict": verdict_for(r.json()["comparison_id"]).value})
            for r, h in zip(held, slow, strict=True)
        ]  # fmt: skip
    assert [r.status_code for r in late] == [201] * 3, "a late verdict is kept, never lost"
    assert verdicts == PROMPTS * OVERLAP, "the busy annotators judged every pair to overlap"

    session.expire_all()
    by_busy = (
        select(Judgement.comparison_id, func.count())
        .where(Judgement.id.not_in([r.json()["id"] for r in late]))
        .group_by(Judgement.comparison_id)
    )
    assert set(dict(session.execute(by_busy).all()).values()) == {OVERLAP}
    assert abandoned <= set(dict(session.execute(by_busy).all()))
    totals = dict(
        session.execute(
            select(Judgement.comparison_id, func.count()).group_by(Judgement.comparison_id)
        ).all()
    )
    beyond = {cid for cid, n in totals.items() if n > OVERLAP}
    assert beyond == abandoned, "only a kept late verdict takes a pair past the overlap"
    late_on = Counter(r.json()["comparison_id"] for r in held)
    assert {cid: totals[cid] - OVERLAP for cid in abandoned} == late_on
    for comparison in session.scalars(select(Comparison)):
        assert comparison.judgement_count == totals[comparison.id]
    pairs = session.execute(select(Judgement.comparison_id, Judgement.user_id)).all()
    assert len(pairs) == len(set(pairs)), "one judgement per annotator and pair"

    prompt_ids = list(session.scalars(select(Prompt.id)))
    votes = {
        v.id: v.votes.total for v in comparison_votes(session, prompt_ids, Selection(project.id))
    }
    assert votes == totals, "consensus counts each annotator's judgement once"
