"""Dependencies shared by the routes: one request, one transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.db import Database
from app.errors import Unprocessable
from app.i18n import N_
from app.settings import Settings
from app.text import first_problem


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """The request's transaction: committed when the route succeeds, else rolled back.

    Function-scoped (see ``SessionDep``): the commit runs before the response is sent, so a
    commit that fails is answered as an error (503 when the database is gone), never a 201.
    """
    with get_db(request).scope() as session:
        yield session


def end_transaction(session: Session) -> None:
    """Commit the request's transaction before a long read that takes its own snapshot (an
    export's preview or stream): on SQLite the open transaction would hold a lock that the
    snapshot, or the audit row written when the stream ends, waits on. The only commit a
    route makes; the dependency commits whatever follows as usual."""
    session.commit()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_db)]


JSON_TYPES = ("application/json", "+json")


async def clean_input(request: Request) -> None:
    """The text rules (app/text.py) for every query parameter, form field and JSON string of
    every request: a NUL or a lone surrogate is a 422 naming its field, before any route
    hands it to the database. (Lengths are each field's own rule.)"""
    found = _pairs_problem(request.query_params.multi_items())
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if found is None and "form" in kind:
        form = await request.form()
        found = _pairs_problem([(k, v) for k, v in form.multi_items() if isinstance(v, str)])
    elif found is None and kind.endswith(JSON_TYPES):
        body = await request.body()
        if body:
            try:
                found = first_problem(json.loads(body))
            except (ValueError, RecursionError):
                return  # malformed: the route's own parsing answers that
    if found is not None:
        where, wrong = found
        raise Unprocessable(N_("%(where)s: %(problem)s"), field=where, where=where, problem=wrong)


def _pairs_problem(pairs: list[tuple[str, str]]) -> tuple[str, str] | None:
    for key, value in pairs:
        found = first_problem({key: value})
        if found is not None:
            return found
    return None
