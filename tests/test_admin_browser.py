"""In a real browser: an admin uploads a bad file and sees its errors, then a good one; and a
new admin's first run: create a project (guidelines previewed as typed), upload a batch, add an
annotator and make them a member, look at the dashboard, preview an export; and an admin
previews an export of labelled data and downloads it (checked line by line against FORMATS.md).

Drives Debian's Chromium (/usr/bin/chromium) against a uvicorn server on a free port and an
SQLite file. No sleeps: every step waits on something the page shows.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import migrate
from app.accounts.auth import create_user
from app.db import Database
from app.models import Role
from tests.conftest import TEST_SECRET
from tests.export_helpers import assert_kto, rows_of, run_export
from tests.factories import jsonl, native_rows
from tests.factories_files import build
from tests.factories_labels import make_mixed_project
from tests.paths import REPO

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
PASSWORD = "browser-test-password"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]
playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The server's SQLite file (tests may add data the browser cannot, such as labels)."""
    return f"sqlite:///{tmp_path_factory.mktemp('browser') / 'arbiter.db'}"


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[str]:
    """uvicorn serving a migrated SQLite file with one admin, on a socket it inherits."""
    url = database_url
    db = Database(url)
    migrate.upgrade(db.engine)
    with db.scope() as session:
        create_user(session, "admin", Role.ADMIN, PASSWORD)
    db.dispose()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    env = {**os.environ, "ARBITER_DATABASE_URL": url, "ARBITER_SECRET_KEY": TEST_SECRET}
    command = [sys.executable, "-m", "uvicorn", "app.web.main:create_app", "--factory",
               "--fd", str(sock.fileno()), "--log-level", "info"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=REPO, env=env, pass_fds=[sock.fileno()], stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    for line in process.stderr:  # wait until it says it is ready
        if "Application startup complete" in line:
            break
    else:
        pytest.fail(f"uvicorn did not start (exit {process.wait()})")
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    process.terminate()
    process.communicate()  # reaps it and closes its stderr pipe
    sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _is_error(message: Any) -> bool:
    return message.type == "error" and not message.text.startswith("Failed to load resource")


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """A logged-in admin's tab; fails the test on a console error such as a CSP refusal
    (answers with an error status, like the 422 of a refused file, are expected)."""
    context = browser.new_context(base_url=server)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
    tab.goto("/admin")
    tab.get_by_label("Username").fill("admin")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    playwright.expect(tab.get_by_role("heading", name="Projects", exact=True)).to_be_visible()
    yield tab
    context.close()
    assert errors == [], errors


def _upload(page: Any, name: str, data: bytes) -> None:
    page.get_by_label("File").set_input_files({"name": name, "mimeType": "application/jsonl",
                                              "buffer": data})  # fmt: skip
    page.get_by_role("button", name="Upload and import").click()


def _new_project(page: Any, name: str) -> None:
    page.get_by_role("link", name="New project").first.click()
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create project").click()
    playwright.expect(page.get_by_role("heading", level=1)).to_have_text(name)


def test_an_admin_sees_a_bad_files_errors_then_uploads_a_good_one(page: Any) -> None:
    expect = playwright.expect
    _new_project(page, "Upload check")
    bad = jsonl(
        [
            *native_rows(2),
            {"prompt": "x", "candidates": ["only one"]},
            {"prompt": "y", "candidates": []},
        ]
    )
    _upload(page, "bad.jsonl", bad)
    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("bad.jsonl was refused: 2 errors; nothing was imported")
    expect(errors.locator("li")).to_have_count(2)
    expect(errors).to_be_focused()  # not left on a button that was swapped away
    expect(errors.locator("li").first).to_contain_text("line 3 candidates at least 2 required")
    expect(page.get_by_text("No batches yet")).to_be_visible()

    _upload(page, "good.jsonl", jsonl(native_rows(3, candidates=3)))
    expect(page.locator("#import-result")).to_contain_text("3 prompts, 9 candidates, 9 comparisons")
    expect(errors).to_have_count(0)
    expect(page.locator("#import-result")).to_be_focused()
    row = page.locator("#batches tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("good.jsonl")
    expect(page.get_by_label("Upload progress")).to_be_hidden()


def test_a_new_admins_first_run(page: Any) -> None:
    expect = playwright.expect
    page.get_by_role("link", name="New project").first.click()
    page.get_by_label("Name").fill("Hilfreiche Antworten")
    page.get_by_label("Guidelines").fill("Prefer **correct** answers.")
    expect(page.locator("#guidelines-preview strong")).to_have_text("correct")  # typed, previewed
    page.get_by_label("Overlap").fill("2")
    page.get_by_label("Required: no verdict without a reason").check()
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("status")).to_have_text("Saved Hilfreiche Antworten.")

    _upload(page, "first.jsonl", jsonl(native_rows(4)))
    expect(page.locator("#import-result")).to_contain_text("4 prompts")
    page.get_by_role("button", name="Pause batch first.jsonl", exact=False).click()
    expect(page.locator("#batches .status")).to_have_text("paused")

    page.get_by_role("link", name="People").click()
    page.get_by_label("Username").fill("annika")
    page.get_by_role("button", name="Add person").click()
    expect(page.locator(".secret-value")).to_have_count(1)  # the generated password, once

    page.get_by_role("link", name="Projects", exact=True).click()
    page.get_by_role("link", name="Hilfreiche Antworten").click()
    page.get_by_role("link", name="Members").click()
    page.get_by_label("Add an annotator").select_option("annika")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#members li")).to_have_text("annika Remove")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Agreement")).to_be_visible()
    page.get_by_role("link", name="Refresh").click()
    expect(page.get_by_text("No judgements yet.").first).to_be_visible()

    page.get_by_role("link", name="Export").click()
    page.get_by_role("button", name="Preview").click()
    expect(page.locator('[data-figure="rows"]')).to_have_text("0")  # nothing judged yet


def test_an_admin_previews_and_downloads_a_valid_export(
    page: Any, database_url: str, tmp_path: Path
) -> None:
    """Labels come from annotators (another test's business): they are written directly."""
    expect = playwright.expect
    db = Database(database_url)
    with db.scope() as session:
        make_mixed_project(session)
    data, manifest = run_export(db, "mixed", format="kto", min_votes=2)
    db.dispose()

    page.reload()  # the project list was shown before the project existed
    page.get_by_role("link", name="Mixed").click()
    page.get_by_role("link", name="Export").click()
    page.get_by_label("Format").select_option("kto")
    page.get_by_label("Minimum votes").fill("2")
    page.get_by_role("button", name="Preview").click()
    rows = manifest["rows"]
    expect(page.locator('[data-figure="rows"]')).to_have_text(str(rows))
    expect(page.locator("table.left-out")).to_contain_text("too_few_votes")
    expect(page.locator(".row-preview")).to_have_count(min(rows, 3))
    with page.expect_download() as info:
        page.get_by_role("link", name=f"Download {rows} rows").click()
    download = info.value
    assert download.suggested_filename.startswith("mixed-kto-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    body = saved.read_bytes()
    assert body == data
    parsed = rows_of(body)
    assert len(parsed) == rows > 0
    for row in parsed:
        assert_kto(row)

    page.reload()
    expect(page.locator("table.exports tbody tr")).to_have_count(1)
    expect(page.locator("table.exports tbody tr")).to_contain_text(f"kto {rows}")


def test_a_slow_upload_shows_its_progress_then_the_import(page: Any) -> None:
    expect = playwright.expect
    _new_project(page, "Slow line")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 100_000,
    })  # fmt: skip
    data = jsonl(native_rows(2000))
    assert len(data) > 150_000, "long enough to watch"
    _upload(page, "big.jsonl", data)
    status = page.locator("[data-upload-text]")
    expect(status).to_contain_text("Uploading…")
    expect(page.get_by_role("button", name="Upload and import")).to_be_disabled()
    expect(page.locator("#import-result")).to_contain_text("2,000 prompts", timeout=60_000)


