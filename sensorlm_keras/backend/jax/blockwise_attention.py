"""JAX: exact attention with a hand-written backward pass, one head and query block at a time.

Why this exists (measured, ``benchmarks/attention.py``): on a CPU, XLA has no fused attention
kernel. Full attention writes a ``(batch, heads, 2448, 2448)`` score matrix and several
same-sized softmax temporaries through main memory, and the autodiff backward of a
checkpointed block recomputes the softmax and then differentiates it. At SensorLM's 2448 sensor
tokens (base width, batch 2, forward + backward) full attention took 1.28 s, the checkpointed
query blocks of `chunked_dot_product_attention` 1.62 s, and this kernel 0.74 s.

What it does (the FlashAttention-2 recipe, without the online softmax because every block sees
all keys at once):

- Forward: for each ``(batch, head)`` pair and each block of queries, scores ``q k^T``, a
  numerically stable softmax and ``p v``; it keeps only the output and the per-row
  log-sum-exp ``lse`` (``O(tokens)`` memory). One block's scores are a few MB and stay in
  cache instead of streaming through memory.
- Backward: recompute ``p = exp(q k^T * scale - lse)`` per block, then
  ``dv += p^T do``, ``dp = do v^T``, ``ds = p * (dp - rowsum(do * o))``, ``dq = ds k``,
  ``dk += ds^T q``: five matmuls and one elementwise pass, where autodiff of a rematerialised
  softmax needs six matmuls and several passes.

Results equal exact attention to float32 round-off (``tests/core/test_chunked_attention.py``).
Only unmasked, non-causal attention uses it (SensorLM's sensor tower); masked or causal
attention stays on the checkpointed blocks of `sensorlm_keras.backend.jax.chunked_attention`. Scores, softmax and ``lse`` are float32
whatever the input dtype; the matmuls accumulate in float32.
"""

import functools

import jax
import jax.numpy as jnp
import keras
from jax.sharding import PartitionSpec

MAX_BLOCK = 1280


