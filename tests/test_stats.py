"""Dashboard figures against hand-computed fixtures, and Krippendorff's alpha against his own
worked example."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from app.models import Project
from app.stats.agreement import agreement, majority_by_user, margins_of, nominal_alpha
from app.stats.annotators import Bias, binomial_two_sided_p
from app.stats.dashboard import ACTIVITY_DAYS, build_dashboard
from tests.factories import make_annotator
from tests.factories_admin import judge, project_with_comparisons
from tests.factories_stats import hand_computed_project


def test_krippendorffs_nominal_example_gives_0_743() -> None:
    """Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the nominal case:
    four coders, twelve units, values 1-5, some missing (None)."""
    n = None
    coders = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
        [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n],
    ]
    units = [[v for v in unit if v is not None] for unit in zip(*coders, strict=True)]
    assert nominal_alpha(margins_of(units)) == pytest.approx(0.743, abs=5e-4)


def test_alpha_is_1_for_perfect_agreement_and_undefined_without_variation() -> None:
    assert nominal_alpha(margins_of([["a", "a"], ["b", "b"]])) == pytest.approx(1.0)
    assert nominal_alpha(margins_of([["a", "a"], ["a", "a"]])) is None
    assert nominal_alpha(margins_of([["a"]])) is None


@pytest.mark.parametrize(
    ("k", "n", "p"),
    [(9, 10, 0.021484375), (1, 10, 0.021484375), (5, 10, 1.0), (0, 0, 1.0), (17, 20, 0.0025768)],
)
def test_the_exact_binomial_test(k: int, n: int, p: float) -> None:
    assert binomial_two_sided_p(k, n) == pytest.approx(p, rel=1e-4)


def test_bias_is_flagged_only_on_enough_data() -> None:
    assert not Bias(10, 10).flagged, "10 of 10 is too little data"
    assert Bias(20, 17).flagged
    assert not Bias(20, 16).flagged  # p = 0.012
    assert Bias(100, 36).flagged  # far to the right is bias too
    assert not Bias(100, 55).flagged


@pytest.fixture
def fixture(session: Session) -> Project:
    return hand_computed_project(session)


def test_progress_counts_up_to_the_overlap(session: Session, fixture: Project) -> None:
    board = build_dashboard(session, fixture)
    # c1 has 3 judgements (2 count), c2 2, c3 2, c4 1, c5 3 (2 count): 9 of 5 × 2.
    assert (board.progress.done, board.progress.needed, board.progress.judgements) == (9, 10, 11)
    assert board.queue_open == 1  # c4


def test_progress_over_time(session: Session, fixture: Project) -> None:
    points = [
        (p.day.day, p.counted, p.cumulative) for p in build_dashboard(session, fixture).timeline
    ]
    # Nov 1: ann c1, bob c1, ann c2, ann c3 all count. Nov 3: cy's c1 and c5 are third: not.
    assert points == [(1, 4, 4), (2, 0, 4), (3, 5, 9)]


def test_judgements_per_annotator_per_day(session: Session, fixture: Project) -> None:
    activity = build_dashboard(session, fixture).activity
    assert activity.users == ["ann", "bob", "cy"]
    assert len(activity.rows) == ACTIVITY_DAYS
    assert activity.rows[-1].day == date(2026, 11, 3)
    by_day = {r.day.day: r.counts for r in activity.rows[-3:]}
    assert by_day == {1: [3, 1, 0], 2: [0, 0, 0], 3: [2, 3, 2]}
    assert sum(r.total for r in activity.rows) == 11


def test_per_annotator_rates_medians_and_position_bias(session: Session, fixture: Project) -> None:
    board = build_dashboard(session, fixture)
    rows = {r.username: r for r in board.annotators}
    assert {u: r.verdicts.judgements for u, r in rows.items()} == {"ann": 5, "bob": 4, "cy": 2}
    assert rows["ann"].verdicts.tie_rate == pytest.approx(1 / 5)
    assert rows["ann"].verdicts.both_bad_rate == pytest.approx(1 / 5)
    assert rows["bob"].verdicts.tie_rate == pytest.approx(1 / 4)
    # medians: ann 10 20 [30] 40 50; bob 5 [15 25] 100; cy 7 (one untimed)
    assert {u: r.median_seconds for u, r in rows.items()} == {"ann": 30, "bob": 20, "cy": 7}
    # left picks: ann c1 (a on left) only of 3; bob c2, c5 of 3; cy both
    assert {u: (r.bias.left, r.bias.decisive) for u, r in rows.items()} == {
        "ann": (1, 3), "bob": (2, 3), "cy": (2, 2)
    }  # fmt: skip
    overall = board.overall
    assert overall.verdicts.tie_rate == pytest.approx(2 / 11)
    assert overall.verdicts.both_bad_rate == pytest.approx(1 / 11)
    assert overall.median_seconds == pytest.approx(22.5)  # 5 7 10 15 [20 25] 30 40 50 100
    assert overall.bias.share == pytest.approx(5 / 8)


def test_agreement_figures(session: Session, fixture: Project) -> None:
    found = agreement(session, fixture)
    # units judged twice or more: c1 (a a a), c2 (b a), c3 (tie tie), c5 (a b a)
    assert (found.comparisons, found.judgements) == (4, 10)
    # agreeing ordered pairs 6 + 0 + 2 + 2 of 6 + 2 + 2 + 6
    assert found.percent == pytest.approx(10 / 16)
    # n = 10; n_a 6, n_b 2, n_tie 2; o_aa 3 + 1, o_tie,tie 2: α = 1 - 9 × 4 / (100 - 44)
    assert found.alpha == pytest.approx(20 / 56)
    units = [["a", "a", "a"], ["b", "a"], ["tie", "tie"], ["a", "b", "a"]]
    assert found.alpha == pytest.approx(nominal_alpha(margins_of(units)))


def test_agreement_with_the_majority_of_the_others(session: Session, fixture: Project) -> None:
    names = {r.username: r for r in build_dashboard(session, fixture).annotators}
    # ann: c1 agree, c2 disagree, c3 agree, c5 tie among the others (a vs b): left out
    # bob: c1 agree, c2 disagree, c3 agree, c5 disagree (others a, a)
    # cy: c1 agree, c5 left out
    assert {u: (r.agreed, r.disagreed) for u, r in names.items()} == {
        "ann": (2, 1), "bob": (2, 2), "cy": (1, 0)
    }  # fmt: skip
    assert sorted(majority_by_user(session, fixture).values()) == [(1, 0), (2, 1), (2, 2)]


def test_overlap_1_has_no_agreement_section(session: Session) -> None:
    project, comparisons = project_with_comparisons(session, 1, overlap=1)
    judge(session, comparisons[0], make_annotator(session), "a")
    board = build_dashboard(session, project)
    assert board.agreement is None
    assert board.annotators[0].majority_share is None


def test_an_empty_project_has_an_empty_dashboard(session: Session) -> None:
    project, _ = project_with_comparisons(session, 2, overlap=2)
    board = build_dashboard(session, project)
    assert (board.timeline, board.activity.rows, board.annotators) == ([], [], [])
    assert board.overall.median_seconds is None
    assert board.agreement is not None
    assert (board.agreement.comparisons, board.agreement.alpha) == (0, None)
