"""`read_minute_tables`, `read_event_log` and `sensorlm data build` on files the tests write.

The reference for every value is the planted table itself: a minute's value in the imported day
must be the value on that minute's row (NumPy indexing, not the importer's code), and every bad
input must be refused with the file, the line and the column named.
"""

import json
import os

import numpy as np
import pandas as pd
import pytest

from sensorlm_keras import cli
from sensorlm_keras.data.event import Event
from sensorlm_keras.data.importers import read_event_log, read_minute_tables
from sensorlm_keras.errors import ConfigError, DataError


def _person_frame(person, start, minutes, seed):
    rng = np.random.default_rng(seed)
    stamps = pd.date_range(start, periods=minutes, freq="min")
    return pd.DataFrame({
        "timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S"),
        "person": person,
        "HR": np.round(60 + 5 * rng.standard_normal(minutes), 1),
        "steps": np.where(stamps.hour == 7, 100.0, 0.0),
    })


@pytest.fixture
def two_people(tmp_path):
    """p01 from 2024-05-01 06:00 for 1.5 days; p02 from 2024-05-02 00:00 for 1 day, with a
    gap of blank HR values."""
    a = _person_frame("p01", "2024-05-01 06:00", 2160, 0)
    b = _person_frame("p02", "2024-05-02 00:00", 1440, 1)
    b.loc[100:159, "HR"] = np.nan
    path = tmp_path / "minutes.csv"
    pd.concat([a, b]).to_csv(path, index=False)
    return path, a, b


def _write_events(path, rows):
    pd.DataFrame(rows, columns=["person", "kind", "label", "start", "end"]).to_csv(path,
                                                                                   index=False)
    return path


def test_values_land_on_their_wall_clock_minute(two_people):
    path, a, b = two_people
    days, summary = read_minute_tables(path, chunk_rows=500)
    assert days.schema.names == ("HR", "steps")
    assert list(days.person_ids) == ["p01", "p01", "p02"]
    assert list(days.day_index) == [0, 1, 0]
    assert list(days.info["date"]) == ["2024-05-01", "2024-05-02", "2024-05-02"]
    # p01 starts at 06:00: minutes 0..359 of its first day are missing, then row k is minute
    # 360 + k of the concatenated days.
    p01 = days.raw[:2].reshape(-1, 2)
    assert np.isnan(p01[:360]).all()
    np.testing.assert_allclose(p01[360:360 + 2160, 0], a["HR"].to_numpy(), rtol=0, atol=1e-4)
    np.testing.assert_array_equal(p01[360:360 + 2160, 1], a["steps"].to_numpy())
    assert np.isnan(p01[360 + 2160:]).all()
    p02 = days.raw[2]
    assert np.isnan(p02[100:160, 0]).all() and np.isfinite(p02[:100, 0]).all()
    np.testing.assert_array_equal(p02[:, 1], b["steps"].to_numpy())
    assert summary["rows"] == 3600 and summary["people"] == 2 and summary["days"] == 3


def test_chunk_size_does_not_change_the_result(two_people):
    path, _, _ = two_people
    small, _ = read_minute_tables(path, chunk_rows=7)
    large, _ = read_minute_tables(path, chunk_rows=100_000)
    np.testing.assert_array_equal(small.raw, large.raw)
    assert list(small.person_ids) == list(large.person_ids)


def test_events_become_day_events_and_labels(two_people, tmp_path):
    path, _, _ = two_people
    events = _write_events(tmp_path / "events.csv", [
        ("p01", "sleep", "sleep", "2024-05-01 23:00", "2024-05-02 06:30"),
        ("p01", "activity", "run", "2024-05-02 07:00", "2024-05-02 07:40"),
        ("p01", "activity", "walk", "2024-05-02 12:00", "2024-05-02 12:20"),
        ("p02", "mood", "calm", "2024-05-02 12:00", ""),
        ("p99", "activity", "swim", "2024-05-02 12:00", "2024-05-02 12:30"),
    ])
    days, summary = read_minute_tables(path, events=events)
    assert days.events[0] == [Event("sleep", "sleep", 1380, 389)]
    assert days.events[1] == [Event("sleep", "sleep", 1380, 389),
                              Event("activity", "run", 420, 459),
                              Event("activity", "walk", 720, 739)]
    assert days.events[2] == [Event("mood", "calm", 720, 720)]
    # The label is the longest activity; a mood or a sleep is never the label.
    assert days.activity_labels == ("none", "run", "none")
    assert summary["events"] == 4 and summary["events_of_unknown_people"] == ["p99"]


