"""Shared helpers of the benchmarks: backend selection, matmul peak, memory, machine info."""

import json
import os
import platform
import resource
import sys
import time


def select_backend(backend):
    """Set KERAS_BACKEND before keras is imported (the benchmarks import keras after this)."""
    if backend:
        if "keras" in sys.modules and os.environ.get("KERAS_BACKEND") != backend:
            raise SystemExit(f"keras already imported with another backend than {backend!r}")
        os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def peak_rss_gb():
    """Peak resident memory of this process so far, in GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def machine():
    return {
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


def matmul_peak_flops(n=2048, repeats=10, dtype="float32"):
    """Dense matmul FLOP/s of the active Keras backend, compiled the way the backend runs
    training steps (jax.jit, tf.function, eager torch). Best of ``repeats``."""
    import keras
    import numpy as np

    backend = keras.backend.backend()
    a = np.random.default_rng(0).standard_normal((n, n)).astype("float32")
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        x = jnp.asarray(a, dtype=dtype)
        f = jax.jit(lambda u, v: u @ v)
        run = lambda: f(x, x).block_until_ready()  # noqa: E731
    elif backend == "tensorflow":
        import tensorflow as tf

        x = tf.cast(tf.constant(a), dtype)
        f = tf.function(lambda u, v: tf.matmul(u, v))
        run = lambda: f(x, x).numpy()  # noqa: E731
    elif backend == "torch":
        import torch

        x = torch.from_numpy(a).to(getattr(torch, dtype))
        run = lambda: torch.matmul(x, x)  # noqa: E731
    else:
        x = a.astype(dtype)
        run = lambda: x @ x  # noqa: E731
    run()
    run()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best


def devices():
    """Up to 4 device names of the active backend (keras.distribution has no PyTorch support)."""
    import keras

    try:
        return [str(d) for d in keras.distribution.list_devices()][:4]
    except (AttributeError, NotImplementedError, RuntimeError):
        import torch

        return ["cuda:0" if torch.cuda.is_available() else "cpu:0"]


def parse_child_args(parser, argv, singles=()):
    """Parse ``argv`` for a benchmark that reruns itself in one child process per setting.

    Adds the hidden ``--_single`` flag. In a child (``--_single`` given) it selects the backend
    before keras is imported and keeps the first value of each list argument named in
    ``singles``. Returns the parsed arguments.
    """
    import argparse

    parser.add_argument("--_single", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._single:
        select_backend(args.backend)
        for name in singles:
            setattr(args, name, getattr(args, name)[0])
    return args


def backend_env(backend):
    """A copy of the environment that selects ``backend`` (None: keep) in a child process."""
    env = dict(os.environ)
    if backend:
        env["KERAS_BACKEND"] = backend
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def run_child(command, env, benchmark, **labels):
    """Run a benchmark child process; return its last JSON line as a dict, or print an error
    record (labelled with ``benchmark`` and ``labels``) and return None."""
    import subprocess

    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode:
        emit({"benchmark": benchmark, **labels, "error": result.stderr[-2000:]})
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def add_impl_arguments(parser, implementations):
    """``--impl`` (several of ``implementations``), ``--workdir`` and the hidden ``--backend``
    of a benchmark that measures each implementation in its own child process."""
    import argparse

    parser.add_argument("--impl", nargs="+", default=list(implementations),
                        choices=implementations)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--backend", default=None, help=argparse.SUPPRESS)


def run_impls(script, benchmark, impls, child_args):
    """Run ``script --_single --impl IMPL *child_args`` for each implementation, in a fresh
    process each, and emit each child's record."""
    for impl in impls:
        record = run_child([sys.executable, script, "--_single", "--impl", impl, *child_args],
                           backend_env(None), benchmark, impl=impl)
        if record is not None:
            emit(record)


def emit(record):
    print(json.dumps(record, sort_keys=True), flush=True)
