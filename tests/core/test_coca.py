"""SensorLMCoCa: causal decoder, KV-cache decoding, CoCa loss, generation, serialisation.

Runs on every backend (tests/test_backends.py re-runs tests/core under JAX and PyTorch).
"""

import keras
import numpy as np
import pytest
from keras import ops

from sensorlm_keras import SensorLM, SensorLMCoCa, SensorLMCoCaConfig
from sensorlm_keras.errors import ConfigError, InputValidationError
from sensorlm_keras.layers import AttentionalPooler, TransformerDecoderBlock
from sensorlm_keras.models import COCA_PRESETS, CaptionDecoder

from tests.core.helpers import C, L, T, V  # the shapes of the other core tests (shared
                                           # compilation caches, e.g. JAX's per-shape ops)

np_ = ops.convert_to_numpy
TINY = dict(
    sequence_length=T, num_channels=C, vocabulary_size=V, max_text_length=L,
    sensor_hidden_dim=32, sensor_num_heads=2, sensor_mlp_dim=64, sensor_num_layers=1,
    text_hidden_dim=32, text_num_heads=2, text_mlp_dim=64, text_num_layers=1, embed_dim=32,
    decoder_pooler_queries=4,
)
CAPTIONS = [[5, 6, 7, 1], [8, 9, 10, 11, 12, 1], [5, 9, 13, 1], [20, 21, 22, 23, 24, 25, 1]]


def tiny_coca(**overrides):
    return SensorLMCoCa.from_preset("sensorlm_coca_tiny", **{**TINY, **overrides})


@pytest.fixture(scope="module")
def shared():
    """One untrained model (1 unimodal + 2 multimodal decoder layers) for the read-only tests."""
    return tiny_coca(decoder_multimodal_layers=2)


def sharing(model, **kwargs):
    """A SensorLMCoCa over the same layer objects (hence the same weights) as ``model``."""
    defaults = dict(loss_type=model.loss_type)
    return SensorLMCoCa(model.sensor_encoder, model.text_encoder, model.caption_decoder,
                        **{**defaults, **kwargs})


def caption_batch(seed=0):
    rng = np.random.default_rng(seed)
    ids = np.zeros((len(CAPTIONS), L), "int32")
    for i, c in enumerate(CAPTIONS):
        ids[i, : len(c)] = c
    return {
        "sensor": rng.standard_normal((len(CAPTIONS), T, C)).astype("float32"),
        "token_ids": ids,
        "padding_mask": ids > 0,
    }


def random_ids(rng, batch=3):
    return rng.integers(2, V, size=(batch, L)).astype("int32")


def assert_one_token_steps_equal_full_decoding(decoder, ids, sensor_tokens, full):
    """Cached one-token decode steps reproduce the teacher-forced logits ``full``."""
    inputs = np_(decoder.shift_right(ids))
    cross = decoder.cross_key_values(sensor_tokens)
    caches = decoder.init_cache(ids.shape[0], L)
    steps = []
    for i in range(L):
        logits, caches = decoder.decode_step(inputs[:, i : i + 1], i, cross, caches)
        steps.append(np_(logits))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


# ---------------------------------------------------------------------------- layers
def test_decoder_block_is_causal_and_round_trips():
    rng = np.random.default_rng(0)
    block = TransformerDecoderBlock(num_heads=2, mlp_dim=64, cross_attention=True)
    x = rng.standard_normal((2, 8, 32)).astype("float32")
    context = rng.standard_normal((2, 3, 24)).astype("float32")
    y = np_(block(x, context=context))
    assert y.shape == block.compute_output_shape(x.shape, context.shape) == (2, 8, 32)
    changed = x.copy()
    changed[:, 5:] = rng.standard_normal((2, 3, 32))
    y2 = np_(block(changed, context=context))
    np.testing.assert_allclose(y2[:, :5], y[:, :5], atol=1e-6)
    assert np.abs(y2[:, 5:] - y[:, 5:]).max() > 1e-3
    clone = TransformerDecoderBlock.from_config(block.get_config())
    clone(x, context=context)
    clone.set_weights(block.get_weights())
    np.testing.assert_allclose(np_(clone(x, context=context)), y, atol=1e-6)
    assert clone.get_config() == block.get_config()
    with pytest.raises(InputValidationError, match="needs a `context`"):
        block(x)


