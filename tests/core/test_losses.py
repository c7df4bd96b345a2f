"""The contrastive losses against independent NumPy implementations of the formulas."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import ops

from sensorlm_keras.losses import CLIPLoss, SigLIPLoss

LOG10 = math.log(10.0)


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
    got = float(ops.convert_to_numpy(SigLIPLoss(normalization).embedding_loss(s, t, 1.3, -2.5)))
    want = numpy_sigmoid_loss(s, t, 1.3, -2.5, normalization)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_pairs_is_paper_divided_by_batch():
    rng = np.random.default_rng(1)
    s = _unit(rng.standard_normal((8, 16))).astype("float32")
    t = _unit(rng.standard_normal((8, 16))).astype("float32")
    paper = float(ops.convert_to_numpy(SigLIPLoss("paper").embedding_loss(s, t, LOG10, -10.0)))
    pairs = float(ops.convert_to_numpy(SigLIPLoss("pairs").embedding_loss(s, t, LOG10, -10.0)))
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
    got = float(ops.convert_to_numpy(SigLIPLoss(normalization).embedding_loss(s, t, scale, bias)))
    want = numpy_sigmoid_loss(s, t, scale, bias, normalization)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
    assert got >= 0.0


def test_positive_offset_selects_global_column():
    rng = np.random.default_rng(2)
    s = _unit(rng.standard_normal((3, 8))).astype("float32")
    t = _unit(rng.standard_normal((9, 8))).astype("float32")
    got = float(ops.convert_to_numpy(
        SigLIPLoss("paper").embedding_loss(s, t, 0.5, -1.0, positive_offset=3)))
    np.testing.assert_allclose(got, numpy_sigmoid_loss(s, t, 0.5, -1.0, "paper", offset=3), rtol=1e-5)


def test_loss_at_init_is_about_ten_per_row():
    # Near-orthogonal embeddings, t' = log 10, b = -10: each row costs
    # softplus(10) + (B - 1) softplus(-10) ~= 10.0 with the paper normalisation.
    rng = np.random.default_rng(3)
    batch, dim = 16, 4096
    s = _unit(rng.standard_normal((batch, dim))).astype("float32")
    t = _unit(rng.standard_normal((batch, dim))).astype("float32")
    got = float(ops.convert_to_numpy(SigLIPLoss().embedding_loss(s, t, math.log(10.0), -10.0)))
    expected = math.log1p(math.exp(10.0)) + (batch - 1) * math.log1p(math.exp(-10.0))
    assert abs(got - expected) < 0.2, (got, expected)
    assert 9.8 < got < 10.2


def test_clip_loss_matches_numpy():
    rng = np.random.default_rng(4)
    s = _unit(rng.standard_normal((5, 12))).astype("float32")
    t = _unit(rng.standard_normal((5, 12))).astype("float32")
    got = float(ops.convert_to_numpy(CLIPLoss().embedding_loss(s, t, 2.0)))
    np.testing.assert_allclose(got, numpy_clip_loss(s, t, 2.0), rtol=1e-5)


def test_loss_is_float32_for_bfloat16_inputs():
    rng = np.random.default_rng(5)
    s = ops.cast(_unit(rng.standard_normal((4, 8))), "bfloat16")
    loss = SigLIPLoss().embedding_loss(s, s, LOG10, -10.0)
    assert ops.convert_to_numpy(loss).dtype == np.float32


def test_loss_config_round_trip_and_errors():
    loss = SigLIPLoss("pairs")
    assert SigLIPLoss.from_config(loss.get_config()).normalization == "pairs"
    with pytest.raises(ValueError, match="normalization"):
        SigLIPLoss("mean")


@pytest.mark.parametrize("normalization", ["paper", "pairs"])
def test_keras_convention_labels_and_logits_match_numpy(normalization):
    """``loss(y_true=+1/-1 labels, y_pred=logits)``, as keras-hub's SigLIPLoss is called."""
    rng = np.random.default_rng(6)
    s = _unit(rng.standard_normal((5, 8))).astype("float32")
    t = _unit(rng.standard_normal((5, 8))).astype("float32")
    logits = (np.exp(0.7) * s @ t.T - 1.5).astype("float32")
    labels = (2.0 * np.eye(5) - 1.0).astype("float32")
    got = float(ops.convert_to_numpy(SigLIPLoss(normalization)(labels, logits)))
    np.testing.assert_allclose(got, numpy_sigmoid_loss(s, t, 0.7, -1.5, normalization),
                               rtol=1e-5)
    clip = float(ops.convert_to_numpy(CLIPLoss()(labels, np.exp(0.7) * s @ t.T)))
    np.testing.assert_allclose(clip, numpy_clip_loss(s, t, 0.7), rtol=1e-5)


def test_clip_loss_with_gathered_candidates_sums_to_the_global_loss():
    """Two replicas' shares (their rows against the whole batch) add up to the loss."""
    rng = np.random.default_rng(7)
    s = _unit(rng.standard_normal((6, 8))).astype("float32")
    t = _unit(rng.standard_normal((6, 8))).astype("float32")
    loss = CLIPLoss()
    shares = [
        loss.embedding_loss(s[i:i + 3], t[i:i + 3], 1.1, all_sensor_embeddings=s,
                            all_text_embeddings=t, positive_offset=i, num_rows_total=6)
        for i in (0, 3)
    ]
    got = sum(float(ops.convert_to_numpy(v)) for v in shares)
    np.testing.assert_allclose(got, numpy_clip_loss(s, t, 1.1), rtol=1e-5)


def test_losses_are_keras_losses_and_serialise():
    import keras

    for loss in (SigLIPLoss("pairs", chunk_size=4), CLIPLoss()):
        assert isinstance(loss, keras.losses.Loss)
        clone = keras.losses.deserialize(keras.losses.serialize(loss))
        assert type(clone) is type(loss) and clone.get_config() == loss.get_config()
    with pytest.raises(ValueError, match="chunk_size"):
        SigLIPLoss(chunk_size=0)


def test_compile_with_a_loss_object_is_what_the_model_trains_with():
    from sensorlm_keras.errors import ConfigError
    from tests.core.helpers import random_batch, tiny_model

    model = tiny_model()
    batch = random_batch(6, seed=3)
    y = model(batch)
    default = float(ops.convert_to_numpy(model.compute_loss(x=batch, y_pred=y)))
    model.compile(optimizer="sgd", loss=SigLIPLoss("pairs"))
    pairs = float(ops.convert_to_numpy(model.compute_loss(x=batch, y_pred=y)))
    np.testing.assert_allclose(pairs * 6, default, rtol=1e-5)  # pairs = paper / B
    logs = model.fit(batch, batch_size=6, epochs=1, verbose=0).history
    assert np.isfinite(logs["loss"][0])
    with pytest.raises(ConfigError, match="SigLIPLoss"):
        model.compile(optimizer="sgd", loss=CLIPLoss())
    with pytest.raises(ConfigError, match="SigLIPLoss"):
        model.compile(optimizer="sgd", loss="mse")


def test_compiled_loss_survives_saving(tmp_path):
    import keras

    from tests.core.helpers import tiny_model

    model = tiny_model()
    model.compile(optimizer="adam", loss=SigLIPLoss("pairs", chunk_size=5))
    path = str(tmp_path / "model.keras")
    model.save(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = keras.saving.load_model(path)
    assert not [w for w in caught if "was not called as part of model loading" in str(w.message)]
    assert isinstance(loaded.contrastive_loss, SigLIPLoss)
    assert loaded.contrastive_loss.get_config() == model.contrastive_loss.get_config()
