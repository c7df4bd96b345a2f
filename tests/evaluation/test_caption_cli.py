"""`sensorlm caption` end to end on a tiny CoCa run directory, and its errors."""

import json

import numpy as np
import pytest

from sensorlm_keras.cli import main


def _tiny_coca_run(run_dir, fit_steps=0, text_length=24):
    """Synthetic days -> tokenizer -> tiny SensorLMCoCa (untrained unless fit_steps) -> run dir.

    The CLI plumbing is under test here; training quality is covered by tests/core/test_coca.py.
    """
    import keras

    from sensorlm_keras import SensorLMCoCa
    from sensorlm_keras.data import ChannelSchema, SyntheticDayGenerator
    from sensorlm_keras.evaluation import EvaluationData
    from sensorlm_keras.tokenizers import SensorLMTokenizer, train_sentencepiece
    from sensorlm_keras.runs import save_run

    schema = ChannelSchema.default()
    days = SyntheticDayGenerator(schema).generate(num_people=4, days_per_person=1, seed=2)
    data = EvaluationData.from_days(days)
    proto = train_sentencepiece(list(data.captions) * 3, vocabulary_size=160,
                                hard_vocab_limit=False)
    tokenizer = SensorLMTokenizer(proto, text_length=text_length)
    model = SensorLMCoCa.from_preset(
        "sensorlm_coca_tiny", patch_size=(60, 2), vocabulary_size=tokenizer.vocabulary_size,
        max_text_length=32, sensor_num_layers=1, text_num_layers=1, sensor_hidden_dim=32,
        text_hidden_dim=32, embed_dim=32, sensor_mlp_dim=64, text_mlp_dim=64,
        decoder_pooler_queries=4,
    )
    tokens = tokenizer(list(data.captions))
    batch = {"sensor": data.sensor, "token_ids": np.asarray(tokens["token_ids"]),
             "padding_mask": np.asarray(tokens["padding_mask"])}
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    for _ in range(fit_steps):
        model.train_on_batch(batch)
    save_run(run_dir, model, tokenizer, schema, text_length=text_length)
    return model, tokenizer


@pytest.mark.slow
def test_caption_cli_writes_report(tmp_path, capsys):
    run_dir = str(tmp_path / "run")
    _tiny_coca_run(run_dir)
    out = str(tmp_path / "report.json")
    code = main(["caption", "--model", run_dir, "--data", "synth:3", "--max-length", "12",
                 "--strategy", "beam", "--num-beams", "2", "--out", out, "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "BLEU-4" in printed and "ROUGE-L" in printed and out in printed
    report = json.loads(open(out).read())
    assert report["num_days"] == 3 and len(report["generated"]) == 3
    assert 0.0 <= report["bleu4"] <= 1.0 and 0.0 <= report["rouge_l"] <= 1.0
    assert report["strategy"] == "beam" and report["max_length"] == 12
    assert report["reference_facts"]["overall"]["accuracy"] == 1.0
    assert set(report["samples"][0]) >= {"generated", "reference", "facts"}
    assert all(isinstance(t, str) for t in report["generated"])


def test_caption_cli_rejects_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["caption", "--model", "x", "--data", "y", "--strategy", "sample"])
    assert exit_info.value.code == 2
    assert main(["caption", "--model", str(tmp_path / "missing"), "--data", "synth:2"]) == 2
    assert "--model" in capsys.readouterr().err
    assert main(["caption", "--model", "x", "--data", "y", "--top-p", "0"]) == 2
    assert "--top-p" in capsys.readouterr().err


def test_caption_help_lists_strategies(capsys):
    with pytest.raises(SystemExit):
        main(["caption", "--help"])
    text = capsys.readouterr().out
    assert "greedy" in text and "synth:N" in text and "BLEU-4" in text


@pytest.mark.slow
def test_caption_cli_refuses_a_two_tower_run(tmp_path, capsys):
    from tests.run_fixtures import make_tiny_run

    make_tiny_run(str(tmp_path / "run"), fit_steps=0)
    assert main(["caption", "--model", str(tmp_path / "run"), "--data", "synth:1"]) == 2
    assert "captioning decoder" in capsys.readouterr().err
