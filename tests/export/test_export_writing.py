"""SavedModel export: writing versions (refusals, atomic replacement, worker errors, bad
arguments), the CLI, and an export from a JAX process through the TensorFlow subprocess."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.export.served_export import ROOT, assert_close as _close, env as _env

pytestmark = pytest.mark.slow


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
    from sensorlm_keras.export.publish import install as _install

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
    from sensorlm_keras.export._worker import raise_if_failed as _raise_if_failed

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
