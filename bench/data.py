"""Synthetic batches shaped like real ones: prompts of ~300 characters, two candidates of
~1,500 characters, one row in five in Japanese. Deterministic for a given seed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import orjson

EN_WORDS = [
    "the",
    "model",
    "answer",
    "explains",
    "weather",
    "data",
    "clearly",
    "with",
    "examples",
    "and",
    "careful",
    "reasoning",
    "about",
    "temperature",
    "wind",
    "pressure",
    "forecast",
    "accuracy",
    "users",
    "expect",
    "helpful",
    "concise",
    "responses",
]
JA_TEXT = "今日の東京の天気は晴れで、最高気温は二十度くらいになる見込みです。"


def _text(rng: random.Random, chars: int, japanese: bool) -> str:
    if japanese:
        reps = chars // len(JA_TEXT) + 1
        return (JA_TEXT * reps)[:chars]
    words: list[str] = []
    length = 0
    while length < chars:
        word = rng.choice(EN_WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def rows(n: int, seed: int = 7, candidates: int = 2) -> Iterator[dict[str, object]]:
    """``n`` rows of ``candidates`` candidates each (the first two as they always were)."""
    rng = random.Random(seed)
    for i in range(n):
        ja = i % 5 == 0
        more = [_text(rng, 1500, ja) + f" ({k})" for k in range(2, candidates)]
        yield {
            "id": f"bench-{i}",
            "prompt": f"{i}: " + _text(rng, 300, ja),
            "candidates": [_text(rng, 1500, ja), _text(rng, 1500, ja) + " (b)", *more],
        }


def write_batch(path: Path, n: int, seed: int = 7, candidates: int = 2) -> int:
    """Write ``n`` rows as JSONL to ``path``; the file's size in bytes."""
    with path.open("wb") as fh:
        for row in rows(n, seed, candidates):
            fh.write(orjson.dumps(row))
            fh.write(b"\n")
    return path.stat().st_size
