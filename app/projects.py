"""Projects: creation, lookup by name or slug, membership, and their counts."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, delete, exists, func, or_, select, true, union
from sqlalchemy.orm import Session

from app.annotation.rubric import Aspect, parse_rubric
from app.errors import Conflict, DomainError, NotFound
from app.i18n import N_
from app.models import (
    Candidate,
    Comparison,
    Judgement,
    Project,
    ProjectMember,
    Prompt,
    Protocol,
    Rating,
    RationaleMode,
    Role,
    Sampling,
    User,
)
from app.text import WholeNumber

MAX_OVERLAP = 50


class ProjectSettings(BaseModel):
    """Everything an admin chooses about a project: the API body and the settings form."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="Unique; the slug derives from it.")
    guidelines: str = Field("", max_length=100_000, description="Markdown shown to annotators.")
    # Numbers and switches are strict: "3" or true for a count, "yes" for a switch, is a 422,
    # not a guess (the settings form turns its text into numbers itself).
    overlap: WholeNumber = Field(
        1, ge=1, le=MAX_OVERLAP, description="Judgements wanted per comparison."
    )
    allow_tie: bool = Field(True, strict=True, description="Offer the tie verdict.")
    allow_both_bad: bool = Field(True, strict=True, description="Offer the both-bad verdict.")
    rationale: RationaleMode = Field(RationaleMode.OFF, description="Ask for a written reason.")
    rate_singletons: bool = Field(
        False,
        strict=True,
        description="Good/bad per response (for KTO); a one-candidate prompt is rated.",
    )
    protocol: Protocol = Field(
        Protocol.PAIRWISE, description="pairwise, rating or ranking; fixed once work exists."
    )
    rubric: list[Aspect] = Field(
        default_factory=list, description="Aspects scored for each response shown."
    )
    max_strength: WholeNumber = Field(
        2, ge=2, le=3, description="2: slightly/much; 3: HelpSteer3's ±3."
    )
    sampling: Sampling = Field(
        Sampling.QUEUE, description="queue: import order; active: least-voted model pair first."
    )
    gold_rate: float = Field(
        0.0, ge=0, le=0.5, description="Share of leases that are gold pairs (known answers)."
    )
    repeat_rate: float = Field(
        0.0, ge=0, le=0.2, description="Share of leases that repeat a judged pair, sides swapped."
    )
    too_fast_ms: int = Field(
        3000, ge=0, le=600_000, description="Flag annotators whose median time is below this."
    )

    @field_validator("name")
    @classmethod
    def _stripped(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(N_("a project needs a name"))
        return value.strip()

    @field_validator("rubric", mode="before")
    @classmethod
    def _rubric(cls, value: Any) -> list[Aspect]:
        return parse_rubric(value)

    @classmethod
    def of(cls, project: Project) -> ProjectSettings:
        return cls.model_validate({name: getattr(project, name) for name in cls.model_fields})


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:80] or "project"