def test_directory_of_files_one_per_person_csv_and_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    folder = tmp_path / "people"
    folder.mkdir()
    a = _person_frame("ignored", "2024-05-01 00:00", 1440, 0).drop(columns="person")
    b = _person_frame("ignored", "2024-05-01 00:00", 1440, 1).drop(columns="person")
    a.to_csv(folder / "alice.csv", index=False)
    b.to_parquet(folder / "bob.parquet", index=False)
    (folder / "notes.txt").write_text("not a table")
    days, summary = read_minute_tables(folder)
    assert list(days.person_ids) == ["alice", "bob"] and summary["files"] == 2
    np.testing.assert_allclose(days.raw[1, :, 0], b["HR"].to_numpy(), atol=1e-4)


def test_daylight_saving_days_follow_the_wall_clock(tmp_path):
    """US fall-back (2024-11-03, 1500 real minutes) and spring-forward (2024-03-10, 1380)."""
    fall = pd.date_range("2024-11-03 00:00", "2024-11-04 00:00", freq="min",
                         tz="America/New_York", inclusive="left")
    spring = pd.date_range("2024-03-10 00:00", "2024-03-11 00:00", freq="min",
                           tz="America/New_York", inclusive="left")
    assert (fall.size, spring.size) == (1500, 1380)
    rows = []
    for person, stamps in (("fall", fall), ("spring", spring)):
        hr = np.where(np.arange(stamps.size) < stamps.size // 2, 60.0, 80.0)
        hr[(stamps.hour == 1) & (stamps.strftime("%z") == "-0500")] = 100.0  # repeated hour
        rows.append(pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                  "person": person, "HR": hr}))
    path = tmp_path / "dst.csv"
    pd.concat(rows).to_csv(path, index=False)
    days, _ = read_minute_tables(path)
    assert list(days.person_ids) == ["fall", "spring"] and days.raw.shape[1] == 1440
    fall_day, spring_day = days.raw[0, :, 0], days.raw[1, :, 0]
    # 01:00-01:59 happened twice: its first reading (60, EDT) and its second (100, EST)
    # are averaged into the same wall-clock minutes.
    np.testing.assert_allclose(fall_day[60:120], 80.0)
    assert np.isfinite(fall_day).all()
    # 02:00-02:59 never happened on the spring day: missing.
    assert np.isnan(spring_day[120:180]).all() and np.isfinite(spring_day[:120]).all()
    assert np.isfinite(spring_day[180:]).all()


