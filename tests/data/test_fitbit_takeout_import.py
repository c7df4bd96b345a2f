"""`read_fitbit_takeout` and `sensorlm data build --format fitbit` on exports the tests write.

The fixtures are Google Takeout folders (``Takeout/Fitbit/Global Export Data/`` with
``heart_rate-*.json``, ``steps-*.json``, ``sleep-*.json``, ``exercise-*.json`` and
``Your Profile/Profile.csv``) in Fitbit's formats. The rule under test: heart-rate, step and
exercise times are UTC (converted to the wearer's zone, DST included), sleep times are local.
The reference for every value is a NumPy computation on the planted samples.
"""

import json

import numpy as np
import pandas as pd
import pytest

from sensorlm_keras.data.event import Event
from sensorlm_keras.data.importers import read_fitbit_takeout
from sensorlm_keras.errors import ConfigError, DataError
from tests.data.test_apple_health_import import (
    assert_built,
    assert_cli_refuses,
    build_with_cli,
)


def _fitbit_time(utc):
    return pd.Timestamp(utc).strftime("%m/%d/%y %H:%M:%S")


def _takeout(tmp_path, files, zone="America/New_York"):
    """``Takeout/`` with ``files`` (name -> JSON value or raw text) in Global Export Data and,
    unless ``zone`` is None, a Profile.csv naming the time zone."""
    data = tmp_path / "Takeout" / "Fitbit" / "Global Export Data"
    data.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content, indent=1)
        (data / name).write_text(text)
    if zone is not None:
        profile = tmp_path / "Takeout" / "Fitbit" / "Your Profile"
        profile.mkdir(exist_ok=True)
        (profile / "Profile.csv").write_text(
            "id,full_name,date_of_birth,timezone,locale\nABC123,Ann,1990-01-01,"
            f"{zone},en_US\n")
    return tmp_path / "Takeout"


def _heart_rate(utc_times, bpm):
    return [{"dateTime": _fitbit_time(t), "value": {"bpm": int(b), "confidence": 2}}
            for t, b in zip(utc_times, bpm)]


def _steps(utc_times, counts):
    return [{"dateTime": _fitbit_time(t), "value": str(int(c))} for t, c in zip(utc_times, counts)]


def test_utc_samples_land_on_local_minutes(tmp_path):
    """5-second heart rate and per-minute steps written in UTC; the wearer is in New York
    (UTC-4 in July): a minute's HR is the mean of the samples of that local minute."""
    rng = np.random.default_rng(0)
    hr_times = pd.date_range("2024-07-01 03:00", "2024-07-01 06:00", freq="5s",
                             inclusive="left")  # 23:00 -> 02:00 local, across midnight
    bpm = rng.integers(50, 120, hr_times.size)
    step_times = pd.date_range("2024-07-01 03:30", periods=120, freq="min")
    counts = rng.integers(0, 130, step_times.size)
    root = _takeout(tmp_path, {
        "heart_rate-2024-06-30.json": _heart_rate(hr_times[:720], bpm[:720]),
        "heart_rate-2024-07-01.json": _heart_rate(hr_times[720:], bpm[720:]),
        "steps-2024-06-30.json": _steps(step_times, counts),
    })
    days, summary = read_fitbit_takeout(root)
    assert list(days.info["date"]) == ["2024-06-30", "2024-07-01"]
    assert days.schema.names == ("HR", "steps") and list(days.person_ids) == ["Takeout"] * 2
    # Reference: local = UTC - 4 h; minute of the concatenated local days from 06-30 00:00.
    local = np.concatenate([days.raw[0], days.raw[1]])
    minute = ((hr_times - pd.Timedelta(hours=4)) - pd.Timestamp("2024-06-30")) // pd.Timedelta(
        minutes=1)
    expected = pd.Series(bpm, dtype=float).groupby(np.asarray(minute)).mean()
    np.testing.assert_allclose(local[expected.index, 0], expected.to_numpy(), rtol=1e-6)
    assert np.isfinite(local[:, 0]).sum() == expected.size
    step_minute = ((step_times - pd.Timedelta(hours=4)) - pd.Timestamp("2024-06-30")) \
        // pd.Timedelta(minutes=1)
    np.testing.assert_array_equal(local[np.asarray(step_minute), 1], counts)
    assert np.nansum(local[:, 1]) == counts.sum()
    assert summary["time_zone"] == "America/New_York" and summary["rows"] == hr_times.size + 120
    assert summary["time_zone_source"] == "Profile.csv"