def test_attentional_pooler_shape_and_round_trip():
    pooler = AttentionalPooler(num_queries=5, num_heads=2, width=16)
    x = np.random.default_rng(1).standard_normal((2, 12, 24)).astype("float32")
    y = np_(pooler(x))
    assert y.shape == pooler.compute_output_shape(x.shape) == (2, 5, 16)
    clone = AttentionalPooler.from_config(pooler.get_config())
    clone(x)
    clone.set_weights(pooler.get_weights())
    np.testing.assert_allclose(np_(clone(x)), y, atol=1e-6)
    with pytest.raises(InputValidationError, match="num_queries"):
        AttentionalPooler(num_queries=0, num_heads=2)


# ---------------------------------------------------------------------------- decoder
def test_decoder_logits_do_not_see_the_future(shared):
    model = shared
    rng = np.random.default_rng(2)
    ids = random_ids(rng)
    sensor_tokens = rng.standard_normal((3, 24, 32)).astype("float32")
    logits = np_(model.caption_decoder(ids, sensor_tokens))
    assert logits.shape == (3, L, V) and logits.dtype == np.float32
    for i in range(L - 1):
        changed = ids.copy()
        changed[:, i + 1 :] = random_ids(rng)[:, i + 1 :]
        changed[:, i + 1] = (ids[:, i + 1] + 1) % V  # certainly different
        other = np_(model.caption_decoder(changed, sensor_tokens))
        # logits[:, j] predicts token j from tokens < j: positions <= i + 1 see tokens <= i only
        np.testing.assert_allclose(other[:, : i + 2], logits[:, : i + 2], atol=1e-5)
        if i + 2 < L:
            assert np.abs(other[:, i + 2 :] - logits[:, i + 2 :]).max() > 1e-4


def test_cache_decoding_equals_full_decoding(shared):
    decoder = shared.caption_decoder
    assert len(decoder.blocks) == 3
    rng = np.random.default_rng(3)
    ids = random_ids(rng)
    sensor_tokens = rng.standard_normal((3, 24, 32)).astype("float32")
    full = np_(decoder(ids, sensor_tokens))
    assert_one_token_steps_equal_full_decoding(decoder, ids, sensor_tokens, full)
    inputs = np_(decoder.shift_right(ids))
    cross = decoder.cross_key_values(sensor_tokens)
    # a multi-token prefill followed by single steps gives the same logits
    caches = decoder.init_cache(3, L)
    head, caches = decoder.decode_step(inputs[:, :4], 0, cross, caches)
    tail, _ = decoder.decode_step(inputs[:, 4:5], 4, cross, caches)
    np.testing.assert_allclose(np_(head), full[:, :4], atol=1e-5)
    np.testing.assert_allclose(np_(tail)[:, 0], full[:, 4], atol=1e-5)


