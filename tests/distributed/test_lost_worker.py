"""Which backend errors mean "another worker is gone", and what the CLI prints for them and
for any other failure (one short line, never a tensor dump, no traceback)."""

import subprocess
import sys

import pytest

from sensorlm_keras.cli import main
from sensorlm_keras.backend.jax.jax_processes import describe_lost_worker as jax_lost
from sensorlm_keras.backend.tensorflow.tensorflow_workers import describe_lost_worker as tf_lost
from sensorlm_keras.errors import WorkerLostError
from tests.backend_harness import ROOT, backend_env

# Messages as the backends printed them when a worker was killed (tests/distributed/
# test_multi_process.py reproduces the kills).
TF_UNHEALTHY = ("{{function_node __wrapped__CollectiveReduceV2}} Collective ops is aborted by: "
                "Error reported from /job:worker/task:1: The following tasks are unhealthy "
                "(stopped sending heartbeats): /job:worker/replica:0/task:1 The tasks have "
                "crashed. [Op:CollectiveReduceV2]")
TF_RESET = ("Graph execution error: ... :UNKNOWN:Error received from peer {grpc_status:14, "
            "grpc_message:\"recvmsg:Connection reset by peer\"} [[{{node allgather}}]]")
GLOO = ("UNKNOWN: Gloo all-reduce failed: [external/gloo/gloo/transport/tcp/pair.cc:538] Read "
        "error [127.0.0.1]:17845: Connection reset by peer")


def test_tensorflow_lost_worker_errors_are_recognised():
    import tensorflow as tf

    reason = tf_lost(tf.errors.UnavailableError(None, None, TF_UNHEALTHY))
    assert reason.startswith("The following tasks are unhealthy (stopped sending heartbeats)")
    assert "task:1" in reason and len(reason) <= 160
    assert tf_lost(tf.errors.UnavailableError(None, None, TF_RESET)) == "Connection reset by peer"
    assert tf_lost(tf.errors.CancelledError(None, None, "collective ops is aborted")) is not None
    # Not a lost worker: a bad value, an out-of-memory, a plain Python error.
    assert tf_lost(tf.errors.InvalidArgumentError(None, None, "Incompatible shapes")) is None
    assert tf_lost(tf.errors.ResourceExhaustedError(None, None, "OOM when allocating")) is None
    assert tf_lost(ValueError("Connection reset by peer")) is None


def test_jax_lost_process_errors_are_recognised():
    import jax

    error_type = getattr(jax.errors, "JaxRuntimeError", None) or jax.errors.XlaRuntimeError
    assert jax_lost(error_type(GLOO)) == "Connection reset by peer"
    assert jax_lost(error_type("INTERNAL: Barrier failed because: task is set to ERROR")) \
        == "Barrier failed"
    assert jax_lost(error_type("RESOURCE_EXHAUSTED: Out of memory allocating")) is None
    assert jax_lost(RuntimeError(GLOO)) is None


def test_single_process_plan_never_reports_a_lost_worker():
    import tensorflow as tf

    from sensorlm_keras.distribute import DistributionPlan

    assert DistributionPlan("none").lost_worker(
        tf.errors.UnavailableError(None, None, TF_UNHEALTHY)) is None


def test_cli_leaves_at_once_on_a_lost_worker(tmp_path):
    """WorkerLostError: one line, exit 2, and os._exit (the backend's shutdown would wait for
    the lost worker): a pending atexit handler does not run."""
    code = (
        "import atexit, sys; import sensorlm_keras.commands.export as e; "
        "from sensorlm_keras.errors import WorkerLostError; "
        "atexit.register(lambda: print('ATEXIT RAN')); "
        "e.run_export = lambda args: (_ for _ in ()).throw(WorkerLostError('training stopped: "
        "another of the 2 workers stopped or became unreachable (x).')); "
        "from sensorlm_keras.cli import main; "
        f"sys.exit(main(['export', '--run', {str(tmp_path)!r}, '--out', {str(tmp_path / 'o')!r}]))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=backend_env("tensorflow"),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1].startswith(
        "sensorlm: error: training stopped: another of the 2 workers"), result.stderr[-3000:]
    assert "ATEXIT RAN" not in result.stdout
    assert WorkerLostError.exit_without_shutdown


def test_unexpected_errors_are_one_named_line_with_exit_1(tmp_path, capsys, monkeypatch):
    """Anything that is not our error (a bug, a backend failure) is named by its type and cut
    to one line; SENSORLM_DEBUG=1 raises it with the traceback."""
    import numpy as np

    import sensorlm_keras.commands.export as export_command

    dump = np.array2string(np.arange(20000.0), threshold=10**9)

    def fails(args):
        raise RuntimeError(f"collective failed on tensor {dump}")

    monkeypatch.setattr(export_command, "run_export", fails)
    argv = ["export", "--run", str(tmp_path), "--out", str(tmp_path / "out")]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and len(err) < 700, err[:1000]
    assert err.startswith("sensorlm: error: RuntimeError: collective failed on tensor")
    assert "SENSORLM_DEBUG=1" in err
    monkeypatch.setenv("SENSORLM_DEBUG", "1")
    with pytest.raises(RuntimeError, match="collective failed"):
        main(argv)
