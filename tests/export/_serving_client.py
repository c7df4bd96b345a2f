"""A serving client run in a fresh process: it imports only TensorFlow and tensorflow-text.

``python _serving_client.py EXPORT_DIR INPUTS.npz OUTPUTS.npz REPORT.json``

Loads the SavedModel, calls every signature with the inputs written by the test, calls the
signatures with inputs that break the serving limits, and writes the outputs (npz) and a JSON
report (signature names, input/output names, error messages, imported top-level modules).
"""

import json
import sys

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the SentencePiece ops before loading)
from tensorflow.core.framework import tensor_pb2


def _signature_description(fn):
    args, kwargs = fn.structured_input_signature
    inputs = {k: [v.dtype.name, v.shape.as_list()] for k, v in kwargs.items()}
    outputs = {k: [v.dtype.name, v.shape.as_list()] for k, v in fn.structured_outputs.items()}
    return {"inputs": inputs, "outputs": outputs}


def _to_numpy(tensor):
    if tensor.dtype == tf.string:  # unicode arrays, loadable without pickle
        return np.array([s.decode("utf-8") for s in tensor.numpy().reshape(-1).tolist()])
    return tensor.numpy()


def _tensor(array):
    return tf.constant(array.astype(object) if array.dtype.kind == "U" else array)


def _call(sig, name, prefix=None, **inputs):
    """Call signature ``name`` with NumPy inputs -> ``{"<prefix>.<output>": array}``."""
    outputs = sig[name](**{k: _tensor(v) for k, v in inputs.items()})
    return {f"{prefix or name}.{k}": _to_numpy(v) for k, v in outputs.items()}


def _call_every_signature(sig, data):
    sensor, texts, classes = data["sensor"], data["texts"], data["class_names"]
    calls = [
        ("embed_sensor", None, dict(sensor=sensor)),
        ("serving_default", None, dict(sensor=sensor)),
        ("embed_sensor_masked", None,
         dict(sensor=data["sensor_with_nan"], sensor_mask=data["sensor_mask"])),
        ("embed_text", None, dict(texts=texts)),
        ("tokenize", None, dict(texts=texts)),
        ("embed_text_ids", None,
         dict(token_ids=data["token_ids"], padding_mask=data["padding_mask"])),
        ("embed_text_ids", "embed_text_ids_short",
         dict(token_ids=data["short_token_ids"], padding_mask=data["short_padding_mask"])),
        ("score", None, dict(sensor=sensor, texts=texts)),
        ("zero_shot", None, dict(sensor=sensor, class_names=classes)),
        ("zero_shot_templates", None,
         dict(sensor=sensor, class_names=classes, prompt_templates=data["templates"])),
    ]
    out = {}
    for name, prefix, inputs in calls:
        out.update(_call(sig, name, prefix, **inputs))
    return out


def _read_metadata(sig, report, out):
    metadata = sig["metadata"]()
    report["metadata_json"] = json.loads(metadata["export_json"].numpy().decode("utf-8"))
    report["metadata_scalars"] = {
        k: v.numpy().tolist() if v.dtype != tf.string else None for k, v in metadata.items()
    }
    report["metadata_channel_names"] = [
        s.decode("utf-8") for s in metadata["channel_names"].numpy().tolist()
    ]
    out["metadata.tokenizer_proto"] = np.frombuffer(metadata["tokenizer_proto"].numpy(), np.uint8)
    out["metadata.channel_means"] = metadata["channel_means"].numpy()
    out["metadata.channel_stds"] = metadata["channel_stds"].numpy()


def _serve_requests(sig, data, report, out):
    """A PredictRequest's TensorProto and a REST body, fed to the signatures as TF Serving does."""
    proto = tensor_pb2.TensorProto.FromString(data["predict_tensor_proto"].tobytes())
    out.update(_call(sig, "embed_sensor", "predict", sensor=tf.make_ndarray(proto)))

    # TF Serving's columnar REST format: {"signature_name", "inputs": {name: list}}.
    body = json.loads(data["rest_body"].tobytes().decode("utf-8"))
    fn = sig[body["signature_name"]]
    _, specs = fn.structured_input_signature
    feeds = {k: tf.constant(v, dtype=specs[k].dtype) for k, v in body["inputs"].items()}
    report["rest_inputs_match"] = sorted(feeds) == sorted(specs)
    rest = fn(**feeds)
    report["rest_response"] = {"outputs": {k: v.numpy().tolist() for k, v in rest.items()}}
    for k, v in rest.items():
        if v.dtype == tf.string:
            report["rest_response"]["outputs"][k] = [s.decode() for s in v.numpy().tolist()]


