"""The export that the tests in this folder share: one tiny run trained, exported and served.

`prepare` trains a tiny run, exports it, builds the client inputs (including a PredictRequest
tensor proto and a REST JSON body), and runs the serving client (`_serving_client.py`, a fresh
process that imports only TensorFlow and tensorflow-text) and ``saved_model_cli`` on the
export; everything lands in files under one directory. `tests.run_fixtures.build_once` makes that happen once per
test run, whichever pytest-xdist worker asks first.
"""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TOL = 1e-4
MAX_BATCH = 8
MAX_CHARS = 400
CLASS_NAMES = ["run", "sleep", "bike", "strength training"]
TEMPLATES = ["{}", "today included {} for a while.", "{} day"]
TEXTS = [
    "Resting heart rate was 58 bpm.",
    "A 45 minute RUN in the Morning, then 7 hours of sleep!",
    "",
    "Été: très CHAUD " * 12,  # non-ASCII, lower-casing, truncation to text_length
]


def env(**extra):
    """This process's environment, TensorFlow's C++ logging off, plus ``extra``."""
    environment = dict(os.environ)
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    environment.update(extra)
    return environment


def assert_close(a, b, tol=TOL):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert np.max(np.abs(a - b)) < tol, np.max(np.abs(a - b))


def _build_inputs(run, batch, path):
    """Client inputs, including a PredictRequest tensor proto and a REST JSON body."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    rng = np.random.default_rng(3)
    sensor = np.asarray(batch["sensor"][:3], np.float32)
    mask = rng.random(sensor.shape) < 0.1
    mask[0, :200, 0] = True  # leading gap
    mask[1, :, 3] = True  # a channel missing all day
    mask[2, -90:, 5] = True  # trailing gap
    with_nan = sensor.copy()
    with_nan[mask] = np.nan
    tokens = run.tokenizer(TEXTS)
    short = run.tokenizer(TEXTS, text_length=6)

    request = predict_pb2.PredictRequest()
    request.model_spec.name = "sensorlm"
    request.model_spec.signature_name = "embed_sensor"
    request.inputs["sensor"].CopyFrom(tf.make_tensor_proto(sensor[:2]))
    wire = request.SerializeToString()
    parsed = predict_pb2.PredictRequest.FromString(wire)
    rest_body = {
        "signature_name": "zero_shot",
        "inputs": {"sensor": sensor[:2].tolist(), "class_names": CLASS_NAMES[:2]},
    }
    np.savez(
        path,
        sensor=sensor,
        sensor_mask=mask,
        sensor_with_nan=with_nan,
        texts=np.array(TEXTS),
        token_ids=np.asarray(tokens["token_ids"], np.int32),
        padding_mask=np.asarray(tokens["padding_mask"], bool),
        short_token_ids=np.asarray(short["token_ids"], np.int32),
        short_padding_mask=np.asarray(short["padding_mask"], bool),
        class_names=np.array(CLASS_NAMES),
        templates=np.array(TEMPLATES),
        predict_tensor_proto=np.frombuffer(
            parsed.inputs["sensor"].SerializeToString(), np.uint8
        ),
        rest_body=np.frombuffer(json.dumps(rest_body).encode("utf-8"), np.uint8),
    )
    return {
        "wire": wire,
        "request_sensor": tf.make_ndarray(parsed.inputs["sensor"]),
        "signature_name": parsed.model_spec.signature_name,
    }


def prepare(root):
    """Train, export, and serve once; everything lands in files under ``root``."""
    from sensorlm_keras.export import export_saved_model
    from tests.run_fixtures import make_tiny_run

    run, batch, captions, _ = make_tiny_run(root / "run")
    result = export_saved_model(
        run, root / "saved_models", max_batch_size=MAX_BATCH, max_text_length_chars=MAX_CHARS
    )
    request = _build_inputs(run, batch, root / "inputs.npz")
    np.save(root / "request_sensor.npy", request["request_sensor"])
    (root / "request.bin").write_bytes(request["wire"])
    # The client runs outside the repository, with no access to sensorlm_keras on PYTHONPATH;
    # saved_model_cli runs at the same time.
    client_env = env()
    client_env.pop("PYTHONPATH", None)
    cli = pathlib.Path(sys.executable).parent / "saved_model_cli"
    with open(root / "saved_model_cli.txt", "w") as cli_out:
        show = subprocess.Popen([str(cli), "show", "--all", "--dir", result.path], cwd=str(root),
                                env=client_env, stdout=cli_out, stderr=subprocess.PIPE, text=True)
        proc = subprocess.run(
            [sys.executable, str(HERE / "_serving_client.py"), result.path,
             str(root / "inputs.npz"), str(root / "outputs.npz"), str(root / "report.json")],
            cwd=str(root), env=client_env, capture_output=True, text=True, timeout=600,
        )
        _, show_err = show.communicate(timeout=600)
    if proc.returncode != 0:
        raise AssertionError(f"serving client failed:\n{proc.stderr[-4000:]}")
    if show.returncode != 0:
        raise AssertionError(f"saved_model_cli failed:\n{show_err[-4000:]}")
    (root / "result.json").write_text(
        json.dumps({"path": result.path, "version": result.version,
                    "signatures": list(result.signatures)})
    )