def test_daylight_saving_days(tmp_path):
    """New York, fall back on 2024-11-03: 05:30Z (01:30 EDT) and 06:30Z (01:30 EST) share the
    local minute 01:30 (mean for HR, sum for steps); spring forward on 2024-03-10: 06:59Z is
    01:59 EST and 07:00Z already 03:00 EDT, no 02:xx."""
    root = _takeout(tmp_path, {
        "heart_rate-2024-11-03.json": _heart_rate(["2024-11-03 05:30:10", "2024-11-03 06:30:20"],
                                                  [60, 80]),
        "steps-2024-11-03.json": _steps(["2024-11-03 05:30", "2024-11-03 06:30"], [30, 12]),
        "heart_rate-2024-03-10.json": _heart_rate(
            pd.date_range("2024-03-10 06:00", "2024-03-10 08:00", freq="min", inclusive="left"),
            np.full(120, 70)),
    })
    days, _ = read_fitbit_takeout(root)
    assert list(days.info["date"]) == ["2024-03-10", "2024-11-03"]
    spring, fall = days.raw[0, :, 0], days.raw[1]
    assert np.isfinite(spring[60:120]).all() and np.isnan(spring[120:180]).all()
    assert np.isfinite(spring[180:240]).all() and np.isnan(spring[240:]).all()
    assert fall[90, 0] == pytest.approx(70.0) and fall[90, 1] == 42


def test_sleep_is_local_and_exercise_is_utc(tmp_path):
    """A sleep log keeps its local clock; an exercise at 11:00Z is 07:00 in New York. Labels
    map to the captions' vocabulary; a log repeated in two files (same logId) is read once;
    a step minute in two overlapping files is read once."""
    hr = _heart_rate(pd.date_range("2024-07-01 04:00", periods=24 * 12, freq="5min"),
                     np.full(24 * 12, 60))
    sleep = [{"logId": 11, "dateOfSleep": "2024-07-01", "startTime": "2024-06-30T23:10:00.000",
              "endTime": "2024-07-01T06:30:30.000", "duration": 26430000, "mainSleep": True,
              "type": "stages", "levels": {"summary": {}, "data": [], "shortData": []}},
             {"logId": 12, "dateOfSleep": "2024-07-01", "startTime": "2024-07-01T14:00:00.000",
              "endTime": "2024-07-01T14:45:00.000", "duration": 2700000, "mainSleep": False}]
    exercise = [
        {"logId": 21, "activityName": "Run", "startTime": "07/01/24 11:00:00",
         "duration": 2_400_000, "lastModified": "07/01/24 11:45:00"},
        {"logId": 22, "activityName": "Weights", "startTime": "07/01/24 21:00:00",
         "duration": 1_800_000},
        {"logId": 23, "activityName": "Aerobic  Workout", "startTime": "07/02/24 01:00:00",
         "duration": 600_000},
    ]
    steps = _steps(["2024-07-01 12:00", "2024-07-01 12:01"], [40, 50])
    root = _takeout(tmp_path, {
        "heart_rate-2024-07-01.json": hr, "sleep-2024-06-01.json": sleep,
        "sleep-2024-07-01.json": sleep[:1], "exercise-0.json": exercise,
        "exercise-100.json": exercise[:1], "steps-2024-06-02.json": steps,
        "steps-2024-07-01.json": steps[1:],
    })
    days, summary = read_fitbit_takeout(root, person="ann")
    assert list(days.info["date"]) == ["2024-07-01"] and list(days.person_ids) == ["ann"]
    assert days.events[0] == [
        Event("sleep", "sleep", 1390, 390),  # 23:10 -> 06:30:30 local, as written
        Event("activity", "run", 420, 459),  # 11:00Z = 07:00 EDT, 40 minutes
        Event("sleep", "sleep", 840, 884),  # the nap
        Event("activity", "strength training", 1020, 1049),  # 21:00Z = 17:00
        Event("activity", "aerobic workout", 1260, 1269),  # 01:00Z next day = 21:00
    ]
    assert days.activity_labels == ("run",)
    assert days.raw[0, 480, 1] == 40 and days.raw[0, 481, 1] == 50
    assert summary["duplicate_timestamps"] == {"HR": 0, "steps": 1}
    assert (summary["sleep_logs"], summary["exercises"]) == (2, 3)