def _csv(tmp_path, text, name="bad.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


HEADER = "timestamp,person,HR,steps\n"


@pytest.mark.parametrize("body, expected", [
    ("2024-05-01 00:00,p1,60,0\nyesterday,p1,61,0\n",
     r"bad.csv line 3, column 'timestamp': expected a timestamp .* received 'yesterday'"),
    ("2024-05-01 00:01,p1,60,0\n2024-05-01 00:00,p1,61,0\n",
     r"bad.csv line 3, column 'timestamp': time goes backwards, 2024-05-01 00:00 after "
     r"2024-05-01 00:01 \(bad.csv line 2\)"),
    ("2024-05-01 00:00,p1,60,0\n2024-05-01 00:01,p2,60,0\n2024-05-01 00:00:30,p1,61,0\n",
     r"bad.csv line 4, column 'timestamp': duplicated minute 2024-05-01 00:00 \(also on "
     r"bad.csv line 2\)"),
    ("2024-05-01 00:00,p1,60,0\n2024-05-01 00:01,p1,sixty,0\n",
     r"bad.csv line 3, column 'HR': expected a number, received 'sixty'"),
    ("2024-05-01 00:00,,60,0\n",
     r"bad.csv line 2, column 'person': expected a person id"),
    ("2024-05-01 00:00+02:00,p1,60,0\n2024-05-01 00:01,p1,60,0\n",
     r"bad.csv line 3, column 'timestamp': expected every timestamp of the file with a UTC "
     r"offset"),
    ("2024-05-01 00:00,p1,60,0\n2030-05-01 00:00,p1,60,0\n",
     r"person 'p1': the timestamps span 2192 calendar days"),
    ("2024-05-01 00:00,p1,60,0\n2024-05-01 00:01,p1,60,0,7\n",
     r"bad.csv line 3: expected a CSV table, Expected 4 columns, got 5: "
     r"2024-05-01 00:01,p1,60,0,7"),
])
def test_bad_rows_name_the_file_line_and_column(tmp_path, body, expected):
    with pytest.raises(DataError, match=expected):
        read_minute_tables(_csv(tmp_path, HEADER + body), chunk_rows=1)


def test_units_that_cannot_be_right_are_refused_a_glitch_is_dropped(tmp_path):
    stamps = pd.date_range("2024-05-01", periods=300, freq="min").strftime("%Y-%m-%d %H:%M")
    frame = pd.DataFrame({"timestamp": stamps, "person": "p1", "HR": 4000.0, "steps": 0.0})
    frame.loc[:10, "HR"] = 60.0
    frame.to_csv(tmp_path / "mHz.csv", index=False)
    with pytest.raises(DataError, match=r"mHz.csv line 13, column 'HR': 289 of 300 values are "
                                        r"outside the plausible range \[25, 250\] \(first 4000\)"):
        read_minute_tables(tmp_path / "mHz.csv")
    frame["HR"] = 60.0
    frame.loc[5, "HR"] = 4000.0  # one glitch in 300 rows
    frame.to_csv(tmp_path / "glitch.csv", index=False)
    days, summary = read_minute_tables(tmp_path / "glitch.csv")
    assert summary["implausible_values"] == {"HR": 1}
    assert np.isnan(days.raw[0, 5, 0]) and days.raw[0, 6, 0] == 60.0


def test_duplicated_minute_across_files_of_one_person(tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + "2024-05-01 00:00,p1,60,0\n2024-05-01 00:01,p1,60,0\n")
    (folder / "b.csv").write_text(HEADER + "2024-05-01 00:01,p1,61,0\n")
    with pytest.raises(DataError, match=r"b.csv line 2: duplicated minute 2024-05-01 00:01 "
                                        r"\(also on a.csv line 3\)"):
        read_minute_tables(folder)


@pytest.mark.parametrize("header, kwargs, error, expected", [
    ("timestamp,HR\n", {}, DataError,
     r"one.csv: expected a person column 'person', received the columns \['timestamp', 'HR'\]"),
    ("time,person,HR\n", {}, DataError, r"one.csv: expected a timestamp column 'timestamp'"),
    ("timestamp,person,HR,mood_score\n", {}, DataError,
     r"one.csv: columns \['mood_score'\] are not channels of the 34-channel schema"),
    ("timestamp,person,HR,mood_score\n", {"channels": ["HR", "glucose"]}, DataError,
     r"channels: \['glucose'\] are not columns of any input file"),
])
def test_columns_are_named_in_errors(tmp_path, header, kwargs, error, expected):
    path = _csv(tmp_path, header + "2024-05-01 00:00,p1,60,1\n", name="one.csv")
    with pytest.raises(error, match=expected):
        read_minute_tables(path, **kwargs)


def test_channels_keeps_the_named_columns(tmp_path):
    path = _csv(tmp_path, "timestamp,person,HR,mood_score\n2024-05-01 00:00,p1,60,3\n")
    days, _ = read_minute_tables(path, channels=["HR"])
    assert days.schema.names == ("HR",) and days.raw[0, 0, 0] == 60.0


@pytest.mark.parametrize("row, expected", [
    ("p1,nap,sleep,2024-05-01 13:00,2024-05-01 14:00",
     r"events.csv line 2, column 'kind': expected one of \['activity', 'sleep', 'mood'\], "
     r"received 'nap'"),
    ("p1,activity,run,2024-05-01 08:00,2024-05-01 07:00",
     r"events.csv line 2, column 'end': expected a time after start"),
    ("p1,activity,run,2024-05-01 08:00,",
     r"events.csv line 2, column 'end': expected an end time for a activity event"),
    ("p1,activity,run,soon,2024-05-01 07:00",
     r"events.csv line 2, column 'start': expected a timestamp"),
    ("p1,sleep,sleep,2024-05-01 08:00,2024-05-03 08:00",
     r"events.csv line 2, column 'end': expected an event of at most 24 hours"),
])
def test_bad_event_rows_are_named(tmp_path, row, expected):
    path = _csv(tmp_path, "person,kind,label,start,end\n" + row + "\n", name="events.csv")
    with pytest.raises(DataError, match=expected):
        read_event_log(path)


def test_cli_build_writes_a_dataset_train_reads(two_people, tmp_path, capsys):
    path, _, _ = two_people
    events = _write_events(tmp_path / "events.csv", [
        ("p01", "activity", "run", "2024-05-02 07:00", "2024-05-02 07:40"),
        ("p77", "activity", "run", "2024-05-02 07:00", "2024-05-02 07:40")])
    out = tmp_path / "ds"
    argv = ["data", "build", "--input", str(path), "--events", str(events), "--out", str(out),
            "--salt", "s", "--splits", "0.5,0.5,0", "--no-progress"]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "Read 3600 rows of 2 people from 1 file(s): 3 days with data, channels HR, steps." \
        in printed
    assert "ignored the events of people without data: p77" in printed
    texts = {s: (out / s / "manifest.json").read_text() for s in ("train", "validation")}
    # Raw person ids are printed for the user, never stored (the shards hold pseudonyms).
    assert not any(p in text for text in texts.values() for p in ("p01", "p02", "p77"))
    manifests = {s: json.loads(text) for s, text in texts.items()}
    assert manifests["train"]["extra"]["import_summary"]["events_of_unknown_people"] == 1
    assert sorted(m["extra"]["num_people"] for m in manifests.values()) == [1, 1]
    assert all(m["channel_names"] == ["HR", "steps"] for m in manifests.values())
    assert sum(sum(s["num_examples"] for s in m["shards"]) for m in manifests.values()) == 3
    assert manifests["train"]["extra"]["importer"] == "minute-table"
    assert cli.main(["data", "caption", "--input", str(out / "train"), "--variant", "all"]) == 0


def test_cli_build_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    path = _csv(tmp_path, HEADER + "2024-05-01 00:00,p1,60,0\n2024-05-01 00:00,p1,61,0\n")
    out = tmp_path / "never"
    assert cli.main(["data", "build", "--input", str(path), "--out", str(out), "--salt", "s",
                     "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sensorlm: error: bad.csv line 3, column 'timestamp': duplicated")
    assert err.count("\n") == 1 and not os.path.exists(out)


def test_the_smoke_recipe_trains_on_a_built_dataset(two_people, tmp_path):
    """`sensorlm train --smoke --data DIR` builds the model for the dataset's channels: the
    recipe's (10, None) patches span its 2 channels."""
    from sensorlm_keras.runs import load_run

    path, _, _ = two_people
    out, run_dir = tmp_path / "ds", tmp_path / "run"
    assert cli.main(["data", "build", "--input", str(path), "--out", str(out), "--salt", "s",
                     "--splits", "1,0,0", "--no-progress"]) == 0
    assert cli.main(["train", "--smoke", "--data", str(out), "--run-dir", str(run_dir),
                     "--set", "steps=2", "--set", "batch_size=2", "--set",
                     "steps_per_checkpoint=2", "--set", "vocabulary_size=120", "--no-eval",
                     "--quiet"]) == 0
    run = load_run(run_dir)
    assert run.schema.names == ("HR", "steps")
    assert run.model.sensor_encoder.patch_size == (10, 2)


def test_samples_at_any_rate_become_minute_means_and_step_sums(tmp_path):
    """1 Hz heart rate and 5-second step counts: a minute is the mean of its heart-rate
    samples and the sum of its step counts (the reference: the same sums in NumPy)."""
    rng = np.random.default_rng(0)
    seconds = pd.date_range("2024-05-01 10:00", periods=3 * 60, freq="s")
    hr = np.round(rng.uniform(60, 120, seconds.size), 1)
    steps = np.where(np.arange(seconds.size) % 5 == 0, rng.integers(0, 10, seconds.size), np.nan)
    frame = pd.DataFrame({"timestamp": seconds.strftime("%Y-%m-%d %H:%M:%S"), "person": "p1",
                          "HR": hr, "steps": steps})
    frame.to_csv(tmp_path / "samples.csv", index=False)
    days, summary = read_minute_tables(tmp_path / "samples.csv", samples=True, chunk_rows=50)
    day = days.raw[0]
    for k in range(3):
        np.testing.assert_allclose(day[600 + k, 0], hr[60 * k:60 * (k + 1)].mean(), rtol=1e-5)
        assert day[600 + k, 1] == np.nansum(steps[60 * k:60 * (k + 1)])
    assert np.isnan(day[603:]).all() and summary["rows"] == 180
    # As a minute table the same file is refused: 60 rows share each minute.
    with pytest.raises(DataError, match=r"samples.csv line 3, column 'timestamp': duplicated "
                                        r"minute 2024-05-01 10:00 \(also on samples.csv line 2\)"):
        read_minute_tables(tmp_path / "samples.csv")
    # Samples must still be distinct and in order.
    frame.iloc[[0, 1, 2, 2]].to_csv(tmp_path / "twice.csv", index=False)
    with pytest.raises(DataError, match=r"twice.csv line 5, column 'timestamp': duplicated "
                                        r"timestamp 2024-05-01 10:00:02.000"):
        read_minute_tables(tmp_path / "twice.csv", samples=True)


def test_cli_build_format_samples(tmp_path, capsys):
    seconds = pd.date_range("2024-05-01 10:00", periods=600, freq="s")
    frame = pd.DataFrame({"timestamp": seconds.strftime("%Y-%m-%d %H:%M:%S"), "person": "p1",
                          "HR": 70.0, "steps": 1.0})
    frame.to_csv(tmp_path / "s.csv", index=False)
    out = tmp_path / "ds"
    assert cli.main(["data", "build", "--input", str(tmp_path / "s.csv"), "--format", "samples",
                     "--out", str(out), "--salt", "s", "--missing-threshold", "1",
                     "--no-progress"]) == 0
    assert "Read 600 rows of 1 person from 1 file(s): 1 day with data" in capsys.readouterr().out
    manifest = json.loads((out / "train" / "manifest.json").read_text())
    assert sum(s["num_examples"] for s in manifest["shards"]) == 1
    assert manifest["extra"]["importer"] == "samples"


def test_a_raw_accelerometer_stream_outside_the_schema(tmp_path, capsys):
    """A 10 Hz accelerometer stream (channels outside the schema, kept with --channels): a
    minute is the mean of its samples, and the dataset normalises the channel with the train
    people's constants only (NumPy over the train split's minutes), which the trained run keeps."""
    from sensorlm_keras.data import build_tfrecord_dataset, split_by_person
    from sensorlm_keras.runs import load_run

    rng = np.random.default_rng(0)
    stamps = pd.date_range("2024-05-01 06:00", periods=10 * 60 * 30, freq="100ms")  # 30 min
    fractions = {"train": 0.5, "validation": 0.25, "test": 0.25}
    people = [f"p{p}" for p in range(4)]
    held_out = [people[i] for i in split_by_person(people, fractions, method="rank")["test"]]
    frames = []
    for p in range(4):
        # A held-out person far off: must not move the train constants.
        offset = 100.0 * (f"p{p}" in held_out)
        frames.append(pd.DataFrame({
            "timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S.%f"), "person": f"p{p}",
            "acc_x": np.round(rng.normal(offset, 1.0, stamps.size), 3), "HR": 70.0}))
    pd.concat(frames).to_csv(tmp_path / "acc.csv", index=False)
    # Without --channels an unknown column is an error naming it.
    with pytest.raises(DataError, match=r"acc.csv: columns \['acc_x'\] are not channels"):
        read_minute_tables(tmp_path / "acc.csv", samples=True)
    days, _ = read_minute_tables(tmp_path / "acc.csv", samples=True, channels=["acc_x", "HR"])
    assert days.schema.names == ("HR", "acc_x")
    first = frames[0]["acc_x"].to_numpy()[:600].mean()  # p0's first minute: 600 samples
    np.testing.assert_allclose(days.raw[0, 360, 1], first, rtol=1e-5)
    manifests = build_tfrecord_dataset(days, tmp_path / "ds", salt="s", fractions=fractions,
                                       missing_threshold=1.0)
    train_rows = split_by_person(days.person_ids, fractions, method="rank")["train"]
    values = days.raw[train_rows, :, 1].astype(np.float64)
    values = values[np.isfinite(values)]
    norm = manifests["train"].extra["normalization"]
    assert norm["acc_x"]["source"] == "train split" and norm["HR"]["source"] == "schema"
    assert norm["acc_x"]["mean"] == pytest.approx(values.mean(), rel=1e-9)
    assert norm["acc_x"]["std"] == pytest.approx(values.std(), rel=1e-9)
    assert abs(norm["acc_x"]["mean"]) < 1.0  # the held-out offset of 100 stayed out
    run_dir = tmp_path / "run"
    assert cli.main(["train", "--smoke", "--data", str(tmp_path / "ds"), "--run-dir",
                     str(run_dir), "--set", "steps=2", "--set", "batch_size=2", "--set",
                     "steps_per_checkpoint=2", "--set", "vocabulary_size=100", "--no-eval",
                     "--quiet"]) == 0
    run = load_run(run_dir)
    assert run.schema.names == ("HR", "acc_x")
    assert run.schema.means[1] == pytest.approx(norm["acc_x"]["mean"])
