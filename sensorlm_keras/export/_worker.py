"""Subprocess entry of `export_saved_model` for runs exported from a non-TensorFlow process.

``python -m sensorlm_keras.export._worker REQUEST.json RESULT.json`` (started with
``KERAS_BACKEND=tensorflow``) exports the run described by the request and writes
``{"ok": true, "result": {...}}`` or ``{"ok": false, "type", "message", "traceback"}``.
"""

import json
import sys
import traceback


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    request_path, result_path = argv
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    try:
        from sensorlm_keras.export.saved_model import export_saved_model

        run_dir = request.pop("run_dir")
        result = export_saved_model(run_dir, **request)
        payload = {
            "ok": True,
            "result": {
                "path": result.path,
                "name": result.name,
                "version": result.version,
                "signatures": list(result.signatures),
                "metadata": result.metadata,
            },
        }
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
