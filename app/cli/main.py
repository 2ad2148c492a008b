"""The `arbiter` command. Every command runs in one transaction (``Database.scope``)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from app import migrate, projects
from app.accounts import auth
from app.annotation.rubric import PRESETS
from app.cli.common import dispose_all, domain_errors, fail, open_database, out, transaction
from app.cli.export import export_command
from app.cli.imports import import_command
from app.cli.leaderboard import leaderboard_command
from app.cli.llm import generate_command, judge_command
from app.exports.params import describe
from app.models import Role, Sampling
from app.settings import Settings

cli = typer.Typer(help="Arbiter: human preference labels on LLM outputs.", no_args_is_help=True)
db_cli = typer.Typer(help="The database schema.", no_args_is_help=True)
user_cli = typer.Typer(help="People and their passwords.", no_args_is_help=True)
token_cli = typer.Typer(help="API tokens.", no_args_is_help=True)
project_cli = typer.Typer(help="Projects.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(user_cli, name="user")
cli.add_typer(token_cli, name="token")
cli.add_typer(project_cli, name="project")
cli.command("export")(export_command)
cli.command("import")(import_command)
cli.command("generate")(generate_command)
cli.command("judge")(judge_command)
cli.command("leaderboard")(leaderboard_command)


@cli.callback()
def _close_databases(ctx: typer.Context) -> None:
    """Every command closes the connections it opened when it ends."""
    ctx.call_on_close(dispose_all)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    _, db = open_database()
    migrate.upgrade(db.engine)
    out.print("database is up to date")


class RoleChoice(StrEnum):
    admin = "admin"
    annotator = "annotator"


@user_cli.command("add")
def user_add(
    username: str,
    role: Annotated[RoleChoice, typer.Option(help="admin or annotator")],
    password: Annotated[str | None, typer.Option(help="the password (else generated)")] = None,
    password_stdin: Annotated[bool, typer.Option(help="read the password from stdin")] = False,
) -> None:
    """Create a user; without a password one is generated and printed."""
    generated = password is None and not password_stdin
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    password = password or auth.generate_password()
    with transaction() as session:
        auth.create_user(session, username, Role(role.value), password)
    out.print(f"created {role.value} {username}")
    if generated:
        out.print(f"password: {password}")


@user_cli.command("passwd")
def user_passwd(
    username: str,
    password_stdin: Annotated[bool, typer.Option(help="read the password from stdin")] = False,
) -> None:
    """Set a new password (generated and printed unless read from stdin)."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else auth.generate_password()
    with transaction() as session:
        auth.set_password(session, auth.get_user(session, username), password)
    out.print(f"password of {username} changed")
    if not password_stdin:
        out.print(f"password: {password}")


@token_cli.command("create")
def token_create(
    username: str, name: Annotated[str, typer.Option(help="what the token is for")] = "default"
) -> None:
    """Create an API token; it is printed once, as the last line."""
    with transaction() as session:
        token = auth.create_token(session, auth.get_user(session, username), name)
    out.print(f"token {name!r} for {username} (shown once; only its hash is kept):")
    print(token)


class ProtocolChoice(StrEnum):
    pairwise = "pairwise"
    rating = "rating"
    ranking = "ranking"


class RationaleChoice(StrEnum):
    off = "off"
    optional = "optional"
    required = "required"


@project_cli.command("create")
def project_create(
    name: str,
    overlap: Annotated[int, typer.Option(help="judgements wanted per comparison")] = 1,
    guidelines: Annotated[Path | None, typer.Option(help="Markdown file", exists=True)] = None,
    protocol: Annotated[
        ProtocolChoice, typer.Option(help="pairwise, rating (one response) or ranking (all)")
    ] = ProtocolChoice.pairwise,
    rubric: Annotated[
        str | None,
        typer.Option(help="aspects to score: a JSON file, or a preset (helpsteer2, ultrafeedback)"),
    ] = None,
    max_strength: Annotated[int, typer.Option(help="2 (slightly/much) or 3 (±3 scale)")] = 2,
    tie: Annotated[bool, typer.Option("--tie/--no-tie", help="offer the tie verdict")] = True,
    both_bad: Annotated[
        bool, typer.Option("--both-bad/--no-both-bad", help="offer 'both bad'")
    ] = True,
    rationale: Annotated[
        RationaleChoice, typer.Option(help="ask for a written reason: off, optional, required")
    ] = RationaleChoice.off,
    rate_singletons: Annotated[
        bool, typer.Option(help="good/bad per response; one-candidate prompts are rated")
    ] = False,
    sampling: Annotated[Sampling, typer.Option(help="queue or active")] = Sampling.QUEUE,
) -> None:
    """Create a project (its slug is derived from NAME) with every setting of the settings
    page; the rules are the admin API's."""
    values = {
        "name": name, "overlap": overlap, "protocol": protocol.value,
        "guidelines": guidelines.read_text(encoding="utf-8") if guidelines else "",
        "rubric": _rubric_option(rubric), "max_strength": max_strength, "allow_tie": tie,
        "allow_both_bad": both_bad, "rationale": rationale.value,
        "rate_singletons": rate_singletons, "sampling": sampling.value,
    }  # fmt: skip
    try:
        settings = projects.ProjectSettings.model_validate(values)
    except ValidationError as exc:
        raise fail(describe(exc), 2) from None
    with transaction() as session:
        slug = projects.create_project_with(session, settings).slug
    out.print(f"created project {name} (slug {slug})")


