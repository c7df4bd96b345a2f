"""`evaluate_run`, the figures, `sensorlm eval` end to end and bad inputs, on a tiny trained run
and a tiny TFRecord dataset (the run fixture is built once per module)."""

import json
import os
import shutil
import struct

import numpy as np
import pytest

from sensorlm_keras.errors import DataError, InputValidationError


def _prepare(root):
    from sensorlm_keras.data import SyntheticDayGenerator, build_tfrecord_dataset
    from tests.run_fixtures import make_tiny_run

    make_tiny_run(str(root / "run"))
    # A seed whose test people have labelled days and whose train people log >= 2 classes.
    days = SyntheticDayGenerator().generate(num_people=6, days_per_person=2, seed=10)
    build_tfrecord_dataset(days, str(root / "data"), salt="test-salt",
                           fractions={"train": 0.5, "validation": 0.17, "test": 0.33})


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, request):
    """A tiny trained run and a tiny TFRecord dataset, built once per test run (shared by the
    pytest-xdist workers through a lock file)."""
    import sensorlm_keras.models  # noqa: F401  (registers SensorLM for loading)
    from sensorlm_keras.runs import load_run
    from tests.run_fixtures import build_once

    worker = getattr(request.config, "workerinput", {}).get("workerid", "master")
    base = tmp_path_factory.getbasetemp()
    root = build_once((base if worker == "master" else base.parent) / "evaluation_tiny", _prepare)
    return {"run": load_run(str(root / "run")), "run_dir": str(root / "run"),
            "data_dir": str(root / "data"), "root": root}


def _png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


def test_evaluate_run_on_in_memory_days_writes_report_and_figures(tiny, tmp_path):
    from sensorlm_keras.data import SyntheticDayGenerator
    from sensorlm_keras.evaluation import (
        EvaluationData,
        evaluate_run,
        format_summary,
        retrieval_metrics,
    )

    # A seed whose probe-train half (by person) holds >= 2 classes.
    days = SyntheticDayGenerator().generate(num_people=3, days_per_person=2, seed=6)
    out = tmp_path / "eval"
    report = evaluate_run(tiny["run"], days, out_dir=str(out), k_shots=(1, "all"), seeds=2,
                          include_none=True, progress=False)
    with open(out / "report.json", encoding="utf-8") as f:
        stored = json.load(f)
    assert stored["retrieval"] == report["retrieval"]
    assert not [p for p in os.listdir(out) if p.startswith(".")]  # no temp files left
    # retrieval agrees with an independent recomputation from the model's public methods
    data = EvaluationData.from_days(days)
    model, tokenizer = tiny["run"].model, tiny["run"].tokenizer
    tokens = tokenizer(list(data.captions))
    z_s = model.encode_sensor(data.sensor)
    z_t = model.encode_text(tokens["token_ids"], tokens["padding_mask"])
    again = retrieval_metrics(similarity=model.similarity(z_s, z_t))
    for key in ("recall@1", "recall@5", "median_rank"):
        assert report["retrieval"]["sensor_to_text"][key] == pytest.approx(
            again["sensor_to_text"][key])
    zero_shot = report["zero_shot"]
    assert "none" in zero_shot["classes"]  # include_none keeps "none" days as a class
    assert zero_shot["num_examples"] == len(data)
    assert 0.0 <= zero_shot["accuracy"] <= 1.0
    probe = report["linear_probe"]
    assert set(probe) >= {"sensorlm", "random_init", "train"}
    assert set(probe["sensorlm"]["results"]) == {"1", "all"}
    assert set(report["plots"]) == {"confusion_matrix", "similarity_heatmap", "recall_at_k",
                                    "example_day"}
    for name in report["plots"].values():
        width, height = _png_size(out / name)
        assert width >= 500 and height >= 450, (name, width, height)
        assert os.path.getsize(out / name) > 15_000, name
    summary = format_summary(report)
    assert "retrieval" in summary and "zero-shot" in summary and "linear probe" in summary
    assert len(summary.splitlines()) <= 30


def test_random_init_baseline_differs_from_trained_encoder(tiny):
    from sensorlm_keras.evaluation import random_init_sensor_embeddings

    model = tiny["run"].model
    sensor = np.random.default_rng(0).normal(size=(3, 1440, 34)).astype("float32")
    a = random_init_sensor_embeddings(model, sensor, seed=0)
    b = random_init_sensor_embeddings(model, sensor, seed=0)
    np.testing.assert_allclose(a, b, atol=1e-6)  # deterministic per seed
    assert a.shape == (3, model.config.embed_dim)
    assert not np.allclose(a, model.encode_sensor(sensor), atol=1e-3)


