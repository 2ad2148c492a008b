"""The vendored htmx is the pinned file that static/VENDORED.md records."""

from __future__ import annotations

import hashlib
import re

from tests.paths import REPO


def test_vendored_htmx_matches_its_recorded_checksum() -> None:
    record = (REPO / "static" / "VENDORED.md").read_text()
    expected = re.search(r"htmx\.min\.js \|.*\| ([\d.]+) \| `([0-9a-f]{64})`", record)
    assert expected is not None
    data = (REPO / "static" / "htmx.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == expected.group(2)
    assert f'version:"{expected.group(1)}"'.encode() in data
