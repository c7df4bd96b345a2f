"""SavedModel export: signatures checked in a fresh TensorFlow-only process against Keras.

One tiny run is trained, exported and served once per test session (the `served` fixture,
shared between xdist workers through a file lock); the serving client (`_serving_client.py`)
imports only TensorFlow and tensorflow-text, calls every signature and the serving limits, and
the tests compare its outputs with the Keras model computed here.
"""

import json
import os
import pathlib

import numpy as np
import pytest

from tests.export.served_export import (
    CLASS_NAMES,
    MAX_BATCH,
    MAX_CHARS,
    TEMPLATES,
    assert_close as _close,
)

pytestmark = pytest.mark.slow


# ------------------------------------------------------------------------------ layout
def test_export_layout_assets_and_metadata(served):
    path = pathlib.Path(served.result["path"])
    assert path == served.root / "saved_models" / "sensorlm" / "1"
    assert served.result["version"] == 1
    for entry in ("saved_model.pb", "variables", "assets/sensorlm_export.json",
                  "assets/tokenizer.model"):
        assert (path / entry).exists(), entry
    assert sorted(os.listdir(path.parent)) == ["1"]  # no temporary directories left behind
    assert (path / "assets" / "tokenizer.model").read_bytes() == served.run.tokenizer.proto
    meta = json.loads((path / "assets" / "sensorlm_export.json").read_text())
    schema = served.run.schema
    assert meta["sensor"]["channel_names"] == list(schema.names)
    np.testing.assert_array_equal(meta["sensor"]["means"], schema.means)
    np.testing.assert_array_equal(meta["sensor"]["stds"], schema.stds)
    assert meta["sensor"]["non_negative"] == [bool(v) for v in schema.non_negative]
    assert meta["sensor"]["z_clip"] == 5.0
    assert meta["limits"]["max_batch_size"] == MAX_BATCH
    assert meta["limits"]["max_text_length_chars"] == MAX_CHARS
    assert meta["text"]["text_length"] == served.run.text_length
    assert meta["source_backend"] == "tensorflow"
    assert set(served.result["signatures"]) == set(meta["signatures"]) | {"serving_default"}


def test_fresh_process_used_only_tensorflow(served):
    modules = served.report["modules"]
    assert "tensorflow" in modules and "tensorflow_text" in modules
    assert "sensorlm_keras" not in modules and "keras_hub" not in modules


def test_signature_inputs_and_outputs(served):
    sigs = served.report["signatures"]
    expected = {
        "serving_default": ({"sensor"}, {"sensor_embeddings"}),
        "embed_sensor": ({"sensor"}, {"sensor_embeddings"}),
        "embed_sensor_masked": ({"sensor", "sensor_mask"}, {"sensor_embeddings"}),
        "embed_text": ({"texts"}, {"text_embeddings"}),
        "embed_text_ids": ({"token_ids", "padding_mask"}, {"text_embeddings"}),
        "tokenize": ({"texts"}, {"token_ids", "padding_mask"}),
        "score": ({"sensor", "texts"}, {"logits", "probabilities"}),
        "zero_shot": (
            {"sensor", "class_names"},
            {"probabilities", "logits", "class_distribution", "predicted_index",
             "predicted_class"},
        ),
        "zero_shot_templates": (
            {"sensor", "class_names", "prompt_templates"},
            {"probabilities", "logits", "class_distribution", "predicted_index",
             "predicted_class"},
        ),
    }
    from sensorlm_keras.export import SIGNATURE_NAMES
    from sensorlm_keras.export.serving_module import SIGNATURES

    assert SIGNATURE_NAMES == tuple(SIGNATURES)
    assert served.result["signatures"] == ["serving_default", *SIGNATURE_NAMES]
    assert set(sigs) == set(expected) | {"metadata"}
    for name, (inputs, outputs) in expected.items():
        assert set(sigs[name]["inputs"]) == inputs, name
        assert set(sigs[name]["outputs"]) == outputs, name
    assert sigs["embed_sensor"]["inputs"]["sensor"][0] == "float32"
    assert sigs["embed_text_ids"]["inputs"]["token_ids"][0] == "int32"