def test_cli_end_to_end_on_tfrecord_dataset(tiny, tmp_path, capsys):
    from sensorlm_keras.cli import main

    out = tmp_path / "cli"
    code = main(["eval", "--run", tiny["run_dir"], "--data", tiny["data_dir"], "--out", str(out),
                 "--k-shots", "1", "all", "--seeds", "2", "--no-random-baseline",
                 "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "retrieval (" in captured.out and "sensor -> text" in captured.out
    assert "linear probe" in captured.out and "report:" in captured.out
    with open(out / "report.json", encoding="utf-8") as f:
        report = json.load(f)
    assert report["data"]["source"].endswith(os.path.join("data", "test"))
    assert "train" in report["linear_probe"].get("train", report["linear_probe"].get("skipped"))
    assert "none" not in report["data"].get("label_counts", {})


def test_cli_templates_from_a_file_are_the_ones_used(tiny, tmp_path, capsys):
    from sensorlm_keras.cli import main

    templates = tmp_path / "templates.txt"
    templates.write_text("The user logged {}.\n\na {} session\n")
    out = tmp_path / "custom"
    code = main(["eval", "--run", tiny["run_dir"], "--data", tiny["data_dir"], "--out", str(out),
                 "--templates", str(templates), "--k-shots", "1", "--seeds", "1",
                 "--no-random-baseline", "--no-plots", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "2 prompt templates" in captured.out
    report = json.loads((out / "report.json").read_text())
    assert report["zero_shot"]["templates"] == ["The user logged {}.", "a {} session"]


def test_cli_missing_paths_and_bad_options_are_one_line_errors(tiny, tmp_path, capsys):
    from sensorlm_keras.cli import main

    cases = [
        (["--run", str(tmp_path / "nope"), "--data", tiny["data_dir"]], "--run"),
        (["--run", tiny["data_dir"], "--data", tiny["data_dir"]], "not a SensorLM run"),
        (["--run", tiny["run_dir"], "--data", str(tmp_path / "missing")], "does not exist"),
        (["--run", tiny["run_dir"], "--data", tiny["data_dir"], "--k-shots", "0"], "--k-shots"),
        (["--run", tiny["run_dir"], "--data", tiny["data_dir"], "--seeds", "0"], "--seeds"),
        (["--run", tiny["run_dir"], "--data", tiny["data_dir"], "--templates", "no slot"],
         "--templates: expected strings with exactly one '{}'"),
        (["--run", tiny["run_dir"], "--data", tiny["data_dir"], "--templates", "x.txt"],
         "--templates: the file 'x.txt' does not exist"),
        (["--run", tiny["run_dir"], "--data", str(tmp_path)], "neither a dataset"),
    ]
    broken = tmp_path / "broken_run"
    shutil.copytree(tiny["run_dir"], broken)
    (broken / "model.keras").write_bytes(b"not a zip file")
    cases.append((["--run", str(broken), "--data", tiny["data_dir"]], "cannot load the run"))
    for argv, match in cases:
        code = main(["eval", *argv, "--no-progress"])
        err = capsys.readouterr().err.strip()
        assert code == 2, argv
        assert len(err.splitlines()) == 1 and err.startswith("sensorlm: error:"), err
        assert match in err, (argv, err)


def test_cli_help_has_examples(capsys):
    from sensorlm_keras.cli import main

    with pytest.raises(SystemExit) as info:
        main(["eval", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and "--k-shots" in text and "--classes" in text


def test_evaluation_data_inputs(tiny, tmp_path):
    from sensorlm_keras.data import ChannelSchema
    from sensorlm_keras.evaluation import EvaluationData, load_evaluation_data

    data = load_evaluation_data(tiny["data_dir"], limit=2)
    assert len(data) == 2 and data.captions is not None and data.labels is not None
    names = ChannelSchema.default().names
    reordered = data.align_channels(names[::-1])
    np.testing.assert_array_equal(reordered.sensor[..., 0], data.sensor[..., -1])
    with pytest.raises(DataError, match="lacks channels"):
        data.align_channels(["HR", "not_a_channel"])
    path = tmp_path / "days.npz"
    np.savez(path, sensor=data.sensor, labels=np.array(["run", "walk"]))
    from_npz = load_evaluation_data(str(path))
    assert from_npz.labels == ("run", "walk") and from_npz.captions is None
    with pytest.raises(InputValidationError, match="NaN"):
        EvaluationData.from_arrays(np.full((1, 1440, 34), np.nan))
    with pytest.raises(InputValidationError, match="one per day"):
        EvaluationData.from_arrays(data.sensor, labels=["run"])
    with pytest.raises(DataError, match="does not exist"):
        load_evaluation_data(str(tmp_path / "absent"))
    with pytest.raises(InputValidationError, match="expected a TFRecord"):
        load_evaluation_data(42)


def test_evaluate_run_unlabelled_and_with_absent_classes(tiny, tmp_path):
    from sensorlm_keras.evaluation import evaluate_run, format_summary

    rng = np.random.default_rng(0)
    sensor = rng.normal(size=(4, 1440, 34)).astype("float32")
    bare = evaluate_run(tiny["run"], {"sensor": sensor}, out_dir=str(tmp_path / "bare"),
                        progress=False)
    assert "skipped" in bare["retrieval"] and "skipped" in bare["zero_shot"]
    assert "skipped" in bare["linear_probe"]
    assert set(bare["plots"]) == {"example_day"}
    assert "skipped" in format_summary(bare)

    labelled = {"sensor": sensor, "labels": ["run", "walk", "run", "none"],
                "person_ids": ["a", "a", "b", "b"]}
    report = evaluate_run(tiny["run"], labelled, out_dir=str(tmp_path / "cls"),
                          classes=["run", "walk", "swim"], k_shots=("all",), seeds=1,
                          random_baseline=False, plots=False, progress=False)
    zero_shot = report["zero_shot"]
    assert zero_shot["classes"] == ["run", "walk", "swim"]
    assert zero_shot["num_examples"] == 3  # the "none" day is left out
    assert zero_shot["auroc_skipped"] == ["swim"]
    assert any("swim" in note for note in report["notes"])
    assert report["data"]["excluded_none"] == 1
    assert report["plots"] == {}
    with pytest.raises(InputValidationError, match="at least 2 classes"):
        evaluate_run(tiny["run"], labelled, classes=["run"], progress=False)
