"""The labelling request path's shortcuts keep their meaning: a token's use is noted (to the
minute), each process tells who it is on /healthz, and every connection `arbiter serve`
accepts has Nagle's algorithm off, in one process or many."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from uvicorn.importer import import_from_string
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.accounts.auth import TOKEN_USE_RESOLUTION, create_token, user_for_token
from app.cli.main import run_server
from app.models import ApiToken, utcnow
from app.web.serving import HTTP_PROTOCOL, set_nodelay
from tests.factories import make_annotator


def test_a_tokens_use_is_noted_at_most_once_a_minute(session: Session) -> None:
    person = make_annotator(session)
    token = create_token(session, person)
    stored = session.query(ApiToken).one()
    assert stored.last_used_at is None

    assert user_for_token(session, token) == person
    session.refresh(stored)
    first = stored.last_used_at
    assert first is not None

    assert user_for_token(session, token) == person
    session.refresh(stored)
    assert stored.last_used_at == first, "a second use within the minute writes nothing"

    stale = utcnow() - TOKEN_USE_RESOLUTION - timedelta(seconds=1)
    stored.last_used_at = stale
    session.flush()
    assert user_for_token(session, token) == person
    session.refresh(stored)
    assert stored.last_used_at is not None and stored.last_used_at > stale


def test_healthz_names_the_process_and_nothing_else(client: TestClient) -> None:
    first, again = client.get("/healthz").json(), client.get("/healthz").json()
    assert set(first) == {"status", "database", "instance"}
    assert first["instance"] == again["instance"]
    assert len(first["instance"]) == 8 and int(first["instance"], 16) >= 0


class FakeTransport:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.sock if name == "socket" else default


def test_connections_from_a_workers_socket_get_tcp_nodelay() -> None:
    """uvicorn's workers share a socket bound as ``socket.socket(family)`` (proto 0), from
    which asyncio leaves Nagle on; the protocol ``arbiter serve`` uses turns it off."""
    with socket.socket(socket.AF_INET) as listener:
        assert listener.proto == 0
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()) as _client:
            accepted, _ = listener.accept()
            with accepted:
                assert not accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                set_nodelay(FakeTransport(accepted))  # type: ignore[arg-type]
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_arbiter_serve_uses_the_protocol_that_sets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    run_server("app.web.main:create_app", host="127.0.0.1", port=8000, workers=2)
    assert calls and calls[0]["http"] == HTTP_PROTOCOL and calls[0]["workers"] == 2
    protocol = import_from_string(HTTP_PROTOCOL)
    assert issubclass(protocol, asyncio.Protocol)
    assert protocol.connection_made is not H11Protocol.connection_made
