"""Plain factory functions: add, flush, return."""

from __future__ import annotations

import io
import itertools
from typing import Any

import orjson
from sqlalchemy.orm import Session

from app.accounts.auth import create_user
from app.importing import ImportResult, import_batch
from app.models import Project, Role, User
from app.projects import create_project

_seq = itertools.count(1)
PASSWORD = "correct horse battery"


def make_user(session: Session, role: Role = Role.ANNOTATOR, **kw: Any) -> User:
    username = kw.pop("username", f"{role.value}{next(_seq)}")
    return create_user(session, username, role, kw.pop("password", PASSWORD))


def make_annotator(session: Session, **kw: Any) -> User:
    return make_user(session, Role.ANNOTATOR, **kw)


def make_admin(session: Session, **kw: Any) -> User:
    return make_user(session, Role.ADMIN, **kw)


def make_project(session: Session, **kw: Any) -> Project:
    return create_project(session, kw.pop("name", f"Project {next(_seq)}"), **kw)


def jsonl(rows: list[Any]) -> bytes:
    return b"\n".join(orjson.dumps(r) for r in rows) + b"\n"


def native_rows(n: int, candidates: int = 2, prefix: str = "p") -> list[dict[str, Any]]:
    return [
        {
            "id": f"{prefix}{i}",
            "prompt": f"Question {prefix}{i}?",
            "candidates": [f"Answer {k} to {prefix}{i}" for k in range(candidates)],
        }
        for i in range(n)
    ]


def import_rows(session: Session, project: Project, rows: list[Any], **kw: Any) -> ImportResult:
    return import_batch(
        session, project, io.BytesIO(jsonl(rows)), max_bytes=kw.pop("max_bytes", 1 << 30), **kw
    )
