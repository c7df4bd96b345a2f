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


def _np(d, prefix):
    return {f"{prefix}.{k}": _to_numpy(v) for k, v in d.items()}


def main(export_dir, inputs_path, outputs_path, report_path):
    data = dict(np.load(inputs_path, allow_pickle=False))
    loaded = tf.saved_model.load(export_dir)
    sig = loaded.signatures
    report = {"signatures": {name: _signature_description(fn) for name, fn in sig.items()}}
    out = {}

    sensor = tf.constant(data["sensor"])
    texts = tf.constant(data["texts"].astype(object))
    classes = tf.constant(data["class_names"].astype(object))
    templates = tf.constant(data["templates"].astype(object))
    out.update(_np(sig["embed_sensor"](sensor=sensor), "embed_sensor"))
    out.update(_np(sig["serving_default"](sensor=sensor), "serving_default"))
    out.update(
        _np(
            sig["embed_sensor_masked"](
                sensor=tf.constant(data["sensor_with_nan"]),
                sensor_mask=tf.constant(data["sensor_mask"]),
            ),
            "embed_sensor_masked",
        )
    )
    out.update(_np(sig["embed_text"](texts=texts), "embed_text"))
    out.update(_np(sig["tokenize"](texts=texts), "tokenize"))
    out.update(
        _np(
            sig["embed_text_ids"](
                token_ids=tf.constant(data["token_ids"]),
                padding_mask=tf.constant(data["padding_mask"]),
            ),
            "embed_text_ids",
        )
    )
    out.update(
        _np(
            sig["embed_text_ids"](
                token_ids=tf.constant(data["short_token_ids"]),
                padding_mask=tf.constant(data["short_padding_mask"]),
            ),
            "embed_text_ids_short",
        )
    )
    out.update(_np(sig["score"](sensor=sensor, texts=texts), "score"))
    out.update(_np(sig["zero_shot"](sensor=sensor, class_names=classes), "zero_shot"))
    out.update(
        _np(
            sig["zero_shot_templates"](
                sensor=sensor, class_names=classes, prompt_templates=templates
            ),
            "zero_shot_templates",
        )
    )
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

    # A PredictRequest's TensorProto, as TF Serving would hand it to the signature.
    proto = tensor_pb2.TensorProto.FromString(data["predict_tensor_proto"].tobytes())
    out.update(_np(sig["embed_sensor"](sensor=tf.constant(tf.make_ndarray(proto))), "predict"))

    # A REST body in TF Serving's columnar format: {"signature_name", "inputs": {name: list}}.
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

    # Serving limits: every case must fail inside the graph with a readable message.
    limit = report["metadata_json"]["limits"]
    max_batch, max_chars = limit["max_batch_size"], limit["max_text_length_chars"]
    t, c = sensor.shape[1], sensor.shape[2]
    nan_sensor = data["sensor"][:1].copy()
    nan_sensor[0, 3, 2] = np.nan
    observed_nan = data["sensor"][:1].copy()
    observed_nan[0, 5, 1] = np.inf
    cases = {
        "sensor_batch_too_large": lambda: sig["embed_sensor"](
            sensor=tf.zeros([max_batch + 1, t, c])
        ),
        "sensor_wrong_channels": lambda: sig["embed_sensor"](sensor=tf.zeros([1, t, c - 1])),
        "sensor_wrong_length": lambda: sig["embed_sensor"](sensor=tf.zeros([1, t // 2, c])),
        "sensor_nan": lambda: sig["embed_sensor"](sensor=tf.constant(nan_sensor)),
        "sensor_empty": lambda: sig["embed_sensor"](sensor=tf.zeros([0, t, c])),
        "masked_observed_inf": lambda: sig["embed_sensor_masked"](
            sensor=tf.constant(observed_nan), sensor_mask=tf.zeros([1, t, c], tf.bool)
        ),
        "masked_mask_shape": lambda: sig["embed_sensor_masked"](
            sensor=tf.zeros([1, t, c]), sensor_mask=tf.zeros([2, t, c], tf.bool)
        ),
        "score_sensor_nan": lambda: sig["score"](sensor=tf.constant(nan_sensor), texts=texts),
        "texts_too_many": lambda: sig["embed_text"](texts=tf.constant(["a"] * (max_batch + 1))),
        "text_too_long": lambda: sig["embed_text"](texts=tf.constant(["x" * (max_chars + 1)])),
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
    errors = {}
    for name, call in cases.items():
        try:
            call()
            errors[name] = None
        except tf.errors.InvalidArgumentError as error:
            errors[name] = (error.message or str(error))[:3000]
        except Exception as error:  # recorded: the test asserts InvalidArgumentError only
            errors[name] = f"UNEXPECTED {type(error).__name__}: {error}"
    report["errors"] = errors
    report["modules"] = sorted({m.split(".")[0] for m in sys.modules})
    np.savez(outputs_path, **out)
    with open(report_path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main(*sys.argv[1:])
