"""A raw accelerometer stream -> the minute features ``enmo`` and ``vm_sd``
(`AccelerometerFeatures` through `read_minute_tables` and `sensorlm data build`).

References: the features computed with pandas on each minute's samples of the whole stream
(whatever the chunks and files the import cut it into), planted walking vs resting minutes, and
the units refused by the gravity check.
"""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorlm_keras import cli
from sensorlm_keras.data.importers import read_minute_tables
from sensorlm_keras.data.importers.accelerometer_features import (
    GRAVITY_M_S2,
    AccelerometerFeatures,
)
from sensorlm_keras.data.tfrecord import read_examples
from sensorlm_keras.errors import ConfigError, DataError

AXES = ["ax", "ay", "az"]
START = pd.Timestamp("2024-05-01 08:00")


def _stream(seed, minutes, people=("p1", "p2"), missing=0.0):
    """Samples at an irregular ~12 Hz: per minute a random walking amplitude (0 = rest) on a
    randomly tilted device, with sensor noise and some missing axis values."""
    rng = np.random.default_rng(seed)
    frames = []
    for person in people:
        gaps = rng.uniform(0.04, 0.12, int(minutes * 60 / 0.08) + 50)
        t = np.cumsum(gaps)
        t = t[t < minutes * 60]
        amplitude = rng.choice([0.0, 0.1, 0.5], size=minutes)[(t // 60).astype(int)]
        tilt = rng.uniform(0, np.pi / 2)
        swing = amplitude * np.sin(2 * np.pi * 1.8 * t)
        g = np.c_[np.sin(tilt) + swing, np.zeros_like(t), np.cos(tilt) + 0.5 * swing]
        g += rng.normal(0, 0.01, g.shape)
        g[rng.random(g.shape) < missing] = np.nan
        times = START + pd.to_timedelta(np.round(t * 1000), unit="ms")
        frames.append(pd.DataFrame({"timestamp": times.strftime("%Y-%m-%d %H:%M:%S.%f"),
                                    "person": person, **dict(zip(AXES, g.T))}))
    return pd.concat(frames, ignore_index=True)


def _expected(frame):
    """person -> DataFrame of (minute of the day, enmo, vm_sd) from pandas over whole minutes."""
    out = {}
    for person, rows in frame.groupby("person"):
        a = rows[AXES].to_numpy()
        ok = np.isfinite(a).all(1)
        vm = np.linalg.norm(a[ok], axis=1) * 1000.0
        minute = pd.to_datetime(rows["timestamp"][ok]).dt.floor("min")
        table = pd.DataFrame({"minute": (minute - START.floor("D")).dt.total_seconds() // 60,
                              "enmo": np.maximum(vm - 1000.0, 0), "vm": vm})
        grouped = table.groupby("minute")
        out[person] = pd.DataFrame({"enmo": grouped["enmo"].mean(),
                                    "vm_sd": grouped["vm"].std(ddof=0)})
    return out


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), unit=st.sampled_from(["g", "mg", "m/s2"]),
       chunk_rows=st.sampled_from([97, 1000, 100_000]), split_files=st.booleans())
def test_minute_features_equal_pandas_over_whole_minutes(tmp_path_factory, seed, unit,
                                                          chunk_rows, split_files):
    frame = _stream(seed, minutes=6, missing=0.02)
    factor = {"g": 1.0, "mg": 1000.0, "m/s2": GRAVITY_M_S2}[unit]
    stored = frame.assign(**{a: frame[a] * factor for a in AXES})
    folder = tmp_path_factory.mktemp("acc")
    if split_files:  # one file ends and the next begins in the middle of a minute
        cut = int(len(stored) * 0.37)
        stored.iloc[:cut].to_csv(folder / "a.csv", index=False)
        stored.iloc[cut:].to_csv(folder / "b.csv", index=False)
        path = folder
    else:
        path = folder / "a.csv"
        stored.to_csv(path, index=False)
    days, summary = read_minute_tables(path, samples=True, accelerometer=AXES,
                                       accelerometer_unit=unit, chunk_rows=chunk_rows)
    assert summary["channels"] == ["enmo", "vm_sd"]
    assert days.schema.names == ("enmo", "vm_sd")
    raw = np.asarray(days.raw)
    for person, expected in _expected(frame).items():
        (day,) = np.flatnonzero(days.person_ids == person)
        got = raw[day]
        minutes = expected.index.to_numpy(int)
        np.testing.assert_allclose(got[minutes], expected.to_numpy(), rtol=1e-4, atol=0.05)
        others = np.setdiff1d(np.arange(1440), minutes)
        assert np.isnan(got[others]).all()


