"""`sensorlm train --strategy ...` runs model.fit on split CPU devices; unsupported
combinations give clear errors."""

import json

import pytest

from tests.backend_harness import explain, run_python

from tests.training.tiny_train_config import TINY_TRAIN_CONFIG

CONFIG = {**TINY_TRAIN_CONFIG, "steps": 2, "steps_per_checkpoint": 2}

CLI = """
import sys
from sensorlm_keras.cli import main
sys.exit(main({argv!r}))
"""


def _train(tmp_path, backend, *argv):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**CONFIG, "run_dir": str(tmp_path / "run")}))
    return run_python(backend, CLI.format(argv=["train", "--config", str(config), "--quiet",
                                                *argv]), timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend, strategy",
    [("tensorflow", "mirrored"), ("jax", "data_parallel"), ("jax", "model_parallel")],
)
def test_cli_trains_under_strategy(tmp_path, backend, strategy):
    result = _train(tmp_path, backend, "--strategy", strategy, "--cpu-devices", "2",
                    "--set", "model_parallel_size=2")
    assert result.returncode == 0, explain(result)
    run_config = json.loads((tmp_path / "run" / "run_config.json").read_text())
    assert run_config["training"]["steps"] == 2
    assert strategy in run_config["training"]["distribution"]


@pytest.mark.parametrize(
    "backend, strategy, message",
    [
        ("torch", "data_parallel", "not supported on the PyTorch backend"),
        ("jax", "mirrored", "needs KERAS_BACKEND=tensorflow"),
        ("tensorflow", "data_parallel", "needs KERAS_BACKEND=jax"),
        ("tensorflow", "multi_worker", "TF_CONFIG"),
    ],
)
def test_unsupported_strategy_is_a_clear_error(tmp_path, backend, strategy, message):
    result = _train(tmp_path, backend, "--strategy", strategy)
    assert result.returncode == 2, explain(result)
    assert message in result.stderr, result.stderr[-2000:]
