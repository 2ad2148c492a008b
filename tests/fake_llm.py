"""A small OpenAI-compatible chat server on 127.0.0.1 for the model-run tests.

Answers are deterministic: ``[MODEL] answer N to: LAST USER TEXT`` (N counts that model's
answers to that text). Scripted behaviour, by the request's ``model``:
``fail_first[model]`` statuses answered to the first calls for each prompt (429s come with
``Retry-After: 0``), ``always_fail[model]`` a status for every call, ``slow`` models wait
for ``release`` before answering, and after ``block_after`` answers every call waits for it.
Judges: ``judge-fair`` prefers the longer response (a tie when equal), ``judge-biased``
always says the first, ``judge-garbled`` never gives a verdict line.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

USAGE = {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}


@dataclass
class Script:
    fail_first: dict[str, list[int]] = field(default_factory=dict)
    always_fail: dict[str, int] = field(default_factory=dict)
    slow: set[str] = field(default_factory=set)
    block_after: int | None = None
    retry_after: str = "0"
    """What 429s say in ``Retry-After``."""
    release: threading.Event = field(default_factory=threading.Event)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    answered: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _judge(model: str, text: str) -> str:
    if model == "judge-garbled":
        return "Both have merits; I lean to the first one."
    if model == "judge-biased":
        return "The first response is better.\nVerdict: 1"
    first = text.split("# Response 1\n", 1)[-1].split("\n\n# Response 2\n", 1)[0]
    second = text.split("# Response 2\n", 1)[-1].split("\n\n# Your answer", 1)[0]
    if len(first) == len(second):
        return "They are equally good.\nVerdict: tie"
    return f"The longer one is better.\nVerdict: {1 if len(first) > len(second) else 2}"


def _answer(script: Script, body: dict[str, Any]) -> tuple[int, str]:
    model = str(body.get("model"))
    last = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
    with script.lock:
        script.requests.append(body)
        n = script.calls[(model, last)]
        script.calls[(model, last)] += 1
        wait = script.block_after is not None and script.answered >= script.block_after
    fails = script.fail_first.get(model, [])
    if n < len(fails):
        return fails[n], "scripted failure"
    if model in script.always_fail:
        return script.always_fail[model], "always failing"
    if wait or model in script.slow:
        script.release.wait(30)
    with script.lock:
        script.answered += 1
    if model.startswith("judge-"):
        return 200, _judge(model, last)
    topic = re.sub(r"\s+", " ", last)[:200]
    return 200, f"[{model}] answer {n} to: {topic}"


def _handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with script.lock:
                script.headers.append(dict(self.headers))
            if not self.path.endswith("/chat/completions"):
                self._send(404, {"error": "not found"})
                return
            status, text = _answer(script, body)
            if status != 200:
                extra = {"Retry-After": script.retry_after} if status == 429 else {}
                self._send(status, {"error": {"message": text}}, extra)
                return
            choice = {"index": 0, "message": {"role": "assistant", "content": text},
                      "finish_reason": "stop"}  # fmt: skip
            self._send(200, {"id": "x", "object": "chat.completion", "choices": [choice],
                             "usage": USAGE})  # fmt: skip

        def _send(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away (a killed run) is part of the tests


@contextmanager
def fake_llm(script: Script | None = None) -> Iterator[tuple[str, Script]]:
    """Serve on a free port of 127.0.0.1; yield the base URL (``…/v1``) and the script."""
    script = script or Script()
    server = _Server(("127.0.0.1", 0), _handler(script))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", script
    finally:
        script.release.set()
        server.shutdown()
        server.server_close()
