"""The export page: the form, a preview that counts what a download would write (and records
nothing), the download itself, past exports, and bad parameters shown on the page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db import Database
from app.exports import FORMATS
from app.models import Export, Role
from tests.clients import login, soup
from tests.export_helpers import rows_of, run_export
from tests.factories_admin import HX, reading
from tests.factories_labels import make_labeller, make_mixed_project

PAGE = "/admin/projects/mixed/export"


@pytest.fixture
def admin(client: TestClient, db: Database) -> TestClient:
    with db.scope() as session:
        make_mixed_project(session)
        make_labeller(session, "ada", Role.ADMIN)
    assert login(client, "ada") == 303
    return client


def exports_recorded(db: Database) -> int:
    with reading(db) as session:
        return session.scalar(select(func.count()).select_from(Export)) or 0


def figures(file: Any) -> tuple[int, int, dict[str, int]]:
    rows = int(file.select_one('[data-figure="rows"]').get_text().replace(",", ""))
    left = int(file.select_one('[data-figure="left-out"]').get_text().replace(",", ""))
    by_reason = {
        tr.th.get_text(strip=True): int(tr.td.get_text().replace(",", ""))
        for tr in file.select("table.left-out tbody tr")
    }
    return rows, left, by_reason


def test_the_full_page_offers_every_format_and_labels_every_control(admin: TestClient) -> None:
    page = soup(admin.get(PAGE).text)
    tab = page.find("nav", attrs={"aria-label": "Project"}).find("a", string="Export")
    assert tab["aria-current"] == "page"
    options = [o["value"] for o in page.select("select#format option")]
    assert options == list(FORMATS)
    assert [o.get_text() for o in page.select("select#batch option")] == ["mixed"]
    assert [o.get_text() for o in page.select("select#exclude_annotator option")] == [
        "ann1", "ann2", "ann3",
    ]  # fmt: skip
    for control in page.select("form.export-form input, form.export-form select"):
        labelled = page.find("label", attrs={"for": control.get("id")}) or control.find_parent(
            "label"
        )
        assert labelled is not None, control
    assert page.select_one("#export-result .export-file") is None  # nothing previewed yet
    assert "No exports yet" in page.get_text()


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_the_preview_counts_what_a_download_writes_and_records_nothing(
    admin: TestClient, db: Database, fmt: str
) -> None:
    data, manifest = run_export(db, "mixed", format=fmt)
    response = admin.get(PAGE, params={"format": fmt}, headers=HX)
    assert response.status_code == 200
    fragment = soup(response.text)
    assert fragment.find("nav") is None, "htmx gets the result only"
    (file,) = fragment.select(".export-file")
    assert figures(file) == (
        manifest["rows"], sum(manifest["left_out"].values()), manifest["left_out"],
    )  # fmt: skip
    assert manifest["sha256"] in file.get_text()
    previewed = [BeautifulSoup(pre.text, "html.parser").text for pre in file.select("pre code")]
    expected = rows_of(data)[:3]
    assert len(previewed) == len(expected)
    assert [json.loads(text) for text in previewed] == expected
    for warning in manifest["warnings"]:
        assert warning in file.get_text()
    assert exports_recorded(db) == 0


def test_the_download_gives_the_exports_bytes_and_is_listed_with_its_manifest(
    admin: TestClient, db: Database
) -> None:
    params = {"format": "kto", "min_votes": "2", "exclude_annotator": "ann3"}
    data, manifest = run_export(db, "mixed", format="kto", min_votes=2, exclude_annotator=["ann3"])
    page = soup(admin.get(PAGE, params=params).text)
    link = page.select_one(".export-file a[download]")
    assert link.get_text(strip=True) == f"Download {manifest['rows']} rows"
    response = admin.get(link["href"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jsonl"
    assert response.headers["content-disposition"].startswith('attachment; filename="mixed-kto-')
    assert response.content == data
    assert exports_recorded(db) == 1

    history = soup(admin.get(PAGE).text).select_one("table.exports tbody tr")
    cells = [td.get_text(" ", strip=True) for td in history.find_all("td")]
    assert cells[1:5] == ["kto", str(manifest["rows"]), str(sum(manifest["left_out"].values())),
                          "ada"]  # fmt: skip
    assert manifest["sha256"] in history.select_one("pre").get_text()
    assert '"exclude_annotator": [\n      "ann3"\n    ]' in history.select_one("pre").get_text()


def test_a_split_previews_and_downloads_each_file(admin: TestClient, db: Database) -> None:
    params = {"format": "kto", "derive": "pairs", "validation_fraction": "0.4", "split": ""}
    page = soup(admin.get(PAGE, params=params).text)
    files = page.select(".export-file")
    assert len(files) == 2
    for file, split in zip(files, ["train", "validation"], strict=True):
        data, manifest = run_export(db, "mixed", format="kto", derive="pairs",
                                    validation_fraction=0.4, split=split)  # fmt: skip
        assert figures(file)[0] == manifest["rows"]
        assert admin.get(file.select_one("a[download]")["href"]).content == data
    assert (
        '.validation.jsonl"'
        in admin.get(files[1].select_one("a[download]")["href"]).headers["content-disposition"]
    )


def test_empty_fields_take_the_defaults(admin: TestClient, db: Database) -> None:
    """What a browser sends for an untouched form."""
    query = "format=openai-dpo&min_votes=&min_agreement=&since=&until=&validation_fraction=&split="
    response = admin.get(f"{PAGE}?{query}")
    assert response.status_code == 200
    _, manifest = run_export(db, "mixed", format="openai-dpo")
    assert figures(soup(response.text).select_one(".export-file"))[0] == manifest["rows"]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"format": "kto", "min_votes": "0"}, "min_votes", "greater than or equal to 1"),
        ({"format": "kto", "min_agreement": "lots"}, "min_agreement", "valid number"),
        ({"format": "csv"}, "format", "unknown format 'csv'"),
        ({"format": "openai-dpo", "keep_reserved": "true"}, "params", "nova-dpo format only"),
        ({"format": "kto", "split": "validation"}, "params", "split needs a validation_fraction"),
        ({"format": "kto", "since": "2030-01-02T00:00", "until": "2030-01-01T00:00"}, "params",
         "since must be before until"),
        ({"format": "kto", "batch": "nope"}, "batch", "no batch named 'nope'"),
        ({"format": "kto", "exclude_annotator": "zed"}, "exclude_annotator", "no annotator named"),
    ],
)  # fmt: skip
def test_bad_parameters_are_explained_on_the_page(
    admin: TestClient, db: Database, params: dict[str, str], field: str, message: str
) -> None:
    for headers in ({}, HX):
        response = admin.get(PAGE, params=params, headers=headers)
        assert response.status_code == 422
        alert = soup(response.text).select_one("#export-result [role=alert]")
        assert message in alert.get_text()
        assert alert.find("a", href=f"#{field}") is not None
    page = soup(admin.get(PAGE, params=params).text)
    if field != "params":
        assert page.select_one(f"#{field}")["aria-invalid"] == "true"
    download = admin.get(f"{PAGE}/download", params=params)
    assert download.status_code == 422
    assert message in soup(download.text).get_text()
    assert exports_recorded(db) == 0


def test_the_download_without_a_format_asks_for_one(admin: TestClient) -> None:
    response = admin.get(f"{PAGE}/download")
    assert response.status_code == 422
    assert "choose a format" in response.text


@pytest.mark.parametrize("fmt", ["openai-dpo", "nova-dpo", "vertex-preference"])
def test_the_page_says_which_services_take_the_format(admin: TestClient, fmt: str) -> None:
    fragment = soup(admin.get(PAGE, params={"format": fmt}, headers=HX).text)
    notes = fragment.select_one("section.services")
    names = [li.strong.get_text() for li in notes.select("li")]
    assert names == [s.name for s in FORMATS[fmt].services]
    text = notes.get_text(" ", strip=True)
    for service in FORMATS[fmt].services:
        assert service.note in text
        if service.min_rows and service.max_rows:
            assert f"({service.min_rows:,} to {service.max_rows:,} examples)" in text
        elif service.min_rows:
            assert f"(at least {service.min_rows:,} examples)" in text


def test_the_openai_note_says_fine_tuning_is_wound_down(admin: TestClient) -> None:
    text = soup(admin.get(PAGE).text).select_one("section.services").get_text(" ", strip=True)
    assert "OpenAI" in text and "wound down" in text
    assert "Fireworks AI (3 to 3,000,000 examples)" in text


def test_a_judgements_file_lists_no_services(admin: TestClient) -> None:
    fragment = soup(admin.get(PAGE, params={"format": "judgements"}, headers=HX).text)
    assert fragment.select_one("section.services") is None