ARGILLA = [
    {"instruction": f"Frage {i}: 天気は？", "better_answer": "" if i == 3 else f"Gut {i}.",
     "rejected_response": f"Schlecht {i}.", "source": "evol"}
    for i in range(1, 7)
]  # fmt: skip


def test_an_admin_previews_a_csv_picks_its_columns_and_imports_skipping_a_bad_row(
    page: Any, browser: Any, server: str
) -> None:
    """The first rows with their detected shape, a column picked, a preview again, then the
    import with "Skip invalid rows": the bad row is listed, the others are in."""
    expect = playwright.expect
    _new_project(page, "Mapping check")
    data = build(ARGILLA, "csv", gz=True)[1]
    page.get_by_label("File").set_input_files(
        {"name": "argilla.csv.gz", "mimeType": "application/gzip", "buffer": data}
    )
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#import-preview")
    expect(preview.get_by_role("heading")).to_have_text("Preview of argilla.csv.gz")
    expect(preview.locator("tbody tr")).to_have_count(5)
    expect(preview.locator("thead th")).to_have_text(
        ["Line", "instruction", "better_answer", "rejected_response", "source"]
    )
    expect(page.get_by_label("prompt", exact=True)).to_have_value("prompt=instruction")  # guessed
    expect(page.get_by_label("rejected", exact=True)).to_have_value("rejected=rejected_response")
    expect(preview.get_by_role("alert")).to_contain_text("chosen: required")
    _shots(page, browser, server, "preview")

    page.get_by_label("chosen", exact=True).select_option("chosen=better_answer")
    page.get_by_role("button", name="Preview").click()
    expect(preview).to_contain_text("TRL preference, explicit prompt")
    expect(preview.get_by_role("alert").locator("li")).to_have_text(
        ["line 3: chosen: must not be empty"]
    )

    page.get_by_label("Skip invalid rows").check()
    page.get_by_role("button", name="Upload and import").click()
    expect(page.locator("#import-result")).to_contain_text("5 prompts, 10 candidates")
    expect(page.locator("#import-result")).to_contain_text("1 invalid row skipped.")
    skipped = page.locator("#import-skipped")
    expect(skipped.locator("li")).to_have_text(["line 3 chosen must not be empty"])
    expect(page.locator("#batches tbody tr")).to_have_count(1)
    _shots(page, browser, server, "skipped")


