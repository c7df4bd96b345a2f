"""JAX's exact chunked attention: query blocks in a loop, unmasked blocks with a hand-written
backward pass.

XLA is free to reorder independent unrolled blocks, and on CPU it does: with the portable
version (`sensorlm_keras.backend.common.chunked_attention`) all blocks' score matrices were
alive at once (peak memory quadratic again, `benchmarks/memory_scaling.py`). Here unmasked,
non-causal attention (the sensor tower) goes to `blockwise_attention` (2.3x faster than
checkpointed blocks under autodiff on XLA:CPU), and masked or causal attention runs the
checkpointed blocks in a `jax.lax.map`, one block at a time; `jax.checkpoint` on the body keeps
only each block's inputs for the backward pass.
"""

import jax
import jax.numpy as jnp

from sensorlm_keras.backend.common import chunked_attention as portable
from sensorlm_keras.backend.jax.blockwise_attention import blockwise_attention


def chunked_dot_product_attention(q, k, v, mask=None, is_causal=False, chunk_size=512,
                                  remat=True):
    """Exact attention over blocks of ``chunk_size`` queries; see the module docstring and
    `sensorlm_keras.backend.common.chunked_attention.chunked_dot_product_attention` for the
    arguments."""
    if q.shape[1] <= chunk_size:  # one block: nothing to loop over
        return portable.chunked_dot_product_attention(q, k, v, mask, is_causal, chunk_size, remat)
    if mask is None and not is_causal:
        return blockwise_attention(q, k, v, block_size=chunk_size)
    return _looped_blocks(q, k, v, mask, is_causal, chunk_size, remat)


def _looped_blocks(q, k, v, mask, is_causal, chunk_size, remat):
    query_length, key_length = q.shape[1], k.shape[1]
    scale = 1.0 / float(q.shape[-1]) ** 0.5
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
        return portable.block_attention(qb, k, v, block_mask, scale)

    if remat:
        body = jax.checkpoint(body)
    if not per_chunk_mask:
        mask_chunks = jnp.zeros((num_chunks,), bool)  # placeholder, unused by the body
    out = jax.lax.map(body, (q_chunks, starts, mask_chunks))  # (chunks, b, chunk, n, h)
    out = jnp.moveaxis(out, 0, 1).reshape((q.shape[0], padded) + q.shape[2:])
    return out[:, :query_length]
