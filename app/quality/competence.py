"""Dawid–Skene: how competent each annotator is, and what each item's answer most likely is.

The model (Dawid & Skene, 1979, "Maximum likelihood estimation of observer error-rates using
the EM algorithm", Applied Statistics 28(1), 20–28): every item has one true class ``j``,
drawn with probability ``p[j]``; annotator ``k`` answers ``l`` to an item of class ``j`` with
probability ``pi[k, j, l]`` (their confusion matrix), independently of the others. Expectation
maximisation fits ``p`` and ``pi`` from the answers alone:

1. start from each item's share of answers per class (the paper's equation 3.1);
2. M-step: ``p[j]`` is the mean of the items' class weights ``T[i, j]``, and ``pi[k, j, l]``
   the weighted count of ``k`` answering ``l`` where the class is ``j``, normalised per row
   (equations 2.3 and 2.4), plus ``smoothing`` in each cell so that one slip is not read as
   "never right";
3. E-step: ``T[i, j] ∝ p[j] · Π_k Π_l pi[k, j, l] ^ n[i, k, l]`` (equation 2.5), in logs;
4. repeat until ``p`` and ``pi`` move by less than ``tol`` (or ``max_iter``).

An annotator's **competence** is the probability that they answer an item correctly,
``Σ_j p[j] · pi[k, j, j]``: 1 for someone always right, about ``1/K``-ish for a coin.

Here an item is a comparison, a class one of the verdicts ``a``, ``b``, ``tie``, ``both_bad``,
an annotator a user; crowd-kit implements the same model but brings pandas and a deep stack
of dependencies for what is a few array operations, so the EM lives here, with numpy.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Fit:
    items: list[Hashable]
    workers: list[Hashable]
    classes: list[Hashable]
    priors: Floats
    """``p[j]``: the share of items of each class."""
    confusion: Floats
    """``pi[k, j, l]``: worker k answers l to an item of class j."""
    posteriors: Floats
    """``T[i, j]``: the probability that item i is of class j."""
    iterations: int

    def competence(self) -> dict[Hashable, float]:
        diagonal = np.einsum("kjj->kj", self.confusion)
        return {w: float(diagonal[k] @ self.priors) for k, w in enumerate(self.workers)}

    def decided(self) -> dict[Hashable, tuple[Hashable, float]]:
        """Per item: its most probable class and that probability."""
        best = self.posteriors.argmax(axis=1)
        return {
            item: (self.classes[int(best[i])], float(self.posteriors[i, best[i]]))
            for i, item in enumerate(self.items)
        }


def fit(
    answers: Iterable[tuple[Hashable, Hashable, Hashable]],
    *,
    classes: Sequence[Hashable] | None = None,
    smoothing: float = 0.01,
    tol: float = 1e-6,
    max_iter: int = 200,
) -> Fit:
    """Fit the model to ``(item, worker, class)`` answers (a worker may answer an item more
    than once). ``classes`` fixes their order; by default the sorted classes seen.

    Kept as one row per answer rather than the paper's items × workers × classes counts, so
    memory grows with the answers, not with items times workers."""
    triples = list(answers)
    items = sorted({t[0] for t in triples}, key=_order)
    workers = sorted({t[1] for t in triples}, key=_order)
    labels = list(classes) if classes is not None else sorted({t[2] for t in triples}, key=_order)
    data = _Answers.of(triples, items, workers, labels)
    weights = data.initial()
    priors, confusion = data.m_step(weights, smoothing)
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        weights = data.e_step(priors, confusion)
        new_priors, new_confusion = data.m_step(weights, smoothing)
        moved = np.abs(new_priors - priors).sum() + np.abs(new_confusion - confusion).sum()
        priors, confusion = new_priors, new_confusion
        if moved < tol:
            break
    return Fit(items, workers, labels, priors, confusion, weights, iterations)


def _order(value: Hashable) -> tuple[str, str]:
    return (type(value).__name__, f"{value:>20}" if isinstance(value, int) else str(value))


@dataclass(frozen=True)
class _Answers:
    """Every answer as three parallel index arrays: item, worker, class."""

    item: NDArray[np.intp]
    worker: NDArray[np.intp]
    label: NDArray[np.intp]
    shape: tuple[int, int, int]
    """(items, workers, classes)"""

    @classmethod
    def of(
        cls,
        triples: list[tuple[Hashable, Hashable, Hashable]],
        items: list[Hashable],
        workers: list[Hashable],
        labels: list[Hashable],
    ) -> _Answers:
        at = [{v: i for i, v in enumerate(values)} for values in (items, workers, labels)]
        index = np.array(
            [(at[0][i], at[1][w], at[2][c]) for i, w, c in triples], dtype=np.intp
        ).reshape(-1, 3)
        return cls(index[:, 0], index[:, 1], index[:, 2], (len(items), len(workers), len(labels)))

    def initial(self) -> Floats:
        """Each item's share of answers per class (the paper's equation 3.1)."""
        n_items, _, n_classes = self.shape
        shares: Floats = np.zeros((n_items, n_classes))
        np.add.at(shares, (self.item, self.label), 1.0)
        totals = shares.sum(axis=1, keepdims=True)
        result: Floats = np.divide(shares, totals, out=np.zeros_like(shares), where=totals > 0)
        return result

    def m_step(self, weights: Floats, smoothing: float) -> tuple[Floats, Floats]:
        _, n_workers, n_classes = self.shape
        priors: Floats = weights.mean(axis=0) if len(weights) else np.zeros(n_classes)
        confusion: Floats = np.full((n_workers, n_classes, n_classes), float(smoothing))
        for j in range(n_classes):
            np.add.at(confusion[:, j, :], (self.worker, self.label), weights[self.item, j])
        rows = confusion.sum(axis=2, keepdims=True)
        normalised: Floats = np.divide(
            confusion, rows, out=np.zeros_like(confusion), where=rows > 0
        )
        return priors, normalised

    def e_step(self, priors: Floats, confusion: Floats) -> Floats:
        n_items, _, n_classes = self.shape
        with np.errstate(divide="ignore"):
            log_confusion = np.log(confusion)
            log_priors = np.log(priors)
        # An answer the model gives probability 0 rules its class out (exp(-1e300) is 0).
        log_confusion = np.where(np.isfinite(log_confusion), log_confusion, -1e300)
        log_priors = np.where(np.isfinite(log_priors), log_priors, -1e300)
        scores: Floats = np.zeros((n_items, n_classes))
        np.add.at(scores, self.item, log_confusion[self.worker, :, self.label])
        scores += log_priors
        scores -= scores.max(axis=1, keepdims=True)
        weights: Floats = np.exp(scores)
        result: Floats = weights / weights.sum(axis=1, keepdims=True)
        return result
