"""One HTTP client for OpenAI-compatible chat endpoints, and a bounded pool of calls.

Only ``POST {base_url}/chat/completions`` is used, through httpx (no SDK), so any server
that speaks that shape works: OpenAI, Together, Fireworks, vLLM, llama.cpp's server, Ollama.
429s, 5xx answers, timeouts and dropped connections are retried with exponential backoff
(with jitter), waiting at least what ``Retry-After`` asks; anything else fails at once. The
API key travels only in the ``Authorization`` header: it is never part of a URL, an error
message or a log line.
"""

from __future__ import annotations

import itertools
import queue
import random
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
R = TypeVar("R")

#: Token counts read from an answer's ``usage``, when the endpoint reports them.
USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a call is tried: ``attempts`` in all, waits doubling from ``base_delay``."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    timeout: float = 120.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = min(self.max_delay, self.base_delay * 2.0**attempt)
        backoff *= 0.5 + random.random() / 2  # jitter: clients retrying together spread out
        if retry_after is not None:
            return min(self.max_delay, max(backoff, retry_after))
        return backoff


@dataclass(frozen=True)
class Reply:
    text: str
    finish_reason: str | None
    usage: dict[str, int]
    attempts: int


@dataclass
class CallFailed(Exception):
    """A call that failed for good; ``reason`` is a short key for the summary's tallies."""

    reason: str
    detail: str = ""
    usage: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds or an HTTP date; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _retryable(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


class ChatClient:
    """A pooled httpx client; safe to share between the pool's threads."""

    def __init__(
        self,
        api_key: str | None,
        policy: RetryPolicy | None = None,
        *,
        stop: threading.Event | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.stop = stop or threading.Event()
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            headers=headers, timeout=self.policy.timeout, transport=transport,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
        )  # fmt: skip

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def complete(self, base_url: str, body: dict[str, Any]) -> Reply:
        """One chat completion, retried as the policy says; raises ``CallFailed``."""
        url = base_url.rstrip("/") + "/chat/completions"
        last = CallFailed("no_attempt")
        for attempt in range(self.policy.attempts):
            if attempt and self.stop.is_set():
                raise CallFailed("stopped")
            retry_after = None
            try:
                response = self._http.post(url, json=body)
            except httpx.TimeoutException:
                last = CallFailed("timeout", f"no answer within {self.policy.timeout:g} s")
            except httpx.TransportError as exc:
                last = CallFailed("connection", type(exc).__name__)
            else:
                if response.status_code == 200:
                    return _reply(response, attempt + 1)
                last = CallFailed(f"http_{response.status_code}", _short(response.text))
                if not _retryable(response.status_code):
                    raise last
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            if attempt + 1 < self.policy.attempts and self.stop.wait(
                self.policy.delay(attempt, retry_after)
            ):
                raise CallFailed("stopped")
        raise last


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _reply(response: httpx.Response, attempts: int) -> Reply:
    try:
        data = response.json()
        choice = data["choices"][0]
        content = choice["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise CallFailed("bad_response", "not a chat completion") from None
    usage_in = data.get("usage") if isinstance(data, dict) else None
    usage = {
        k: int(usage_in[k])
        for k in USAGE_KEYS
        if isinstance(usage_in, dict) and isinstance(usage_in.get(k), int)
    }
    if not isinstance(content, str) or not content.strip():
        raise CallFailed("empty", "the answer has no text", usage)
    finish = choice.get("finish_reason")
    return Reply(content, finish if isinstance(finish, str) else None, usage, attempts)


def bounded_map(
    fn: Callable[[T], R], items: Iterable[T], concurrency: int
) -> Iterator[tuple[T, R | BaseException]]:
    """``fn`` over ``items`` in ``concurrency`` threads, at most that many in flight; yields
    ``(item, result or exception)`` as each finishes (items are read lazily, in order).

    The threads are daemons: a run interrupted (Ctrl-C) exits without waiting for the calls
    in flight, which a kill would lose anyway (each prompt lands only once complete)."""
    source = iter(items)
    todo: queue.Queue[Any] = queue.Queue()
    finished: queue.Queue[tuple[T, R | BaseException]] = queue.Queue()

    def work() -> None:
        while (item := todo.get()) is not _END:
            try:
                result: R | BaseException = fn(item)
            except BaseException as exc:
                result = exc
            finished.put((item, result))

    threads = [threading.Thread(target=work, name=f"llm-{i}", daemon=True)
               for i in range(concurrency)]  # fmt: skip
    for thread in threads:
        thread.start()
    in_flight = 0
    try:
        for item in itertools.islice(source, concurrency):
            todo.put(item)
            in_flight += 1
        while in_flight:
            item, result = finished.get()
            in_flight -= 1
            following = next(source, _END)
            if following is not _END:
                todo.put(following)
                in_flight += 1
            yield item, result
    finally:
        for _ in threads:
            todo.put(_END)


_END: Any = object()


def until(items: Iterable[T], stop: threading.Event) -> Iterator[T]:
    """The items, until ``stop`` is set (what was already handed out still finishes)."""
    for item in items:
        if stop.is_set():
            return
        yield item
