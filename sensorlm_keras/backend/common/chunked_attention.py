"""Memory-efficient exact attention: queries processed in chunks, each chunk rematerialised.

Plain attention materialises a ``(batch, heads, queries, keys)`` score matrix and keeps it (and
its softmax) for the backward pass: at SensorLM's 2448 sensor tokens that is
``batch * heads * 2448^2 * 4`` bytes per layer, quadratic in the number of tokens.

`chunked_dot_product_attention` splits the queries into blocks of ``chunk_size``. Each block
attends over *all* keys with an ordinary softmax, so the result is exactly the result of full
attention (no online-softmax approximation: every row's softmax sees the same keys, only the
float summation order can differ). Each block is wrapped in `keras.remat`, so the backward pass
recomputes that block's scores instead of storing them: the activation memory kept for the
backward pass is ``O(tokens)`` (q, k, v and the output) and the transient memory is
``O(chunk_size * tokens)`` per block. The cost is one extra evaluation of the score and value
matmuls of attention in the backward pass.

This is the portable version (`keras.ops` plus `keras.remat`: ``tf.recompute_grad``,
``jax.checkpoint``, ``torch.utils.checkpoint``) that TensorFlow and PyTorch use. JAX has its own
(`sensorlm_keras.backend.jax.chunked_attention`: the blocks in a loop, and a hand-written
backward pass for unmasked attention). Call it through `sensorlm_keras.backend`, which picks
the active backend's version.
"""

import keras
from keras import ops


def block_attention(q, k, v, mask, scale):
    """Softmax attention of one query block over all keys (float32 scores and softmax).

    Args:
        q: ``(batch, block, heads, head_dim)``.
        k, v: ``(batch, keys, heads, head_dim)``.
        mask: None or bool ``(batch, 1|heads, block, keys)``, True = attend.
        scale: float, the score scale (``1 / sqrt(head_dim)``).

    Returns:
        ``(batch, block, heads, head_dim)`` in the dtype of ``v``.
    """
    scores = ops.einsum("bqnh,bknh->bnqk", q, k)
    scores = ops.cast(scores, "float32") * scale
    if mask is not None:
        scores = ops.where(mask, scores, ops.cast(-1e30, "float32"))
    weights = ops.softmax(scores, axis=-1)
    weights = ops.cast(weights, v.dtype)
    return ops.einsum("bnqk,bknh->bqnh", weights, v)


def chunked_dot_product_attention(q, k, v, mask=None, is_causal=False, chunk_size=512,
                                  remat=True):
    """Exact attention computed over blocks of ``chunk_size`` queries (portable version).

    Args:
        q: ``(batch, query_length, heads, head_dim)``; the lengths must be static.
        k, v: ``(batch, key_length, heads, head_dim)``.
        mask: None or bool ``(batch, 1|heads, 1|query_length, key_length)``, True = attend.
        is_causal: bool, query ``i`` attends to keys ``<= i`` (self-attention).
        chunk_size: int, queries per block.
        remat: bool, recompute each block in the backward pass (linear activation memory).

    Returns:
        ``(batch, query_length, heads, head_dim)`` in the dtype of ``v``.
    """
    query_length, key_length = q.shape[1], k.shape[1]
    scale = 1.0 / float(q.shape[-1]) ** 0.5

    def unmasked(qb, kb, vb):
        return block_attention(qb, kb, vb, None, scale)

    def masked(qb, kb, vb, mb):
        return block_attention(qb, kb, vb, mb, scale)

    if remat:
        unmasked, masked = keras.remat(unmasked), keras.remat(masked)
    outputs = []
    for start in range(0, query_length, chunk_size):
        stop = min(start + chunk_size, query_length)
        block_mask = None
        if mask is not None:
            block_mask = mask if mask.shape[2] == 1 else mask[:, :, start:stop, :]
        if is_causal:
            rows = ops.arange(start, stop)[:, None]
            cols = ops.arange(key_length)[None, :]
            causal = ops.reshape(ops.greater_equal(rows, cols), (1, 1, stop - start, key_length))
            block_mask = causal if block_mask is None else ops.logical_and(block_mask, causal)
        if block_mask is None:
            outputs.append(unmasked(q[:, start:stop], k, v))
        else:
            outputs.append(masked(q[:, start:stop], k, v, block_mask))
    if len(outputs) == 1:
        return outputs[0]
    return ops.concatenate(outputs, axis=1)