def test_walking_minutes_stand_out_from_rest():
    features = AccelerometerFeatures(AXES)
    t = np.arange(3000) / 50.0
    rest = np.c_[np.zeros_like(t), np.full_like(t, 0.6), np.full_like(t, 0.8)]  # tilted, still
    walk = rest + 0.3 * np.sin(2 * np.pi * 2 * t)[:, None] * np.array([1.0, 0.0, 0.0])
    out = [features.minute_features(features.moments(a)[0].mean(0)) for a in (rest, walk)]
    np.testing.assert_allclose(out[0], [0.0, 0.0], atol=1e-3)  # gravity alone: nothing
    vm = np.linalg.norm(walk, axis=1) * 1000
    np.testing.assert_allclose(out[1], [np.maximum(vm - 1000, 0).mean(), vm.std()], rtol=1e-5)
    assert out[1][0] > 10 and out[1][1] > 10


def test_axes_kept_as_channels_only_when_named(tmp_path):
    frame = _stream(1, minutes=3, people=("p1",)).assign(HR=70.0)
    frame.to_csv(tmp_path / "s.csv", index=False)
    days, summary = read_minute_tables(tmp_path / "s.csv", samples=True, accelerometer=AXES)
    assert summary["channels"] == ["HR", "enmo", "vm_sd"]
    days, summary = read_minute_tables(tmp_path / "s.csv", samples=True, accelerometer=AXES,
                                       channels=["HR", "az"])
    assert summary["channels"] == ["HR", "az", "enmo", "vm_sd"]
    minutes = np.isfinite(days.raw[0][:, 0])
    assert minutes.sum() == 3 and np.all(days.raw[0][minutes, 0] == 70.0)


def test_wrong_units_and_bad_arguments_are_refused(tmp_path):
    frame = _stream(2, minutes=2, people=("p1",))
    frame.assign(**{a: frame[a] * GRAVITY_M_S2 for a in AXES}).to_csv(tmp_path / "ms2.csv",
                                                                      index=False)
    with pytest.raises(DataError, match=r"ms2\.csv, columns ax, ay, az: expected acceleration "
                       r"in g .* median magnitude of 9\.8\d* g.*--accelerometer-unit"):
        read_minute_tables(tmp_path / "ms2.csv", samples=True, accelerometer=AXES)
    with pytest.raises(DataError, match=r"median magnitude of 1\.00\d* mg"):
        frame.to_csv(tmp_path / "g.csv", index=False)
        read_minute_tables(tmp_path / "g.csv", samples=True, accelerometer=AXES,
                           accelerometer_unit="mg")
    with pytest.raises(ConfigError, match="expected samples=True"):
        read_minute_tables(tmp_path / "g.csv", accelerometer=AXES)
    with pytest.raises(ConfigError, match="three distinct axis column names"):
        read_minute_tables(tmp_path / "g.csv", samples=True, accelerometer=["ax", "ay"])
    with pytest.raises(ConfigError, match="accelerometer_unit: expected one of"):
        read_minute_tables(tmp_path / "g.csv", samples=True, accelerometer=AXES,
                           accelerometer_unit="G")
    with pytest.raises(DataError, match=r"\['acc_q'\] are not columns"):
        read_minute_tables(tmp_path / "g.csv", samples=True, accelerometer=["ax", "ay", "acc_q"])
    frame.assign(enmo=1.0).to_csv(tmp_path / "clash.csv", index=False)
    with pytest.raises(ConfigError, match=r"\['enmo'\] are the accelerometer's minute features"):
        read_minute_tables(tmp_path / "clash.csv", samples=True, accelerometer=AXES,
                           channels=["enmo"])


def test_cli_builds_a_dataset_of_the_features(tmp_path, capsys):
    # 4 people x 2 hours of a stream: every day has 120 minutes, so the missing threshold
    # (the fraction of minutes a day may miss) is set to keep them.
    frame = _stream(3, minutes=120, people=("p1", "p2", "p3", "p4"))
    frame.to_csv(tmp_path / "acc.csv", index=False)
    out = tmp_path / "ds"
    assert cli.main(["data", "build", "--input", str(tmp_path / "acc.csv"), "--format",
                     "samples", "--accelerometer", "ax,ay,az", "--out", str(out), "--salt", "s",
                     "--splits", "0.5,0.25,0.25", "--missing-threshold", "0.95",
                     "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "channels enmo, vm_sd" in printed and "normalised on the train split" in printed
    manifest = json.loads((out / "train" / "manifest.json").read_text())
    assert manifest["channel_names"] == ["enmo", "vm_sd"]
    assert {v["source"] for v in manifest["extra"]["normalization"].values()} == {"train split"}
    (example,) = list(read_examples(out / "test", variants=["low"]))
    assert "ENMO movement intensity" in example["captions"]["low"]
    assert "acceleration variability" in example["captions"]["low"].lower()
    assert cli.main(["data", "build", "--input", str(tmp_path / "acc.csv"), "--accelerometer",
                     "ax,ay,az", "--out", str(tmp_path / "x")]) == 2
    assert "--accelerometer: applies to --format samples" in capsys.readouterr().err
    assert cli.main(["data", "build", "--input", str(tmp_path / "acc.csv"), "--format",
                     "samples", "--accelerometer-unit", "mg", "--out", str(tmp_path / "x")]) == 2
    assert "--accelerometer-unit: applies with --accelerometer" in capsys.readouterr().err
