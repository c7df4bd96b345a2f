"""Untrusted files: crafted `.keras` archives and config files are refused, with no side effect.

Every malicious payload below tries to create a marker file when it is deserialised; each test
checks that the loader refuses the file with `UnsafeFileError` (or `ConfigError` for config
files) naming it, and that the marker was never created.
"""

import json
import os
import pickle
import zipfile

import keras
import numpy as np
import pytest

from sensorlm_keras.errors import ConfigError, UnsafeFileError
from sensorlm_keras.utils import safe_loading
from sensorlm_keras.runs import load_keras_model_safely
from tests.core.helpers import random_batch, tiny_model


class _Payload:
    """Pickling this object creates ``marker`` on unpickling (a classic pickle exploit)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def genuine(tmp_path_factory):
    root = tmp_path_factory.mktemp("untrusted")
    model = tiny_model()
    batch = random_batch(2)
    expected = keras.ops.convert_to_numpy(model(batch)["sensor_embeddings"])
    path = root / "genuine.keras"
    model.save(path)
    return path, batch, expected


def _rewrite(src, dst, config=None, extra=None, drop=()):
    """Copy a .keras archive, replacing config.json and adding/dropping members."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info.filename)
            if info.filename == "config.json" and config is not None:
                data = json.dumps(config).encode("utf-8")
            zout.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def _config(path):
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("config.json"))


def test_genuine_model_loads_and_matches(genuine):
    path, batch, expected = genuine
    model = load_keras_model_safely(path)
    got = keras.ops.convert_to_numpy(model(batch)["sensor_embeddings"])
    np.testing.assert_allclose(got, expected, atol=1e-6)


def _lambda_model(marker, path):
    """A genuine Keras file whose Lambda layer holds marshalled bytecode writing ``marker``."""
    inputs = keras.Input((3,))
    outputs = keras.layers.Lambda(lambda x: (open(marker, "w").close(), x)[1])(inputs)
    keras.Model(inputs, outputs).save(path)
    if os.path.exists(marker):  # building the model ran the lambda once, here, on purpose
        os.remove(marker)
    return path


def test_lambda_layer_with_bytecode_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = _lambda_model(str(marker), tmp_path / "lambda.keras")
    assert not marker.exists()
    assert "__lambda__" in json.dumps(_config(path))  # the bytecode really is in the file
    with pytest.raises(UnsafeFileError, match="Lambda") as info:
        load_keras_model_safely(path)
    assert str(path) in str(info.value)
    assert not marker.exists()


def test_keras_safe_mode_refusal_is_reported_as_unsafe(tmp_path, monkeypatch):
    """Defence in depth: even if the pre-scan missed it, Keras' safe mode refusal becomes
    `UnsafeFileError` naming the file."""
    marker = tmp_path / "pwned"
    path = _lambda_model(str(marker), tmp_path / "lambda.keras")
    monkeypatch.setattr(safe_loading, "inspect_keras_file", lambda p: None)
    with pytest.raises(UnsafeFileError, match="safe mode") as info:
        load_keras_model_safely(path)
    assert str(path) in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    "module, class_name",
    [("os", "system"), ("subprocess", "Popen"), ("builtins", "exec"), ("posix", "system")],
)
def test_config_importing_an_arbitrary_module_is_refused(genuine, tmp_path, module, class_name):
    marker = tmp_path / "pwned"
    config = _config(genuine[0])
    config["config"]["evil"] = {
        "module": module, "class_name": class_name,
        "config": {"command": f"touch {marker}"}, "registered_name": None,
    }
    path = _rewrite(genuine[0], tmp_path / "module.keras", config=config)
    with pytest.raises(UnsafeFileError, match=f"module '{module}'") as info:
        load_keras_model_safely(path)
    assert str(path) in str(info.value)
    assert not marker.exists()


def test_config_switching_safe_mode_off_is_refused(genuine, tmp_path):
    config = _config(genuine[0])
    config["config"]["hook"] = {"module": "keras.config", "class_name": "function",
                                "config": "enable_unsafe_deserialization",
                                "registered_name": None}
    path = _rewrite(genuine[0], tmp_path / "unsafe.keras", config=config)
    with pytest.raises(UnsafeFileError, match="enable_unsafe_deserialization"):
        load_keras_model_safely(path)
    from keras.src.saving import serialization_lib

    assert serialization_lib.in_safe_mode() is not False  # safe mode was not switched off


def test_pickled_numpy_weights_are_refused(genuine, tmp_path):
    marker = tmp_path / "pwned"
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **{"layers/x/vars/0": np.array([_Payload(str(marker))], dtype=object)})
    path = _rewrite(genuine[0], tmp_path / "pickle.keras", drop=("model.weights.h5",),
                    extra={"model.weights.npz": buffer.getvalue()})
    with pytest.raises(UnsafeFileError, match="object array"):
        load_keras_model_safely(path)
    assert not marker.exists()


