"""The `sensorlm` CLI: help texts, data synth / caption, tokenizer train, one-line errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from sensorlm_keras import cli
from sensorlm_keras.data import ChannelSchema, DatasetManifest, SyntheticDayGenerator
from sensorlm_keras.tokenizers import SensorLMTokenizer
from tests.data._cli_helpers import synth_argv

pytest.importorskip("tensorflow")


@pytest.mark.parametrize(
    "argv, expected",
    [
        ([], ["data", "tokenizer"]),
        (["data"], ["synth", "caption"]),
        (["data", "synth"], ["--days", "--people", "--out", "--shards", "--seed", "--salt"]),
        (["data", "caption"], ["--input", "--variant", "--out", ".npz", ".csv"]),
        (["tokenizer"], ["train"]),
        (["tokenizer", "train"], ["--data", "--vocab-size", "--out"]),
    ],
)
def test_help(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv + ["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for word in expected:
        assert word in out


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "synth"
    argv = synth_argv(out)
    assert cli.main(argv) == 0
    return out


def test_data_synth_writes_split_datasets(synth_dir, capsys):
    splits = sorted(os.listdir(synth_dir))
    assert splits == ["test", "train", "validation"]
    total = 0
    people = {}
    for split in splits:
        manifest = DatasetManifest.load(synth_dir / split)
        assert manifest.split == split and manifest.num_channels == 34
        total += manifest.num_examples + manifest.extra["dropped_days"]
        people[split] = manifest.extra["num_people"]
    assert total == 8 and sum(people.values()) == 4
    # Same seed and salt -> identical shards (deterministic end to end).
    again = synth_dir.parent / "again"
    argv = synth_argv(again)
    assert cli.main(argv) == 0
    for split in splits:
        a = DatasetManifest.load(synth_dir / split).shards
        b = DatasetManifest.load(again / split).shards
        assert [s["sha256"] for s in a] == [s["sha256"] for s in b]


def test_data_caption_from_tfrecord_npz_and_csv(synth_dir, tmp_path, capsys):
    assert cli.main(["data", "caption", "--input", str(synth_dir / "train"), "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("=== index=0, person_id=") and "variant=high_summary" in out

    days = SyntheticDayGenerator().generate(1, 2, seed=4)
    events = np.array([json.dumps([e.to_dict() for e in day]) for day in days.events])
    npz = tmp_path / "days.npz"
    np.savez(npz, raw=days.raw, channel_names=np.array(days.schema.names), events=events)
    jsonl = tmp_path / "captions.jsonl"
    assert (
        cli.main(["data", "caption", "--input", str(npz), "--variant", "all", "--out", str(jsonl)])
        == 0
    )
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(rows) == 2 and len(rows[0]["captions"]) == 8
    if any(e.kind == "activity" and e.duration_minutes >= 20 for e in days.events[0]):
        assert any(
            e.label in rows[0]["captions"]["high_all"]
            for e in days.events[0]
            if e.kind == "activity"
        )

    import pandas as pd

    schema = ChannelSchema.default()
    frame = pd.DataFrame(
        days.raw[0][:, [schema.index("HR"), schema.index("steps")]], columns=["HR", "steps"]
    )
    csv = tmp_path / "day.csv"
    frame.to_csv(csv, index=False)
    assert cli.main(["data", "caption", "--input", str(csv), "--variant", "low"]) == 0
    out = capsys.readouterr().out
    assert "variant=low" in out and "eart" in out


@pytest.mark.parametrize("flag", ["--text-length", "--sequence-length"])
def test_tokenizer_train(synth_dir, tmp_path, capsys, flag):
    """`--sequence-length` is the flag's old name; command lines written with it still work."""
    out = tmp_path / "tok"
    argv = [
        "tokenizer",
        "train",
        "--data",
        str(synth_dir),
        "--vocab-size",
        "150",
        "--out",
        str(out),
        flag,
        "48",
    ]
    assert cli.main(argv) == 0
    tokenizer = SensorLMTokenizer.load(out)
    assert tokenizer.vocabulary_size == 150 and tokenizer.text_length == 48
    assert "trained on" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["data", "caption", "--input", "/no/such/file.npz"], "does not exist"),
        (["data", "caption", "--input", "x.npz", "--variant", "medium"], "--variant"),
        (["data", "synth", "--people", "0", "--days", "1", "--out", "unused"], "--people"),
        (
            ["tokenizer", "train", "--data", "/no/such/dir", "--vocab-size", "100", "--out", "x"],
            "does not exist",
        ),
    ],
)
def test_errors_are_one_line_with_exit_code_2(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("sensorlm: error:") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_usage_error_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["data", "synth", "--people", "2"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "required" in err


def test_console_script_runs_as_a_process(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sensorlm_keras.cli",
            "tokenizer",
            "train",
            "--data",
            str(tmp_path),
            "--vocab-size",
            "10",
            "--out",
            str(tmp_path / "t"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("sensorlm")]
    assert len(lines) == 1 and "manifest.json" in lines[0]
    assert "Traceback" not in result.stderr