@pytest.mark.parametrize("sensor_width", [32, 48])
def test_decoder_without_pooler_attends_to_every_sensor_token(sensor_width, tmp_path):
    """``num_pooler_queries=None``: the context is the normalised (projected when the widths
    differ) sensor tokens themselves; cached decoding, config and file round trips hold."""
    decoder = CaptionDecoder(vocabulary_size=V, max_text_length=L, hidden_dim=32,
                             num_heads=2, mlp_dim=64, num_unimodal_layers=1,
                             num_multimodal_layers=1, num_pooler_queries=None,
                             sensor_width=sensor_width)
    assert decoder.pooler is None
    assert (decoder.context_projection is None) == (sensor_width == 32)
    rng = np.random.default_rng(4)
    ids = random_ids(rng)
    sensor_tokens = rng.standard_normal((3, 24, sensor_width)).astype("float32")
    assert np_(decoder.pool_sensor(sensor_tokens)).shape == (3, 24, 32)
    full = np_(decoder(ids, sensor_tokens))
    assert full.shape == decoder.compute_output_shape(ids.shape) == (3, L, V)
    # every sensor token reaches the logits (no bottleneck drops one)
    for t in (0, 11, 23):
        changed = sensor_tokens.copy()
        changed[:, t] = rng.standard_normal((3, sensor_width))
        assert float(np.abs(np_(decoder(ids, changed)) - full).max()) > 1e-4
    assert_one_token_steps_equal_full_decoding(decoder, ids, sensor_tokens, full)
    clone = CaptionDecoder.from_config(decoder.get_config())
    assert clone.get_config() == decoder.get_config()
    clone.set_weights(decoder.get_weights())
    np.testing.assert_allclose(np_(clone(ids, sensor_tokens)), full, atol=1e-6)
    with pytest.raises(InputValidationError, match="num_pooler_queries"):
        CaptionDecoder(vocabulary_size=V, max_text_length=L, hidden_dim=32, num_heads=2,
                       mlp_dim=64, num_pooler_queries=0, sensor_width=32)
    model = tiny_coca(decoder_pooler_queries=None)
    assert model.caption_decoder.pooler is None
    assert model.config.decoder_pooler_queries is None
    path = str(tmp_path / "direct.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    batch = caption_batch()
    np.testing.assert_allclose(np_(loaded(batch)["caption_logits"]),
                               np_(model(batch)["caption_logits"]), atol=1e-6)


def test_untied_embeddings_have_an_output_projection(shared):
    untied = tiny_coca(tie_embeddings=False, decoder_multimodal_layers=2)
    assert shared.caption_decoder.output_projection is None
    assert untied.caption_decoder.output_projection is not None
    assert untied.count_params() == shared.count_params() + 32 * V + V


# ---------------------------------------------------------------------------- loss
def _numpy_caption_loss(logits, ids, mask, smoothing=0.0):
    logits = logits.astype(np.float64)
    logp = logits - logits.max(-1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
    nll = -np.take_along_axis(logp, ids[..., None], -1)[..., 0]
    per_token = (1 - smoothing) * nll - smoothing * logp.mean(-1)
    return float((per_token * mask).sum() / mask.sum())


@pytest.mark.parametrize("loss_type", ["sigmoid", "softmax"])
def test_captioning_weight_zero_is_exactly_the_two_tower_loss(shared, loss_type):
    coca = sharing(shared, captioning_loss_weight=0.0, loss_type=loss_type)
    # the two-tower model over the very same tower layers (same weights, same t' and b init)
    two_tower = SensorLM(coca.sensor_encoder, coca.text_encoder, loss_type=loss_type)
    assert two_tower.config == coca.config.base_config()
    batch = caption_batch()
    x = {k: ops.convert_to_tensor(v) for k, v in batch.items()}
    x["padding_mask"] = ops.cast(x["padding_mask"], "int32")
    coca_out = coca(x)
    expected = float(np_(two_tower.compute_loss(x=x, y_pred=two_tower(x))))
    got = float(np_(coca.compute_loss(x=x, y_pred=coca_out)))
    assert got == expected
    # with a positive weight the loss is contrastive + weight * mean token cross-entropy
    weighted = sharing(shared, captioning_loss_weight=1.5, label_smoothing=0.1,
                       loss_type=loss_type)
    out = weighted(x)
    caption = _numpy_caption_loss(np_(out["caption_logits"]), batch["token_ids"],
                                  batch["padding_mask"], 0.1)
    total = float(np_(weighted.compute_loss(x=x, y_pred=out)))
    np.testing.assert_allclose(total, expected + 1.5 * caption, rtol=1e-5)


# ---------------------------------------------------------------------------- generation
def test_fit_logs_both_losses_then_overfits_captions_and_regenerates_them():
    """One compiled train function per backend: the first step's logs, then overfitting."""
    model = tiny_coca()
    model.compile(optimizer=keras.optimizers.Adam(5e-3))
    batch = caption_batch()
    before = [np_(w).copy() for w in model.caption_decoder.trainable_weights]
    history = model.fit(batch, batch_size=4, epochs=1, verbose=0)
    logs = {k: v[-1] for k, v in history.history.items()}
    for key in ("loss", "contrastive_loss", "captioning_loss", "caption_token_accuracy",
                "grad_norm", "temperature"):
        assert key in logs and np.isfinite(logs[key]), (key, logs)
    np.testing.assert_allclose(
        logs["loss"], logs["contrastive_loss"] + 2.0 * logs["captioning_loss"], rtol=1e-4
    )
    after = [np_(w) for w in model.caption_decoder.trainable_weights]
    assert all(np.abs(a - b).max() > 0 for a, b in zip(after, before))

    expected = batch["token_ids"]
    greedy = beams = None
    steps = 1
    while steps < 300:  # stops once greedy and beam decoding regenerate every caption
        model.fit(batch, batch_size=4, epochs=10, verbose=0)
        steps += 10
        greedy = model.generate(batch["sensor"], max_length=L, strategy="greedy")
        if np.array_equal(greedy, expected):
            beams = model.generate(batch["sensor"], max_length=L, strategy="beam", num_beams=3)
            if np.array_equal(beams, expected):
                break
    np.testing.assert_array_equal(greedy, expected)
    np.testing.assert_array_equal(beams, expected)
    print(f"regenerated the {len(CAPTIONS)} captions exactly after {steps} steps")


def test_beam_of_one_is_greedy_and_top_p_is_seeded(shared):
    model = shared
    sensor = caption_batch()["sensor"]
    greedy, greedy_scores = model.generate(sensor, max_length=L, return_scores=True)
    assert greedy.shape == (4, L) and greedy.dtype == np.int32
    beam1 = model.generate(sensor, max_length=L, strategy="beam", num_beams=1)
    np.testing.assert_array_equal(beam1, greedy)
    beam3, beam_scores = model.generate(sensor, max_length=L, strategy="beam", num_beams=3,
                                        return_scores=True)
    assert beam3.shape == (4, L) and np.isfinite(beam_scores).all()
    a = model.generate(sensor, max_length=L, strategy="top_p", top_p=0.95, seed=7)
    b = model.generate(sensor, max_length=L, strategy="top_p", top_p=0.95, seed=7,
                       batch_size=3)  # each row has its own seeded generator
    np.testing.assert_array_equal(a, b)
    c = model.generate(sensor, max_length=L, strategy="top_p", top_p=0.95, seed=7)
    np.testing.assert_array_equal(a, c)
    # a tiny nucleus keeps only the most likely token: sampling becomes greedy
    np.testing.assert_array_equal(
        model.generate(sensor, max_length=L, strategy="top_p", top_p=1e-6, seed=3), greedy
    )
    single = model.generate(sensor[0], max_length=L)
    np.testing.assert_array_equal(single, greedy[0])
    for row in greedy:  # pad only after the first EOS
        if 1 in row.tolist():
            assert not row[row.tolist().index(1) + 1 :].any()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(strategy="sample"), "strategy"),
        (dict(max_length=0), "max_length"),
        (dict(max_length=L + 1), "max_length"),
        (dict(strategy="beam", num_beams=0), "num_beams"),
        (dict(strategy="top_p", top_p=0.0), "top_p"),
        (dict(temperature=0.0), "temperature"),
        (dict(tokenizer=object()), "tokenizer"),
    ],
)
def test_generate_validates_arguments(shared, kwargs, match):
    model = shared
    with pytest.raises(InputValidationError, match=match):
        model.generate(np.zeros((1, T, C), "float32"), **kwargs)


