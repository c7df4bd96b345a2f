"""Memory-efficient attention and rematerialisation give the same numbers as exact attention.

References: a NumPy softmax attention (independent of keras), and the same model with
``attention_chunk_size=None, remat=False`` trained one SGD step from the same weights.
"""

import keras
import numpy as np
import pytest
from keras import ops

from sensorlm_keras import SensorLM, SensorLMConfig
from sensorlm_keras.errors import ConfigError
from sensorlm_keras.layers import MultiHeadDotProductAttention, TransformerBlock
from sensorlm_keras.backend import chunked_dot_product_attention, resolve_attention_chunk_size
from tests.core.helpers import random_batch, tiny_model


def numpy_attention(q, k, v, keep=None):
    """q (b, t, n, h), k/v (b, s, n, h), keep bool (b, t, s) or None."""
    scores = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(q.shape[-1])
    if keep is not None:
        scores = np.where(keep[:, None], scores, -np.inf)
    scores = scores - scores.max(-1, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(-1, keepdims=True)
    return np.einsum("bnts,bsnh->btnh", weights, v)


@pytest.mark.parametrize("chunk", [2, 7, 23, 64])
@pytest.mark.parametrize("masking", ["none", "padding", "causal", "full"])
def test_chunked_attention_equals_numpy_reference(chunk, masking):
    rng = np.random.default_rng(chunk)
    b, t, n, h = 2, 23, 3, 8
    q, k, v = (rng.standard_normal((b, t, n, h)).astype("float32") for _ in range(3))
    keep = np.ones((b, t, t), bool)
    mask, is_causal = None, False
    if masking == "padding":
        valid = np.arange(t)[None, :] < np.array([[t], [15]])
        keep = np.broadcast_to(valid[:, None, :], (b, t, t))
        mask = valid[:, None, None, :]
    elif masking == "causal":
        keep = np.broadcast_to(np.tril(np.ones((t, t), bool)), (b, t, t))
        is_causal = True
    elif masking == "full":
        keep = rng.random((b, t, t)) < 0.6
        keep[:, :, 0] = True
        mask = keep[:, None]
    expected = numpy_attention(q, k, v, keep)
    got = chunked_dot_product_attention(q, k, v, mask=mask, is_causal=is_causal,
                                        chunk_size=chunk)
    np.testing.assert_allclose(ops.convert_to_numpy(got), expected, atol=2e-6, rtol=1e-5)


def test_layer_with_chunks_equals_full_attention_layer():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 37, 16)).astype("float32")
    valid = (np.arange(37)[None, :] < np.array([[37], [20]])).astype("int32")
    full = MultiHeadDotProductAttention(num_heads=4)
    chunked = MultiHeadDotProductAttention(num_heads=4, attention_chunk_size=8)
    full.build(x.shape)
    chunked.build(x.shape)
    chunked.set_weights(full.get_weights())
    for causal in (False, True):
        a = ops.convert_to_numpy(full(x, attention_mask=valid, is_causal=causal))
        c = ops.convert_to_numpy(chunked(x, attention_mask=valid, is_causal=causal))
        np.testing.assert_allclose(c, a, atol=2e-6)
    config = chunked.get_config()
    assert config["attention_chunk_size"] == 8
    assert MultiHeadDotProductAttention.from_config(config).attention_chunk_size == 8
    block = TransformerBlock(num_heads=4, mlp_dim=32, attention_chunk_size="auto")
    assert TransformerBlock.from_config(block.get_config()).attention_chunk_size == "auto"


def test_resolve_attention_chunk_size():
    assert resolve_attention_chunk_size(None, 5000) is None
    assert resolve_attention_chunk_size(64, 5000) == 64
    assert resolve_attention_chunk_size("auto", 100) is None  # short: exact kernel
    # These tests run on CPU-only machines: long sequences are chunked on JAX only (torch's
    # CPU kernel is memory-efficient already; on TensorFlow chunking was slower).
    expected = 1280 if keras.backend.backend() == "jax" else None
    assert resolve_attention_chunk_size("auto", 2448) == expected
    for bad in (0, -3, True, "fast", 2.5):
        with pytest.raises(ConfigError, match="attention_chunk_size"):
            resolve_attention_chunk_size(bad, 100)
    with pytest.raises(ConfigError, match="attention_chunk_size"):
        SensorLMConfig(attention_chunk_size=0)
    with pytest.raises(ConfigError, match="remat"):
        SensorLMConfig(remat="yes")


