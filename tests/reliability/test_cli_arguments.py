"""CLI arguments: bad values end with exit code 2 and one ``sensorlm: error:`` line naming the
argument/field, the expected and the received value; nothing is written."""

import os

import pytest

from sensorlm_keras.cli import main


@pytest.mark.parametrize(
    "argv, phrases",
    [
        (["train", "--smoke", "--steps", "0"], ["steps", "positive int", "0"]),
        (["train", "--smoke", "--batch-size", "-4"], ["batch_size", "positive int", "-4"]),
        (["train", "--smoke", "--set", "no_such_field=1"], ["unknown field 'no_such_field'"]),
        (["train", "--smoke", "--set", "novalue"], ["--set", "KEY=VALUE", "'novalue'"]),
        (["train", "--smoke", "--set", "strategy=warp"], ["strategy", "'warp'"]),
        (["train", "--smoke", "--preset", "sensorlm_huge"], ["preset", "'sensorlm_huge'"]),
        (["train", "--smoke", "--set", "peak_learning_rate=-1"],
         ["peak_learning_rate", "positive number", "-1"]),
        (["export", "--run", "{tmp}/none", "--out", "{tmp}/out"], ["does not exist"]),
        (["export", "--run", "{tmp}", "--out", "{tmp}/out"], ["not a SensorLM run directory"]),
        (["data", "synth", "--days", "0", "--out", "{tmp}/d", "--salt", "s"], ["days", "0"]),
        (["data", "synth", "--days", "2", "--people", "-1", "--out", "{tmp}/d", "--salt", "s"],
         ["people", "-1"]),
        (["tokenizer", "train", "--data", "{tmp}/none", "--vocab-size", "100", "--out",
          "{tmp}/tok"], ["{tmp}/none"]),
    ],
)
def test_bad_cli_arguments_are_clear_errors(tmp_path, capsys, argv, phrases):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if argv[0] == "train":
        argv += ["--run-dir", str(tmp_path / "run")]
    before = sorted(os.listdir(tmp_path))
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sensorlm: error:") and len(err.splitlines()) == 1, err
    for phrase in phrases:
        assert phrase.replace("{tmp}", str(tmp_path)) in err, err
    assert sorted(os.listdir(tmp_path)) == before  # nothing written


def test_an_error_quoting_tensors_stays_one_short_line(tmp_path, capsys, monkeypatch):
    """A backend error that quotes a whole batch (as TensorFlow's PerReplica errors do) is cut
    to one line that keeps its start; SENSORLM_DEBUG=1 still raises the full error."""
    import numpy as np

    import sensorlm_keras.commands.export as export_command

    dump = "{'sensor': PerReplica:{ 0: " + np.array2string(np.arange(20000.0), threshold=10**9) + " }}"

    def fails(args):
        raise ValueError(f"Attempt to convert a value ({dump}) with an unsupported type")

    monkeypatch.setattr(export_command, "run_export", fails)
    argv = ["export", "--run", str(tmp_path), "--out", str(tmp_path / "out")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and len(err) < 600, err[:1000]
    assert err.startswith("sensorlm: error: Attempt to convert a value ({'sensor': PerReplica")
    assert "SENSORLM_DEBUG=1" in err
    monkeypatch.setenv("SENSORLM_DEBUG", "1")
    with pytest.raises(ValueError, match="unsupported type"):
        main(argv)


@pytest.mark.parametrize("argv", [["train", "--steps", "ten"], ["export"], ["nope"]])
def test_argparse_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err
