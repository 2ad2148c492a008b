"""Dawid–Skene EM against the paper's own example: Table 1 of Dawid & Skene (1979), 45
patients rated by 5 anaesthetists into 4 classes (the first rated each patient three times).

The paper reports estimated class proportions of 0.40, 0.42, 0.11 and 0.07 and, for observer
1, the error-rate matrix checked below (two decimals)."""

from __future__ import annotations

import numpy as np
import pytest

from app.quality.competence import fit

# {patient: {observer: [classes given]}}, transcribed from the paper's Table 1.
TABLE_1 = {
    1: {1: [1, 1, 1], 2: [1], 3: [1], 4: [1], 5: [1]},
    2: {1: [3, 3, 3], 2: [4], 3: [3], 4: [3], 5: [4]},
    3: {1: [1, 1, 2], 2: [2], 3: [1], 4: [2], 5: [2]},
    4: {1: [2, 2, 2], 2: [3], 3: [1], 4: [2], 5: [1]},
    5: {1: [2, 2, 2], 2: [3], 3: [2], 4: [2], 5: [2]},
    6: {1: [2, 2, 2], 2: [3], 3: [3], 4: [2], 5: [2]},
    7: {1: [1, 2, 2], 2: [2], 3: [1], 4: [1], 5: [1]},
    8: {1: [3, 3, 3], 2: [3], 3: [4], 4: [3], 5: [3]},
    9: {1: [2, 2, 2], 2: [2], 3: [2], 4: [2], 5: [3]},
    10: {1: [2, 3, 2], 2: [2], 3: [2], 4: [2], 5: [3]},
    11: {1: [4, 4, 4], 2: [4], 3: [4], 4: [4], 5: [4]},
    12: {1: [2, 2, 2], 2: [3], 3: [3], 4: [4], 5: [3]},
    13: {1: [1, 1, 1], 2: [1], 3: [1], 4: [1], 5: [1]},
    14: {1: [2, 2, 2], 2: [3], 3: [2], 4: [1], 5: [2]},
    15: {1: [1, 2, 1], 2: [1], 3: [1], 4: [1], 5: [1]},
    16: {1: [1, 1, 1], 2: [2], 3: [1], 4: [1], 5: [1]},
    17: {1: [1, 1, 1], 2: [1], 3: [1], 4: [1], 5: [1]},
    18: {1: [1, 1, 1], 2: [1], 3: [1], 4: [1], 5: [1]},
    19: {1: [2, 2, 2], 2: [2], 3: [2], 4: [2], 5: [1]},
    20: {1: [2, 2, 2], 2: [1], 3: [3], 4: [2], 5: [2]},
    21: {1: [2, 2, 2], 2: [2], 3: [2], 4: [2], 5: [2]},
    22: {1: [2, 2, 2], 2: [2], 3: [2], 4: [2], 5: [1]},
    23: {1: [2, 2, 2], 2: [3], 3: [2], 4: [2], 5: [2]},
    24: {1: [2, 2, 1], 2: [2], 3: [2], 4: [2], 5: [2]},
    25: {1: [1, 1, 1], 2: [1], 3: [1], 4: [1], 5: [1]},
    26: {1: [1, 1, 1], 2: [1], 3: [1], 4: [1], 5: [1]},
    27: {1: [2, 3, 2], 2: [2], 3: [2], 4: [2], 5: [2]},
    28: {1: [1, 1, 1], 2: [1], 3: [1], 4: [1], 5: [1]},
    29: {1: [1, 1, 1], 2: [1], 3: [1], 4: [1], 5: [1]},
    30: {1: [1, 1, 2], 2: [1], 3: [1], 4: [2], 5: [1]},
    31: {1: [1, 1, 1], 2: [1], 3: [1], 4: [1], 5: [1]},
    32: {1: [3, 3, 3], 2: [3], 3: [2], 4: [3], 5: [3]},
    33: {1: [1, 1, 1], 2: [1], 3: [1], 4: [1], 5: [1]},
    34: {1: [2, 2, 2], 2: [2], 3: [2], 4: [2], 5: [2]},
    35: {1: [2, 2, 2], 2: [3], 3: [2], 4: [3], 5: [2]},
    36: {1: [4, 3, 3], 2: [4], 3: [3], 4: [4], 5: [3]},
    37: {1: [2, 2, 1], 2: [2], 3: [2], 4: [3], 5: [2]},
    38: {1: [2, 3, 2], 2: [3], 3: [2], 4: [3], 5: [3]},
    39: {1: [3, 3, 3], 2: [3], 3: [4], 4: [3], 5: [2]},
    40: {1: [1, 1, 1], 2: [1], 3: [1], 4: [1], 5: [1]},
    41: {1: [1, 1, 1], 2: [1], 3: [1], 4: [1], 5: [1]},
    42: {1: [1, 2, 1], 2: [2], 3: [1], 4: [1], 5: [1]},
    43: {1: [2, 3, 2], 2: [2], 3: [2], 4: [2], 5: [2]},
    44: {1: [1, 2, 1], 2: [1], 3: [1], 4: [1], 5: [1]},
    45: {1: [2, 2, 2], 2: [2], 3: [2], 4: [2], 5: [2]},
}


ANSWERS = [(p, o, c) for p, seen in TABLE_1.items() for o, given in seen.items() for c in given]


def test_the_papers_class_proportions_and_observer_one_error_rates() -> None:
    found = fit(ANSWERS, smoothing=0.0, tol=1e-5, max_iter=100)
    assert found.classes == [1, 2, 3, 4]
    assert np.round(found.priors, 2).tolist() == [0.40, 0.42, 0.11, 0.07]
    observer_one = [
        [0.89, 0.11, 0.00, 0.00],
        [0.07, 0.88, 0.05, 0.00],
        [0.00, 0.34, 0.66, 0.00],
        [0.00, 0.00, 0.56, 0.44],
    ]
    assert np.allclose(found.confusion[0], observer_one, atol=0.01)


def test_unanimous_patients_get_their_class_and_posteriors_are_distributions() -> None:
    found = fit(ANSWERS, smoothing=0.0)
    decided = found.decided()
    for patient, seen in TABLE_1.items():
        given = {c for cs in seen.values() for c in cs}
        if len(given) == 1:
            assert decided[patient] == (given.pop(), pytest.approx(1.0))
    assert np.allclose(found.posteriors.sum(axis=1), 1.0)


def test_competence_ranks_a_careful_annotator_above_a_coin() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 200)
    answers = []
    for item, label in enumerate(truth):
        answers += [(item, "careful", int(label)), (item, "second", int(label))]
        answers.append((item, "coin", int(rng.integers(0, 2))))
    competence = fit(answers).competence()
    assert competence["careful"] > 0.95 and competence["second"] > 0.95
    assert 0.35 < competence["coin"] < 0.65


def test_no_answers_fit_to_nothing() -> None:
    found = fit([], classes=["a", "b"])
    assert found.competence() == {} and found.decided() == {}
