"""The contrastive losses against independent NumPy implementations of the formulas."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import ops

from sensorlm_keras.losses import CLIPLoss, SigLIPLoss, sigmoid_loss


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def numpy_sigmoid_loss(s, t, scale, bias, normalization, offset=0):
    logits = np.exp(scale) * s.astype(np.float64) @ t.astype(np.float64).T + bias
    labels = -np.ones_like(logits)
    for i in range(s.shape[0]):
        labels[i, offset + i] = 1.0
    # -log sigmoid(z) = log(1 + exp(-z)), computed stably.
    per_pair = np.logaddexp(0.0, -labels * logits)
    if normalization == "paper":
        return per_pair.sum() / s.shape[0]
    return per_pair.mean()


def numpy_clip_loss(s, t, scale):
    logits = np.exp(scale) * s.astype(np.float64) @ t.astype(np.float64).T

    def xent(lg):
        lg = lg - lg.max(axis=1, keepdims=True)
        logp = lg - np.log(np.exp(lg).sum(axis=1, keepdims=True))
        return -np.mean(np.diag(logp))

    return 0.5 * (xent(logits) + xent(logits.T))


@pytest.mark.parametrize("normalization", ["paper", "pairs"])
def test_sigmoid_loss_matches_numpy(normalization):
    rng = np.random.default_rng(0)
    s = _unit(rng.standard_normal((6, 16))).astype("float32")
    t = _unit(rng.standard_normal((6, 16))).astype("float32")
    got = float(ops.convert_to_numpy(SigLIPLoss(normalization)(s, t, 1.3, -2.5)))
    want = numpy_sigmoid_loss(s, t, 1.3, -2.5, normalization)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_pairs_is_paper_divided_by_batch():
    rng = np.random.default_rng(1)
    s = _unit(rng.standard_normal((8, 16))).astype("float32")
    t = _unit(rng.standard_normal((8, 16))).astype("float32")
    paper = float(ops.convert_to_numpy(SigLIPLoss("paper")(s, t)))
    pairs = float(ops.convert_to_numpy(SigLIPLoss("pairs")(s, t)))
    np.testing.assert_allclose(pairs * 8, paper, rtol=1e-5)


@settings(deadline=None, max_examples=25)
@given(
    batch=st.integers(1, 9),
    dim=st.integers(2, 12),
    scale=st.floats(-2.0, 4.0),
    bias=st.floats(-12.0, 3.0),
    seed=st.integers(0, 10_000),
    normalization=st.sampled_from(["paper", "pairs"]),
)
def test_sigmoid_loss_property(batch, dim, scale, bias, seed, normalization):
    rng = np.random.default_rng(seed)
    s = _unit(rng.standard_normal((batch, dim))).astype("float32")
    t = _unit(rng.standard_normal((batch, dim))).astype("float32")
    got = float(ops.convert_to_numpy(sigmoid_loss(s, t, scale, bias, normalization)))
    want = numpy_sigmoid_loss(s, t, scale, bias, normalization)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
    assert got >= 0.0


def test_positive_offset_selects_global_column():
    rng = np.random.default_rng(2)
    s = _unit(rng.standard_normal((3, 8))).astype("float32")
    t = _unit(rng.standard_normal((9, 8))).astype("float32")
    got = float(ops.convert_to_numpy(sigmoid_loss(s, t, 0.5, -1.0, "paper", positive_offset=3)))
    np.testing.assert_allclose(got, numpy_sigmoid_loss(s, t, 0.5, -1.0, "paper", offset=3), rtol=1e-5)


def test_loss_at_init_is_about_ten_per_row():
    # Near-orthogonal embeddings, t' = log 10, b = -10: each row costs
    # softplus(10) + (B - 1) softplus(-10) ~= 10.0 with the paper normalisation.
    rng = np.random.default_rng(3)
    batch, dim = 16, 4096
    s = _unit(rng.standard_normal((batch, dim))).astype("float32")
    t = _unit(rng.standard_normal((batch, dim))).astype("float32")
    got = float(ops.convert_to_numpy(SigLIPLoss()(s, t, math.log(10.0), -10.0)))
    expected = math.log1p(math.exp(10.0)) + (batch - 1) * math.log1p(math.exp(-10.0))
    assert abs(got - expected) < 0.2, (got, expected)
    assert 9.8 < got < 10.2


def test_clip_loss_matches_numpy():
    rng = np.random.default_rng(4)
    s = _unit(rng.standard_normal((5, 12))).astype("float32")
    t = _unit(rng.standard_normal((5, 12))).astype("float32")
    got = float(ops.convert_to_numpy(CLIPLoss()(s, t, 2.0)))
    np.testing.assert_allclose(got, numpy_clip_loss(s, t, 2.0), rtol=1e-5)


def test_loss_is_float32_for_bfloat16_inputs():
    rng = np.random.default_rng(5)
    s = ops.cast(_unit(rng.standard_normal((4, 8))), "bfloat16")
    loss = SigLIPLoss()(s, s)
    assert ops.convert_to_numpy(loss).dtype == np.float32


def test_loss_config_round_trip_and_errors():
    loss = SigLIPLoss("pairs")
    assert SigLIPLoss.from_config(loss.get_config()).normalization == "pairs"
    with pytest.raises(ValueError, match="normalization"):
        SigLIPLoss("mean")
