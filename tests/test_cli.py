"""The `arbiter` command, run as operators and scripts run it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.factories import jsonl, native_rows


def test_db_upgrade_is_repeatable(arbiter) -> None:  # type: ignore[no-untyped-def]
    assert "up to date" in arbiter("db", "upgrade")
    assert "up to date" in arbiter("db", "upgrade")


def test_user_add_generates_and_prints_a_password(arbiter) -> None:  # type: ignore[no-untyped-def]
    out = arbiter("user", "add", "ada", "--role", "admin")
    assert "created admin ada" in out
    assert "password: " in out
    arbiter("user", "add", "ada", "--role", "admin", code=1)


def test_user_add_reads_the_password_from_stdin(arbiter) -> None:  # type: ignore[no-untyped-def]
    out = arbiter("user", "add", "bo", "--role", "annotator", "--password-stdin",
                  input="a long password\n")  # fmt: skip
    assert "password:" not in out
    arbiter("user", "add", "cy", "--role", "annotator", "--password", "short", code=1)


def test_token_create_prints_the_token_last(arbiter, session) -> None:  # type: ignore[no-untyped-def]
    from app.accounts.auth import user_for_token

    arbiter("user", "add", "ada", "--role", "admin")
    out = arbiter("token", "create", "ada", "--name", "ci")
    token = out.strip().splitlines()[-1]
    assert token.startswith("arb_")
    user = user_for_token(session, token)
    assert user is not None
    assert user.username == "ada"
    session.commit()  # noting the token's use is a write; an open one would lock the CLI out
    assert "nobody" in arbiter("token", "create", "nobody", code=1)


def test_projects_by_name_or_slug_members_and_show(arbiter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    guide = tmp_path / "g.md"
    guide.write_text("# Be fair\n", encoding="utf-8")
    out = arbiter("project", "create", "Helpful Answers", "--overlap", "2", "--guidelines",
                  str(guide))  # fmt: skip
    assert "slug helpful-answers" in out
    arbiter("project", "create", "Helpful Answers", code=1)
    arbiter("user", "add", "ann", "--role", "annotator")
    assert "members: ann" in arbiter("project", "members", "helpful-answers", "add", "ann")
    assert "open to every annotator" in arbiter(
        "project", "members", "Helpful Answers", "remove", "ann"
    )
    shown = json.loads(arbiter("project", "show", "helpful-answers", "--json"))
    assert shown["name"] == "Helpful Answers"
    assert shown["overlap"] == 2
    for key in ("prompts", "candidates", "comparisons", "judgements", "ratings"):
        assert shown[key] == 0
    arbiter("project", "show", "nope", "--json", code=1)


def test_import_summarises_and_is_idempotent(arbiter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    arbiter("project", "create", "P")
    path = tmp_path / "batch.jsonl"
    path.write_bytes(jsonl(native_rows(5, candidates=3)))
    out = arbiter("import", str(path), "--project", "p", "--batch", "first")
    assert "5 prompts, 15 candidates, 15 comparisons added" in out
    assert "nothing added" in arbiter("import", str(path), "--project", "P")
    shown = json.loads(arbiter("project", "show", "P", "--json"))
    assert (shown["prompts"], shown["comparisons"]) == (5, 15)


def test_import_of_a_bad_file_exits_1_with_the_error_list(arbiter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    arbiter("project", "create", "P")
    path = tmp_path / "bad.jsonl"
    path.write_bytes(jsonl([*native_rows(2), {"prompt": "x", "candidates": ["a"]}]))
    out = arbiter("import", str(path), "--project", "P", code=1)
    assert "line 3: candidates: at least 2 required" in out
    assert "nothing was imported" in out
    assert json.loads(arbiter("project", "show", "P", "--json"))["prompts"] == 0


def test_demo_seeds_an_empty_database_only(arbiter) -> None:  # type: ignore[no-untyped-def]
    out = arbiter("demo")
    assert "admin" in out
    assert "annotator" in out
    shown = json.loads(arbiter("project", "show", "demo", "--json"))
    assert shown["prompts"] == 5
    assert shown["comparisons"] >= 8
    labelled = json.loads(arbiter("project", "show", "demo-labelled", "--json"))
    assert (labelled["comparisons"], labelled["overlap"]) == (30, 3)
    assert labelled["judgements"] >= 80, "judged by several demo annotators"
    arbiter("demo", code=1)
    assert "already has data" in arbiter("demo", "--if-empty")


def test_project_create_takes_every_setting(arbiter, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    arbiter("project", "create", "Ranked", "--protocol", "ranking", "--rubric", "ultrafeedback",
            "--max-strength", "3", "--no-tie", "--no-both-bad", "--rationale", "optional",
            "--rate-singletons", "--overlap", "3")  # fmt: skip
    shown = json.loads(arbiter("project", "show", "ranked", "--json"))
    assert (shown["protocol"], shown["max_strength"], shown["overlap"]) == ("ranking", 3, 3)
    assert (shown["allow_tie"], shown["allow_both_bad"]) == (False, False)
    assert (shown["rationale"], shown["rate_singletons"]) == ("optional", True)
    assert shown["rubric"][0]["name"] == "instruction_following"
    rubric = tmp_path / "rubric.json"
    rubric.write_text(json.dumps([{"name": "safety", "min": 0, "max": 9}]), encoding="utf-8")
    arbiter("project", "create", "Own", "--rubric", str(rubric))
    assert json.loads(arbiter("project", "show", "own", "--json"))["rubric"][0]["max"] == 9
    rubric.write_text(json.dumps([{"name": "safety", "min": 3, "max": 1}]), encoding="utf-8")
    assert "max must be above min" in arbiter(
        "project", "create", "Bad", "--rubric", str(rubric), code=2
    )
    assert "max_strength" in arbiter("project", "create", "Bad", "--max-strength", "4", code=2)
