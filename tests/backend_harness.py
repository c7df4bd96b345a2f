"""Run Python snippets or pytest under a chosen Keras backend in a subprocess.

The backend is fixed when keras is first imported, so every backend other than the one of the
current process is exercised in a child process.
"""

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
BACKENDS = ("tensorflow", "jax", "torch")


def backend_env(backend, **extra):
    env = dict(os.environ)
    env.update(
        {
            "KERAS_BACKEND": backend,
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        }
    )
    env.update(extra)
    return env


def run_python(backend, code, timeout=900, **env):
    """Run ``code`` under ``backend``; return the CompletedProcess (text mode)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env=backend_env(backend, **env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_pytest(backend, *args, timeout=1500):
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        env=backend_env(backend),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def explain(result):
    return f"exit {result.returncode}\n--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