def _rubric_option(value: str | None) -> object:
    if value is None:
        return []
    if value in PRESETS:
        return PRESETS[value]
    path = Path(value)
    if not path.is_file():
        raise fail(f"--rubric: {value} is neither a file nor one of {', '.join(PRESETS)}", 2)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise fail(f"--rubric: {value} is not JSON ({exc})", 2) from None


class MemberAction(StrEnum):
    add = "add"
    remove = "remove"


@project_cli.command("members")
def project_members(name: str, action: MemberAction, username: str) -> None:
    """Open a project to USER only (add), or take them off it (remove)."""
    with transaction() as session:
        project = projects.get_project(session, name)
        user = auth.get_user(session, username)
        if action is MemberAction.add:
            projects.add_member(session, project, user)
        else:
            projects.remove_member(session, project, user)
        members = projects.member_names(session, project)
    out.print("members: " + (", ".join(members) or "none (open to every annotator)"))


@project_cli.command("show")
def project_show(
    name: str, as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False
) -> None:
    """A project's settings and counts."""
    with transaction() as session:
        summary = projects.project_summary(session, projects.get_project(session, name))
    if as_json:
        print(json.dumps(summary, ensure_ascii=False))
        return
    for key, value in summary.items():
        out.print(f"{key:>16}: {value}")


@cli.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="number of processes")] = 1,
) -> None:
    """Migrate the database, then serve the web app and the API."""
    settings, db = open_database()
    migrate.upgrade(db.engine)
    db.dispose()
    # A key generated into ARBITER_SECRET_KEY_FILE is made here, once, before the workers
    # start: each worker reading the same file signs cookies every other one accepts.
    settings.resolved_secret_key()
    run_server("app.web.main:create_app", host=host, port=port, workers=workers)


def run_server(factory: str, *, host: str, port: int, workers: int) -> None:
    """Serve the ASGI app that ``factory`` ("module:function") builds, in ``workers``
    processes. (The labelling benchmark serves its bare reference app through this too.)"""
    import uvicorn

    from app.web.serving import HTTP_PROTOCOL

    # proxy_headers off: the app itself believes X-Forwarded-For only from the proxies named
    # in ARBITER_TRUSTED_PROXIES (uvicorn's default would trust any local peer).
    uvicorn.run(factory, factory=True, host=host, port=port, workers=workers,
                http=HTTP_PROTOCOL, proxy_headers=False)  # fmt: skip


@cli.command("backup")
def backup(file: Annotated[Path, typer.Argument(help="where to write the copy")]) -> None:
    """Copy the embedded SQLite database to FILE while the app keeps running."""
    from app.backup import backup_sqlite

    settings = Settings()
    with domain_errors():
        pages = backup_sqlite(settings.database_url, file)
    out.print(f"backed up {pages} pages to {file}; restore by copying it to the database path")


@cli.command("demo")
def demo(
    if_empty: Annotated[
        bool, typer.Option(help="do nothing (exit 0) when the database has data")
    ] = False,
) -> None:
    """Seed an empty database with two demo projects (one labelled by demo annotators) and print
    the admin's and the annotator's logins."""
    from app.demo import DatabaseNotEmpty, seed_demo

    settings, db = open_database()
    migrate.upgrade(db.engine)
    try:
        with db.scope() as session:
            logins = seed_demo(session, settings)
    except DatabaseNotEmpty:
        message = (
            "the database already has data, so no demo was seeded "
            "(a new password: arbiter user passwd USERNAME)"
        )
        if if_empty:
            out.print(message)
            return
        raise fail(message) from None
    out.print("demo projects 'Demo' and 'Demo (labelled)' created. Logins:")
    for username, password in logins:
        out.print(f"  {username:<10} {password}")


def main() -> None:
    cli()
