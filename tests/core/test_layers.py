"""Each layer against an independent reference, its config round trip and its errors."""

import keras
import numpy as np
import pytest
from keras import ops

from sensorlm_keras import layers

np_ = ops.convert_to_numpy


def _roundtrip_output(layer, *args, **kwargs):
    """A layer rebuilt from its config, with the same weights, gives the same output."""
    out = np_(layer(*args, **kwargs))
    clone = layer.__class__.from_config(layer.get_config())
    clone(*args, **kwargs)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(np_(clone(*args, **kwargs)), out, rtol=1e-6, atol=1e-6)
    assert clone.get_config() == layer.get_config()
    return out


def test_patch_embedding_equals_conv2d():
    x = np.random.default_rng(0).standard_normal((2, 40, 6)).astype("float32")
    layer = layers.PatchEmbedding(16, patch_size=(10, 2))
    tokens = np_(layer(x))
    assert tokens.shape == (2, 4 * 3, 16)
    conv = keras.layers.Conv2D(16, kernel_size=(10, 2), strides=(10, 2), padding="valid")
    conv.build((None, 40, 6, 1))
    conv.set_weights(layer.get_weights())
    reference = np_(conv(x[..., None])).reshape(2, 12, 16)
    np.testing.assert_allclose(tokens, reference, rtol=1e-5, atol=1e-5)
    assert layer.compute_output_shape((None, 40, 6)) == (None, 12, 16)
    _roundtrip_output(layer, x)


def test_patch_embedding_real_shape_token_count():
    layer = layers.PatchEmbedding(8)
    assert layer.compute_output_shape((1, 1440, 34)) == (1, 2448, 8)
    assert layer.compute_output_shape((1, 1440, 26)) == (1, 1872, 8)


@pytest.mark.parametrize("shape, match", [((2, 45, 6), "divisible by the patch time"),
                                           ((2, 40, 7), "not divisible by the patch channel"),
                                           ((40, 6), "rank 3")])
def test_patch_embedding_errors(shape, match):
    with pytest.raises(ValueError, match=match):
        layers.PatchEmbedding(4)(np.zeros(shape, "float32"))


def test_position_embedding_owns_trainable_weight_with_std():
    layer = layers.PositionEmbedding(2000)
    x = np.zeros((1, 2000, 64), "float32")
    y = np_(layer(x))
    assert len(layer.trainable_weights) == 1
    np.testing.assert_allclose(y[0], np_(layer.embeddings))
    assert abs(np.std(y) - 1 / 8) < 0.01
    short = np_(layer(np.zeros((1, 5, 64), "float32")))
    np.testing.assert_allclose(short[0], np_(layer.embeddings)[:5])
    with pytest.raises(ValueError, match="exceeds the maximum"):
        layer(np.zeros((1, 2001, 64), "float32"))
    _roundtrip_output(layers.PositionEmbedding(7), np.ones((2, 7, 4), "float32"))


@pytest.mark.parametrize("width", [8, 7])
def test_sinusoidal_initializer_matches_the_transformer_formula(width):
    table = np_(layers.SinusoidalInitializer(max_wavelength=100.0)((50, width)))
    sines, cosines = width // 2, width - width // 2
    reference = np.zeros((50, width))
    for p in range(50):
        for i in range(sines):
            reference[p, i] = np.sin(p / 100.0 ** (i / sines))
        for i in range(cosines):
            reference[p, sines + i] = np.cos(p / 100.0 ** (i / cosines))
    np.testing.assert_allclose(table, reference, atol=1e-5)
    assert table.dtype == np.float32
    # every position starts distinct, and a linear map reads the position off the codes
    assert len(np.unique(table.round(5), axis=0)) == 50
    positions = np.arange(50.0)
    features = np.c_[table, np.ones(50)]
    fit = features @ np.linalg.lstsq(features, positions, rcond=None)[0]
    assert np.abs(fit - positions).max() < 2.0
    layer = layers.PositionEmbedding(50, initializer=layers.SinusoidalInitializer(100.0))
    out = _roundtrip_output(layer, np.zeros((1, 50, width), "float32"))
    np.testing.assert_allclose(out[0], reference, atol=1e-5)
    config = layers.SinusoidalInitializer(100.0).get_config()
    assert layers.SinusoidalInitializer.from_config(config).max_wavelength == 100.0
    for bad in (1.0, "x", True, ()):
        with pytest.raises(ValueError, match="max_wavelength"):
            layers.SinusoidalInitializer(bad)
    with pytest.raises(ValueError, match="positions, width"):
        layers.SinusoidalInitializer()((3, 4, 5))


def numpy_attention(q_in, kv_in, wq, bq, wk, bk, wv, bv, wo, bo, mask=None):
    q = np.einsum("btd,dnh->btnh", q_in, wq) + bq
    k = np.einsum("bsd,dnh->bsnh", kv_in, wk) + bk
    v = np.einsum("bsd,dnh->bsnh", kv_in, wv) + bv
    scores = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask[:, None, None, :], scores, -1e9)
    p = np.exp(scores - scores.max(-1, keepdims=True))
    p = p / p.sum(-1, keepdims=True)
    out = np.einsum("bnts,bsnh->btnh", p, v)
    return np.einsum("btnh,nhd->btd", out, wo) + bo