def test_saved_model_cli_lists_all_signatures(served):
    text = (served.root / "saved_model_cli.txt").read_text()
    for name in served.result["signatures"]:
        assert f"signature_def['{name}']" in text, name
    assert "inputs['sensor'] tensor_info" in text
    assert "outputs['sensor_embeddings'] tensor_info" in text
    assert "inputs['prompt_templates'] tensor_info" in text


# ------------------------------------------------------------------------------ numerics
def test_sensor_embeddings_match_keras(served):
    model, out, inp = served.run.model, served.outputs, served.inputs
    expected = model.encode_sensor(inp["sensor"])
    _close(out["embed_sensor.sensor_embeddings"], expected)
    _close(out["serving_default.sensor_embeddings"], expected)


def test_masked_sensor_is_imputed_as_in_training(served):
    from sensorlm_keras.data.preprocessing import impute_over_time

    inp = served.inputs
    imputed = impute_over_time(inp["sensor_with_nan"], axis=1).astype(np.float32)
    assert not np.allclose(imputed, inp["sensor"])  # the mask changed the input
    expected = served.run.model.encode_sensor(imputed)
    _close(served.outputs["embed_sensor_masked.sensor_embeddings"], expected)


def test_in_graph_tokenizer_matches_python_tokenizer(served):
    out, inp = served.outputs, served.inputs
    np.testing.assert_array_equal(out["tokenize.token_ids"], inp["token_ids"])
    np.testing.assert_array_equal(out["tokenize.padding_mask"], inp["padding_mask"])
    assert inp["padding_mask"][3].all()  # the long text was truncated, EOS last
    assert inp["token_ids"][3, -1] == 1


def test_text_embeddings_match_keras(served):
    model, out, inp = served.run.model, served.outputs, served.inputs
    expected = model.encode_text(inp["token_ids"], inp["padding_mask"])
    _close(out["embed_text.text_embeddings"], expected)
    _close(out["embed_text_ids.text_embeddings"], expected)
    short = model.encode_text(inp["short_token_ids"], inp["short_padding_mask"])
    _close(out["embed_text_ids_short.text_embeddings"], short)


def test_score_matches_keras_similarity(served):
    model, out, inp = served.run.model, served.outputs, served.inputs
    s = model.encode_sensor(inp["sensor"])
    t = model.encode_text(inp["token_ids"], inp["padding_mask"])
    _close(out["score.logits"], model.similarity(s, t))
    _close(out["score.probabilities"], model.similarity(s, t, probabilities=True))


def _class_embeddings(run, templates):
    prompts = [tpl.replace("{}", name) for name in CLASS_NAMES for tpl in templates]
    tokens = run.tokenizer(prompts)
    z = run.model.encode_text(tokens["token_ids"], tokens["padding_mask"])
    z = z.reshape(len(CLASS_NAMES), len(templates), -1).mean(axis=1)
    return z / np.linalg.norm(z, axis=-1, keepdims=True)


def test_zero_shot_matches_prompt_ensembled_keras(served):
    from sensorlm_keras.evaluation import DEFAULT_PROMPT_TEMPLATES, ZeroShotClassifier

    run, out = served.run, served.outputs
    # The served `zero_shot` answers what `sensorlm eval` answers for the same class names:
    # the evaluation's own classifier, not a re-implementation of it.
    classifier = ZeroShotClassifier(run.model, run.tokenizer, CLASS_NAMES)
    assert classifier.templates == DEFAULT_PROMPT_TEMPLATES
    _close(out["zero_shot.logits"], classifier.scores(served.inputs["sensor"]))
    _close(out["zero_shot.class_distribution"], classifier.predict_proba(served.inputs["sensor"]))
    assert list(out["zero_shot.predicted_class"]) == list(classifier.predict(served.inputs["sensor"]))
    s = run.model.encode_sensor(served.inputs["sensor"])
    for prefix, templates in (("zero_shot", DEFAULT_PROMPT_TEMPLATES),
                              ("zero_shot_templates", TEMPLATES)):
        c = _class_embeddings(run, templates)
        logits = run.model.similarity(s, c)
        _close(out[f"{prefix}.logits"], logits)
        _close(out[f"{prefix}.probabilities"], run.model.similarity(s, c, probabilities=True))
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        _close(out[f"{prefix}.class_distribution"], e / e.sum(axis=1, keepdims=True))
        np.testing.assert_array_equal(out[f"{prefix}.predicted_index"], logits.argmax(axis=1))
        assert list(out[f"{prefix}.predicted_class"]) == [
            CLASS_NAMES[i] for i in logits.argmax(axis=1)
        ]


