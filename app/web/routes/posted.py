"""The labelling forms' free-named fields: rubric scores (``score__<where>__<aspect>``) and a
ranking's places (``place__<candidate id>``), read from the posted form as they come."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from app.annotation.judge import Invalid
from app.i18n import N_

SCORE = "score__"
PLACE = "place__"


async def posted_form(request: Request) -> dict[str, str]:
    """Every text field of the posted form (Starlette parses it once per request)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


PostedDep = Annotated[dict[str, str], Depends(posted_form)]


def scores_by(posted: dict[str, str]) -> dict[str, dict[str, Any]]:
    """``{where: {aspect: value}}`` from ``score__<where>__<aspect>`` fields; a value that is
    not a whole number stays text, for the rubric check to name."""
    found: dict[str, dict[str, Any]] = {}
    for key, value in posted.items():
        if key.startswith(SCORE) and value != "":
            where, _, aspect = key.removeprefix(SCORE).partition("__")
            found.setdefault(where, {})[aspect] = int(value) if _whole(value) else value
    return found


def side_scores(posted: dict[str, str]) -> dict[str, Any]:
    """A pair's scores by side (``left``, ``right``)."""
    return dict(scores_by(posted))


def places_of(posted: dict[str, str]) -> dict[int, int]:
    """The places as posted, by candidate id (those left empty are absent)."""
    places: dict[int, int] = {}
    for key, value in posted.items():
        number = key.removeprefix(PLACE)
        if key.startswith(PLACE) and _whole(number) and value and _whole(value):
            places[int(number)] = int(value)
    return places


def ranking_of(posted: dict[str, str], places: dict[int, int]) -> list[int]:
    """The order the places give, best first. Invalid when two responses share a place or
    one has none."""
    fields = [k for k in posted if k.startswith(PLACE)]
    if len(places) < len(fields):
        raise Invalid(N_("ranking: give every response a place"), field="ranking")
    if len(set(places.values())) < len(places):
        raise Invalid(N_("ranking: two responses have the same place"), field="ranking")
    return sorted(places, key=lambda cid: places[cid])


def _whole(value: str) -> bool:
    return value.lstrip("-").isdigit()