def test_extra_pickle_member_is_refused(genuine, tmp_path):
    marker = tmp_path / "pwned"
    path = _rewrite(genuine[0], tmp_path / "extra.keras",
                    extra={"payload.pkl": pickle.dumps(_Payload(str(marker)))})
    with pytest.raises(UnsafeFileError, match="unexpected archive member 'payload.pkl'"):
        load_keras_model_safely(path)
    assert not marker.exists()


def test_path_traversal_member_is_refused(genuine, tmp_path):
    path = _rewrite(genuine[0], tmp_path / "traversal.keras", extra={"assets/../../x": b"x"})
    with pytest.raises(UnsafeFileError, match="escapes the archive"):
        load_keras_model_safely(path)


def test_oversized_member_is_refused_before_decompressing(genuine, tmp_path, monkeypatch):
    monkeypatch.setattr(safe_loading, "MAX_CONFIG_BYTES", 64)
    with pytest.raises(UnsafeFileError, match="refused before decompressing"):
        load_keras_model_safely(genuine[0])


def test_deeply_nested_config_is_refused(genuine, tmp_path):
    config = _config(genuine[0])
    nested = {}
    node = nested
    for _ in range(500):
        node["x"] = {}
        node = node["x"]
    config["config"]["deep"] = nested
    path = _rewrite(genuine[0], tmp_path / "deep.keras", config=config)
    with pytest.raises(UnsafeFileError, match="nested more than"):
        load_keras_model_safely(path)


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04garbage"])
def test_garbage_keras_file_is_a_config_error(tmp_path, content):
    path = tmp_path / "garbage.keras"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match="garbage.keras"):
        load_keras_model_safely(path)


def _fake_run_dir(root, model_file):
    os.makedirs(root / "tokenizer")
    (root / "run_config.json").write_text(json.dumps({"format_version": 1, "text_length": 8}))
    (root / "model.keras").write_bytes(model_file.read_bytes())
    return root


def test_run_directory_and_cli_refuse_a_malicious_model(genuine, tmp_path, capsys):
    from sensorlm_keras.cli import main
    from sensorlm_keras.runs.run_artifacts import load_run

    marker = tmp_path / "pwned"
    config = _config(genuine[0])
    config["config"]["evil"] = {"module": "os", "class_name": "system",
                                "config": {"command": f"touch {marker}"}}
    bad = _rewrite(genuine[0], tmp_path / "bad.keras", config=config)
    run_dir = _fake_run_dir(tmp_path / "run", bad)
    with pytest.raises(UnsafeFileError, match="model.keras"):
        load_run(run_dir)
    assert main(["export", "--run", str(run_dir), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "sensorlm: error:" in err and "module 'os'" in err and "model.keras" in err
    assert not marker.exists() and not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------ config files
def test_yaml_config_with_python_tags_is_refused(tmp_path):
    from sensorlm_keras.cli import main
    from sensorlm_keras.training import TrainConfig

    marker = tmp_path / "pwned"
    for i, tag in enumerate([
        f"!!python/object/apply:os.system ['touch {marker}']",
        f"!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
        "!!python/name:os.system",
    ]):
        path = tmp_path / f"evil{i}.yaml"
        path.write_text(f"steps: {tag}\n")
        with pytest.raises(ConfigError, match="not valid YAML") as info:
            TrainConfig.from_file(str(path))
        assert str(path) in str(info.value)
        assert main(["train", "--config", str(path), "--run-dir", str(tmp_path / "r")]) == 2
    assert not marker.exists() and not (tmp_path / "r").exists()


def test_set_override_with_python_tag_is_inert(tmp_path):
    from sensorlm_keras.training import TrainConfig

    marker = tmp_path / "pwned"
    values = TrainConfig.parse_overrides([f"steps=!!python/object/apply:os.system ['touch {marker}']"])
    assert isinstance(values["steps"], str)  # kept as plain text, never constructed
    with pytest.raises(ConfigError, match="TrainConfig.steps: expected a positive int"):
        TrainConfig.smoke().with_overrides(values)
    assert not marker.exists()


@pytest.mark.parametrize(
    "text, match",
    [
        ('{"steps": 10, "__class__": "os.system"}', "unknown field '__class__'"),
        ("[1, 2, 3]", "must hold a mapping"),
        ('{"steps": ', "not valid JSON"),
        ('{"steps": "ten"}', "TrainConfig.steps: expected a positive integer, received 'ten'"),
        ('{"preset": "../../etc/passwd"}', "unknown preset"),
    ],
)
def test_json_config_errors_name_the_field(tmp_path, text, match):
    from sensorlm_keras.training import TrainConfig

    path = tmp_path / "c.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match.replace("[", r"\[").replace("(", r"\(")):
        TrainConfig.from_file(str(path))
