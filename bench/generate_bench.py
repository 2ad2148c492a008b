"""How fast `arbiter generate` goes against an endpoint that answers in a fixed time.

    python -m bench.generate_bench [--prompts 200] [--latency 0.05]

A local OpenAI-compatible stub answers every call after ``--latency`` seconds; the run asks
two labels once per prompt (2 × prompts calls) on a fresh SQLite file, at several
concurrencies, and prints calls per second and the time landing took. With latency 0 the
figure is Arbiter's own ceiling (HTTP client, per-prompt transactions).
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from app import migrate
from app.db import Database
from app.importing import import_batch
from app.llm import generate
from app.llm.client import ChatClient, RetryPolicy
from app.llm.endpoints import GenerateParams
from app.projects import create_project


@contextmanager
def stub(latency: float) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            time.sleep(latency)
            text = f"answer of {body['model']} to {body['messages'][-1]['content']}"
            raw = json.dumps({"choices": [{"message": {"role": "assistant", "content": text},
                                           "finish_reason": "stop"}],
                              "usage": {"total_tokens": 10}}).encode()  # fmt: skip
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # the default 5 refuses a burst of 32 connections

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def one_run(url: str, prompts: int, concurrency: int) -> tuple[float, float]:
    """(calls per second, seconds spent landing) of one run on a fresh database."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate.upgrade(db.engine)
        with db.scope() as session:
            project = create_project(session, "Bench")
            rows = b"".join(b'{"id": "q%d", "prompt": "Question %d?"}\n' % (i, i)
                            for i in range(prompts))  # fmt: skip
            import_batch(session, project, io.BytesIO(rows), max_bytes=1 << 30)
            project_id = project.id
        params = GenerateParams(model=[f"a={url}", f"b={url}"], concurrency=concurrency)
        landing = [0.0]
        land = generate.land

        def timed_land(*args: Any, **kw: Any) -> None:
            start = time.perf_counter()
            land(*args, **kw)
            landing[0] += time.perf_counter() - start

        generate.land = timed_land
        try:
            with ChatClient(None, RetryPolicy(attempts=3, base_delay=0.01)) as client:
                start = time.perf_counter()
                summary = generate.run_generation(db, project_id, params, client)
                elapsed = time.perf_counter() - start
        finally:
            generate.land = land
            db.dispose()
        assert summary.candidates == 2 * prompts, summary
        return summary.done / elapsed, landing[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    print(f"{args.prompts} prompts × 2 labels; the endpoint answers in {args.latency * 1000:g} ms")
    print(f"{'latency':>8} {'concurrency':>12} {'calls/s':>9} {'landing s':>10}")
    for latency in (args.latency, 0.0):
        with stub(latency) as url:
            for concurrency in (1, 8, 32):
                rate, landing = one_run(url, args.prompts, concurrency)
                print(f"{latency * 1000:>6g}ms {concurrency:>12} {rate:>9.1f} {landing:>10.2f}")


if __name__ == "__main__":
    main()
