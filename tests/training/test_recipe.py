"""The optimiser recipe, the schedule and the training config."""

import json

import keras
import numpy as np
import pytest
from keras import ops

from sensorlm_keras.training import TrainConfig, WarmupRsqrtCooldown
from sensorlm_keras.training.optimizer import build_optimizer
from tests.core.helpers import tiny_model


def reference_lr(step, peak, total, warm_frac, cool_frac, timescale):
    warm = round(warm_frac * total)
    cool = round(cool_frac * total)
    if step < warm:
        lr = peak * step / warm
    else:
        lr = peak / np.sqrt(1 + (step - warm) / timescale)
    if cool and step > total - cool:
        lr *= max(0.0, (total - step) / cool)
    return lr


@pytest.mark.parametrize("total, timescale", [(1000, 100.0), (48_828, 10_000.0)])
def test_schedule_matches_formula(total, timescale):
    schedule = WarmupRsqrtCooldown(5e-4, total, timescale=timescale)
    for step in np.linspace(0, total, 37).astype(int):
        got = float(ops.convert_to_numpy(schedule(step)))
        want = reference_lr(step, 5e-4, total, 0.2, 0.2, timescale)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-12)
    assert float(ops.convert_to_numpy(schedule(total))) == 0.0
    restored = WarmupRsqrtCooldown(**schedule.get_config())
    assert restored.get_config() == schedule.get_config()


def test_schedule_rejects_bad_values():
    with pytest.raises(ValueError, match="total_steps"):
        WarmupRsqrtCooldown(1e-3, 0)
    with pytest.raises(ValueError, match="must be <= 1"):
        WarmupRsqrtCooldown(1e-3, 10, warmup_fraction=0.6, cooldown_fraction=0.6)


def test_weight_decay_only_on_kernels_and_lr_independent():
    model = tiny_model()
    optimizer = build_optimizer(model, total_steps=10, peak_learning_rate=5e-4,
                                weight_decay=1e-4, warmup_fraction=0.0, cooldown_fraction=0.0)
    model.compile(optimizer=optimizer)
    optimizer.build(model.trainable_variables)
    decayed = {v.name for v in model.trainable_variables if optimizer._use_weight_decay(v)}
    assert decayed and all("kernel" in n for n in decayed)
    excluded = {v.name for v in model.trainable_variables if not optimizer._use_weight_decay(v)}
    for name in ("logit_scale", "logit_bias", "probe", "embeddings", "gamma", "beta", "bias"):
        assert name in excluded, name
    # Zero gradients: Adam's step is 0, only decoupled decay acts. Upstream decays by
    # wd * schedule multiplier = 1e-4 at the peak, independent of the learning rate.
    before = {v.path: ops.convert_to_numpy(v).copy() for v in model.trainable_variables}
    optimizer.apply([ops.zeros_like(v) for v in model.trainable_variables])
    for v in model.trainable_variables:
        after = ops.convert_to_numpy(v)
        if "kernel" in v.name:
            np.testing.assert_allclose(after, before[v.path] * (1 - 1e-4), rtol=1e-6, atol=1e-9)
        else:
            np.testing.assert_array_equal(after, before[v.path])


def test_global_clipnorm_is_one():
    model = tiny_model()
    assert build_optimizer(model, 10).global_clipnorm == 1.0


def test_train_config_files_and_overrides(tmp_path):
    yaml_path = tmp_path / "run.yaml"
    yaml_path.write_text("preset: sensorlm_small\nbatch_size: 64\nmodel:\n  text_pooling: last\n")
    config = TrainConfig.from_file(str(yaml_path))
    assert config.preset == "sensorlm_small" and config.batch_size == 64
    assert config.model == {"text_pooling": "last"} and config.steps == 48_828
    json_path = tmp_path / "run.json"
    json_path.write_text(json.dumps({"steps": 10}))
    smoke = TrainConfig.from_file(str(json_path), smoke=True)
    assert smoke.steps == 10 and smoke.preset == "sensorlm_tiny"
    overrides = TrainConfig.parse_overrides(["steps=5", "model.sensor_num_layers=1", "data=x/y"])
    updated = smoke.with_overrides(overrides)
    assert updated.steps == 5 and updated.model["sensor_num_layers"] == 1 and updated.data == "x/y"


