"""The labelling benchmark's load generator: K clients, one thread and one keep-alive HTTP
connection each, looping for a fixed time after a warm-up. Prints one JSON line.

Kept light, since it shares the machine's cores with the server it measures: raw
``http.client`` connections, no HTTP library on top. The same generator drives Arbiter and
the bare reference, so the two rates compare.

- ``arbiter`` mode: each client leases a pair (``POST /api/v1/projects/{slug}/assignments``)
  and judges it (``POST /api/v1/assignments/{id}/judgement``) with its own API token; the
  answer fits the assignment's kind (pair, single or ranking).
- ``arbiter-next`` mode: the same, in one request per loop: each answer is sent with
  ``?next=1`` and its response carries the next assignment (the first loop also leases).
- ``bare`` mode: each client sends two ``POST /judgements`` (one INSERT each) per loop, so a
  loop is two requests on both sides.

One loop's time is from the first request sent to the second answer read. Loops that start
after the warm-up and end before the deadline count.
"""

from __future__ import annotations

import argparse
import http.client
import json
import resource
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Client:
    host: str
    port: int
    headers: dict[str, str]
    latencies: list[float] = field(default_factory=list)
    loops: int = 0
    errors: list[str] = field(default_factory=list)
    ran_out: bool = False
    held: dict[str, Any] | None = None  # arbiter-next: the assignment the last answer handed out

    def __post_init__(self) -> None:
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        self.conn.request("POST", path, body, self.headers)
        response = self.conn.getresponse()
        return response.status, response.read()


def answer_body(assignment: dict[str, Any]) -> bytes:
    """An answer for the assignment's kind: the left side, a good rating, the order shown."""
    if assignment.get("kind") == "single":
        return b'{"rating": true}'
    if assignment.get("kind") == "ranking":
        ids = [c["candidate_id"] for c in assignment["candidates"]]
        return json.dumps({"ranking": ids}).encode()
    return b'{"verdict": "left"}'


def arbiter_loop(client: Client, slug: str) -> bool:
    """Lease and judge one comparison (two requests); False when nothing is left."""
    status, body = client.post(f"/api/v1/projects/{slug}/assignments", b"")
    if status == 204:
        client.ran_out = True
        return False
    if status != 201:
        client.errors.append(f"lease {status} {body[:200]!r}")
        return False
    assignment = json.loads(body)
    status, body = client.post(
        f"/api/v1/assignments/{assignment['id']}/judgement", answer_body(assignment)
    )
    if status not in (200, 201):
        client.errors.append(f"judge {status} {body[:200]!r}")
        return False
    return True


def arbiter_next_loop(client: Client, slug: str) -> bool:
    """Judge the comparison in hand with ``?next=1`` (one request), which hands out the next;
    the first loop leases one too (two requests). False when nothing is left."""
    if client.held is None:
        status, body = client.post(f"/api/v1/projects/{slug}/assignments", b"")
        if status == 204:
            client.ran_out = True
            return False
        if status != 201:
            client.errors.append(f"lease {status} {body[:200]!r}")
            return False
        client.held = json.loads(body)
    held = client.held
    status, body = client.post(
        f"/api/v1/assignments/{held['id']}/judgement?next=1", answer_body(held)
    )
    if status not in (200, 201):
        client.errors.append(f"judge {status} {body[:200]!r}")
        return False
    client.held = json.loads(body)["next"]
    if client.held is None:
        client.ran_out = True
        return False
    return True


def bare_loop(client: Client, _slug: str) -> bool:
    for _ in range(2):
        status, body = client.post("/judgements", b'{"verdict": "left"}')
        if status != 201:
            client.errors.append(f"insert {status} {body[:200]!r}")
            return False
    return True


def drive(
    clients: list[Client], mode: str, slug: str, warmup: float, duration: float
) -> dict[str, Any]:
    loop = {"arbiter": arbiter_loop, "arbiter-next": arbiter_next_loop, "bare": bare_loop}[mode]
    start_line = threading.Barrier(len(clients) + 1)
    times: dict[str, float] = {}

    def run(client: Client) -> None:
        start_line.wait()
        begin, end = times["begin"], times["end"]
        while True:
            t0 = time.perf_counter()
            if t0 >= end:
                return
            if not loop(client, slug):
                return
            t1 = time.perf_counter()
            if t0 >= begin and t1 <= end:
                client.latencies.append(t1 - t0)
                client.loops += 1

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    now = time.perf_counter()
    times.update(begin=now + warmup, end=now + warmup + duration)
    start_line.wait()
    time.sleep(max(0.0, times["begin"] - time.perf_counter()))
    cpu_start = cpu_seconds()
    time.sleep(max(0.0, times["end"] - time.perf_counter()))
    cpu_used = cpu_seconds() - cpu_start
    for thread in threads:
        thread.join(120)
    latencies = sorted(x for c in clients for x in c.latencies)
    return {
        "loops": sum(c.loops for c in clients),
        "seconds": duration,
        "latencies": latencies,
        "generator_cpu_seconds": cpu_used,
        "errors": [e for c in clients for e in c.errors][:10],
        "ran_out": sum(c.ran_out for c in clients),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("arbiter", "arbiter-next", "bare"), required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--tokens", help="file of API tokens, one per line (arbiter mode)")
    parser.add_argument("--slug", default="bench")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args(argv)
    tokens = Path(args.tokens).read_text().split() if args.tokens else [""] * args.clients
    clients = []
    for i in range(args.clients):
        headers = {"Content-Type": "application/json"}
        if args.mode.startswith("arbiter"):
            headers["Authorization"] = f"Bearer {tokens[i]}"
        clients.append(Client("127.0.0.1", args.port, headers))
    result = drive(clients, args.mode, args.slug, args.warmup, args.duration)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
