"""Bradley–Terry ratings from pairwise votes, with bootstrap intervals: numbers in, numbers out.

The model: model ``i`` beats model ``j`` with probability ``1 / (1 + 10 ** ((R_j - R_i) / 400))``,
the scale of Chatbot Arena's leaderboard (base 10, scale 400, ratings centred on 1000). A tie
is half a win for each side, which is what a logistic loss with the label 0.5 says. The
ratings are the maximum of the likelihood, found by Newton's method (scipy) with the exact
gradient and Hessian; a weak penalty (``RIDGE``, a wide Gaussian prior) keeps a model that won
(or lost) every battle at a finite rating.

Identical votes are counted once with a weight, so the bootstrap over votes is a multinomial
draw of those weights (the same as resampling the votes with replacement, far cheaper), from a
seeded generator: the same votes and seed give the same intervals.

Style control (optional) adds one covariate per vote, the normalised length difference
``(len_a - len_b) / (len_a + len_b)`` scaled to unit root mean square, fitted jointly with the
ratings as Arena's style control does: the ratings then say how the models compare at equal
length, and the coefficient how much a longer answer is preferred for its length alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import expit
from threadpoolctl import threadpool_limits

BASE = 10.0
SCALE = 400.0
INIT = 1000.0
RIDGE = 0.05
"""Weight of the penalty on the squared natural parameters: keeps an undefeated model finite,
and with style control a length difference that moves with the models (one always answers
longer) split between them instead of running off."""
ALPHA = math.log(BASE)

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Votes:
    """Votes as arrays, one entry per kind of vote: the two models (indices into ``models``),
    the outcome for ``a`` (1 win, 0.5 tie, 0 loss), how many votes of that kind there are, and
    (for style control) the normalised length difference ``(len_a - len_b) / (len_a + len_b)``."""

    models: list[str]
    a: Ints
    b: Ints
    outcome: Floats
    weight: Floats
    length_diff: Floats | None = None

    @property
    def total(self) -> int:
        return int(self.weight.sum())


@dataclass(frozen=True)
class Fit:
    """Ratings on the Elo-like scale, their 2.5 % and 97.5 % bootstrap quantiles, and the
    style coefficient (Elo points per unit of the scaled length feature) if fitted."""

    ratings: Floats
    ci_low: Floats
    ci_high: Floats
    length_coefficient: float | None = None


def length_feature(diff: Floats, weight: Floats) -> Floats:
    """The length difference scaled to unit root mean square over the votes (0 if all zero).

    Not centred: which candidate is ``a`` follows import order, so a mean difference is
    itself length (one model answering longer), and centring would hand it to the ratings.
    """
    spread = math.sqrt(float(np.average(diff**2, weights=weight)))
    return diff / spread if spread > 0 else np.zeros_like(diff)


def _loss(
    params: Floats, a: Ints, b: Ints, y: Floats, w: Floats, x: Floats | None, n: int
) -> tuple[float, Floats]:
    """Weighted negative log-likelihood (ties as half wins) and its gradient."""
    ratings = params[:n]
    z = ALPHA * (ratings[a] - ratings[b])
    if x is not None:
        z = z + x * params[n]
    # -log σ(z) = log(1 + e^-z), -log(1 - σ(z)) = log(1 + e^z), both computed stably
    loss = float(np.sum(w * (y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z))))
    loss += RIDGE * float(params @ params)
    dz = w * (expit(z) - y)
    grad = np.zeros_like(params)
    grad[:n] = ALPHA * (np.bincount(a, dz, n) - np.bincount(b, dz, n)) + 2 * RIDGE * ratings
    if x is not None:
        grad[n] = float(x @ dz) + 2 * RIDGE * params[n]
    return loss, grad


def _design(a: Ints, b: Ints, x: Floats | None, n: int) -> Floats:
    """One row per kind of vote: +ln 10 for model a, -ln 10 for model b (and the feature)."""
    rows = np.arange(a.size)
    design = np.zeros((a.size, n + (x is not None)))
    design[rows, a] = ALPHA
    design[rows, b] = -ALPHA
    if x is not None:
        design[:, n] = x
    return design


def _hessian(
    params: Floats, a: Ints, b: Ints, y: Floats, w: Floats, x: Floats | None, n: int
) -> Floats:
    design = _design(a, b, x, n)
    s = expit(design @ params)
    curvature: Floats = design.T @ (design * (w * s * (1 - s))[:, None])
    return curvature + 2 * RIDGE * np.eye(params.size)


def _fit_natural(
    a: Ints, b: Ints, y: Floats, w: Floats, x: Floats | None, n: int
) -> tuple[Floats, float | None]:
    """Natural ratings (log10 units, mean 0 over the models that played) and the style
    coefficient (logit units). Newton's method with the exact Hessian (scipy's Newton-CG):
    a handful of steps, on small matrices, whatever the number of votes."""
    start = np.zeros(n + (x is not None))
    result = minimize(_loss, start, args=(a, b, y, w, x, n), jac=True, hess=_hessian,
                      method="Newton-CG", options={"maxiter": 200, "xtol": 1e-10})  # fmt: skip
    seen = (np.bincount(a, w, n) + np.bincount(b, w, n)) > 0
    ratings = result.x[:n] - result.x[:n][seen].mean()
    return ratings, (float(result.x[n]) if x is not None else None)


def _elo(natural: Floats) -> Floats:
    return SCALE * natural + INIT


def _grouped(votes: Votes, style: bool) -> tuple[Ints, Ints, Floats, Floats | None, Floats]:
    """Identical votes once, with their count as weight (with style, the feature is part of
    what makes votes identical)."""
    columns = [votes.a, votes.b, votes.outcome * 2]
    if style:
        if votes.length_diff is None:
            raise ValueError("style control needs the votes' length differences")
        columns.append(length_feature(votes.length_diff, votes.weight))
    rows, inverse = np.unique(np.column_stack(columns), axis=0, return_inverse=True)
    table: Floats = rows.astype(np.float64)
    weights: Floats = np.bincount(inverse.ravel(), votes.weight, len(table)).astype(np.float64)
    a, b = table[:, 0].astype(np.int64), table[:, 1].astype(np.int64)
    x = table[:, 3] if style else None
    return a, b, table[:, 2] / 2, x, weights


def fit(votes: Votes, *, rounds: int = 200, seed: int = 0, style: bool = False) -> Fit:
    """The ratings of ``votes.models`` with 95 % bootstrap intervals over ``rounds`` resamples.

    A model absent from a resample has no rating in it; its quantiles come from the others.

    BLAS runs one thread for the fit: its matrices are a few models wide, and on a busy
    machine the default pool (one thread per core) spent more time waiting for its threads
    than computing (8.6 s against 0.17 s at 100,000 votes; docs/PERFORMANCE.md, Leaderboard).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(votes, rounds, seed, style)


def _fit(votes: Votes, rounds: int, seed: int, style: bool) -> Fit:
    n = len(votes.models)
    a, b, y, x, w = _grouped(votes, style)
    natural, coefficient = _fit_natural(a, b, y, w, x, n)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(int(w.sum()), w / w.sum(), size=rounds).astype(np.float64)
    samples = np.empty((rounds, n))
    for i, weights in enumerate(draws):
        ratings, _ = _fit_natural(a, b, y, weights, x, n)
        seen = (np.bincount(a, weights, n) + np.bincount(b, weights, n)) > 0
        samples[i] = np.where(seen, _elo(ratings), np.nan)
    low, high = np.nanpercentile(samples, [2.5, 97.5], axis=0)
    length = None if coefficient is None else coefficient / ALPHA * SCALE
    return Fit(_elo(natural), low, high, length)


def predicted(ratings: Floats) -> Floats:
    """``P[i, j]``: the fitted probability that model ``i`` beats model ``j``."""
    diff = ratings[None, :] - ratings[:, None]
    return 1.0 / (1.0 + BASE ** (diff / SCALE))