def test_named_recipes():
    smoke, long = TrainConfig.recipe("smoke"), TrainConfig.recipe("long")
    assert TrainConfig.smoke() == smoke and TrainConfig.recipe("upstream") == TrainConfig()
    # The long recipe scales the main job's data and steps (schedule stretched with them) and
    # keeps its model, batch and logit bias.
    assert (long.synthetic_people, long.batch_size, long.steps) == (1000, 32, 6000)
    assert long.timescale / long.steps == smoke.timescale / smoke.steps
    assert long.preset == smoke.preset and long.model == smoke.model
    # Recipes hand out copies: changing one config's model dict leaves the next one alone.
    long.model["patch_size"] = [1, 1]
    assert TrainConfig.recipe("long").model["patch_size"] == [10, None]  # None: every channel
    with pytest.raises(ValueError, match="unknown recipe 'fast'"):
        TrainConfig.recipe("fast")


def test_train_command_recipe_flags(tmp_path):
    import argparse

    from sensorlm_keras.commands import train as train_command

    parser = argparse.ArgumentParser()
    train_command.add_parser(parser.add_subparsers())

    def config(*argv):
        return train_command.build_config(parser.parse_args(["train", *argv]))

    assert config("--recipe", "long").steps == 6000
    assert config("--smoke") == config("--recipe", "smoke") == TrainConfig.smoke()
    assert config("--recipe", "long", "--set", "steps=7").steps == 7
    path = tmp_path / "run.yaml"
    path.write_text("batch_size: 16\n")
    from_file = config("--config", str(path), "--recipe", "long")
    assert from_file.batch_size == 16 and from_file.synthetic_people == 1000
    with pytest.raises(ValueError, match="--smoke is --recipe smoke"):
        config("--smoke", "--recipe", "long")


@pytest.mark.parametrize(
    "action, match",
    [
        (lambda p: TrainConfig.from_file(str(p / "missing.yaml")), "does not exist"),
        (lambda p: TrainConfig().with_overrides({"stepz": 3}), "unknown field 'stepz'"),
        (lambda p: TrainConfig(batch_size=0), "batch_size"),
        (lambda p: TrainConfig(preset="nope"), "unknown preset"),
        (lambda p: TrainConfig.parse_overrides(["steps"]), "KEY=VALUE"),
    ],
)
def test_train_config_errors(tmp_path, action, match):
    with pytest.raises(ValueError, match=match):
        action(tmp_path)


def test_invalid_yaml_is_reported(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("steps: [1,\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        TrainConfig.from_file(str(path))


def test_schedule_is_serialised_with_the_model(tmp_path):
    model = tiny_model()
    model.compile(optimizer=build_optimizer(model, 100))
    model.optimizer.build(model.trainable_variables)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    schedule = loaded.optimizer._learning_rate
    assert isinstance(schedule, WarmupRsqrtCooldown)
    assert schedule.get_config() == model.optimizer._learning_rate.get_config()
    assert loaded.optimizer.global_clipnorm == 1.0


def test_unfinished_run_with_another_model_config_is_refused(tmp_path):
    from sensorlm_keras.training.trainer import _prepare_run_dir

    config = TrainConfig.smoke(run_dir=str(tmp_path / "run"))
    _prepare_run_dir(config, overwrite=False)  # writes train_config.json, as a started run
    other = config.with_overrides({"preset": "sensorlm_small"})
    with pytest.raises(ValueError, match="different configuration \\(preset changed\\)"):
        _prepare_run_dir(other, overwrite=False)
    _prepare_run_dir(other, overwrite=True)  # --overwrite starts from scratch


def test_tokenizer_that_does_not_match_the_model_is_refused():
    from sensorlm_keras.runs.run_artifacts import check_tokenizer_matches_model

    class FakeTokenizer:
        vocabulary_size = 999
        text_length = 8

    with pytest.raises(ValueError, match="vocabulary size 999 does not match"):
        check_tokenizer_matches_model(FakeTokenizer(), tiny_model())