def test_generate_validates_sensor_shape(shared):
    with pytest.raises(InputValidationError, match="channels"):
        shared.generate(np.zeros((1, T, C + 2), "float32"), max_length=4)


# ---------------------------------------------------------------------------- config, saving
def test_config_presets_and_errors(shared):
    assert set(SensorLMCoCa.presets) == {"sensorlm_coca_tiny", "sensorlm_coca_base"}
    base = SensorLMCoCaConfig.from_preset("sensorlm_coca_base")
    assert base.decoder_pooler_queries == 256 and base.sensor_hidden_dim == 768
    assert SensorLMCoCaConfig.from_preset("sensorlm_coca_tiny").decoder_pooler_queries is None
    assert set(COCA_PRESETS) == set(SensorLMCoCa.presets)
    model = sharing(shared, label_smoothing=0.1)
    assert model.config == SensorLMCoCaConfig.from_preset(
        "sensorlm_coca_tiny", **TINY, decoder_multimodal_layers=2, label_smoothing=0.1,
        sensor_projection=False,  # the model reports the resolved value of None
    )
    assert SensorLMCoCaConfig.from_dict(model.config.to_dict()) == model.config
    for field, value in (("captioning_loss_weight", -1.0), ("decoder_multimodal_layers", 0),
                         ("decoder_pooler_queries", 0), ("label_smoothing", 1.0)):
        with pytest.raises(ConfigError, match=field):
            SensorLMCoCaConfig.from_preset("sensorlm_coca_tiny", **{field: value})
    with pytest.raises(ConfigError, match="unknown preset"):
        SensorLMCoCaConfig.from_preset("sensorlm_coca_huge")


def test_get_config_and_keras_file_round_trip(shared, tmp_path):
    model = sharing(shared, captioning_loss_weight=0.5)
    batch = caption_batch()
    out = {k: np_(v) for k, v in model(batch).items()}
    clone = SensorLMCoCa.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    for key, value in clone(batch).items():
        np.testing.assert_allclose(np_(value), out[key], atol=1e-6)
    path = str(tmp_path / "coca.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, SensorLMCoCa) and isinstance(loaded.caption_decoder, CaptionDecoder)
    assert loaded.config == model.config
    for key, value in loaded(batch).items():
        np.testing.assert_allclose(np_(value), out[key], atol=1e-6)
    np.testing.assert_array_equal(
        loaded.generate(batch["sensor"], max_length=6), model.generate(batch["sensor"], max_length=6)
    )
