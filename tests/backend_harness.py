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


def run_weights(run_dir, backend, timeout=420):
    """The weights of the finished run in ``run_dir`` (its ``model.keras``), loaded under
    ``backend`` in a subprocess, as a list of NumPy arrays in the model's order."""
    import numpy as np

    out = pathlib.Path(run_dir) / "weights-for-test.npz"
    code = (
        "import numpy as np; from sensorlm_keras.runs.run_artifacts import load_run; "
        f"r = load_run({str(run_dir)!r}); "
        f"np.savez({str(out)!r}, *[np.asarray(w) for w in r.model.get_weights()])"
    )
    result = run_python(backend, code, timeout=timeout)
    assert result.returncode == 0, explain(result)
    data = np.load(out)
    return [data[k] for k in sorted(data.files, key=lambda k: int(k.split("_")[1]))]


def assert_same_weights(expected, received, rtol, atol):
    """Every array of ``received`` within ``rtol`` (of the array's largest magnitude) plus
    ``atol`` of ``expected``; the message names the first array that is not."""
    import numpy as np

    assert len(expected) == len(received), (len(expected), len(received))
    for index, (a, b) in enumerate(zip(expected, received)):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        assert a.shape == b.shape, (index, a.shape, b.shape)
        gap, scale = float(np.abs(a - b).max(initial=0.0)), float(np.abs(a).max(initial=0.0))
        assert gap <= rtol * scale + atol, (
            f"weight {index} {a.shape}: max difference {gap:.3g}, largest magnitude {scale:.3g}")
