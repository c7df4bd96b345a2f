"""SensorLM end to end: shapes, norms, gradients, training signal, saving, validation."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from sensorlm_keras import SensorEncoder, SensorLM, SensorLMConfig, TextEncoder
from tests.core.helpers import C, L, T, V, random_batch, tiny_model

np_ = ops.convert_to_numpy


def test_forward_shapes_unit_norm_and_float32():
    model = tiny_model()
    out = model(random_batch(5))
    for key in ("sensor_embeddings", "text_embeddings"):
        z = np_(out[key])
        assert z.shape == (5, 32)
        assert z.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-5)


def test_initial_logit_parameters():
    model = tiny_model()
    assert math.isclose(float(np_(model.logit_scale)), math.log(10.0), rel_tol=1e-6)
    assert float(np_(model.logit_bias)) == -10.0
    assert math.isclose(model.temperature, 10.0, rel_tol=1e-6)


@pytest.mark.parametrize("normalization", ["paper", "pairs"])
def test_compute_loss_matches_numpy_on_model_embeddings(normalization):
    model = tiny_model(loss_normalization=normalization)
    batch = random_batch(6, seed=1)
    y_pred = model(batch)
    got = float(np_(model.compute_loss(x=batch, y_pred=y_pred)))
    s = np_(y_pred["sensor_embeddings"]).astype(np.float64)
    t = np_(y_pred["text_embeddings"]).astype(np.float64)
    logits = 10.0 * s @ t.T - 10.0
    labels = 2 * np.eye(6) - 1
    total = np.logaddexp(0.0, -labels * logits).sum()
    want = total / 6 if normalization == "paper" else total / 36
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_one_step_updates_every_weight_including_scale_and_bias():
    # SGD moves a weight iff its gradient is non-zero: every weight must move.
    model = tiny_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1))
    batch = random_batch(8, seed=2)
    before = [np_(w).copy() for w in model.trainable_weights]
    logs = model.train_on_batch(batch, return_dict=True)
    after = [np_(w) for w in model.trainable_weights]
    frozen = [w.path for w, b, a in zip(model.trainable_weights, before, after) if np.array_equal(b, a)]
    assert not frozen, f"weights without gradient: {frozen}"
    names = [w.path for w in model.trainable_weights]
    assert any(n.endswith("logit_scale") for n in names)
    assert any(n.endswith("logit_bias") for n in names)
    for key in ("loss", "temperature", "bias", "positive_logit", "negative_logit",
                "sensor_to_text_top1", "text_to_sensor_top1", "grad_norm"):
        assert key in logs and np.isfinite(float(logs[key])), key
    assert float(logs["grad_norm"]) > 0


def _toy_pairing(num_classes=8, repeats=24, seed=0):
    """Each class has a planted sensor pattern and a fixed caption; batches of 8 hold each
    class once, so in-batch retrieval chance is 1/8."""
    rng = np.random.default_rng(seed)
    patterns = rng.standard_normal((num_classes, T, C)).astype("float32")
    captions = rng.integers(3, V, size=(num_classes, L)).astype("int32")
    order = np.concatenate([rng.permutation(num_classes) for _ in range(repeats)])
    sensor = patterns[order] + 0.3 * rng.standard_normal((len(order), T, C)).astype("float32")
    return {
        "sensor": sensor,
        "token_ids": captions[order],
        "padding_mask": np.ones((len(order), L), bool),
    }


def test_fit_learns_toy_pairing_far_above_chance():
    model = tiny_model()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    train = _toy_pairing(seed=0)
    history = model.fit(train, batch_size=8, epochs=6, shuffle=False, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    held_out = _toy_pairing(repeats=1, seed=0)  # fresh noise, same classes, one of each
    held_out["sensor"] = held_out["sensor"] + 0.0
    s = model.encode_sensor(held_out["sensor"])
    t = model.encode_text(held_out["token_ids"], held_out["padding_mask"])
    sim = model.similarity(s, t)
    accuracy = float(np.mean(sim.argmax(axis=1) == np.arange(8)))
    assert accuracy >= 0.75, f"in-batch retrieval accuracy {accuracy} (chance 0.125)"
    assert history.history["sensor_to_text_top1"][-1] > 0.5


def test_softmax_variant_trains():
    model = tiny_model(loss="softmax")
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    logs = model.train_on_batch(random_batch(4), return_dict=True)
    assert np.isfinite(float(logs["loss"]))
    assert not model.logit_bias.trainable


def test_get_config_round_trip_gives_identical_outputs():
    model = tiny_model(text_pooling="last", loss_normalization="pairs")
    batch = random_batch(3)
    out = model(batch)
    clone = SensorLM.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    out2 = clone(batch)
    for k in out:
        np.testing.assert_allclose(np_(out2[k]), np_(out[k]), rtol=1e-6, atol=1e-6)
    assert clone.config == model.config
    assert clone.get_config() == model.get_config()
    for encoder in (model.sensor_encoder, model.text_encoder):
        assert encoder.__class__.from_config(encoder.get_config()).get_config() == encoder.get_config()


def test_sincos_sensor_positions_start_from_the_table_and_round_trip(tmp_path):
    from sensorlm_keras.errors import ConfigError, InputValidationError
    from sensorlm_keras.layers import SinusoidalInitializer

    model = tiny_model(sensor_position_initializer="sincos")
    encoder = model.sensor_encoder
    assert encoder.position_initializer == "sincos"
    table = np_(SinusoidalInitializer()(tuple(encoder.position_embedding.embeddings.shape)))
    np.testing.assert_allclose(np_(encoder.position_embedding.embeddings), table, atol=1e-6)
    assert model.config.sensor_position_initializer == "sincos"
    assert tiny_model().config.sensor_position_initializer == "normal"
    path = tmp_path / "sincos.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.sensor_encoder.get_config() == encoder.get_config()
    batch = random_batch(2)
    np.testing.assert_allclose(np_(loaded(batch)["sensor_embeddings"]),
                               np_(model(batch)["sensor_embeddings"]), atol=1e-6)
    with pytest.raises(ConfigError, match="sensor_position_initializer"):
        SensorLMConfig(sensor_position_initializer="sine")
    with pytest.raises(InputValidationError, match="position_initializer"):
        SensorEncoder(sequence_length=T, num_channels=C, hidden_dim=8, num_layers=1,
                      num_heads=2, mlp_dim=8, position_initializer="learned")


def test_keras_and_weights_files_round_trip(tmp_path):
    model = tiny_model()
    model.compile(optimizer="adam")
    model.train_on_batch(random_batch(4), return_dict=True)
    batch = random_batch(3, seed=9)
    out = model.predict(batch, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, SensorLM)
    out2 = loaded.predict(batch, verbose=0)
    for k in out:
        np.testing.assert_array_equal(out2[k], out[k])
    weights = tmp_path / "model.weights.h5"
    model.save_weights(weights)
    fresh = tiny_model()
    fresh.load_weights(weights)
    out3 = fresh.predict(batch, verbose=0)
    for k in out:
        np.testing.assert_array_equal(out3[k], out[k])


def test_presets_build_and_validate():
    assert {"sensorlm_tiny", "sensorlm_small", "sensorlm_base", "sensorlm_base_paper"} <= set(SensorLM.presets)
    base = SensorLMConfig.from_preset("sensorlm_base")
    assert base.num_sensor_tokens == 2448 and base.vocabulary_size == 32000
    assert base.text_num_layers == 12 and base.text_hidden_dim == 768
    paper = SensorLMConfig.from_preset("sensorlm_base_paper")
    assert paper.num_sensor_tokens == 1872 and paper.text_pooling == "last"
    with pytest.raises(ValueError, match="unknown preset"):
        SensorLM.from_preset("sensorlm_huge")
    with pytest.raises(ValueError, match="unknown fields"):
        SensorLMConfig.from_preset("sensorlm_tiny", widht=3)
    with pytest.raises(ValueError, match="not divisible by patch_size"):
        SensorLMConfig.from_preset("sensorlm_tiny", num_channels=33)


def test_base_preset_parameter_count():
    # SENSORLM_FACTS section 3: ViT-B/10/2 ~87M (patch embedding + positions + 12 blocks), the
    # two towers together ~204M at B/B. The MAP head adds ~7M on top of the 87M.
    encoder = SensorEncoder()
    trunk = encoder.count_params() - encoder.map_head.count_params()
    assert 86e6 < trunk < 89e6, trunk
    text = TextEncoder()
    total = encoder.count_params() + text.count_params()
    assert 200e6 < total < 208e6, total


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda b: b.update(sensor=b["sensor"][0]), "rank 3"),
        (lambda b: b.update(sensor=b["sensor"][:, :, :6]), "expected 8 channels"),
        (lambda b: b.update(sensor=b["sensor"][:, :50]), "expected sequence length 60"),
        (lambda b: b.update(token_ids=b["token_ids"] + V), "ids must be in"),
        (lambda b: b.update(token_ids=b["token_ids"] - 100), "ids must be in"),
        (lambda b: b.update(token_ids=b["token_ids"][:3], padding_mask=b["padding_mask"][:3]),
         "batch sizes differ"),
        (lambda b: b["sensor"].__setitem__((0, 3, 2), np.nan), "NaN/Inf"),
        (lambda b: b["sensor"].__setitem__((1, 0, 0), np.inf), "NaN/Inf"),
        (lambda b: b.update(extra=1), "unknown keys"),
    ],
)
def test_bad_input_raises_clear_value_error(mutate, match):
    model = tiny_model()
    model.compile(optimizer="adam")
    batch = random_batch(4)
    mutate(batch)
    with pytest.raises(ValueError, match=match):
        model.fit(batch, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=match):
        model.predict(batch, verbose=0)


def test_encode_entry_points_validate():
    model = tiny_model()
    with pytest.raises(ValueError, match="NaN/Inf"):
        model.encode_sensor(np.full((1, T, C), np.nan, "float32"))
    with pytest.raises(ValueError, match="channels"):
        model.encode_sensor(np.zeros((1, T, C + 2), "float32"))
    with pytest.raises(ValueError, match="ids must be in"):
        model.encode_text(np.full((1, 4), V, "int32"))
    with pytest.raises(ValueError, match="exceeds max_text_length"):
        model.encode_text(np.ones((1, L + 1), "int32"))
    with pytest.raises(ValueError, match="widths differ"):
        model.similarity(np.zeros((2, 32)), np.zeros((2, 16)))


def test_tower_width_mismatch_is_rejected():
    sensor = SensorEncoder(T, C, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=16)
    text = TextEncoder(V, L, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=16, embed_dim=8)
    with pytest.raises(ValueError, match="output widths differ"):
        SensorLM(sensor, text)


def test_towers_of_one_width_pair_with_default_output_widths():
    # Both encoders default their output width to their hidden width (the text encoder once
    # defaulted to 768 whatever its width, so two 16-wide towers did not pair).
    sensor = SensorEncoder(T, C, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=16)
    text = TextEncoder(V, L, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=16)
    assert sensor.embed_dim == text.embed_dim == 16
    assert text.compute_output_shape((3, L)) == (3, 16)
    assert TextEncoder.from_config(text.get_config()).embed_dim == 16
    model = SensorLM(sensor, text)
    out = model(random_batch(2))
    assert tuple(out["text_embeddings"].shape) == (2, 16)


def test_sensor_mask_is_accepted_and_ignored():
    model = tiny_model()
    batch = random_batch(2)
    out = model(batch)
    batch["sensor_mask"] = np.ones((2, T, C), bool)
    out2 = model(batch)
    np.testing.assert_allclose(np_(out2["sensor_embeddings"]), np_(out["sensor_embeddings"]))


def test_padding_mask_as_int_equals_bool():
    model = tiny_model()
    batch = random_batch(3)
    out = model(batch)
    batch["padding_mask"] = batch["padding_mask"].astype("int32")
    out2 = model(batch)
    np.testing.assert_allclose(np_(out2["text_embeddings"]), np_(out["text_embeddings"]), atol=1e-6)


def test_mixed_bfloat16_keeps_loss_and_embeddings_float32():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = tiny_model()
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        batch = random_batch(4)
        out = model(batch)
        assert keras.backend.standardize_dtype(out["sensor_embeddings"].dtype) == "float32"
        assert model.sensor_encoder.blocks[0].compute_dtype == "bfloat16"
        loss = model.compute_loss(x=batch, y_pred=out)
        assert keras.backend.standardize_dtype(loss.dtype) == "float32"
        logs = model.train_on_batch(batch, return_dict=True)
        assert np.isfinite(float(logs["loss"]))
        assert model.logit_scale.dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.slow
def test_real_shape_smoke_1440x34():
    """One real-shape (1440 x 34 -> 2448 tokens) forward + train step of the tiny preset."""
    model = SensorLM.from_preset("sensorlm_tiny", max_text_length=32)
    model.compile(optimizer="adam")
    rng = np.random.default_rng(0)
    batch = {
        "sensor": rng.standard_normal((2, 1440, 34)).astype("float32"),
        "token_ids": rng.integers(3, 4096, size=(2, 32)).astype("int32"),
        "padding_mask": np.ones((2, 32), bool),
    }
    assert model.sensor_encoder.num_tokens == 2448
    logs = model.train_on_batch(batch, return_dict=True)
    assert np.isfinite(float(logs["loss"]))