def query_block_size(query_length, requested=MAX_BLOCK):
    """Equal blocks of at most ``requested`` queries (2448 -> 3 x 816), a multiple of 8."""
    requested = max(1, int(requested))
    blocks = -(-query_length // requested)
    size = -(-query_length // blocks)
    return -(-size // 8) * 8


def blockwise_attention(q, k, v, block_size=MAX_BLOCK):
    """Exact softmax attention, ``q (b, t, n, h)``, ``k, v (b, s, n, h)`` -> ``(b, t, n, h)``.

    Args:
        q, k, v: JAX arrays; ``t`` and ``s`` must be static.
        block_size: int, the largest number of queries per block (balanced: see
            `query_block_size`).

    Returns:
        The attention output in the dtype of ``v``.
    """
    block = query_block_size(q.shape[1], block_size)
    batch_sharding = _batch_sharding(q.shape[0])
    if batch_sharding is None:
        return _attention(q, k, v, block)
    mesh, spec = batch_sharding
    per_shard = jax.shard_map(
        functools.partial(_attention, block=block),
        mesh=mesh, in_specs=(spec, spec, spec), out_specs=spec, check_vma=False,
    )
    return per_shard(q, k, v)


def _batch_sharding(batch):
    """``(jax mesh, PartitionSpec)`` of the active Keras distribution's batch axis, or None.

    The kernel loops over ``(batch, head)`` pairs, and XLA's SPMD partitioner cannot split a
    loop over a sharded axis: under `keras.distribution.DataParallel` every device gathered
    the whole batch and computed all of it (measured: 2 CPU devices took 2.0x the time of 1).
    Under a distribution whose batch axis spans several devices, the kernel therefore runs
    per batch shard in a `jax.shard_map` (no communication; heads are not split, so under
    `ModelParallel` the devices of one batch shard compute the same heads).
    """

    distribution = keras.distribution.distribution()
    if distribution is None or batch is None:
        return None
    axis = getattr(distribution, "batch_dim_name", None)
    mesh = distribution.device_mesh.backend_mesh
    if axis not in mesh.shape or mesh.shape[axis] <= 1 or batch % mesh.shape[axis]:
        return None

    return mesh, PartitionSpec(axis)


def _to_heads(x):  # (b, s, n, h) -> (b * n, s, h)

    b, s, n, h = x.shape
    return jnp.transpose(x, (0, 2, 1, 3)).reshape(b * n, s, h)


def _to_heads_transposed(x):  # (b, s, n, h) -> (b * n, h, s)

    b, s, n, h = x.shape
    return jnp.transpose(x, (0, 2, 3, 1)).reshape(b * n, h, s)


def _from_heads(x, batch):  # (b * n, s, h) -> (b, s, n, h)

    bn, s, h = x.shape
    return jnp.transpose(x.reshape(batch, bn // batch, s, h), (0, 2, 1, 3))


def _pad_queries(x, padded):  # (bn, t, ...) -> (bn, padded, ...) with zeros

    pad = padded - x.shape[1]
    if not pad:
        return x
    return jnp.pad(x, [(0, 0), (0, pad)] + [(0, 0)] * (x.ndim - 2))


def _forward(q, k, v, block):

    batch, length = q.shape[0], q.shape[1]
    scale = 1.0 / float(q.shape[-1]) ** 0.5
    blocks = -(-length // block)
    qh = _pad_queries(_to_heads(q), blocks * block)
    kth, vh = _to_heads_transposed(k), _to_heads(v)

    def head(args):
        qi, kti, vi = args

        def one_block(qb):
            s = jnp.matmul(qb, kti, preferred_element_type=jnp.float32) * scale
            m = jnp.max(s, axis=-1, keepdims=True)
            p = jnp.exp(s - m)
            total = jnp.sum(p, axis=-1, keepdims=True)
            o = jnp.einsum("qk,kh->qh", p.astype(vi.dtype), vi,
                           preferred_element_type=jnp.float32) / total
            return o.astype(vi.dtype), (m + jnp.log(total))[:, 0]

        o, lse = jax.lax.map(one_block, qi.reshape(blocks, block, -1))
        return o.reshape(blocks * block, -1), lse.reshape(blocks * block)

    o, lse = jax.lax.map(head, (qh, kth, vh))
    out = _from_heads(o[:, :length], batch)
    return out, (q, k, v, out, lse)


def _backward(block, residuals, d_out):

    q, k, v, out, lse = residuals
    batch, length = q.shape[0], q.shape[1]
    scale = 1.0 / float(q.shape[-1]) ** 0.5
    blocks = -(-length // block)
    padded = blocks * block
    d_out = d_out.astype(v.dtype)
    d_out_heads = _to_heads(d_out)
    qh, doh = _pad_queries(_to_heads(q), padded), _pad_queries(d_out_heads, padded)
    kh, kth, vth = _to_heads(k), _to_heads_transposed(k), _to_heads_transposed(v)
    # rowsum(do * o): padded rows have do = 0, so their ds is 0 and they add nothing to dk, dv.
    delta = _pad_queries(
        jnp.sum(d_out_heads.astype(jnp.float32) * _to_heads(out).astype(jnp.float32), -1), padded
    )

    # Operand layouts keep every matmul's contraction on a contiguous axis; the K=head_dim
    # matmuls ran 1.3-1.6x faster with pre-transposed (head_dim, keys) operands on XLA:CPU.
    def head(args):
        qi, ki, kti, vti, doi, lsei, di = args

        def one_block(carry, xs):
            dkt, dvt = carry
            qb, dob, lb, db = xs
            s = jnp.matmul(qb, kti, preferred_element_type=jnp.float32) * scale
            p = jnp.exp(s - lb[:, None])
            dvt = dvt + jnp.matmul(dob.T, p.astype(dob.dtype), preferred_element_type=jnp.float32)
            dp = jnp.matmul(dob, vti, preferred_element_type=jnp.float32)
            ds = (p * (dp - db[:, None]) * scale).astype(qb.dtype)
            dq = jnp.matmul(ds, ki, preferred_element_type=jnp.float32)
            dkt = dkt + jnp.matmul(qb.T, ds, preferred_element_type=jnp.float32)
            return (dkt, dvt), dq.astype(qb.dtype)

        zeros = jnp.zeros(kti.shape, jnp.float32)
        xs = (
            qi.reshape(blocks, block, -1),
            doi.reshape(blocks, block, -1),
            lsei.reshape(blocks, block),
            di.reshape(blocks, block),
        )
        (dkt, dvt), dq = jax.lax.scan(one_block, (zeros, zeros), xs)
        return dq.reshape(padded, -1), dkt.T.astype(ki.dtype), dvt.T.astype(vti.dtype)

    dq, dk, dv = jax.lax.map(head, (qh, kh, kth, vth, doh, lse, delta))
    return _from_heads(dq[:, :length], batch), _from_heads(dk, batch), _from_heads(dv, batch)


@functools.lru_cache(maxsize=None)
def _custom_vjp():
    @functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
    def attention(q, k, v, block):
        return _forward(q, k, v, block)[0]

    attention.defvjp(_forward, _backward)
    return attention


def _attention(q, k, v, block):
    return _custom_vjp()(q, k, v, block)
