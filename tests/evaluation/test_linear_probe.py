"""Few-shot sampling and the linear probe on planted embeddings."""

import collections

import numpy as np
import pytest

from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.evaluation import few_shot_linear_probe, sample_k_shot

LABELS = ["run"] * 12 + ["walk"] * 15 + ["swim"] * 11 + ["yoga"] * 3


@pytest.mark.parametrize("k", [1, 3, 5, 10])
def test_sample_k_shot_takes_exactly_k_per_class(k):
    index = sample_k_shot(LABELS, k, seed=0)
    counts = collections.Counter(LABELS[i] for i in index)
    for name in ("run", "walk", "swim"):
        assert counts[name] == k
    assert counts["yoga"] == min(k, 3)  # fewer than k available: all of them
    assert len(set(index.tolist())) == index.size
    assert list(index) == sorted(index)


def test_sample_k_shot_is_deterministic_per_seed_and_varies_across_seeds():
    a = sample_k_shot(LABELS, 5, seed=3)
    b = sample_k_shot(LABELS, 5, seed=3)
    np.testing.assert_array_equal(a, b)
    draws = {tuple(sample_k_shot(LABELS, 5, seed=s)) for s in range(6)}
    assert len(draws) > 1
    np.testing.assert_array_equal(sample_k_shot(LABELS, "all", seed=0), np.arange(len(LABELS)))


def _planted(n_per_class, seed, d=16, noise=0.3):
    rng = np.random.default_rng(seed)
    centres = np.eye(d)[:4] * 3
    labels, rows = [], []
    for c, name in enumerate(["run", "walk", "swim", "yoga"]):
        rows.append(centres[c] + noise * rng.normal(size=(n_per_class, d)))
        labels += [name] * n_per_class
    return np.concatenate(rows), labels


def test_probe_on_separable_embeddings_is_perfect_and_reports_mean_std():
    x_train, y_train = _planted(12, seed=0)
    x_test, y_test = _planted(6, seed=1)
    result = few_shot_linear_probe(x_train, y_train, x_test, y_test, k_shots=(1, 5, "all"),
                                   seeds=3)
    assert result["classes"] == ["run", "swim", "walk", "yoga"]
    assert result["num_test"] == 24 and result["num_train"] == 48
    for k in ("5", "all"):
        assert result["results"][k]["accuracy_mean"] == 1.0
        assert result["results"][k]["macro_f1_mean"] == 1.0
    assert result["results"]["1"]["seeds"] == 3
    assert result["results"]["1"]["train_size_per_seed"] == [4, 4, 4]
    assert result["results"]["all"]["seeds"] == 1
    assert result["results"]["all"]["accuracy_std"] == 0.0
    row = result["results"]["1"]
    assert row["accuracy_mean"] == pytest.approx(np.mean(row["accuracy_per_seed"]))
    assert row["accuracy_std"] == pytest.approx(np.std(row["accuracy_per_seed"]))


def test_probe_on_random_embeddings_is_near_chance_and_flags_short_classes():
    rng = np.random.default_rng(0)
    y_train = ["a"] * 30 + ["b"] * 4
    y_test = ["a", "b"] * 20
    result = few_shot_linear_probe(rng.normal(size=(34, 8)), y_train, rng.normal(size=(40, 8)),
                                   y_test, k_shots=(10,), seeds=2)
    assert result["results"]["10"]["classes_with_fewer_than_k"] == {"b": 4}
    assert 0.0 <= result["results"]["10"]["accuracy_mean"] <= 1.0
    assert result["majority_accuracy"] == 0.5


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"k_shots": (0,)}, "k_shots"),
        ({"k_shots": ("some",)}, "k_shots"),
        ({"k_shots": (True,)}, "k_shots"),
        ({"k_shots": ()}, "at least one"),
        ({"seeds": 0}, "seeds"),
        ({"c": -1.0}, "positive number"),
    ],
)
def test_probe_bad_options(kwargs, match):
    x, y = _planted(3, seed=0)
    with pytest.raises(InputValidationError, match=match):
        few_shot_linear_probe(x, y, x, y, **kwargs)


def test_probe_bad_arrays():
    x, y = _planted(3, seed=0)
    with pytest.raises(InputValidationError, match="one per embedding"):
        few_shot_linear_probe(x, y[:-1], x, y)
    with pytest.raises(InputValidationError, match="width"):
        few_shot_linear_probe(x, y, x[:, :3], y)
    with pytest.raises(InputValidationError, match="NaN"):
        few_shot_linear_probe(np.full_like(x, np.nan), y, x, y)
    with pytest.raises(InputValidationError, match="2-D"):
        few_shot_linear_probe(x[0], y[:1], x, y)
    with pytest.raises(InputValidationError, match="seed"):
        sample_k_shot(y, 1, seed=-1)