def test_input_folders_time_zone_argument_and_channels(tmp_path):
    root = _takeout(tmp_path, {"steps-2024-01-01.json": _steps(["2024-01-01 12:00"], [10])},
                    zone="Asia/Tokyo")
    data = root / "Fitbit" / "Global Export Data"
    days, summary = read_fitbit_takeout(data)  # Profile.csv found beside the folder
    assert days.raw[0, 21 * 60, 0] == 10 and summary["time_zone"] == "Asia/Tokyo"
    assert list(days.person_ids) == ["Global Export Data"]
    days, summary = read_fitbit_takeout(data, timezone="UTC", channels=["HR", "steps"])
    assert days.schema.names == ("HR", "steps") and days.raw[0, 12 * 60, 1] == 10
    assert summary["time_zone_source"] == "--timezone"
    with pytest.raises(ConfigError, match=r"timezone: expected an IANA time zone name such as "
                                          r"'Europe/Berlin', received 'Mars/Olympus'"):
        read_fitbit_takeout(data, timezone="Mars/Olympus")
    with pytest.raises(ConfigError, match=r"channels: expected channels a Fitbit export holds "
                                          r"\(HR, steps, spo2, rmssd0595, LF, HF\), received "
                                          r"\['wrist_temperatures'\]"):
        read_fitbit_takeout(data, channels=["wrist_temperatures"])
    with pytest.raises(DataError, match=r"expected heart_rate-\*.json, steps-\*.json, 'Minute "
                                        r"SpO2 - \*.csv' or 'Heart Rate Variability Details - "
                                        r"\*.csv' files of the channels \['spo2'\], found none"):
        read_fitbit_takeout(data, channels=["spo2"])


HR_OK = {"dateTime": "01/01/24 12:00:00", "value": {"bpm": 60, "confidence": 2}}


@pytest.mark.parametrize("files, expected", [
    ({"heart_rate-2024-01-01.json": '[{"dateTime": "01/01/24 12:00:00",\n "value": {"bpm": 6'},
     r"heart_rate-2024-01-01.json line 2, column \d+: expected JSON, "),
    ({"heart_rate-2024-01-01.json": {"dateTime": "01/01/24 12:00:00"}},
     r"heart_rate-2024-01-01.json: expected a JSON array of entries, received a dict"),
    ({"heart_rate-2024-01-01.json": [HR_OK, {"dateTime": "2024-01-01 12:00:05",
                                             "value": {"bpm": 61}}]},
     r"heart_rate-2024-01-01.json entry 1, field 'dateTime': expected a time such as "
     r"'01/31/20 23:59:00' \(MM/DD/YY HH:MM:SS, UTC\), received '2024-01-01 12:00:05'"),
    ({"heart_rate-2024-01-01.json": [HR_OK, {"dateTime": "01/01/24 12:00:05",
                                             "value": {"bpm": "fast"}}]},
     r"heart_rate-2024-01-01.json entry 1, field 'value.bpm': expected a number, received "
     r"'fast'"),
    ({"heart_rate-2024-01-01.json": [HR_OK, {"dateTime": "01/01/24 12:00:05", "value": {}}]},
     r"heart_rate-2024-01-01.json entry 1, field 'value.bpm': expected a number, received an "
     r"entry without it"),
    ({"steps-2024-01-01.json": [{"value": "3"}]},
     r"steps-2024-01-01.json entry 0, field 'dateTime': expected a time such as "),
    ({"steps-2024-01-01.json": [{"dateTime": "01/01/24 12:00:00", "value": "3"}],
      "sleep-2024-01-01.json": [{"logId": 1, "startTime": "2024-01-01T23:00:00.000",
                                 "endTime": "2024-01-01T22:00:00.000"}]},
     r"sleep-2024-01-01.json entry 0, field 'endTime': expected a time after startTime "
     r"'2024-01-01T23:00:00.000', received '2024-01-01T22:00:00.000'"),
    ({"steps-2024-01-01.json": [{"dateTime": "01/01/24 12:00:00", "value": "3"}],
      "exercise-0.json": [{"logId": 1, "activityName": "Run", "startTime": "01/01/24 12:00:00"}]},
     r"exercise-0.json entry 0, field 'duration': expected a value, received an entry without "
     r"it"),
    ({"sleep-2024-01-01.json": []},
     r"expected heart_rate-\*.json, steps-\*.json, 'Minute SpO2 - \*.csv' or 'Heart Rate "
     r"Variability Details - \*.csv' files of the channels \['HF', 'HR', 'LF', 'rmssd0595', "
     r"'spo2', 'steps'\], found none"),
])
def test_bad_files_name_the_file_entry_and_field(tmp_path, files, expected):
    with pytest.raises(DataError, match=expected):
        read_fitbit_takeout(_takeout(tmp_path, files))


