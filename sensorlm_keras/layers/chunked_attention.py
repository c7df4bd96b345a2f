"""Memory-efficient exact attention: queries processed in chunks, each chunk rematerialised.

Plain attention materialises a ``(batch, heads, queries, keys)`` score matrix and keeps it (and
its softmax) for the backward pass: at SensorLM's 2448 sensor tokens that is
``batch * heads * 2448^2 * 4`` bytes per layer, quadratic in the number of tokens.

`chunked_dot_product_attention` splits the queries into blocks of ``chunk_size``. Each block
attends over *all* keys with an ordinary softmax, so the result is exactly the result of full
attention (no online-softmax approximation; only the float summation order of nothing changes,
since every row's softmax sees the same keys). Each block is wrapped in `keras.remat`, so the
backward pass recomputes that block's scores instead of storing them: the activation memory
kept for the backward pass is ``O(tokens)`` (q, k, v and the output) and the transient memory is
``O(chunk_size * tokens)`` per block. The cost is one extra evaluation of the score and
value matmuls of attention in the backward pass.

The function is backend-agnostic (`keras.ops` plus `keras.remat`: ``tf.recompute_grad``,
``jax.checkpoint``, ``torch.utils.checkpoint``). On JAX, unmasked non-causal attention (the
sensor tower) goes to `sensorlm_keras.layers.blockwise_attention_jax`, the same blocks with a
hand-written backward pass (2.3x faster than checkpointed blocks under autodiff on XLA:CPU);
masked or causal attention runs the checkpointed blocks in a `jax.lax.map`.
"""

import keras
from keras import ops

from sensorlm_keras.errors import ConfigError, InputValidationError


def _block_attention(q, k, v, mask, scale):
    # q (b, c, n, h), k/v (b, s, n, h), mask None or bool (b, 1|n, c, s).
    scores = ops.einsum("bqnh,bknh->bnqk", q, k)
    scores = ops.cast(scores, "float32") * scale
    if mask is not None:
        scores = ops.where(mask, scores, ops.cast(-1e30, "float32"))
    weights = ops.softmax(scores, axis=-1)
    weights = ops.cast(weights, v.dtype)
    return ops.einsum("bnqk,bknh->bqnh", weights, v)


def chunked_dot_product_attention(q, k, v, mask=None, is_causal=False, chunk_size=512,
                                  remat=True):
    """Exact attention computed over blocks of ``chunk_size`` queries.

    Args:
        q: ``(batch, query_length, heads, head_dim)``.
        k, v: ``(batch, key_length, heads, head_dim)``.
        mask: None or bool ``(batch, 1|heads, 1|query_length, key_length)``, True = attend.
        is_causal: bool, query ``i`` attends to keys ``<= i`` (self-attention).
        chunk_size: int, queries per block.
        remat: bool, recompute each block in the backward pass (linear activation memory).

    Returns:
        ``(batch, query_length, heads, head_dim)`` in the dtype of ``v``.
    """
    query_length = q.shape[1]
    key_length = k.shape[1]
    if query_length is None or key_length is None:
        raise InputValidationError(
            "chunked_dot_product_attention: query and key lengths must be static, received "
            f"query_length={query_length}, key_length={key_length}."
        )
    scale = 1.0 / float(q.shape[-1]) ** 0.5
    if keras.backend.backend() == "jax" and query_length > chunk_size:
        if mask is None and not is_causal:
            from sensorlm_keras.layers.blockwise_attention_jax import blockwise_attention_jax

            return blockwise_attention_jax(q, k, v, block_size=chunk_size)
        return _chunked_attention_jax(q, k, v, mask, is_causal, chunk_size, remat, scale)

    def unmasked(qb, kb, vb):
        return _block_attention(qb, kb, vb, None, scale)

    def masked(qb, kb, vb, mb):
        return _block_attention(qb, kb, vb, mb, scale)

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