def test_self_attention_matches_numpy_with_padding_mask():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5, 8)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    layer = layers.MultiHeadDotProductAttention(num_heads=2)
    y = np_(layer(x, attention_mask=mask))
    w = {v.path.split("/")[-1]: np_(v) for v in layer.weights}
    qkv, qkv_b = w["qkv_kernel"], w["qkv_bias"]
    ref = numpy_attention(
        x, x, qkv[:, 0], qkv_b[0], qkv[:, 1], qkv_b[1], qkv[:, 2], qkv_b[2],
        w["output_kernel"], w["output_bias"], mask,
    )
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)
    _roundtrip_output(layer, x, attention_mask=mask)


def test_cross_attention_matches_numpy():
    rng = np.random.default_rng(2)
    q = rng.standard_normal((2, 1, 8)).astype("float32")
    kv = rng.standard_normal((2, 6, 8)).astype("float32")
    layer = layers.MultiHeadDotProductAttention(num_heads=4, cross_attention=True)
    y = np_(layer(q, kv))
    w = {v.path.split("/")[-1]: np_(v) for v in layer.weights}
    kvk, kvb = w["key_value_kernel"], w["key_value_bias"]
    ref = numpy_attention(
        q, kv, w["query_kernel"], w["query_bias"], kvk[:, 0], kvb[0], kvk[:, 1], kvb[1],
        w["output_kernel"], w["output_bias"],
    )
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)


def test_transformer_block_padding_does_not_leak():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 6, 16)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 0, 0]], bool)
    block = layers.TransformerBlock(num_heads=2, mlp_dim=32)
    y1 = np_(block(x, padding_mask=mask))
    x2 = x.copy()
    x2[:, 4:] = 100.0  # change only the padded tokens
    y2 = np_(block(x2, padding_mask=mask))
    np.testing.assert_allclose(y1[:, :4], y2[:, :4], rtol=1e-5, atol=1e-5)
    assert block.compute_output_shape((1, 6, 16)) == (1, 6, 16)
    _roundtrip_output(block, x, padding_mask=mask)


def test_transformer_block_is_pre_layernorm_residual():
    # With zeroed output projections both sub-blocks add nothing: y == x exactly.
    x = np.random.default_rng(4).standard_normal((2, 3, 8)).astype("float32")
    block = layers.TransformerBlock(num_heads=2, mlp_dim=16)
    block(x)
    block.attention.output_kernel.assign(np.zeros(block.attention.output_kernel.shape))
    block.mlp.output_dense.kernel.assign(np.zeros(block.mlp.output_dense.kernel.shape))
    np.testing.assert_allclose(np_(block(x)), x, atol=1e-6)


def test_map_head_shape_and_mask():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 7, 16)).astype("float32")
    head = layers.MAPHead(num_heads=2, mlp_dim=32)
    y = np_(head(x))
    assert y.shape == (3, 16)
    assert head.compute_output_shape((3, 7, 16)) == (3, 16)
    assert tuple(head.probe.shape) == (1, 1, 16)
    _roundtrip_output(head, x)


def test_pooling_layers_match_numpy():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    mean = np_(layers.MaskedMeanPooling()(x, padding_mask=mask))
    np.testing.assert_allclose(mean[0], x[0, :2].mean(0), rtol=1e-6)
    np.testing.assert_allclose(mean[1], x[1].mean(0), rtol=1e-6)
    last = np_(layers.LastTokenPooling()(x, padding_mask=mask))
    np.testing.assert_allclose(last[0], x[0, 1])
    np.testing.assert_allclose(last[1], x[1, 3])
    np.testing.assert_allclose(np_(layers.LastTokenPooling()(x)), x[:, -1])
    empty = np_(layers.MaskedMeanPooling()(x, padding_mask=np.zeros((2, 4), bool)))
    assert np.isfinite(empty).all()


def test_l2_normalization_unit_norm_float32_and_zero_safe():
    x = np.array([[3.0, 4.0], [0.0, 0.0]], "float32")
    y = np_(layers.L2Normalization()(ops.cast(x, "bfloat16")))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y[0], [0.6, 0.8], rtol=1e-2)
    assert np.isfinite(y).all()
    _roundtrip_output(layers.L2Normalization(epsilon=1e-6), x)


def test_layers_follow_mixed_precision_policy():
    x = np.random.default_rng(7).standard_normal((2, 20, 4)).astype("float32")
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        patch = layers.PatchEmbedding(8)
        block = layers.TransformerBlock(2, 16)
        y = block(patch(x))
        assert patch.kernel.dtype == "float32"
        assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
    finally:
        keras.mixed_precision.set_global_policy("float32")
