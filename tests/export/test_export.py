"""SavedModel export: signatures checked in a fresh TensorFlow-only process against Keras.

One tiny run is trained, exported and served once per test session (shared between xdist
workers through a file lock); the serving client (`_serving_client.py`) imports only TensorFlow
and tensorflow-text, calls every signature and the serving limits, and the tests compare its
outputs with the Keras model computed here.
"""

import contextlib
import fcntl
import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

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

pytestmark = pytest.mark.slow


def _env(**extra):
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.update(extra)
    return env


@contextlib.contextmanager
def _locked(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
    short = run.tokenizer(TEXTS, sequence_length=6)

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


def _prepare(root):
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
    env = _env()
    env.pop("PYTHONPATH", None)
    cli = pathlib.Path(sys.executable).parent / "saved_model_cli"
    with open(root / "saved_model_cli.txt", "w") as cli_out:
        show = subprocess.Popen([str(cli), "show", "--all", "--dir", result.path], cwd=str(root),
                                env=env, stdout=cli_out, stderr=subprocess.PIPE, text=True)
        proc = subprocess.run(
            [sys.executable, str(HERE / "_serving_client.py"), result.path,
             str(root / "inputs.npz"), str(root / "outputs.npz"), str(root / "report.json")],
            cwd=str(root), env=env, capture_output=True, text=True, timeout=600,
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
    (root / "done").write_text("ok")


@pytest.fixture(scope="session")
def served(tmp_path_factory, worker_id):
    if worker_id == "master":
        root = tmp_path_factory.mktemp("export_served")
        _prepare(root)
    else:  # one preparation shared by every xdist worker of this test run
        root = tmp_path_factory.getbasetemp().parent / "export_served"
        with _locked(root.parent / "export_served.lock"):
            if not (root / "done").exists():
                shutil.rmtree(root, ignore_errors=True)
                root.mkdir()
                _prepare(root)
    from sensorlm_keras.runs.run_artifacts import load_run

    import sensorlm_keras.models.sensorlm  # noqa: F401  (registers the classes for loading)

    return types.SimpleNamespace(
        root=root,
        run=load_run(root / "run"),
        result=json.loads((root / "result.json").read_text()),
        inputs=dict(np.load(root / "inputs.npz")),
        outputs=dict(np.load(root / "outputs.npz")),
        report=json.loads((root / "report.json").read_text()),
    )


@pytest.fixture(scope="session")
def worker_id(request):
    # pytest-xdist provides this fixture; without xdist it is "master".
    return getattr(request.config, "workerinput", {}).get("workerid", "master")


def _close(a, b, tol=TOL):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert np.max(np.abs(a - b)) < tol, np.max(np.abs(a - b))


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


# ------------------------------------------------------------------------------ writing
def _tree(path):
    return sorted(
        (str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in pathlib.Path(path).rglob("*")
    )


def test_existing_version_without_overwrite_is_refused(served):
    from sensorlm_keras.cli import main
    from sensorlm_keras.export import ExportExistsError, export_saved_model

    base = served.root / "saved_models"
    before = _tree(base)
    with pytest.raises(ExportExistsError, match="already exists"):
        export_saved_model(served.root / "run", base, version=1)
    assert main(["export", "--run", str(served.root / "run"), "--out", str(base),
                 "--version", "1"]) == 2
    assert _tree(base) == before


def test_install_replaces_atomically(tmp_path):
    from sensorlm_keras.export import ExportExistsError, existing_versions, next_version
    from sensorlm_keras.export.saved_model import _install

    model_dir = tmp_path / "sensorlm"
    (model_dir / "1").mkdir(parents=True)
    (model_dir / "1" / "old.txt").write_text("old")
    (model_dir / "notes").mkdir()
    assert existing_versions(model_dir) == [1] and next_version(tmp_path) == 2
    new = model_dir / ".tmp-export-new"
    new.mkdir()
    (new / "new.txt").write_text("new")
    with pytest.raises(ExportExistsError):
        _install(str(new), str(model_dir / "1"), overwrite=False)
    assert os.listdir(model_dir / "1") == ["old.txt"]
    _install(str(new), str(model_dir / "1"), overwrite=True)
    assert os.listdir(model_dir / "1") == ["new.txt"]
    assert sorted(os.listdir(model_dir)) == ["1", "notes"]  # nothing left aside


def test_worker_errors_are_reraised_with_their_class():
    from sensorlm_keras.errors import ConfigError
    from sensorlm_keras.export import ExportError, ExportExistsError
    from sensorlm_keras.export.saved_model import _raise_if_failed

    _raise_if_failed({"ok": True})
    with pytest.raises(ExportExistsError, match="exists"):
        _raise_if_failed({"ok": False, "type": "ExportExistsError", "message": "x exists"})
    with pytest.raises(ConfigError, match="bad"):
        _raise_if_failed({"ok": False, "type": "ConfigError", "message": "bad"})
    with pytest.raises(ExportError, match="WeirdError: boom"):
        _raise_if_failed({"ok": False, "type": "WeirdError", "message": "boom"})


def test_bad_arguments_fail_before_anything_is_written(tmp_path, served):
    from sensorlm_keras.errors import ConfigError
    from sensorlm_keras.export import export_saved_model

    with pytest.raises(ConfigError, match="not a SensorLM run directory"):
        export_saved_model(tmp_path, tmp_path / "out")
    with pytest.raises(ConfigError, match="name"):
        export_saved_model(served.root / "run", tmp_path / "out", name="../x")
    with pytest.raises(ConfigError, match="max_batch_size"):
        export_saved_model(served.root / "run", tmp_path / "out", max_batch_size=0)
    assert not (tmp_path / "out").exists()


def test_cli_help_has_docker_and_rest_example(capsys):
    from sensorlm_keras.cli import main

    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = capsys.readouterr().out
    assert "docker run -p 8501:8501" in text
    assert "source=$PWD/saved_models/sensorlm,target=/models/sensorlm" in text
    assert "v1/models/sensorlm:predict" in text and '"signature_name"' in text


# ------------------------------------------------------------------------------ backends
_JAX_SCRIPT = textwrap.dedent(
    """
    import sys
    import keras
    assert keras.backend.backend() == "jax", keras.backend.backend()
    from tests.run_fixtures import make_tiny_run
    from sensorlm_keras.cli import main

    run_dir, base = sys.argv[1], sys.argv[2]
    make_tiny_run(run_dir, num_people=2, days_per_person=2, fit_steps=0)
    # A JAX process: `sensorlm export` hands the export to a TensorFlow subprocess.
    sys.exit(main(["export", "--run", run_dir, "--out", base, "--max-batch-size", "4"]))
    """
)


def test_cli_export_of_a_run_saved_under_jax(tmp_path):
    import tensorflow as tf

    import sensorlm_keras.models.sensorlm  # noqa: F401
    from sensorlm_keras.runs.run_artifacts import load_run

    (tmp_path / "saved" / "sensorlm" / "4").mkdir(parents=True)  # the next version is 5
    proc = subprocess.run(
        [sys.executable, "-c", _JAX_SCRIPT, str(tmp_path / "run"), str(tmp_path / "saved")],
        cwd=str(ROOT), env=_env(KERAS_BACKEND="jax", PYTHONPATH=str(ROOT)),
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    path = tmp_path / "saved" / "sensorlm" / "5"
    assert f"exported SavedModel: {path}" in proc.stdout, proc.stdout
    assert "serving_default (= embed_sensor)" in proc.stdout
    assert "zero_shot_templates" in proc.stdout
    run = load_run(tmp_path / "run")
    assert run.config["backend"] == "jax"
    meta = json.loads((path / "assets" / "sensorlm_export.json").read_text())
    assert meta["source_backend"] == "jax"
    assert meta["version"] == 5 and meta["limits"]["max_batch_size"] == 4

    loaded = tf.saved_model.load(str(path))
    sensor = np.random.default_rng(0).normal(size=(2, 1440, 34)).astype(np.float32)
    got = loaded.signatures["embed_sensor"](sensor=tf.constant(sensor))["sensor_embeddings"]
    _close(got.numpy(), run.model.encode_sensor(sensor))
    texts = ["a calm day with a short walk.", "Slept 8 hours"]
    tokens = run.tokenizer(texts)
    got = loaded.signatures["embed_text"](texts=tf.constant(texts))["text_embeddings"]
    _close(got.numpy(), run.model.encode_text(tokens["token_ids"], tokens["padding_mask"]))
