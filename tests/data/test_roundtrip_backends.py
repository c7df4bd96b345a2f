"""Synthetic days -> TFRecord -> tf.data -> ONE `model.fit` step on TensorFlow, JAX and PyTorch.

Each backend runs in its own process (the Keras backend is fixed at import); the three processes
are started together to save wall-clock time. Also checks that importing the data and tokenizer
packages needs neither TensorFlow nor keras-hub.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from sensorlm_keras import cli
from tests.data._cli_helpers import synth_argv

pytest.importorskip("tensorflow")

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TEXT_LENGTH = 32


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    base = tmp_path_factory.mktemp("roundtrip")
    data, tok = base / "data", base / "tok"
    argv = synth_argv(data, 0, "roundtrip", "--splits", "1,0,0")
    assert cli.main(argv) == 0
    argv = [
        "tokenizer",
        "train",
        "--data",
        str(data),
        "--vocab-size",
        "200",
        "--out",
        str(tok),
        "--text-length",
        str(TEXT_LENGTH),
    ]
    assert cli.main(argv) == 0
    return data / "train", tok


def _env(backend):
    env = dict(os.environ)
    env.update(KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    return env


BACKENDS = ("tensorflow", "jax", "torch")


@pytest.fixture(scope="module")
def fit_processes(artifacts):
    """Start one `model.fit` process per installed backend, all at once."""
    data, tok = artifacts
    processes = {}
    for backend in BACKENDS:
        try:
            __import__(backend)
        except ImportError:
            continue
        processes[backend] = subprocess.Popen(
            [sys.executable, str(HERE / "_fit_one_step.py"), str(data), str(tok), str(TEXT_LENGTH)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(backend),
            cwd=ROOT,
        )
    yield processes
    for process in processes.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.slow
@pytest.mark.backend
@pytest.mark.parametrize("backend", BACKENDS)
def test_one_fit_step_per_backend(fit_processes, backend):
    if backend not in fit_processes:
        pytest.skip(f"backend {backend!r} is not installed")
    process = fit_processes[backend]
    try:
        stdout, stderr = process.communicate(timeout=500)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"model.fit on {backend} did not finish within 500 s")
    assert process.returncode == 0, stderr[-3000:]
    report = json.loads(stdout.strip().splitlines()[-1])
    assert report["backend"] == backend
    assert 0.0 < report["loss"] < 100.0


def test_data_and_tokenizer_import_without_tensorflow():
    code = (
        "import sys, sensorlm_keras.data, sensorlm_keras.tokenizers, sensorlm_keras.cli; "
        "heavy = [m for m in ('tensorflow', 'keras_hub', 'tensorflow_text', 'sentencepiece') "
        "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env("numpy"),
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
