"""No work before authentication: an anonymous 100 MB JSON body and a 1 GB upload are
answered 401 without being read, so the server's memory hardly moves (its peak resident
size, VmHWM, read from /proc); an annotator gets 403 from an admin route whatever the body.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.clients import bearer, login
from tests.conftest import TEST_SECRET
from tests.factories import make_annotator, make_project
from tests.live import free_port, wait_for_health

MB = 1024 * 1024
GROWTH_LIMIT = 20 * MB
BOUNDARY = "arbiter-test-boundary"


@contextmanager
def served(url: str, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """``arbiter serve`` in a process of its own: its base URL and pid."""
    port = free_port()
    arbiter = str(Path(sys.executable).parent / "arbiter")
    env = {**os.environ, "ARBITER_DATABASE_URL": url, "ARBITER_SECRET_KEY": TEST_SECRET}
    proc = subprocess.Popen([arbiter, "serve", "--port", str(port)], env=env, cwd=tmp_path,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for_health(f"{base}/healthz", proc, deadline=60) == 200
        yield base, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def send_whole(base: str, path: str, content_type: str, head: bytes, size: int,
               tail: bytes = b"") -> bytes:  # fmt: skip
    """POST a body of ``size`` bytes (``head``, filler, ``tail``), sending all of it unless
    the server closes the connection; the server's answer."""
    host, port = base.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {size}\r\n\r\n".encode()
        )
        chunk, left = b"x" * MB, size - len(head) - len(tail)
        try:
            sock.sendall(head)
            while left > 0:
                sock.sendall(chunk[: min(MB, left)])
                left -= min(MB, left)
                if not answer and select.select([sock], [], [], 0)[0]:
                    answer = sock.recv(65536)
            sock.sendall(tail)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped listening: fine, it has answered
        if not answer:
            answer = sock.recv(65536)
    return answer


def test_anonymous_huge_bodies_are_401_and_cost_no_memory(
    database_url: str, session: Session, tmp_path: Path
) -> None:
    make_project(session, name="Target")
    session.commit()
    with served(database_url, tmp_path) as (base, pid):
        for _ in range(3):  # warm up: every route's code loaded, the pool opened
            httpx.post(f"{base}/api/v1/projects", json={"name": "x"})
            httpx.get(f"{base}/login")
        before = peak_rss(pid)
        json_answer = send_whole(base, "/api/v1/projects", "application/json",
                                 b'{"name": "', 100 * MB, b'"}')  # fmt: skip
        part = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            'filename="big.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n'
        ).encode()
        kind, end = f"multipart/form-data; boundary={BOUNDARY}", f"\r\n--{BOUNDARY}--\r\n"
        upload_answers = [
            send_whole(base, path, kind, part, 1024 * MB, end.encode())
            for path in ("/api/v1/projects/target/batches", "/admin/projects/target/batches")
        ]
        growth = peak_rss(pid) - before
    assert json_answer.startswith(b"HTTP/1.1 401"), json_answer[:200]
    assert upload_answers[0].startswith(b"HTTP/1.1 401"), upload_answers[0][:200]
    assert upload_answers[1].startswith(b"HTTP/1.1 303"), "the admin page sends to the login"
    assert b"/login" in upload_answers[1]
    assert growth < GROWTH_LIMIT, f"the server grew by {growth / MB:.1f} MB"


@pytest.mark.parametrize("path", ["/api/v1/projects", "/api/v1/projects/target/batches"])
def test_an_annotator_gets_403_from_an_admin_route_whatever_the_body(
    client: TestClient, session: Session, path: str
) -> None:
    make_project(session, name="Target")
    headers = bearer(session, make_annotator(session))
    session.commit()
    body = b"[" * (2 * MB)  # far over the JSON limit, and not JSON at all
    response = client.post(path, content=body,
                           headers={**headers, "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 403, response.text[:200]
    assert response.json() == {"detail": "admins only"}


def test_an_annotator_cookie_gets_403_from_an_admin_form_whatever_the_body(
    client: TestClient, session: Session
) -> None:
    make_project(session, name="Target")
    make_annotator(session, username="ann")
    session.commit()
    assert login(client, "ann") == 303
    files = {"file": ("big.jsonl", b"x" * (3 * MB), "application/jsonl")}
    response = client.post("/admin/projects/target/batches", files=files)
    assert response.status_code == 403
