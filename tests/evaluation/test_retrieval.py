"""Retrieval metrics against a brute-force reference that enumerates tie-break orders."""

import itertools

import numpy as np
import pytest

from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.evaluation import recall_at_k, recall_curve, retrieval_metrics, retrieval_ranks


def brute_force_ranks(similarity, ties):
    """Rank of the match of every query by explicitly sorting the candidates.

    ``pessimistic`` / ``optimistic`` put the match after / before the candidates it ties with.
    ``expected`` averages the rank indicator over *every* permutation used as tie-break order.
    Returns, per query, a list of (rank, weight) pairs.
    """
    n = similarity.shape[0]
    out = []
    for i in range(n):
        row = similarity[i]
        if ties in ("pessimistic", "optimistic"):
            before = 1 if ties == "pessimistic" else 0
            order = sorted(range(n), key=lambda j: (-row[j], (j == i) == bool(before)))
            out.append([(order.index(i) + 1, 1.0)])
        else:
            ranks = []
            perms = list(itertools.permutations(range(n)))
            for perm in perms:
                position = {j: p for p, j in enumerate(perm)}
                order = sorted(range(n), key=lambda j: (-row[j], position[j]))
                ranks.append((order.index(i) + 1, 1.0 / len(perms)))
            out.append(ranks)
    return out


def brute_force_recall(similarity, k, ties):
    per_query = brute_force_ranks(similarity, ties)
    return float(np.mean([sum(w for r, w in ranks if r <= k) for ranks in per_query]))


def brute_force_median_rank(similarity, ties):
    per_query = brute_force_ranks(similarity, ties)
    return float(np.median([sum(r * w for r, w in ranks) for ranks in per_query]))


@pytest.mark.parametrize("ties", ["expected", "pessimistic", "optimistic"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recall_and_median_rank_match_brute_force_with_ties(ties, seed):
    rng = np.random.default_rng(seed)
    # Scores quantised to 3 levels: many ties, including with the match.
    similarity = rng.integers(0, 3, size=(5, 5)).astype(float)
    ks = (1, 2, 3, 5, 10)
    fast = recall_at_k(similarity, ks=ks, ties=ties)
    for k in ks:
        assert fast[k] == pytest.approx(brute_force_recall(similarity, k, ties), abs=1e-12)
    metrics = retrieval_metrics(similarity=similarity, ks=ks, ties=ties)
    assert metrics["sensor_to_text"]["median_rank"] == pytest.approx(
        brute_force_median_rank(similarity, ties))
    assert metrics["text_to_sensor"]["median_rank"] == pytest.approx(
        brute_force_median_rank(similarity.T, ties))
    for k in ks:
        assert metrics["text_to_sensor"][f"recall@{k}"] == pytest.approx(
            brute_force_recall(similarity.T, k, ties))


def test_continuous_scores_without_ties_match_plain_sorting():
    rng = np.random.default_rng(3)
    sensor = rng.normal(size=(40, 8))
    text = sensor + rng.normal(scale=1.5, size=(40, 8))
    similarity = sensor @ text.T
    ranks = retrieval_ranks(similarity)
    for i in range(40):
        order = np.argsort(-similarity[i])
        assert ranks[i] == list(order).index(i) + 1
    metrics = retrieval_metrics(sensor, text, ks=(1, 5, 10))
    for k in (1, 5, 10):
        expected = np.mean([r <= k for r in ranks])
        assert metrics["sensor_to_text"][f"recall@{k}"] == pytest.approx(expected)
    assert metrics["sensor_to_text"]["median_rank"] == pytest.approx(np.median(ranks))


def test_identity_embeddings_are_perfect():
    z = np.eye(12)
    metrics = retrieval_metrics(z, z)
    for direction in ("sensor_to_text", "text_to_sensor"):
        assert metrics[direction]["recall@1"] == 1.0
        assert metrics[direction]["median_rank"] == 1.0
    assert metrics["chance"]["recall@1"] == pytest.approx(1 / 12)
    assert metrics["k_at_least_candidates"] == []


def test_constant_scores_give_chance_under_expected_ties():
    similarity = np.ones((4, 4))
    assert recall_at_k(similarity, ks=(1, 2, 3), ties="expected") == {1: 0.25, 2: 0.5, 3: 0.75}
    assert recall_at_k(similarity, ks=1, ties="pessimistic") == {1: 0.0}
    assert recall_at_k(similarity, ks=1, ties="optimistic") == {1: 1.0}
    assert list(retrieval_ranks(similarity)) == [2.5] * 4
    np.testing.assert_allclose(recall_curve(similarity), [0.25, 0.5, 0.75, 1.0])


def test_fewer_candidates_than_k():
    rng = np.random.default_rng(0)
    similarity = rng.normal(size=(3, 3))
    metrics = retrieval_metrics(similarity=similarity, ks=(1, 5, 10))
    assert metrics["sensor_to_text"]["recall@5"] == 1.0
    assert metrics["sensor_to_text"]["recall@10"] == 1.0
    assert metrics["k_at_least_candidates"] == [5, 10]
    assert metrics["chance"]["recall@5"] == 1.0
    one = retrieval_metrics(similarity=[[0.3]], ks=(1,))
    assert one["sensor_to_text"]["recall@1"] == 1.0 and one["k_at_least_candidates"] == [1]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"similarity": np.ones((2, 3))}, "square"),
        ({"similarity": np.zeros((0, 0))}, "non-empty"),
        ({"similarity": np.array([[np.nan, 0], [0, 1]])}, "NaN"),
        ({"similarity": np.eye(2), "ties": "random"}, "ties"),
        ({"similarity": np.eye(2), "ks": (0,)}, "ks"),
        ({"similarity": np.eye(2), "ks": (True,)}, "ks"),
        ({"sensor_embeddings": np.eye(3), "text_embeddings": np.eye(4)}, "shape"),
        ({"sensor_embeddings": np.eye(3)}, "neither"),
    ],
)
def test_bad_inputs(kwargs, match):
    with pytest.raises(InputValidationError, match=match):
        retrieval_metrics(**kwargs)