def test_metadata_signature(served):
    report, run = served.report, served.run
    assert report["metadata_channel_names"] == list(run.schema.names)
    np.testing.assert_array_equal(served.outputs["metadata.channel_means"], run.schema.means)
    np.testing.assert_array_equal(served.outputs["metadata.channel_stds"], run.schema.stds)
    assert served.outputs["metadata.tokenizer_proto"].tobytes() == run.tokenizer.proto
    scalars = report["metadata_scalars"]
    assert scalars["sequence_length"] == 1440 and scalars["num_channels"] == 34
    assert scalars["text_length"] == run.text_length
    assert scalars["max_batch_size"] == MAX_BATCH
    assert abs(scalars["logit_scale"] - float(np.asarray(run.model.logit_scale))) < 1e-6
    assert report["metadata_json"]["name"] == "sensorlm"


# ------------------------------------------------------------------------------ serving
def test_predict_request_round_trip(served):
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest.FromString((served.root / "request.bin").read_bytes())
    assert request.model_spec.name == "sensorlm"
    assert request.model_spec.signature_name == "embed_sensor"
    assert list(request.inputs) == ["sensor"]
    shape = [d.size for d in request.inputs["sensor"].tensor_shape.dim]
    assert shape == [2, 1440, 34]
    np.testing.assert_array_equal(
        np.load(served.root / "request_sensor.npy"), served.inputs["sensor"][:2]
    )
    # The client fed the request's tensor proto to embed_sensor.
    _close(served.outputs["predict.sensor_embeddings"],
           served.outputs["embed_sensor.sensor_embeddings"][:2], tol=1e-6)


def test_rest_json_body_matches_signature(served):
    assert served.report["rest_inputs_match"]
    outputs = served.report["rest_response"]["outputs"]
    assert set(outputs) == {"probabilities", "logits", "class_distribution",
                            "predicted_index", "predicted_class"}
    assert np.shape(outputs["probabilities"]) == (2, 2)
    assert len(outputs["predicted_index"]) == 2
    assert set(outputs["predicted_class"]) <= set(CLASS_NAMES[:2])


@pytest.mark.parametrize(
    "case, phrase",
    [
        ("sensor_batch_too_large", f"max_batch_size={MAX_BATCH}"),
        ("texts_too_many", f"max_batch_size={MAX_BATCH}"),
        ("class_names_too_many", f"max_batch_size={MAX_BATCH}"),
        ("sensor_empty", "batch is empty"),
        ("text_too_long", f"max_text_length_chars={MAX_CHARS}"),
        ("score_text_too_long", f"max_text_length_chars={MAX_CHARS}"),
        ("sensor_wrong_channels", "expects shape (batch, 1440, 34)"),
        ("sensor_wrong_length", "expects shape (batch, 1440, 34)"),
        ("sensor_nan", "values must be finite"),
        ("score_sensor_nan", "values must be finite"),
        ("masked_observed_inf", "values must be finite"),
        ("masked_mask_shape", "sensor_mask: must have the same shape"),
        ("template_without_placeholder", "placeholder {}"),
        ("token_ids_out_of_range", "ids must lie in [0, "),
        ("token_ids_too_long", "max_text_length=64"),
    ],
)
def test_serving_limits_give_clear_errors(served, case, phrase):
    message = served.report["errors"][case]
    assert message is not None, f"{case}: the call succeeded"
    assert not message.startswith("UNEXPECTED"), message
    assert phrase in message, message