def _shots(page: Any, browser: Any, server: str, name: str) -> None:
    """Screenshots of the page as it stands, when ARBITER_SHOTS names a folder for them."""
    folder = os.environ.get("ARBITER_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for size, (width, height) in {"desktop": (1280, 800), "phone": (390, 844)}.items():
        for scheme in ("light", "dark"):
            page.set_viewport_size({"width": width, "height": height})
            page.emulate_media(color_scheme=scheme)
            page.screenshot(
                path=f"{folder}/{name}-{size}-{scheme}.png", full_page=True, caret="initial"
            )
    page.set_viewport_size({"width": 1280, "height": 800})
    page.emulate_media(color_scheme="light")


def test_a_file_over_the_upload_limit_is_refused_before_a_byte_is_sent(
    page: Any, server: str
) -> None:
    """In the page's language (here Japanese, chosen by the language cookie), the status line
    says why; no upload request leaves the browser."""
    expect = playwright.expect
    _new_project(page, "Too big")
    page.context.add_cookies([{"name": "arbiter_lang", "value": "ja", "url": server}])
    page.reload()
    status = page.locator("[data-upload-status]")
    status.evaluate("el => { el.dataset.maxBytes = '100'; }")  # as if the limit were 100 bytes
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.locator("#batch-file").set_input_files(
        {"name": "big.jsonl", "mimeType": "application/jsonl", "buffer": jsonl(native_rows(3))}
    )
    page.locator("form[data-upload-form] button.primary").click()
    expect(page.locator("[data-upload-text]")).to_have_text(
        "このファイルはアップロードの上限 1,024 MB を超えています。何も送信していません。"
        "小さいファイルを選ぶか、分けて送ってください。"
    )
    expect(status).to_be_visible()
    page.locator("form[data-upload-form] [data-preview-button]").click()
    expect(page.locator("[data-upload-text]")).to_contain_text("1,024 MB")
    assert posts == []
