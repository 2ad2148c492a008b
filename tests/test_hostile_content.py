"""Hostile content in prompts and candidates: HTML, scripts, ``javascript:`` links, template
syntax, zero-width and right-to-left characters. The labelling page shows it inert (rendered
Markdown is sanitized, raw text escaped, and each block isolated for bidi), and the openai-dpo
export carries it byte-exact."""

from __future__ import annotations

import json
import re

from bs4 import Tag
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.annotation.assign import next_assignment
from app.annotation.judge import ScreenVerdict, VerdictIn, record_verdict
from app.db import Database
from app.models import Project, User
from tests.clients import browser_login, soup
from tests.export_helpers import rows_of, run_export
from tests.factories import import_rows, make_annotator, make_project

ATTACKS = [
    "<script>alert('prompt')</script>",
    '<img src="x" onerror="alert(1)">',
    "<svg onload=alert(1)><circle r=5 /></svg>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<a href="javascript:alert(1)">raw link</a>',
    "[markdown link](javascript:alert(1))",
    "[mixed case](JaVaScRiPt:alert(1))",
    "[entity](java&#x09;script:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![image](javascript:alert(1))",
    "<style>body{display:none}</style>",
    '"><script>alert("attr")</script>',
    "{{ 7 * 7 }} {% raw %}",
]
INVISIBLE = [
    "zero\u200bwidth\u200cjoin\u200dner\u2060word\ufeffbom",
    "\u202eevil override\u202c then normal",
    "\u2067isolated \u05e9\u05dc\u05d5\u05dd\u2069 and \u200fRLM\u200e",
]
PROMPT = "Please repeat:\n\n" + "\n\n".join(ATTACKS[:5] + INVISIBLE[:1])
SYSTEM = "<script>alert('system')</script> \u202e reversed"
LEFT = "\n\n".join(ATTACKS[5:] + INVISIBLE[1:])
RIGHT = "\n\n".join(ATTACKS[:5] + INVISIBLE)
EVIL_URL = re.compile(r"^\s*(javascript|vbscript|data):", re.IGNORECASE)


def hostile_project(session: Session) -> Project:
    project = make_project(session, name="Hostile")
    row = {"id": "h1", "system": SYSTEM, "prompt": PROMPT, "candidates": [LEFT, RIGHT]}
    import_rows(session, project, [row])
    return project


def assert_inert(page: Tag) -> None:
    for script in page.find_all("script"):
        assert str(script.get("src", "")).startswith("/static/"), script
        assert not script.get_text(strip=True), "no inline script"
    for tag in ("iframe", "object", "embed", "svg", "style", "img", "base", "meta"):
        assert all(t.find_parent("head") for t in page.find_all(tag)), f"a {tag} in the body"
    for element in page.find_all(True):
        for name, value in element.attrs.items():
            assert not name.lower().startswith("on"), f"an event handler: {element}"
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                cleaned = re.sub(r"[\x00-\x20]", "", str(value))
                assert not EVIL_URL.match(cleaned), f"a script URL: {element}"


def test_the_labelling_page_shows_hostile_content_inert(
    client: TestClient, session: Session
) -> None:
    hostile_project(session)
    ann = make_annotator(session)
    session.commit()
    browser_login(client, ann)
    response = client.get("/projects/hostile/annotate")
    assert response.status_code == 200
    page = soup(response.text)
    assert_inert(page)
    raws = [pre.get_text() for pre in page.select("pre.raw")]
    assert sorted(raws) == sorted([LEFT, RIGHT]), "raw text shown exactly, invisibles kept"
    text = page.get_text().replace(ann.username, "")  # a numbered username may hold "49"
    assert "{{ 7 * 7 }}" in text and "49" not in text
    for block in page.select(".prose, pre.raw"):
        assert block.get("dir") == "auto", "each block isolated: an override cannot leak out"
    assert "Content-Security-Policy" in response.headers
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def judge_everything(db: Database, project_id: int, user_id: int) -> None:
    with db.scope() as s:
        user, project = s.get_one(User, user_id), s.get_one(Project, project_id)
        while (assignment := next_assignment(s, user, project, lease_seconds=900)) is not None:
            record_verdict(s, assignment, project, VerdictIn(ScreenVerdict.LEFT))


def strings_in(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def test_the_openai_dpo_export_carries_hostile_content_byte_exact(
    db: Database, session: Session
) -> None:
    project = hostile_project(session)
    ann = make_annotator(session)
    session.commit()
    judge_everything(db, project.id, ann.id)
    data, manifest = run_export(db, "hostile", format="openai-dpo")
    assert manifest["rows"] == 1
    (row,) = rows_of(data)
    exported = strings_in(row)
    for text in (SYSTEM, PROMPT, LEFT, RIGHT):
        assert text in exported, f"exported exactly: {text[:40]!r}"
        assert json.dumps(text, ensure_ascii=False).encode() in data, "the same bytes, unescaped"
