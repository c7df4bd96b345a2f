"""The blockwise sigmoid loss equals the plain loss, in value and gradient."""

import keras
import numpy as np
import pytest
from keras import ops

from sensorlm_keras.losses import contrastive_ops


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def value_and_grads(fn, *arrays):
    """Loss and gradients w.r.t. every array, with the active backend's autodiff."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        variables = [tf.Variable(a) for a in arrays]
        with tf.GradientTape() as tape:
            value = fn(*variables)
        return float(value), [g.numpy() for g in tape.gradient(value, variables)]
    if backend == "jax":
        import jax

        value, grads = jax.value_and_grad(lambda *a: fn(*a), argnums=tuple(range(len(arrays))))(
            *[jax.numpy.asarray(a) for a in arrays]
        )
        return float(value), [np.asarray(g) for g in grads]
    import torch

    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    value = fn(*tensors)
    value.backward()
    return float(value.detach()), [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("rows, cols, chunk, offset", [(8, 8, 3, 0), (5, 20, 7, 10), (4, 4, 4, 0),
                                                       (6, 6, 1, 0), (3, 9, 100, 6)])
def test_chunked_equals_plain_value_and_gradient(rows, cols, chunk, offset):
    rng = np.random.default_rng(rows * 100 + chunk)
    s = _unit(rng.standard_normal((rows, 16))).astype("float32")
    t = _unit(rng.standard_normal((cols, 16))).astype("float32")
    scale = np.array(1.7, "float32")
    bias = np.array(-3.0, "float32")

    def plain(s, t, scale, bias):
        logits = contrastive_ops.contrastive_logits(s, t, scale, bias)
        labels = contrastive_ops.positive_labels(rows, cols, offset)
        return contrastive_ops.sigmoid_loss_sum(logits, labels)

    def chunked(s, t, scale, bias):
        return contrastive_ops.chunked_sigmoid_loss_sum(s, t, scale, bias, chunk, offset)

    v1, g1 = value_and_grads(plain, s, t, scale, bias)
    v2, g2 = value_and_grads(chunked, s, t, scale, bias)
    np.testing.assert_allclose(v2, v1, rtol=1e-5)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)


def test_model_with_chunked_loss_matches_plain_model():
    from tests.core.helpers import random_batch, tiny_model

    plain = tiny_model()
    chunked = tiny_model(loss_chunk_size=3)
    chunked.set_weights(plain.get_weights())
    batch = random_batch(8)
    y = plain(batch)
    np.testing.assert_allclose(
        float(ops.convert_to_numpy(chunked.compute_loss(x=batch, y_pred=y))),
        float(ops.convert_to_numpy(plain.compute_loss(x=batch, y_pred=y))),
        rtol=1e-5,
    )
    assert chunked.get_config()["loss_chunk_size"] == 3


def test_chunk_size_must_be_positive():
    with pytest.raises(ValueError, match="chunk_size"):
        contrastive_ops.chunked_sigmoid_loss_sum(np.ones((2, 3)), np.ones((2, 3)), 0.0, 0.0, 0)
