"""The supervised reference on raw days, and the separability of the simulated activities."""

import numpy as np
import pytest

from sensorlm_keras.data import ACTIVITY_PROFILES, SyntheticDayGenerator, preprocess_days
from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.evaluation.supervised_baseline import (
    TOP_BLOCKS,
    day_features,
    supervised_baseline,
)


def test_day_features_are_the_sorted_block_means_and_ignore_timing():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 1440, 4)).astype(np.float32)
    features = day_features(x)
    assert features.shape == (3, TOP_BLOCKS * 4)
    # NumPy reference, written out loop by loop.
    for n in range(3):
        for c in range(4):
            blocks = [x[n, b * 10 : (b + 1) * 10, c].mean() for b in range(144)]
            expected = sorted(blocks, reverse=True)[:TOP_BLOCKS]
            np.testing.assert_allclose(features[n, c * TOP_BLOCKS : (c + 1) * TOP_BLOCKS],
                                       expected, rtol=1e-5, atol=1e-6)
    # Moving a whole day by 10-minute blocks does not change its features.
    np.testing.assert_allclose(day_features(np.roll(x, 70, axis=1)), features, atol=1e-5)


def test_day_features_validate_input():
    with pytest.raises(InputValidationError, match="sensor"):
        day_features(np.zeros((2, 1441, 3)))
    with pytest.raises(InputValidationError, match="train_labels"):
        supervised_baseline(np.zeros((2, 1440, 2)), ["a", "a"], np.zeros((1, 1440, 2)), ["a"])


def test_simulated_activity_classes_are_separable_on_held_out_people():
    # Bounds what zero-shot recognition can reach: if a supervised classifier on the raw days
    # could not tell the classes apart, no caption could teach an encoder to.
    days = SyntheticDayGenerator().generate(200, 5, seed=11)
    pre = preprocess_days(days.raw, schema=days.schema)
    labels = np.array([days.activity_labels[i] for i in pre.kept_indices])
    people = np.array([days.person_ids[i] for i in pre.kept_indices])
    test = np.isin(people, np.unique(people)[::4])
    labelled = labels != "none"
    train, held_out = labelled & ~test, labelled & test
    result = supervised_baseline(pre.sensor[train], labels[train], pre.sensor[held_out],
                                 labels[held_out])
    assert set(result["classes"]) == set(ACTIVITY_PROFILES) and len(result["classes"]) >= 10
    # Measured: accuracy 0.882, macro-F1 0.861, weakest class F1 0.62 (interval workout).
    assert result["accuracy"] >= 0.8, result["f1_per_class"]
    assert min(result["f1_per_class"].values()) >= 0.45, result["f1_per_class"]
