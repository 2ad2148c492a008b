"""The admin item browser: a project's pairs with their votes, and settling one of them.

``/admin/projects/{slug}/items`` lists pairs by batch with filters; an item's page shows the
conversation, both candidates, every vote (annotator pseudonym, side shown, strength,
rationale, time) and every flag, with the controls to adjudicate it and to mark it gold.
Each action is a plain form post answered by a redirect back to the item (303).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import Response

from app.batches import list_batches
from app.exports.pseudonyms import pseudonymizer
from app.i18n import N_, Text
from app.models import Verdict
from app.projects import labeller_names
from app.quality import review
from app.quality.browse import Filters, Item, Page, browse, item_detail
from app.quality.gold import set_gold
from app.web.deps import SessionDep, SettingsDep
from app.web.guards import AdminDep, RowId
from app.web.routes.admin.common import admin_router, done, render
from app.web.routes.loaders import ProjectDep

router = admin_router()
VERDICTS = [v.value for v in Verdict]
VERDICT_NAMES = {Verdict.A: N_("A better"), Verdict.B: N_("B better"), Verdict.TIE: N_("Tie"),
                 Verdict.BOTH_BAD: N_("Both bad")}  # fmt: skip


@dataclass(frozen=True)
class ItemsView:
    """What the item list shows."""

    filters: Filters
    page: Page
    batches: list[str]
    annotators: list[str]
    agreement_text: str = ""
    """The agreement filter as typed (shown again with its error)."""
    agreement_error: str | None = None


@router.get("/projects/{slug}/items")
def item_list(
    request: Request, session: SessionDep, project: ProjectDep,
    batch: str = "", disputed: bool = False, flagged: bool = False, gold: bool = False,
    agreement_below: str = "", annotator: str = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:  # fmt: skip
    bar, error = _share(agreement_below)
    filters = Filters(batch or None, disputed, bar, flagged, gold, annotator or None, page)
    view = ItemsView(
        filters,
        browse(session, project, filters),
        [b.name for b in list_batches(session, project)],
        labeller_names(session, project),
        agreement_below.strip(),
        error,
    )
    status = 422 if error else 200
    return render(request, "items.html", {"project": project, "view": view}, status_code=status)


def _share(text: str) -> tuple[float | None, str | None]:
    """A share from 0 to 1 typed in the filter (blank: no filter), or why it is not one."""
    if not text.strip():
        return None, None
    try:
        value = float(text)
    except ValueError:
        return None, N_("a share from 0 to 1, such as 0.67")
    if not 0 <= value <= 1:
        return None, N_("a share from 0 to 1, such as 0.67")
    return value, None


@router.get("/projects/{slug}/items/{comparison_id}")
def item_page(
    request: Request, session: SessionDep, settings: SettingsDep, project: ProjectDep,
    comparison_id: RowId,
) -> Response:  # fmt: skip
    pseudonym = pseudonymizer(settings.resolved_secret_key(), project.id)
    item: Item = item_detail(session, project, comparison_id, pseudonym)
    context = {"project": project, "item": item, "verdicts": VERDICTS}
    return render(request, "item.html", context)


@router.post("/projects/{slug}/items/{comparison_id}/adjudication")
def adjudicate(
    request: Request, session: SessionDep, project: ProjectDep, admin: AdminDep,
    comparison_id: RowId, verdict: Annotated[Verdict, Form()],
    note: Annotated[str, Form(max_length=review.MAX_NOTE)] = "",
) -> Response:  # fmt: skip
    comparison = review.get_comparison(session, comparison_id, project)
    review.adjudicate(session, comparison, admin, verdict, note)
    url = f"/admin/projects/{project.slug}/items/{comparison.id}"
    return done(
        request,
        url,
        Text(
            N_("Adjudicated: %(verdict)s. Every export now uses it."),
            verdict=Text(VERDICT_NAMES[verdict]),
        ),
    )


@router.post("/projects/{slug}/items/{comparison_id}/gold")
def mark_gold(
    request: Request, session: SessionDep, project: ProjectDep, comparison_id: RowId,
    verdict: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    comparison = review.get_comparison(session, comparison_id, project)
    answer = Verdict(verdict) if verdict in VERDICTS else None
    set_gold(session, comparison, answer)
    message = (
        Text(N_("Gold answer: %(verdict)s."), verdict=Text(VERDICT_NAMES[answer])) if answer
        else N_("No longer a gold pair.")
    )  # fmt: skip
    return done(request, f"/admin/projects/{project.slug}/items/{comparison.id}", message)
