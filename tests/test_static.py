"""The vendored files (htmx, Swagger UI, Redoc) are the pinned files that static/VENDORED.md
records."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.paths import REPO


def test_vendored_htmx_matches_its_recorded_checksum() -> None:
    record = (REPO / "static" / "VENDORED.md").read_text()
    expected = re.search(r"htmx\.min\.js \|.*\| ([\d.]+) \| `([0-9a-f]{64})`", record)
    assert expected is not None
    data = (REPO / "static" / "htmx.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == expected.group(2)
    assert f'version:"{expected.group(1)}"'.encode() in data


@pytest.mark.parametrize(
    "name",
    [
        "vendor/swagger-ui/swagger-ui-bundle.js",
        "vendor/swagger-ui/swagger-ui.css",
        "vendor/redoc/redoc.standalone.js",
    ],
)
def test_vendored_api_docs_match_their_recorded_checksums(name: str) -> None:
    record = (REPO / "static" / "VENDORED.md").read_text()
    expected = re.search(re.escape(name) + r" \|.*\| ([\d.]+) \| `([0-9a-f]{64})`", record)
    assert expected is not None, f"{name} is not in static/VENDORED.md"
    data = (REPO / "static" / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == expected.group(2)
    assert b"sourceMappingURL=redoc" not in data and b"sourceMappingURL=swagger" not in data