def test_chunked_and_remat_training_step_equals_exact():
    """Gradients through chunked attention and rematerialised blocks equal the exact ones:
    one SGD step from the same weights lands on the same weights."""
    reference = tiny_model(attention_chunk_size=None, remat=False, sensor_num_layers=1)
    candidate = tiny_model(attention_chunk_size=9, remat=True, sensor_num_layers=1)
    assert candidate.sensor_encoder.num_tokens == 24  # -> blocks of 9, 9 and 6 queries
    candidate.set_weights(reference.get_weights())
    initial = [np.array(w) for w in reference.get_weights()]
    batch = random_batch(4, seed=5)
    for model in (reference, candidate):
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0))
    loss_ref = float(reference.train_on_batch(batch, return_dict=True)["loss"])
    loss_new = float(candidate.train_on_batch(batch, return_dict=True)["loss"])
    assert abs(loss_new - loss_ref) <= 1e-5 * max(1.0, abs(loss_ref))
    moved = 0.0
    for w_ref, w_new, w0 in zip(reference.get_weights(), candidate.get_weights(),
                                initial):
        np.testing.assert_allclose(w_new, w_ref, atol=2e-5)
        moved = max(moved, float(np.abs(w_ref - w0).max()))
    assert moved > 1e-4  # the step did change the weights


def test_config_round_trip_keeps_memory_options():
    model = tiny_model(attention_chunk_size=32, remat=True)
    assert model.config.attention_chunk_size == 32 and model.config.remat is True
    clone = SensorLM.from_config(model.get_config())
    assert clone.sensor_encoder.remat is True
    assert clone.sensor_encoder.blocks[0].attention.attention_chunk_size == 32


def test_encoding_records_no_autograd_graph():
    """encode_sensor / encode_text run without gradient tracking (PyTorch would otherwise keep
    every activation: encode_sensor on 32 days of sensorlm_small ran out of 24 GB)."""
    model = tiny_model()
    seen = []
    if keras.backend.backend() == "torch":
        import torch

        original = model.sensor_encoder.call

        def spy(*args, **kwargs):
            seen.append(torch.is_grad_enabled())
            return original(*args, **kwargs)

        model.sensor_encoder.call = spy
    batch = random_batch(3, seed=2)
    out = model.encode_sensor(batch["sensor"], batch_size=2)
    assert out.shape == (3, 32) and np.isfinite(out).all()
    if keras.backend.backend() == "torch":
        assert seen == [False, False]


def numpy_attention_grads(q, k, v, d_out):
    """Textbook gradients of softmax attention, NumPy, full matrices (no blocks)."""
    scale = 1.0 / np.sqrt(q.shape[-1])
    s = np.einsum("btnh,bsnh->bnts", q, k) * scale
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    do = np.transpose(d_out, (0, 2, 1, 3))  # b n t h
    dv = np.einsum("bnts,bnth->bsnh", p, do)
    dp = np.einsum("bnth,bsnh->bnts", do, v)
    ds = p * (dp - (dp * p).sum(-1, keepdims=True))
    dq = np.einsum("bnts,bsnh->btnh", ds, k) * scale
    dk = np.einsum("bnts,btnh->bsnh", ds, q) * scale
    return dq, dk, dv


