"""The upload page's preview: the first rows of the chosen file, its detected shape, a column
picker per field (a first guess from the column names), and the import with the columns picked
and invalid rows skipped, listed on the page."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.importing.mapping import parse_map
from app.importing.preview import preview
from app.models import Prompt
from tests.clients import soup
from tests.factories import make_project
from tests.factories_admin import HX, admin_client, reading
from tests.factories_files import build

ROWS = [
    {"instruction": f"Q{i}?", "chosen_response": "" if i == 2 else f"good {i}",
     "rejected_response": f"bad {i}", "source": "evol"}
    for i in range(1, 9)
]  # fmt: skip


def test_a_preview_reads_only_the_first_rows_and_guesses_the_columns() -> None:
    name, data = build(ROWS, "jsonl", gz=True)
    found = preview(io.BytesIO(data), name, parse_map([]), max_bytes=1 << 30, allow_single=False)
    assert (found.container, found.kind) == ("json", "trl")
    assert found.columns == ["instruction", "chosen_response", "rejected_response", "source"]
    assert [r.line for r in found.rows] == [1, 2, 3, 4, 5]
    assert found.guessed
    assert found.mapping == {
        "prompt": "instruction", "chosen": "chosen_response", "rejected": "rejected_response"
    }  # fmt: skip
    assert found.problems == ["line 2: chosen: must not be empty"]


def test_a_preview_of_a_file_that_cannot_be_read_says_why() -> None:
    found = preview(io.BytesIO(b"not gzip"), "a.jsonl.gz", parse_map([]), max_bytes=1 << 30,
                    allow_single=False)  # fmt: skip
    assert (found.rows, found.problems) == (
        [],
        ["line 1: file: named .jsonl.gz but not gzip-compressed"],
    )


def test_the_preview_fragment_shows_the_rows_and_a_picker_per_field(
    client: TestClient, session: Session
) -> None:
    project = make_project(session)
    admin_client(client, session)
    name, data = build(ROWS, "csv")
    response = client.post(
        f"/admin/projects/{project.slug}/batches/preview", files={"file": (name, data)},
        data={"map": ["chosen=source"]}, headers=HX,
    )  # fmt: skip
    assert response.status_code == 200
    page = soup(response.text)
    region = page.find(id="import-preview")
    assert region is not None and page.find(id="batches") is None, "the fragment alone"
    assert len(region.select("tbody tr")) == 5
    selects = {s["id"]: s for s in region.find_all("select")}
    assert len(selects) == 10
    chosen = selects["map-chosen"].find("option", selected=True)
    assert chosen["value"] == "chosen=source"  # the mapping given, not a guess
    assert selects["map-prompt"].find("option", selected=True) is None  # "as named"
    assert page.find("label", attrs={"for": "map-chosen"}) is not None
    full = client.post(
        f"/admin/projects/{project.slug}/batches/preview", files={"file": (name, data)}
    )
    assert soup(full.text).find(id="batches") is not None, "a plain post gets the page"
    assert "Choose the file again" in full.text


def test_an_upload_with_columns_picked_and_skip_invalid_lists_the_skipped_rows(
    client: TestClient,
    session: Session,
    db,  # type: ignore[no-untyped-def]
) -> None:
    project = make_project(session)
    admin_client(client, session)
    name, data = build(ROWS, "tsv", gz=True)
    form = {"map": ["prompt=instruction", "chosen=chosen_response", "rejected=rejected_response",
                    ""], "skip_invalid": "true"}  # fmt: skip
    results = []
    for headers in (HX, {}):  # the second time: every valid row is already there
        response = client.post(
            f"/admin/projects/{project.slug}/batches", files={"file": (name, data)}, data=form,
            headers=headers,
        )  # fmt: skip
        assert response.status_code == 200
        page = soup(response.text)
        items = [li.get_text(" ", strip=True) for li in page.select("#import-skipped li")]
        assert items == ["line 2 chosen must not be empty"]
        results.append(page.find(id="import-result").get_text())
    assert "7 prompts" in results[0] and "nothing added. 1 invalid row skipped." in results[1]
    with reading(db) as s:
        assert s.scalar(select(func.count()).select_from(Prompt)) == 7


def test_a_bad_column_pick_is_refused_on_the_page(client: TestClient, session: Session) -> None:
    project = make_project(session)
    admin_client(client, session)
    name, data = build(ROWS, "csv")
    response = client.post(
        f"/admin/projects/{project.slug}/batches", files={"file": (name, data)},
        data={"map": ["answer=x"]}, headers=HX,
    )  # fmt: skip
    assert response.status_code == 422
    assert "unknown field 'answer'" in soup(response.text).find(id="import-errors").get_text()