def _limit_cases(sig, data, limits):
    """Calls that break one serving limit each (name -> zero-argument call)."""
    max_batch, max_chars = limits["max_batch_size"], limits["max_text_length_chars"]
    sensor = tf.constant(data["sensor"])
    texts, classes = _tensor(data["texts"]), _tensor(data["class_names"])
    t, c = sensor.shape[1], sensor.shape[2]
    nan_sensor = data["sensor"][:1].copy()
    nan_sensor[0, 3, 2] = np.nan
    observed_inf = data["sensor"][:1].copy()
    observed_inf[0, 5, 1] = np.inf
    embed_sensor, embed_text = sig["embed_sensor"], sig["embed_text"]
    return {
        "sensor_batch_too_large": lambda: embed_sensor(sensor=tf.zeros([max_batch + 1, t, c])),
        "sensor_wrong_channels": lambda: embed_sensor(sensor=tf.zeros([1, t, c - 1])),
        "sensor_wrong_length": lambda: embed_sensor(sensor=tf.zeros([1, t // 2, c])),
        "sensor_nan": lambda: embed_sensor(sensor=tf.constant(nan_sensor)),
        "sensor_empty": lambda: embed_sensor(sensor=tf.zeros([0, t, c])),
        "masked_observed_inf": lambda: sig["embed_sensor_masked"](
            sensor=tf.constant(observed_inf), sensor_mask=tf.zeros([1, t, c], tf.bool)
        ),
        "masked_mask_shape": lambda: sig["embed_sensor_masked"](
            sensor=tf.zeros([1, t, c]), sensor_mask=tf.zeros([2, t, c], tf.bool)
        ),
        "score_sensor_nan": lambda: sig["score"](sensor=tf.constant(nan_sensor), texts=texts),
        "texts_too_many": lambda: embed_text(texts=tf.constant(["a"] * (max_batch + 1))),
        "text_too_long": lambda: embed_text(texts=tf.constant(["x" * (max_chars + 1)])),
        "score_text_too_long": lambda: sig["score"](
            sensor=sensor, texts=tf.constant(["é" * (max_chars + 1)])
        ),
        "class_names_too_many": lambda: sig["zero_shot"](
            sensor=sensor, class_names=tf.constant(["a"] * (max_batch + 1))
        ),
        "template_without_placeholder": lambda: sig["zero_shot_templates"](
            sensor=sensor, class_names=classes, prompt_templates=tf.constant(["no slot"])
        ),
        "token_ids_out_of_range": lambda: sig["embed_text_ids"](
            token_ids=tf.constant([[100000, 1]], tf.int32),
            padding_mask=tf.constant([[True, True]]),
        ),
        "token_ids_too_long": lambda: sig["embed_text_ids"](
            token_ids=tf.ones([1, 1000], tf.int32), padding_mask=tf.ones([1, 1000], tf.bool)
        ),
    }


def _errors(cases):
    """Every case must fail inside the graph with a readable message (None: it succeeded)."""
    errors = {}
    for name, call in cases.items():
        try:
            call()
            errors[name] = None
        except tf.errors.InvalidArgumentError as error:
            errors[name] = (error.message or str(error))[:3000]
        except Exception as error:  # recorded: the test asserts InvalidArgumentError only
            errors[name] = f"UNEXPECTED {type(error).__name__}: {error}"
    return errors


def main(export_dir, inputs_path, outputs_path, report_path):
    data = dict(np.load(inputs_path, allow_pickle=False))
    loaded = tf.saved_model.load(export_dir)  # kept alive: it owns the variables
    sig = loaded.signatures
    report = {"signatures": {name: _signature_description(fn) for name, fn in sig.items()}}
    out = _call_every_signature(sig, data)
    _read_metadata(sig, report, out)
    _serve_requests(sig, data, report, out)
    report["errors"] = _errors(_limit_cases(sig, data, report["metadata_json"]["limits"]))
    report["modules"] = sorted({m.split(".")[0] for m in sys.modules})
    np.savez(outputs_path, **out)
    with open(report_path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main(*sys.argv[1:])