def test_missing_time_zone_or_export_is_refused(tmp_path):
    root = _takeout(tmp_path, {"steps-2024-01-01.json": []}, zone=None)
    with pytest.raises(DataError, match=r"time zone: the heart-rate, step and exercise times "
                                        r"of a Fitbit export are UTC; .* pass --timezone NAME"):
        read_fitbit_takeout(root)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"expected a Fitbit export with heart_rate-\*.json, "
                                        r"steps-\*.json, sleep-\*.json or exercise-\*.json "
                                        r"files .* 'Minute SpO2 - \*.csv' .*found none"):
        read_fitbit_takeout(tmp_path / "empty", timezone="UTC")
    with pytest.raises(DataError, match=r"expected the Takeout folder .* received a path that "
                                        r"does not exist"):
        read_fitbit_takeout(tmp_path / "missing", timezone="UTC")


def _csv(tmp_path, folder, name, text):
    path = tmp_path / "Takeout" / "Fitbit" / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_spo2_and_hrv_csv_files(tmp_path):
    """``Minute SpO2`` (UTC times with 'Z', naive, or an offset) -> spo2; ``Heart Rate
    Variability Details`` (5-minute rows during sleep) -> rmssd0595, LF, HF; blank = missing;
    a time repeated in a second file read once. Wearer in Berlin (UTC+2 in June)."""
    root = _takeout(tmp_path, {"steps-2024-06-01.json": _steps(["2024-06-01 10:00"], [5])},
                    zone="Europe/Berlin")
    _csv(tmp_path, "Oxygen Saturation (SpO2)", "Minute SpO2 - 2024-06-01.csv",
         "timestamp,value\n2024-06-01T01:00:00Z,95.5\n2024-06-01T01:01:00,96\n"
         "2024-06-01T04:02:00+02:00,94.0\n")
    _csv(tmp_path, "Oxygen Saturation (SpO2)", "Minute SpO2 - 2024-06-02.csv",
         "timestamp,value\n2024-06-01T01:00:00Z,80\n")  # repeated time: the first file's
    _csv(tmp_path, "Heart Rate Variability", "Heart Rate Variability Details - 2024-06-01.csv",
         "timestamp,rmssd,coverage,low_frequency,high_frequency\n"
         "2024-06-01T00:00:00,41.5,0.95,1200.5,640.25\n"
         "2024-06-01T00:05:00,,0.2,,\n"
         "2024-06-01T00:10:00,38,0.97,980,700\n")
    days, summary = read_fitbit_takeout(root)
    assert days.schema.names == ("steps", "rmssd0595", "LF", "HF", "spo2")
    day = days.raw[0]
    col = {n: days.schema.index(n) for n in days.schema.names}
    assert day[3 * 60, col["spo2"]] == 95.5 and day[3 * 60 + 1, col["spo2"]] == 96.0
    assert day[4 * 60 + 2, col["spo2"]] == 94.0  # its own offset: 02:02Z = 04:02 local
    assert np.isfinite(day[:, col["spo2"]]).sum() == 3
    np.testing.assert_allclose(day[[120, 130], col["rmssd0595"]], [41.5, 38.0])
    np.testing.assert_allclose(day[[120, 130], col["LF"]], [1200.5, 980.0])
    np.testing.assert_allclose(day[[120, 130], col["HF"]], [640.25, 700.0])
    assert np.isnan(day[125, col["rmssd0595"]]) and np.isfinite(day[:, col["HF"]]).sum() == 2
    assert summary["duplicate_timestamps"]["spo2"] == 1
    _csv(tmp_path, "Oxygen Saturation (SpO2)", "Minute SpO2 - 2024-06-03.csv",
         "timestamp,value\n2024-06-03T01:00:00Z,0.95\n")
    with pytest.raises(DataError, match=r"Minute SpO2 - 2024-06-03.csv line 2: 1 of 4 spo2 "
                                        r"values are outside its plausible range \[50, 100\]"):
        read_fitbit_takeout(root)


