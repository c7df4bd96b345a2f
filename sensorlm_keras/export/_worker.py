"""The TensorFlow export subprocess, both ends: `export_in_subprocess` and its `main`.

The serving graph needs the TensorFlow backend. From a JAX or PyTorch process,
`export_saved_model` starts ``python -m sensorlm_keras.export._worker REQUEST.json
RESULT.json`` with ``KERAS_BACKEND=tensorflow``; the worker exports the run described by the
request and writes ``{"ok": true, "result": {...}}`` or ``{"ok": false, "type", "message",
"traceback"}``, and the parent re-raises a failure as the same error class where it knows it.

Kept by hand rather than `multiprocessing`/`concurrent.futures`: the child must start with a
different ``KERAS_BACKEND`` than the parent's environment, and when it dies without a result
(killed, out of memory) the parent reports the tail of its stderr.
"""

import json
import os
import subprocess
import sys
import tempfile
import traceback

from sensorlm_keras.export.errors import ExportError, ExportExistsError
from sensorlm_keras.export.export_result import ExportResult

WORKER_ENV = "SENSORLM_EXPORT_WORKER"
_BUILTIN_ERRORS = (FileExistsError, FileNotFoundError, NotADirectoryError, PermissionError,
                   OSError, ValueError, TypeError)


def _error_classes():
    from sensorlm_keras import errors

    classes = {
        name: obj
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, Exception)
    }
    classes.update(ExportError=ExportError, ExportExistsError=ExportExistsError)
    classes.update((error.__name__, error) for error in _BUILTIN_ERRORS)
    return classes


def raise_if_failed(result):
    """Re-raise the error reported by the export worker as the same class where known."""
    if result.get("ok"):
        return
    cls = _error_classes().get(result.get("type"))
    if cls is None:
        raise ExportError(
            f"export (TensorFlow subprocess): {result.get('type')}: {result.get('message')}\n"
            f"{result.get('traceback', '')}"
        )
    raise cls(result.get("message", ""))


def _worker_environment():
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["KERAS_BACKEND"] = "tensorflow"
    env[WORKER_ENV] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["PYTHONPATH"] = os.pathsep.join(
        [package_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    return env


def export_in_subprocess(run_dir, **kwargs):
    """`export_saved_model(run_dir, **kwargs)` in a TensorFlow-backend subprocess."""
    if os.environ.get(WORKER_ENV):  # this is the worker, and still not on TensorFlow
        import keras

        raise ExportError(
            f"export worker: expected the TensorFlow backend, running "
            f"{keras.backend.backend()!r}; check that KERAS_BACKEND is not overridden by a "
            "keras.json in the worker's environment."
        )
    with tempfile.TemporaryDirectory(prefix="sensorlm-export-") as work:
        request_path = os.path.join(work, "request.json")
        result_path = os.path.join(work, "result.json")
        with open(request_path, "w", encoding="utf-8") as f:
            json.dump(dict(kwargs, run_dir=run_dir), f)
        proc = subprocess.run(
            [sys.executable, "-m", "sensorlm_keras.export._worker", request_path, result_path],
            env=_worker_environment(), capture_output=True, text=True,
        )
        result = None
        if os.path.isfile(result_path):
            with open(result_path, encoding="utf-8") as f:
                result = json.load(f)
    if result is None:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-15:]
        raise ExportError(
            f"export: the TensorFlow export subprocess exited with code {proc.returncode} "
            "without a result:\n" + "\n".join(tail)
        )
    raise_if_failed(result)
    return ExportResult.from_json(result["result"])


def main(argv=None):
    """Worker entry: export the request's run, write the result JSON; exit 0 on success."""
    argv = sys.argv[1:] if argv is None else argv
    request_path, result_path = argv
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    try:
        from sensorlm_keras.export.saved_model import export_saved_model

        run_dir = request.pop("run_dir")
        payload = {"ok": True, "result": export_saved_model(run_dir, **request).to_json()}
    except Exception as error:  # reported to the parent process, which re-raises it
        payload = {
            "ok": False,
            "type": type(error).__name__,
            "message": str(error),
            "traceback": traceback.format_exc(),
        }
    from sensorlm_keras.utils.atomic_io import atomic_write_text

    atomic_write_text(result_path, json.dumps(payload))
    return 0 if payload["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
