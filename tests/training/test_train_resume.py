"""`sensorlm train` end to end: a run killed with SIGKILL resumes from its last backup and ends
with the weights of a run that was never interrupted."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.backend_harness import ROOT, assert_same_weights, backend_env, run_weights

from tests.training.tiny_train_config import TINY_TRAIN_CONFIG

CONFIG = dict(TINY_TRAIN_CONFIG)


def _command(config_path):
    return [sys.executable, "-m", "sensorlm_keras.cli", "train", "--config", str(config_path),
            "--quiet"]


@pytest.mark.slow
def test_killed_run_resumes_from_last_backup(tmp_path):
    run_dir = tmp_path / "run"
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({**CONFIG, "run_dir": str(run_dir)}))
    env = backend_env(os.environ.get("KERAS_BACKEND", "tensorflow"))
    meta = run_dir / "backup" / "training_metadata.json"

    process = subprocess.Popen(_command(config_path), cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 300
    saved = None
    while time.time() < deadline and process.poll() is None:
        if meta.exists():
            try:
                saved = json.loads(meta.read_text())
            except json.JSONDecodeError:  # would mean a torn write: must never happen
                raise AssertionError("training_metadata.json was read half-written")
            if saved["epoch"] >= 2:
                break
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be killed:\n" + process.stdout.read()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    saved = json.loads(meta.read_text())
    assert saved["step"] == 3 * saved["epoch"] and 0 < saved["step"] < 12
    assert not (run_dir / "model.keras").exists()

    resumed = subprocess.run(_command(config_path), cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout[-4000:] + resumed.stderr[-4000:]
    banner = [line for line in resumed.stdout.splitlines() if line.startswith("Resuming from backup")]
    assert banner, resumed.stdout[-3000:]
    assert f"optimizer step {saved['step']}" in banner[0]
    run_config = json.loads((run_dir / "run_config.json").read_text())
    assert run_config["training"]["resumed_from_step"] == saved["step"]
    assert run_config["training"]["steps"] == 12  # no step lost or repeated beyond the interval
    assert (run_dir / "model.keras").exists() and (run_dir / "tokenizer" / "tokenizer.model").exists()
    assert not list(run_dir.rglob(".tmp-*"))

    # The resumed run continued the seeded data stream where the killed one stopped (and the
    # optimizer state): its weights are those of a run that was never interrupted.
    straight_dir = tmp_path / "straight"
    straight_config = tmp_path / "straight.json"
    straight_config.write_text(json.dumps({**CONFIG, "run_dir": str(straight_dir)}))
    straight = subprocess.run(_command(straight_config), cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=600)
    assert straight.returncode == 0, straight.stdout[-4000:] + straight.stderr[-4000:]
    backend = env["KERAS_BACKEND"]
    assert_same_weights(run_weights(straight_dir, backend), run_weights(run_dir, backend),
                        rtol=1e-5, atol=1e-6)

    # A different model configuration in the same (finished) run directory is refused.
    again = subprocess.run(_command(config_path) + ["--set", "model.sensor_num_layers=2"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2
    assert "already holds a finished run" in again.stderr


def test_missing_config_and_data_paths_are_clear_errors(tmp_path):
    from sensorlm_keras.cli import main

    assert main(["train", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert main(["train", "--smoke", "--data", str(tmp_path / "nodata"),
                 "--run-dir", str(tmp_path / "r")]) == 2
