"""The smaller holes: a double-submitted undo takes back one verdict, not two; removing a
project's last member asks first; the compose deployment marks the cookie Secure."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Judgement, User
from app.projects import add_member, member_names
from tests.clients import browser_login, soup
from tests.factories import import_rows, make_annotator, make_project, native_rows
from tests.factories_admin import admin_client
from tests.paths import REPO


def judgements(session: Session, user: User) -> int:
    session.expire_all()
    stmt = select(func.count()).select_from(Judgement).where(Judgement.user_id == user.id)
    count = session.scalar(stmt) or 0
    session.commit()  # end the read: on SQLite it would hold the app's writers back
    return count


def judge_next(client: TestClient, csrf: str) -> str:
    page = client.get("/projects/pairs/annotate").text
    form = soup(page).find("form", action=re.compile(r"/verdict$"))
    assert form is not None
    client.post(str(form["action"]), data={"verdict": "left", "csrf_token": csrf})
    return client.get("/projects/pairs/annotate").text


def test_a_double_submitted_undo_takes_back_one_verdict(
    client: TestClient, session: Session
) -> None:
    import_rows(session, make_project(session, name="Pairs"), native_rows(3))
    ann = make_annotator(session, username="ann")
    session.commit()
    csrf = browser_login(client, ann)
    judge_next(client, csrf)
    page = judge_next(client, csrf)
    assert judgements(session, ann) == 2
    undo = soup(page).find("form", action=re.compile(r"/undo$"))
    assert undo is not None
    data = {i["name"]: i["value"] for i in undo.find_all("input") if i.get("name")}
    assert "undo_of" in data
    for _ in range(2):  # the same form, sent twice (a double click, a resent post)
        client.post(str(undo["action"]), data=data)
    assert judgements(session, ann) == 1


def test_removing_the_last_member_asks_first(client: TestClient, session: Session) -> None:
    project = make_project(session, name="Closed")
    ann = make_annotator(session, username="ann")
    add_member(session, project, ann)
    admin_client(client, session)
    url = f"/admin/projects/closed/members/{ann.id}/remove"
    asked = client.post(url)
    assert asked.status_code == 409
    assert "open to every annotator" in asked.text
    session.expire_all()
    assert member_names(session, project) == ["ann"], "nothing changed yet"
    session.commit()
    confirm = soup(asked.text).find("form", action=url)
    assert confirm is not None and confirm.find("input", {"name": "confirm"}) is not None
    client.post(url, data={"confirm": "open"})
    session.expire_all()
    assert member_names(session, project) == []


def test_the_compose_deployment_marks_the_cookie_secure_by_default() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert compose["services"]["app"]["environment"]["ARBITER_HTTPS"] == "${ARBITER_HTTPS:-true}"


def test_keep_labels_never_attaches_labels_to_a_persons_account(session: Session) -> None:
    """An active user who happens to be called ``source:ultra`` is a person: refused."""
    import io

    import pytest

    from app.errors import Conflict
    from app.importing.labels import import_with_labels
    from tests.factories import jsonl

    project = make_project(session, name="Sourced")
    make_annotator(session, username="source:ultra")
    rows = [{"prompt": "Q?", "chosen": "yes", "rejected": "no"}]
    with pytest.raises(Conflict, match="person's account"):
        import_with_labels(session, project, io.BytesIO(jsonl(rows)), source_name="ultra",
                           max_bytes=1 << 20, batch_name="b")  # fmt: skip
    assert judgements(session, session.scalars(select(User)).one()) == 0


def test_a_stalled_download_is_given_up_and_its_export_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A client that stops reading (without hanging up): the stream stops waiting after the
    send timeout and closes the export's generator, which ends its snapshot."""
    import anyio

    from app.web.streaming import ClosingStream

    closed: list[bool] = []

    def body() -> Iterator[bytes]:
        try:
            while True:
                yield b"x" * 1024
        finally:
            closed.append(True)

    monkeypatch.setattr(ClosingStream, "send_timeout", 0.2)
    stream = ClosingStream(body(), media_type="application/jsonl")
    sent: list[str] = []

    async def stalled_send(message: dict[str, object]) -> None:
        sent.append(str(message["type"]))
        if len(sent) > 3:
            await anyio.Event().wait()  # the client's window is full, forever

    async def receive() -> dict[str, object]:
        await anyio.Event().wait()
        return {}

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [],
        "asgi": {"spec_version": "2.4"},
    }
    anyio.run(stream, scope, receive, stalled_send)
    assert closed == [True]
