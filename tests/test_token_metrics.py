"""Known answers of the classifier diagnostics (eggesture.metrics.tokens)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from eggesture.metrics.tokens import (
    frequency_groups,
    histogram_distance,
    rotation_error_deg,
    token_diagnostics,
)


def test_frequency_groups_cut_the_token_mass_in_thirds():
    # Sorted shares 0.3, 0.3, 0.2, 0.1, 0.1 (cumulative before: 0, .3, .6, .8, .9) and one unseen.
    freq = np.array([0.1, 0.3, 0.0, 0.2, 0.3, 0.1])
    g = frequency_groups(freq)
    assert g.tolist() == [2, 0, 2, 1, 0, 2]
    # Uniform usage of 9 codes: three codes in each group.
    assert np.bincount(frequency_groups(np.ones(9)), minlength=3).tolist() == [3, 3, 3]
    with pytest.raises(ValueError):
        frequency_groups(np.zeros(4))


def test_histogram_distance_known_values():
    assert histogram_distance(np.array([0, 1, 2]), np.array([2, 1, 0]), 4) == 0.0
    assert histogram_distance(np.array([0, 0]), np.array([1, 1]), 2) == 1.0
    # (.4, .2, .2, .2) against (.2, .4, 0, .4): ½(.2 + .2 + .2 + .2)
    assert histogram_distance(np.array([0, 0, 1, 2, 3]), np.array([0, 1, 1, 3, 3]), 4) == pytest.approx(0.4)


def test_rotation_error_is_the_geodesic_angle():
    a = Rotation.from_rotvec(np.zeros((5, 3))).as_matrix()
    b = Rotation.from_rotvec(np.tile([0.0, 0.0, np.radians(30)], (5, 1))).as_matrix()
    assert rotation_error_deg(a, b) == pytest.approx(30.0, abs=1e-6)
    assert rotation_error_deg(b, b) == pytest.approx(0.0, abs=1e-5)
    with pytest.raises(ValueError):
        rotation_error_deg(a, b[:3])


def test_token_diagnostics_split_accuracy_by_group():
    freq = np.array([50, 30, 10, 5, 3, 2, 0, 0], dtype=float)  # groups: 0 → many, 1 → medium
    pred = np.array([0, 0, 1, 2, 3, 7])
    tgt = np.array([0, 1, 1, 3, 3, 6])
    d = token_diagnostics(pred, tgt, freq, motion_error_deg=12.5)
    assert d.accuracy == pytest.approx(3 / 6)
    assert d.accuracy_by_frequency == {"many": 1.0, "medium": 0.5, "few": pytest.approx(1 / 3)}
    assert d.targets_by_frequency == {"many": 1, "medium": 2, "few": 3}
    assert d.codes_by_frequency == {"many": 1, "medium": 1, "few": 6}
    assert d.predicted_codes_used == 5 and d.target_codes_used == 4
    assert d.to_dict()["motion_error_deg"] == 12.5
    # A group without targets has no accuracy, not a made-up 0.
    only_many = token_diagnostics(np.array([0, 1]), np.array([0, 0]), freq)
    assert only_many.accuracy_by_frequency["medium"] is None
    with pytest.raises(ValueError):
        token_diagnostics(np.array([0]), np.array([0, 1]), freq)