def create_project(
    session: Session, name: str, *, overlap: int = 1, guidelines: str = "", **options: Any
) -> Project:
    name = name.strip()
    if not name:
        raise DomainError(N_("a project needs a name"))
    if overlap < 1:
        raise DomainError(N_("overlap is at least 1"))
    if session.scalar(select(Project.id).where(Project.name == name)) is not None:
        raise Conflict(N_("project %(name)s already exists"), name=repr(name))
    _refuse_anothers_slug(session, name)
    base = slug = slugify(name)
    n = 1
    while session.scalar(select(Project.id).where(Project.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    project = Project(name=name, slug=slug, overlap=overlap, guidelines=guidelines, **options)
    session.add(project)
    session.flush()
    return project


def _refuse_anothers_slug(session: Session, name: str, project: Project | None = None) -> None:
    """A name that is another project's slug would make that slug ambiguous wherever a
    project is named (paths, ``--project``): refused (409)."""
    other = session.scalar(select(Project).where(Project.slug == name))
    if other is not None and (project is None or other.id != project.id):
        raise Conflict(
            N_("name: %(name)s is the slug of project %(other)s; choose another name"),
            field="name",
            name=repr(name),
            other=repr(other.name),
        )


def create_project_with(session: Session, settings: ProjectSettings) -> Project:
    return create_project(session, **settings.model_dump())


def update_project(session: Session, project: Project, settings: ProjectSettings) -> None:
    """Apply new settings; the slug stays, so links keep working after a rename."""
    taken = select(Project.id).where(Project.name == settings.name, Project.id != project.id)
    if session.scalar(taken) is not None:
        raise Conflict(N_("project %(name)s already exists"), name=repr(settings.name))
    _refuse_anothers_slug(session, settings.name, project)
    if settings.protocol is not project.protocol and protocol_fixed(session, project):
        raise Conflict(
            N_(
                "protocol: fixed once a batch is imported (make a second project over the same "
                "file for another protocol)"
            ),
            field="protocol",
        )
    for name, value in settings.model_dump().items():
        setattr(project, name, value)
    session.flush()


def protocol_fixed(session: Session, project: Project) -> bool:
    """Whether the project holds pairs already (a batch was imported): its protocol stays."""
    return session.scalar(select(exists().where(Comparison.project_id == project.id))) or False


def list_projects(session: Session) -> list[Project]:
    return list(session.scalars(select(Project).order_by(Project.name)))


def get_project(session: Session, name_or_slug: str) -> Project:
    """The project with this slug, else the one with this name: a slug always means its own
    project, even where an older project's name spells it."""
    project = session.scalar(select(Project).where(Project.slug == name_or_slug))
    if project is None:
        project = session.scalar(select(Project).where(Project.name == name_or_slug))
    if project is None:
        raise NotFound(f"no project named {name_or_slug!r}")
    return project


def add_member(session: Session, project: Project, user: User) -> None:
    if session.get(ProjectMember, (project.id, user.id)) is None:
        session.add(ProjectMember(project_id=project.id, user_id=user.id))
        session.flush()


def remove_member(session: Session, project: Project, user: User) -> None:
    session.execute(
        delete(ProjectMember).where(
            ProjectMember.project_id == project.id, ProjectMember.user_id == user.id
        )
    )


def members(session: Session, project: Project) -> list[User]:
    stmt = (
        select(User)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .where(ProjectMember.project_id == project.id)
        .order_by(User.username)
    )
    return list(session.scalars(stmt))


def member_names(session: Session, project: Project) -> list[str]:
    return [user.username for user in members(session, project)]


def project_counts(session: Session, project: Project) -> dict[str, int]:
    """How much a project holds; one aggregate query per table."""
    pid = project.id
    comparisons = select(Comparison.id).where(Comparison.project_id == pid)
    candidates = (
        select(Candidate.id).join(Prompt, Prompt.id == Candidate.prompt_id)
        .where(Prompt.project_id == pid)
    )  # fmt: skip
    count = func.count()
    return {
        "prompts": session.scalar(select(count).where(Prompt.project_id == pid)) or 0,
        "candidates": session.scalar(select(count).select_from(candidates.subquery())) or 0,
        "comparisons": session.scalar(select(count).select_from(comparisons.subquery())) or 0,
        "judgements": session.scalar(select(count).where(Judgement.comparison_id.in_(comparisons)))
        or 0,
        "ratings": session.scalar(select(count).where(Rating.candidate_id.in_(candidates))) or 0,
    }


def project_summary(session: Session, project: Project) -> dict[str, Any]:
    """What `arbiter project show --json` and `GET /api/v1/projects/{slug}` print."""
    return {
        "name": project.name,
        "slug": project.slug,
        "overlap": project.overlap,
        "allow_tie": project.allow_tie,
        "allow_both_bad": project.allow_both_bad,
        "rationale": project.rationale.value,
        "rate_singletons": project.rate_singletons,
        "protocol": project.protocol.value,
        "rubric": project.rubric,
        "max_strength": project.max_strength,
        "sampling": project.sampling.value,
        "gold_rate": project.gold_rate,
        "repeat_rate": project.repeat_rate,
        "too_fast_ms": project.too_fast_ms,
        "members": member_names(session, project),
        **project_counts(session, project),
    }


def _open_or_member(user_id: ColumnElement[int] | int) -> ColumnElement[bool]:
    """Projects the user ``user_id`` may label: those with no members, and those listing them."""
    has_members = exists().where(ProjectMember.project_id == Project.id)
    is_member = exists().where(
        ProjectMember.project_id == Project.id, ProjectMember.user_id == user_id
    )
    return or_(~has_members, is_member)


def may_annotate_clause(role: Role, user_id: ColumnElement[int]) -> ColumnElement[bool]:
    """The policy as a SQL condition on ``Project`` for a user of ``role`` whose id is
    ``user_id`` (a bound parameter), so a query can fetch a project and whether the user may
    label it in one round trip."""
    if role is Role.ADMIN:
        return true()
    return _open_or_member(user_id)


def annotatable_projects(session: Session, user: User) -> list[Project]:
    """The projects ``user`` may label, by name."""
    stmt = select(Project).order_by(Project.name)
    if user.role is not Role.ADMIN:
        stmt = stmt.where(_open_or_member(user.id))
    return list(session.scalars(stmt))


def labeller_names(session: Session, project: Project) -> list[str]:
    """Everyone who judged or rated in ``project``, by name: the people an export may leave out."""
    judged = (
        select(Judgement.user_id)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(Comparison.project_id == project.id)
    )
    rated = (
        select(Rating.user_id)
        .join(Candidate, Candidate.id == Rating.candidate_id)
        .join(Prompt, Prompt.id == Candidate.prompt_id)
        .where(Prompt.project_id == project.id)
    )
    ids = union(judged, rated).subquery()
    stmt = select(User.username).where(User.id.in_(select(ids.c[0]))).order_by(User.username)
    return list(session.scalars(stmt))


def member_candidates(session: Session, project: Project) -> list[User]:
    """Active annotators who are not members of ``project`` yet, by name."""
    is_member = exists().where(
        ProjectMember.project_id == project.id, ProjectMember.user_id == User.id
    )
    stmt = (
        select(User)
        .where(User.is_active, User.role == Role.ANNOTATOR, ~is_member)
        .order_by(User.username)
    )
    return list(session.scalars(stmt))
