"""Shared argv and runner for the CLI-level data tests."""

import subprocess
import sys

from tests.backend_harness import ROOT, backend_env


def synth_argv(out, seed=3, salt="cli-salt", *extra):
    """``sensorlm data synth`` for 4 people x 2 days (8 days), 2 shards, no progress bar."""
    return ["data", "synth", "--people", "4", "--days", "8", "--out", str(out), "--shards", "2",
            "--seed", str(seed), "--salt", salt, *extra, "--no-progress"]


def run_cli(*args, timeout=900):
    """``python -m sensorlm_keras.cli *args`` in a TensorFlow subprocess; its stdout (a failure
    shows the ends of stdout and stderr)."""
    result = subprocess.run([sys.executable, "-m", "sensorlm_keras.cli", *args],
                            env=backend_env("tensorflow"), cwd=ROOT, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout
