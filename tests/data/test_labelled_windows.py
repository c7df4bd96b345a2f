"""Labelled windows of any length and channel set -> captioned TFRecords (issue 18).

References are independent: NumPy means and standard deviations of the planted train windows,
the z-score formula, the phrase bank filled by hand.
"""

import numpy as np
import pytest

from sensorlm_keras.data.captions import phrases
from sensorlm_keras.data.captions.zero_shot_prompts import WINDOW_PROMPT_TEMPLATES
from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.data.dataset_manifest import DatasetManifest
from sensorlm_keras.data.labelled_windows import LabelledWindows
from sensorlm_keras.data.tfrecord import read_examples
from sensorlm_keras.data.window_dataset_builder import build_window_dataset
from sensorlm_keras.errors import DataError


def _windows(n=24, t=50, people=8, seed=0, **overrides):
    rng = np.random.default_rng(seed)
    sensor = np.empty((n, t, 3), np.float32)
    sensor[:, :, 0] = rng.normal(3.0, 2.0, (n, t))        # custom channel
    sensor[:, :, 1] = rng.normal(-40.0, 0.5, (n, t))      # custom channel, far from 0
    sensor[:, :, 2] = rng.normal(70.0, 5.0, (n, t))       # HR: a schema channel
    fields = dict(sensor=sensor, channel_names=["acc_x", "baro", "HR"],
                  person_ids=[f"p{i % people}" for i in range(n)],
                  labels=[("walking", "running", "cycling")[i % 3] for i in range(n)],
                  step_seconds=0.1)
    fields.update(overrides)
    return LabelledWindows(**fields)


def _stored(split_dir, variant="high_low"):
    return list(read_examples(split_dir, variants=[variant]))


def test_npz_round_trip(tmp_path):
    windows = _windows(captions=[f"caption {i}" for i in range(24)])
    path = windows.save_npz(tmp_path / "w.npz")
    back = LabelledWindows.from_npz(path)
    np.testing.assert_array_equal(back.sensor, windows.sensor)
    assert back.channel_names == windows.channel_names
    assert back.person_ids == windows.person_ids and back.labels == windows.labels
    assert back.captions == windows.captions and back.step_seconds == pytest.approx(0.1)
    assert back.splits is None and not back.zscored


def test_any_length_and_normalisation_from_the_train_split_only(tmp_path):
    from sensorlm_keras.data.person_split import split_by_person

    windows = _windows()
    # Planted: the held-out people's custom channel is far off; it must not move the constants.
    held_out = np.concatenate([rows for split, rows in split_by_person(
        windows.person_ids, method="rank").items() if split != "train"])
    windows.sensor[held_out, :, 0] += 100.0
    manifests = build_window_dataset(windows, tmp_path / "ds", salt="s")
    train = manifests["train"]
    assert train.num_timesteps == 50 and train.channel_names == ["acc_x", "baro", "HR"]
    assert set(manifests) == {"train", "validation", "test"}
    train_people = {ex["person_id"] for ex in _stored(tmp_path / "ds" / "train")}
    test_people = {ex["person_id"] for ex in _stored(tmp_path / "ds" / "test")}
    assert not train_people & test_people
    # Which raw windows went to train: recompute the constants with NumPy from those rows.
    rows = split_by_person(windows.person_ids, method="rank")["train"]
    norm = train.extra["normalization"]
    for k, name in enumerate(("acc_x", "baro")):
        values = windows.sensor[rows, :, k].astype(np.float64)
        assert norm[name]["source"] == "train split"
        assert norm[name]["mean"] == pytest.approx(values.mean(), rel=1e-9)
        assert norm[name]["std"] == pytest.approx(values.std(), rel=1e-9)
    hr = ChannelSchema.default().channels[ChannelSchema.default().index("HR")]
    assert norm["HR"] == {"mean": hr.mean, "std": hr.std, "source": "schema"}
    assert manifests["test"].extra["normalization"] == norm
    assert manifests["test"].extra["window"] == {"num_timesteps": 50, "step_seconds": 0.1}
    # Stored test windows are z-scored with the train constants (clipped at 5).
    test_rows = split_by_person(windows.person_ids, method="rank")["test"]
    stored = np.stack([ex["sensor"] for ex in _stored(tmp_path / "ds" / "test")])
    means = np.array([norm[n]["mean"] for n in ("acc_x", "baro", "HR")])
    stds = np.array([norm[n]["std"] for n in ("acc_x", "baro", "HR")])
    expected = np.clip((windows.sensor[test_rows].astype(np.float64) - means) / stds, -5, 5)
    np.testing.assert_allclose(np.sort(stored.ravel()), np.sort(expected.ravel()), atol=1e-5)


def test_captions_label_sentence_matches_the_zero_shot_templates(tmp_path):
    windows = _windows()
    build_window_dataset(windows, tmp_path / "ds", salt="s")
    examples = _stored(tmp_path / "ds" / "train", "high_summary")
    assert examples
    for ex in examples:
        label = ex["activity_label"]
        assert label in ("walking", "running", "cycling")
        assert ex["captions"]["high_summary"] in {t.format(label) for t in WINDOW_PROMPT_TEMPLATES}
    assert all("day" not in t for t in WINDOW_PROMPT_TEMPLATES)
    assert len(WINDOW_PROMPT_TEMPLATES) == len(phrases.WINDOW_ACTIVITY_PHRASES) >= 3
    assert DatasetManifest.load(tmp_path / "ds" / "train").extra["zero_shot_templates"] == list(
        WINDOW_PROMPT_TEMPLATES)


def test_statistical_level_states_the_window_in_physical_units(tmp_path):
    windows = _windows(n=3, people=3, splits=["train"] * 3)
    build_window_dataset(windows, tmp_path / "ds", salt="s")
    lows = [ex["captions"]["high_low"].split("\n", 1)[1]
            for ex in _stored(tmp_path / "ds" / "train")]
    assert len(lows) == 3
    for low in lows:
        # Schema channels in their category, channels outside the schema on a Signals line.
        assert low.startswith("Heart:")
        signals = [line for line in low.splitlines() if line.startswith("Signals:")]
        assert len(signals) == 1
        assert "acc x" in signals[0].lower() and "baro" in signals[0].lower()
    # Each window's HR mean (NumPy, physical units) appears with one decimal in one caption.
    means = [f"{m:.1f}" for m in windows.sensor[:, :, 2].astype(np.float64).mean(axis=1)]
    assert all(any(m in low for low in lows) for m in means)


def test_given_captions_replace_the_label_sentence(tmp_path):
    windows = _windows(captions=[f"Window {i} of a bike ride." for i in range(24)])
    build_window_dataset(windows, tmp_path / "ds", salt="s")
    captions = [ex["captions"]["high_summary"] for ex in _stored(tmp_path / "ds" / "train",
                                                                   "high_summary")]
    assert all(c.startswith("Window ") and c.endswith("of a bike ride.") for c in captions)


def test_missing_windows_are_dropped_and_counted(tmp_path):
    windows = _windows(n=6, person_ids=["a"] * 3 + ["b"] * 3,
                       splits=["train"] * 3 + ["test"] * 3)
    windows.sensor[1] = np.nan
    windows.sensor[4, :25, 0] = np.nan
    manifests = build_window_dataset(windows, tmp_path / "ds", salt="s")
    assert manifests["train"].num_examples == 2
    assert manifests["train"].extra["dropped_windows"] == 1
    assert manifests["test"].num_examples == 3
    masks = [ex["mask"] for ex in _stored(tmp_path / "ds" / "test")]
    assert sum(int(m.sum()) for m in masks) == 25


def test_zscored_input_is_not_normalised_again(tmp_path):
    windows = _windows(zscored=True, sensor=np.full((24, 50, 3), 0.5, np.float32))
    manifests = build_window_dataset(windows, tmp_path / "ds", salt="s")
    assert {v["source"] for v in manifests["train"].extra["normalization"].values()} == {
        "z-scored input"}
    stored = _stored(tmp_path / "ds" / "train")[0]["sensor"]
    np.testing.assert_allclose(stored, 0.5)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(sensor=np.zeros((4, 10))), "field 'sensor' expected a numeric array \\(N, T, C\\)"),
        (dict(channel_names=["a", "b"]), "field 'channel_names': expected 3 strings"),
        (dict(channel_names=["a", "a", "b"]), "field 'channel_names' repeats \\['a'\\]"),
        (dict(person_ids=["p"] * 3), "field 'person_id': expected 24 strings"),
        (dict(labels=[""] * 24), "field 'label': window 0 has an empty string"),
        (dict(splits=["test"] * 24), "field 'split' expected some 'train' windows"),
        (dict(step_seconds=0), "field 'step_seconds' expected one positive number"),
        (dict(sensor=np.full((24, 50, 3), np.inf)), "infinite values"),
    ],
)
def test_bad_windows_name_the_field(change, message):
    with pytest.raises(DataError, match=message):
        _windows(**change)


def test_a_person_in_two_fixed_splits_is_refused(tmp_path):
    windows = _windows(splits=["train"] * 23 + ["test"])  # p7 is in train and test
    with pytest.raises(DataError, match="puts person 'p7' in both 'train' and 'test'"):
        build_window_dataset(windows, tmp_path / "ds", salt="s")
    assert not (tmp_path / "ds" / "train" / "manifest.json").exists()


def test_npz_errors_name_the_file_and_arrays(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, sensor=np.zeros((2, 5, 1)), channel_names=np.array(["a"]))
    with pytest.raises(DataError, match=r"bad.npz: expected arrays \['person_id'\]"):
        LabelledWindows.from_npz(path)
    np.savez(path, sensor=np.zeros((2, 5, 1)), channel_names=np.array(["a"]),
             person_id=np.array(["p", "q"]), labels=np.array(["x", "y"]))
    with pytest.raises(DataError, match=r"unknown arrays \['labels'\]"):
        LabelledWindows.from_npz(path)
    with pytest.raises(DataError, match="does not exist"):
        LabelledWindows.from_npz(tmp_path / "none.npz")


def test_structural_level_of_a_day_long_window_is_the_day_captions(tmp_path):
    """A window of 1440 one-minute steps is a day: its structural level is word for word the
    day captioner's for the same values and seed (times in minutes, 40-minute points)."""
    from sensorlm_keras.data import CaptionGenerator, SyntheticDayGenerator, preprocess_days
    from sensorlm_keras.data.captions.window_captioner import WindowCaptioner

    days = SyntheticDayGenerator().generate(num_people=2, days_per_person=2, seed=3)
    pre = preprocess_days(days.raw, schema=days.schema)
    seeds = list(range(len(pre.sensor)))
    day = CaptionGenerator(schema=days.schema).generate_batch(
        pre.sensor, masks=pre.mask, events_list=[[] for _ in seeds], seeds=seeds)
    window = WindowCaptioner(days.schema, step_seconds=60.0).generate_batch(
        pre.sensor, pre.mask, seeds=seeds)
    assert any("minute" in d["middle"] for d in day)
    assert [w["middle"] for w in window] == [d["middle"] for d in day]
    assert set(window[0]) == set(day[0])  # all eight variants


def test_structural_level_finds_a_planted_ramp_and_spike_in_window_time(tmp_path):
    """10 s at 10 Hz (100 steps): heart rate flat, then a ramp over steps 40-79, and a one-point
    spike in a second channel at step 50. The caption names an increase ending near second 8
    and a spike near second 5 (to within one point, 100/36 steps = 0.28 s, plus the 0.05 s of
    rounding to one decimal), in seconds."""
    import re

    from sensorlm_keras.data import Channel
    from sensorlm_keras.data.captions.window_captioner import WindowCaptioner, time_unit

    t = np.arange(100)
    hr = np.where(t < 40, 70.0, np.where(t < 80, 70.0 + (t - 40) * 1.5, 130.0))
    other = np.full(100, 1.0)
    other[49:52] = 30.0
    schema = ChannelSchema([ChannelSchema.default().channels[ChannelSchema.default().index("HR")],
                            Channel("acc_x", 0.0, 1.0, "custom")])
    z = schema.normalize(np.stack([hr, other], -1)[None])
    caption = WindowCaptioner(schema, step_seconds=0.1).generate_batch(z, seeds=[0])[0]
    middle = caption["middle"]
    assert "minute" not in middle and "day" not in middle
    heart = next(line for line in middle.splitlines() if line.startswith("Heart patterns:"))
    signals = next(line for line in middle.splitlines() if line.startswith("Signals patterns:"))
    numbers = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", heart)]
    assert any(k in heart.lower() for k in ("increas", "rise", "rose", "climb", "upward", "went up",
                                            "grew"))
    assert any(abs(v - 8.0) <= 0.34 for v in numbers), heart
    spike_at = [float(x) for sentence in signals.split(". ") if re.search(r"spik|peak", sentence)
                for x in re.findall(r"second (\d+(?:\.\d+)?)", sentence)]
    assert spike_at and all(abs(v - 5.0) <= 0.34 for v in spike_at), signals
    assert time_unit(100, 0.1) == ("second", 1.0)
    assert time_unit(1440, 60.0) == ("minute", 60.0)
    assert time_unit(3 * 1440, 60.0) == ("hour", 3600.0)


def test_windows_shorter_than_the_profile_carry_no_structural_level(tmp_path):
    windows = _windows(n=6, t=20, people=3, splits=["train"] * 6)
    manifests = build_window_dataset(windows, tmp_path / "short", salt="s")
    assert manifests["train"].caption_variants == ["low", "high_summary", "high_all", "high_low"]
    long = _windows(n=6, t=50, people=3, splits=["train"] * 6)
    manifests = build_window_dataset(long, tmp_path / "long", salt="s")
    assert "middle" in manifests["train"].caption_variants
    for ex in _stored(tmp_path / "long" / "train", "high_middle_low"):
        high, rest = ex["captions"]["high_middle_low"].split("\n", 1)
        assert high in {t.format(ex["activity_label"]) for t in WINDOW_PROMPT_TEMPLATES}
        assert "patterns:" in rest or any(p in rest for p in phrases.WINDOW_NO_STRUCTURE_PHRASES)