def _chunked_attention_jax(q, k, v, mask, is_causal, chunk_size, remat, scale):
    """JAX: the blocks run in a `jax.lax.map` (a sequential loop).

    XLA is free to reorder independent unrolled blocks, and on CPU it does: all blocks' score
    matrices were alive at once (peak memory quadratic again, `benchmarks/memory_scaling.py`).
    A loop runs one block at a time; `jax.checkpoint` on the body keeps only each block's
    inputs for the backward pass.
    """
    import jax
    import jax.numpy as jnp

    query_length, key_length = q.shape[1], k.shape[1]
    num_chunks = -(-query_length // chunk_size)
    padded = num_chunks * chunk_size
    pad = padded - query_length

    def split(x):  # (b, padded, ...) -> (num_chunks, b, chunk, ...)
        x = jnp.pad(x, [(0, 0), (0, pad)] + [(0, 0)] * (x.ndim - 2)) if pad else x
        x = x.reshape((x.shape[0], num_chunks, chunk_size) + x.shape[2:])
        return jnp.moveaxis(x, 1, 0)

    q_chunks = split(q)
    mask_chunks = None
    if mask is not None and mask.shape[2] != 1:
        # (b, 1|n, T, s) -> (b, T, 1|n, s) -> (chunks, b, chunk, 1|n, s) -> (.., 1|n, chunk, s)
        mask_chunks = jnp.moveaxis(split(jnp.moveaxis(mask, 2, 1)), 3, 2)
    per_chunk_mask = mask_chunks is not None
    starts = jnp.arange(num_chunks) * chunk_size

    def body(args):
        qb, start, mb = args
        block_mask = mb if per_chunk_mask else mask
        if is_causal:
            rows = start + jnp.arange(chunk_size)[:, None]
            causal = (rows >= jnp.arange(key_length)[None, :])[None, None]
            block_mask = causal if block_mask is None else jnp.logical_and(block_mask, causal)
        return _block_attention(qb, k, v, block_mask, scale)

    if remat:
        body = jax.checkpoint(body)
    if not per_chunk_mask:
        mask_chunks = jnp.zeros((num_chunks,), bool)  # placeholder, unused by the body
    out = jax.lax.map(body, (q_chunks, starts, mask_chunks))  # (chunks, b, chunk, n, h)
    out = jnp.moveaxis(out, 0, 1).reshape((q.shape[0], padded) + q.shape[2:])
    return out[:, :query_length]


AUTO_CHUNK_SIZE = 1280
AUTO_MIN_TOKENS = 1024


def _has_accelerator():
    try:
        devices = keras.distribution.list_devices()
    except Exception:  # a backend without device listing: treat as CPU
        return False
    return any(not str(d).lower().startswith("cpu") for d in devices)


def uses_tensorflow_cpu_attention():
    """Whether ``"auto"`` attention without a mask uses `attention_tensorflow`: TensorFlow on a
    machine without GPU/TPU (Keras then runs TensorFlow without XLA; see that module)."""
    return keras.backend.backend() == "tensorflow" and not _has_accelerator()


def resolve_attention_chunk_size(value, num_tokens):
    """The query chunk size to use for ``num_tokens`` tokens (None = exact full attention).

    ``value`` is None (never chunk), a positive int (chunk when there are more tokens than
    that), or ``"auto"``: chunk sequences longer than ``AUTO_MIN_TOKENS`` into blocks of
    ``AUTO_CHUNK_SIZE`` queries only where it was measured to pay off, i.e. JAX on a CPU-only
    machine (XLA's CPU attention materialises every score matrix: base model 4x less training
    memory, the only way keras-hub-sized models train at batch 2 in 24 GB, and with
    `blockwise_attention_jax` 1.8x faster than full attention; see README, "Performance"). PyTorch's ``scaled_dot_product_attention`` already has a memory-efficient
    CPU kernel; on TensorFlow the chunked path was 1.6x slower than full attention (it saves
    memory: set an int to trade speed for memory); GPUs/TPUs have flash/cuDNN kernels. There
    ``"auto"`` keeps `keras.ops.dot_product_attention`.
    """
    if value is None:
        return None
    if value == "auto":
        if (
            keras.backend.backend() != "jax"
            or _has_accelerator()
            or num_tokens is None
            or num_tokens <= AUTO_MIN_TOKENS
        ):
            return None
        return AUTO_CHUNK_SIZE
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"attention_chunk_size: expected None, 'auto' or a positive int, received {value!r}."
        )
    return value
