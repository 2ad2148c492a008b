"""The Bradley–Terry fit on votes simulated from known strengths: the true order, interval
coverage near 95 %, agreement with an independent fit written here, and style control."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.stats import bradley_terry as bt

TRUE = np.array([1250.0, 1100.0, 1000.0, 900.0, 750.0])  # mean 1000, well separated


def simulate(seed: int, votes: int, truth: np.ndarray = TRUE, tie_rate: float = 0.1) -> bt.Votes:
    """Votes between random pairs drawn from the model: P(i beats j) = 1/(1+10^((Rj-Ri)/400)).
    A share of the votes are ties, and a tie counts half a win, so the remaining votes are won
    with the probability that keeps each side's expected score at that P."""
    rng = np.random.default_rng(seed)
    n = len(truth)
    a = rng.integers(0, n, votes)
    b = (a + rng.integers(1, n, votes)) % n
    p = 1 / (1 + 10 ** ((truth[b] - truth[a]) / 400))
    decisive = (p - tie_rate / 2) / (1 - tie_rate)
    outcome = (rng.random(votes) < decisive).astype(float)
    outcome[rng.random(votes) < tie_rate] = 0.5
    return bt.Votes([f"m{i}" for i in range(n)], a, b, outcome, np.ones(votes))


def reference_fit(votes: bt.Votes) -> np.ndarray:
    """Hunter's MM algorithm (Zermelo's iteration), ties as half a win for each side:
    p_i ← W_i / Σ_j N_ij / (p_i + p_j), then 400·log10(p) centred on 1000."""
    n = len(votes.models)
    wins = np.zeros(n)
    games = np.zeros((n, n))
    for a, b, y, w in zip(votes.a, votes.b, votes.outcome, votes.weight, strict=True):
        wins[a] += w * y
        wins[b] += w * (1 - y)
        games[a, b] += w
        games[b, a] += w
    p = np.ones(n)
    for _ in range(20_000):
        p = wins / (games / (p[:, None] + p[None, :])).sum(axis=1)
        p /= math.exp(np.log(p).mean())
    elo = 400 * np.log10(p)
    return elo - elo.mean() + 1000


def test_the_fit_puts_well_separated_models_in_their_true_order() -> None:
    fit = bt.fit(simulate(1, 3000))
    assert list(np.argsort(-fit.ratings)) == [0, 1, 2, 3, 4]
    assert fit.ratings.mean() == pytest.approx(1000)
    assert np.all(fit.ci_low < fit.ratings) and np.all(fit.ratings < fit.ci_high)
    assert np.max(np.abs(fit.ratings - TRUE)) < 40


def test_the_fit_matches_an_independent_reference() -> None:
    votes = simulate(2, 1500)
    assert bt.fit(votes, rounds=20).ratings == pytest.approx(reference_fit(votes), abs=0.5)


def test_intervals_cover_the_true_ratings_at_about_their_nominal_rate() -> None:
    covered = total = 0
    for seed in range(50):
        fit = bt.fit(simulate(100 + seed, 600), rounds=100, seed=seed)
        covered += int(np.sum((fit.ci_low <= TRUE) & (fit.ci_high >= TRUE)))
        total += len(TRUE)
    assert 0.88 <= covered / total <= 0.99, covered / total  # nominal 0.95 over 250 intervals


def test_the_same_votes_and_seed_give_the_same_intervals() -> None:
    votes = simulate(3, 800)
    first, again = bt.fit(votes, seed=7), bt.fit(votes, seed=7)
    assert np.array_equal(first.ci_low, again.ci_low)
    assert np.array_equal(first.ci_high, again.ci_high)
    assert not np.array_equal(first.ci_low, bt.fit(votes, seed=8).ci_low)


def test_identical_votes_grouped_with_a_weight_fit_as_the_votes_themselves() -> None:
    votes = simulate(4, 400)
    grouped = bt.Votes(votes.models, votes.a[:1].repeat(1), votes.b[:1], votes.outcome[:1],
                       np.array([1.0]))  # fmt: skip
    assert grouped.total == 1
    doubled = bt.Votes(votes.models, np.tile(votes.a, 2), np.tile(votes.b, 2),
                       np.tile(votes.outcome, 2), np.ones(800))  # fmt: skip
    weighted = bt.Votes(votes.models, votes.a, votes.b, votes.outcome, np.full(400, 2.0))
    assert bt.fit(doubled, rounds=20).ratings == pytest.approx(
        bt.fit(weighted, rounds=20).ratings, abs=1e-6
    )


def test_an_undefeated_model_keeps_a_finite_rating() -> None:
    votes = bt.Votes(["a", "b"], np.zeros(10, dtype=np.int64), np.ones(10, dtype=np.int64),
                     np.ones(10), np.ones(10))  # fmt: skip
    fit = bt.fit(votes, rounds=20)
    assert np.all(np.isfinite(fit.ratings)) and fit.ratings[0] > fit.ratings[1] + 400


def test_style_control_separates_a_length_bias_from_the_ratings() -> None:
    """Two equally strong models; annotators prefer the longer answer, and one model writes
    longer answers. Without style control it looks better; with it, the two are even."""
    rng = np.random.default_rng(5)
    votes = 4000
    a = np.zeros(votes, dtype=np.int64)
    b = np.ones(votes, dtype=np.int64)
    diff = rng.normal(0.2, 0.2, votes)  # model 0 tends to answer longer
    p = 1 / (1 + np.exp(-1.5 * diff / 0.2))  # the longer answer is preferred
    outcome = (rng.random(votes) < p).astype(float)
    data = bt.Votes(["long", "short"], a, b, outcome, np.ones(votes), diff)
    plain, styled = bt.fit(data, rounds=50), bt.fit(data, rounds=50, style=True)
    assert plain.ratings[0] - plain.ratings[1] > 100
    assert abs(styled.ratings[0] - styled.ratings[1]) < 40
    assert styled.length_coefficient is not None and styled.length_coefficient > 100


def test_predicted_probabilities_follow_the_rating_difference() -> None:
    p = bt.predicted(np.array([1200.0, 1000.0]))
    assert p[0, 1] == pytest.approx(1 / (1 + 10 ** (-200 / 400)))
    assert p[0, 1] + p[1, 0] == pytest.approx(1)
