"""Shared pytest set-up: quiet TensorFlow logs, deterministic seeds, the repo root on sys.path."""

import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # One core per xdist worker (`pytest -n 2` on 2 cores), inherited by the backend
    # subprocesses: two workers whose OpenMP / Eigen pools each spin on every core slowed the
    # PyTorch reduced main job past its 15-minute limit in CI; alone it runs 363 s with one
    # thread against 314 s with two (docs/performance.md).
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ.setdefault(_var, "1")

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

pytest_plugins = ("tests.reliability.fuzz_counts",)  # fuzz case counts in the summary


@pytest.fixture(autouse=True)
def _seed():
    import keras

    keras.utils.set_random_seed(1234)
    yield