def backend_grads(fn, q, k, v, d_out):
    """d/d(q, k, v) of sum(fn(q, k, v) * d_out) with the active backend's autodiff."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        grads = jax.grad(lambda a, b, c: (fn(a, b, c) * d_out).sum(), argnums=(0, 1, 2))(q, k, v)
    elif backend == "tensorflow":
        import tensorflow as tf

        tensors = [tf.constant(x) for x in (q, k, v)]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            total = tf.reduce_sum(fn(*tensors) * d_out)
        grads = tape.gradient(total, tensors)
    else:
        import torch

        tensors = [torch.tensor(x, requires_grad=True) for x in (q, k, v)]
        total = (fn(*tensors) * torch.tensor(d_out)).sum()
        grads = torch.autograd.grad(total, tensors)
    return [ops.convert_to_numpy(g) for g in grads]


@pytest.mark.parametrize("chunk, t, s", [(8, 37, 37), (16, 40, 29), (1024, 2448, 2448)])
def test_chunked_attention_gradients_equal_numpy_reference(chunk, t, s):
    """Unmasked long attention (the sensor tower): on JAX this is the hand-written backward
    of `sensorlm_keras.backend.jax.blockwise_attention`; elsewhere rematerialised blocks under autodiff."""
    rng = np.random.default_rng(t + s)
    b, n, h = (1, 2, 8) if t > 1000 else (2, 3, 8)
    q = rng.standard_normal((b, t, n, h)).astype("float32")
    k, v = (rng.standard_normal((b, s, n, h)).astype("float32") for _ in range(2))
    d_out = rng.standard_normal((b, t, n, h)).astype("float32")
    got = backend_grads(
        lambda a, bb, c: chunked_dot_product_attention(a, bb, c, chunk_size=chunk), q, k, v, d_out
    )
    for name, g, ref in zip("qkv", got, numpy_attention_grads(q, k, v, d_out)):
        np.testing.assert_allclose(g, ref, atol=5e-5, rtol=1e-4, err_msg=f"d{name}")


def test_blockwise_query_blocks_are_balanced():
    from sensorlm_keras.backend.jax.blockwise_attention import query_block_size

    assert query_block_size(2448, 1024) == 816  # 3 equal blocks, no padding
    assert query_block_size(2448, 1280) == 1224  # the "auto" size: 2 blocks
    assert query_block_size(4896, 1024) == 984  # 5 blocks, 24 padded queries
    assert query_block_size(37, 8) == 8
    assert query_block_size(20, 1024) == 24


def test_chunked_attention_in_bfloat16_keeps_dtype_and_float32_softmax():
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal((2, 40, 2, 8)).astype("float32") for _ in range(3))
    got = chunked_dot_product_attention(
        *(ops.cast(x, "bfloat16") for x in (q, k, v)), chunk_size=16
    )
    assert keras.backend.standardize_dtype(got.dtype) == "bfloat16"
    expected = numpy_attention(q, k, v)
    np.testing.assert_allclose(ops.convert_to_numpy(ops.cast(got, "float32")), expected,
                               atol=4e-2)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_auto_attention_kernel_values_and_gradients_equal_numpy_reference(dtype):
    """`attend` with the default ``"auto"``: on a CPU-only TensorFlow this is the closed-form
    gradient of `sensorlm_keras.backend.tensorflow.closed_form_attention`, on JAX/PyTorch the backend's own kernel."""
    layer = MultiHeadDotProductAttention(num_heads=3, attention_chunk_size="auto")
    rng = np.random.default_rng(11)
    q, k, v = (rng.standard_normal((2, 30, 3, 8)).astype("float32") for _ in range(3))
    d_out = rng.standard_normal((2, 30, 3, 8)).astype("float32")

    def fn(a, b, c):
        a, b, c = (ops.cast(x, dtype) for x in (a, b, c))
        return ops.cast(layer.attend(a, b, c), "float32")

    tol = dict(atol=2e-5, rtol=1e-4) if dtype == "float32" else dict(atol=6e-2, rtol=6e-2)
    np.testing.assert_allclose(ops.convert_to_numpy(fn(q, k, v)), numpy_attention(q, k, v), **tol)
    got = backend_grads(fn, q, k, v, d_out)
    for name, g, ref in zip("qkv", got, numpy_attention_grads(q, k, v, d_out)):
        np.testing.assert_allclose(g, ref, err_msg=f"d{name}", **tol)
    if keras.backend.backend() == "tensorflow":
        from sensorlm_keras.backend import tensorflow as tf_backend

        # these tests run on CPU-only machines: the closed-form kernel is the one used
        assert tf_backend.auto_unmasked_attention() is tf_backend.closed_form_attention
