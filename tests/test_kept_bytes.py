"""A kept export file reads back byte for byte, whatever zlib level wrote it."""

from __future__ import annotations

import zlib

import pytest

from app.exports import stored
from app.exports.stored import Keeper

LINES = "".join(
    f'{{"input": {{"messages": [{{"role": "user", "content": "Question {i}? 天気"}}]}}}}\n'
    for i in range(20_000)
).encode()


def test_the_keeper_passes_chunks_through_and_inflates_to_the_same_bytes() -> None:
    keeper = Keeper()
    for start in range(0, len(LINES), 65_536):
        assert keeper.add(LINES[start : start + 65_536]) == LINES[start : start + 65_536]
    content = keeper.content()
    assert len(content) < len(LINES) // 4
    assert zlib.decompress(content) == LINES
    assert b"".join(stored._inflate(content)) == LINES


@pytest.mark.parametrize("level", [1, 6, 9])
def test_files_kept_at_any_level_read_back_unchanged(level: int) -> None:
    assert b"".join(stored._inflate(zlib.compress(LINES, level))) == LINES