@pytest.mark.parametrize("text, expected", [
    ("timestamp,value\n2024-06-01T01:00:00Z,95\nsoon,96\n",
     r"Minute SpO2 - 2024-06-01.csv line 3, column 'timestamp': expected a time such as "
     r"'2024-02-22T03:15:00' \(ISO 8601, UTC unless it carries an offset\), received 'soon'"),
    ("timestamp,value\n2024-06-01T01:00:00Z,high\n",
     r"Minute SpO2 - 2024-06-01.csv line 2, column 'value': expected a number, received 'high'"),
    ("time,value\n2024-06-01T01:00:00Z,95\n",
     r"Minute SpO2 - 2024-06-01.csv: expected the columns \['timestamp', 'value'\], received "
     r"\['time', 'value'\] \(missing \['timestamp'\]\)"),
])
def test_bad_csv_files_name_the_file_line_and_column(tmp_path, text, expected):
    root = _takeout(tmp_path, {}, zone="UTC")
    _csv(tmp_path, "Oxygen Saturation (SpO2)", "Minute SpO2 - 2024-06-01.csv", text)
    with pytest.raises(DataError, match=expected):
        read_fitbit_takeout(root)


def test_cli_build_fitbit(tmp_path, capsys):
    times = pd.date_range("2024-05-01 04:00", periods=2 * 24 * 60, freq="min")
    root = _takeout(tmp_path, {
        "heart_rate-2024-05-01.json": _heart_rate(times, 60 + np.arange(times.size) % 30),
        "steps-2024-05-01.json": _steps(times, np.arange(times.size) % 7),
        "exercise-0.json": [{"logId": 1, "activityName": "Walk", "startTime": "05/01/24 16:00:00",
                             "duration": 1_800_000}],
    }, zone=None)
    out, zone = tmp_path / "ds", ("--timezone", "Europe/Berlin")
    code, printed, _ = build_with_cli(capsys, "fitbit", root, out, *zone, "--person", "ann",
                                      "--splits", "1,0,0")
    assert code == 0
    assert "Read 5760 rows of 1 person from 3 file(s): 3 days with data, channels HR, steps" \
        in printed
    assert "converted to Europe/Berlin (from --timezone)" in printed
    assert_built(out, "fitbit", ["HR", "steps"], 3)
    (root / "Fitbit" / "Global Export Data" / "steps-2024-05-01.json").write_text("[{]")
    assert_cli_refuses(capsys, "fitbit", root, "steps-2024-05-01.json line 1, column 3: "
                       "expected JSON, Expecting property name enclosed in double quotes.",
                       tmp_path / "never", *zone)
