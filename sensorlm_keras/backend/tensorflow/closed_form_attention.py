"""TensorFlow: exact unmasked attention with a closed-form gradient, for CPU-only machines.

Why this exists (measured, ``benchmarks/attention.py``): without XLA (Keras' default for
TensorFlow on a CPU-only machine) every elementwise op of attention is its own kernel that
streams the ``(batch, heads, tokens, tokens)`` score matrix through memory. Autodiff of the
softmax needs several such passes; the closed form needs one:

    do = upstream gradient, p = softmax(q k^T * scale), o = p v
    dv = p^T do;  dp = do v^T;  ds = p * (dp - rowsum(do * o));  dq = ds k * scale;  dk = ds^T q*scale

At SensorLM's 2448 sensor tokens (base width, batch 2, forward + backward) this took 0.66 s
and 2.4 GB against 0.81 s and 3.6 GB for `keras.ops.dot_product_attention` under autodiff
(`benchmarks/attention.py`). Memory stays quadratic: the softmax output is kept for the
backward pass (set an int ``attention_chunk_size`` for linear memory). ``q`` is scaled before
the score matmul so no pass over the scores is spent on it.

The scores, softmax and the ``ds`` algebra are float32 whatever the input dtype (mixed
bfloat16 runs the matmuls in bfloat16). Results equal exact attention to float32 round-off
(``tests/core/test_chunked_attention.py``).
"""

import tensorflow as tf


def closed_form_attention(q, k, v):
    """Exact softmax attention, ``q (b, t, n, h)``, ``k, v (b, s, n, h)`` -> ``(b, t, n, h)``.

    Args:
        q, k, v: TensorFlow tensors of one float dtype.

    Returns:
        The attention output in the dtype of ``v``.
    """
    return _attention(q, k, v)


def _heads_first(x):  # (b, s, n, h) <-> (b, n, s, h)
    return tf.transpose(x, (0, 2, 1, 3))


def _attention(q, k, v):
    scale = 1.0 / float(q.shape[-1]) ** 0.5

    @tf.custom_gradient
    def attention(q, k, v):
        qt = _heads_first(q) * tf.cast(scale, q.dtype)
        kt, vt = _heads_first(k), _heads_first(v)
        scores = tf.cast(tf.matmul(qt, kt, transpose_b=True), tf.float32)
        p = tf.nn.softmax(scores, axis=-1)
        ot = tf.matmul(tf.cast(p, vt.dtype), vt)

        def grad(d_out):
            dot = _heads_first(tf.cast(d_out, vt.dtype))
            delta = tf.reduce_sum(
                tf.cast(dot, tf.float32) * tf.cast(ot, tf.float32), axis=-1, keepdims=True
            )
            dv = tf.matmul(tf.cast(p, dot.dtype), dot, transpose_a=True)
            dp = tf.cast(tf.matmul(dot, vt, transpose_b=True), tf.float32)
            ds = tf.cast(p * (dp - delta), qt.dtype)
            dq = tf.matmul(ds, kt) * tf.cast(scale, kt.dtype)
            dk = tf.matmul(ds, qt, transpose_a=True)  # qt already carries the scale
            return _heads_first(dq), _heads_first(dk), _heads_first(dv)

        return _heads_first(ot), grad

    return attention(q, k, v)
