"""Dependencies shared by the routes: one request, one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.db import Database
from app.settings import Settings


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
