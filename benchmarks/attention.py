"""Attention forward+backward at SensorLM's sequence lengths, one JSON line per
(implementation, tokens).

    python benchmarks/attention.py --backend jax --tokens 2448 4896 --impl exact chunked auto

Implementations: ``exact`` is ``keras.ops.dot_product_attention`` under autodiff; ``chunked``
is `chunked_dot_product_attention` with ``--chunk-size`` (on JAX: `sensorlm_keras.backend.jax.blockwise_attention`);
``auto`` is what `MultiHeadDotProductAttention` picks with ``attention_chunk_size="auto"``
(JAX on CPU: blockwise blocks of up to 1280 queries; TensorFlow on CPU: `sensorlm_keras.backend.tensorflow.closed_form_attention`;
PyTorch: its SDPA kernel). Each measurement runs in a fresh subprocess so ``peak_memory_gb``
(peak RSS) belongs to that implementation alone. With ``--check``, ``max_abs_diff`` compares
the output and input gradients with the exact ones on the same inputs.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import common  # noqa: E402


def _grad_fn(fn):
    """Return f(q, k, v) -> (out, dq, dk, dv) for loss = sum(out * w), per backend."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def loss(q, k, v, w):
            return (fn(q, k, v) * w).sum()

        g = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))

        def run(q, k, v, w):
            val, grads = g(q, k, v, w)
            jax.block_until_ready(grads)
            return val, grads

        return run
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(jit_compile=False)
        def run(q, k, v, w):
            with tf.GradientTape() as tape:
                tape.watch([q, k, v])
                val = tf.reduce_sum(fn(q, k, v) * w)
            return val, tape.gradient(val, [q, k, v])

        def call(q, k, v, w):
            val, grads = run(q, k, v, w)
            return val, [x.numpy() for x in grads]

        return call
    import torch

    def run(q, k, v, w):
        q, k, v = (t.detach().requires_grad_(True) for t in (q, k, v))
        val = (fn(q, k, v) * w).sum()
        val.backward()
        return val, [q.grad, k.grad, v.grad]

    return run


def measure(args):
    import keras
    import numpy as np
    from keras import ops

    from sensorlm_keras.backend import chunked_dot_product_attention

    rng = np.random.default_rng(0)
    shape = (args.batch_size, args.tokens, args.heads, args.head_dim)
    arrays = [rng.standard_normal(shape).astype("float32") for _ in range(4)]
    q, k, v, w = (ops.convert_to_tensor(a) for a in arrays)

    def exact(q, k, v):
        return ops.dot_product_attention(q, k, v)

    def chunked(q, k, v):
        return chunked_dot_product_attention(q, k, v, chunk_size=args.chunk_size)

    from sensorlm_keras.layers import MultiHeadDotProductAttention

    layer = MultiHeadDotProductAttention(num_heads=args.heads, attention_chunk_size="auto")

    def auto(q, k, v):
        return layer.attend(q, k, v, training=True)

    fn = {"exact": exact, "chunked": chunked, "auto": auto}[args.impl]
    run = _grad_fn(fn)
    run(q, k, v, w)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        _, grads = run(q, k, v, w)
        times.append(time.perf_counter() - t0)
    record = {
        "benchmark": "attention_fwd_bwd",
        "backend": keras.backend.backend(),
        "impl": args.impl,
        "tokens": args.tokens,
        "batch_size": args.batch_size,
        "heads": args.heads,
        "head_dim": args.head_dim,
        "chunk_size": args.chunk_size if args.impl == "chunked" else None,
        "seconds": round(statistics.median(times), 4),
        "peak_memory_gb": round(common.peak_rss_gb(), 3),
    }
    if args.check and args.impl != "exact":
        _, ref = _grad_fn(exact)(q, k, v, w)
        out_diff = float(np.abs(ops.convert_to_numpy(fn(q, k, v))
                                - ops.convert_to_numpy(exact(q, k, v))).max())
        grad_diff = max(float(np.abs(ops.convert_to_numpy(a) - ops.convert_to_numpy(b)).max())
                        for a, b in zip(grads, ref))
        record["max_abs_diff_output"] = out_diff
        record["max_abs_diff_grads"] = grad_diff
    common.emit({**record, **common.machine()})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["tensorflow", "jax", "torch"], default=None)
    parser.add_argument("--tokens", type=int, nargs="+", default=[2448, 4896])
    parser.add_argument("--impl", nargs="+", default=["exact", "chunked"],
                        choices=["exact", "chunked", "auto"])
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--head-dim", type=int, default=64)
    parser.add_argument("--chunk-size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="compare with exact")
    args = common.parse_child_args(parser, argv, singles=("tokens", "impl"))
    if args._single:
        return measure(args)
    env = common.backend_env(args.backend)
    for tokens in args.tokens:
        for impl in args.impl:
            command = [sys.executable, __file__, "--_single", "--tokens", str(tokens),
                       "--impl", impl, "--batch-size", str(args.batch_size),
                       "--heads", str(args.heads), "--head-dim", str(args.head_dim),
                       "--chunk-size", str(args.chunk_size), "--repeats", str(args.repeats)]
            if args.check:
                command.append("--check")
            record = common.run_child(command, env, "attention_fwd_bwd", impl=impl,
                                      tokens=tokens)
            if record is not None:
                common.emit(record)

if __name__ == "__main__":
    main()
