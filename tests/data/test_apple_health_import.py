"""`read_apple_health` and `sensorlm data build --format apple-health` on exports the tests write.

The fixtures are ``export.xml`` files in the Health app's format (its DTD prologue with the
iOS 16 defect, ``<Record>`` and ``<Workout>`` elements, unsorted, from a Watch and an iPhone).
Every value is checked against an independent NumPy computation from the planted records
(e.g. steps integrated second by second), and every bad input must be refused with the file,
the line and the attribute named.
"""

import json
import os
import zipfile
from xml.sax.saxutils import quoteattr

import numpy as np
import pytest

from sensorlm_keras import cli
from sensorlm_keras.data.dataset_manifest import DatasetManifest
from sensorlm_keras.data.event import Event
from sensorlm_keras.data.importers import read_apple_health
from sensorlm_keras.errors import ConfigError, DataError

WATCH, PHONE = "Ann\u2019s Apple Watch", "Ann\u2019s iPhone"
HR = "HKQuantityTypeIdentifierHeartRate"
STEPS = "HKQuantityTypeIdentifierStepCount"
SPO2 = "HKQuantityTypeIdentifierOxygenSaturation"
SDNN = "HKQuantityTypeIdentifierHeartRateVariabilitySDNN"
SLEEP = "HKCategoryTypeIdentifierSleepAnalysis"
UNITS = {HR: "count/min", STEPS: "count", SPO2: "%", SDNN: "ms"}
# The prologue of a real export, with iOS 16's defect (an ATTLIST without its closing '>').
PROLOGUE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 12 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ATTLIST VisionPrescription
  type             CDATA #REQUIRED
  dateIssued       CDATA #REQUIRED
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
]>
<HealthData locale="en_US">
 <ExportDate value="2021-12-31 10:00:00 -0700"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth=""
     HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>
"""
PROLOGUE_LINES = PROLOGUE.count("\n")


def _stamp(seconds, offset="-0700"):
    """Apple's date text of ``seconds`` of local wall-clock time after 2021-12-11 00:00."""
    t = np.datetime64("2021-12-11T00:00:00") + np.timedelta64(int(seconds), "s")
    return str(t).replace("T", " ") + " " + offset


def _record(kind, value, start, end=None, source=WATCH, unit=None, offset="-0700", **extra):
    attrs = {"type": kind, "sourceName": source, "sourceVersion": "8.1",
             "unit": UNITS.get(kind) if unit is None else unit,
             "startDate": _stamp(start, offset),
             "endDate": _stamp(start if end is None else end, offset), "value": value}
    attrs.update(extra)
    text = " ".join(f"{k}={quoteattr(str(v))}" for k, v in attrs.items() if v is not None)
    return f' <Record {text}/>\n'


def _workout(kind, start, end, source=WATCH):
    return (f' <Workout workoutActivityType="HKWorkoutActivityType{kind}" duration="1" '
            f'durationUnit="min" sourceName={quoteattr(source)} startDate="{_stamp(start)}" '
            f'endDate="{_stamp(end)}">\n  <WorkoutStatistics type="{HR}" average="120"/>\n'
            f' </Workout>\n')


def _export(tmp_path, lines, name="export.xml"):
    path = tmp_path / name
    path.write_text(PROLOGUE + "".join(lines) + "</HealthData>\n", encoding="utf-8")
    return path


def _minute(seconds):
    return int(seconds) // 60


def test_values_against_numpy_in_any_record_order(tmp_path):
    """1 Hz heart rate -> minute means; step intervals -> counts spread by overlap (the
    reference integrates each interval second by second); SpO2 fraction x100; SDNN in ms."""
    rng = np.random.default_rng(0)
    t0 = 18 * 3600  # 18:00:00
    hr = np.round(rng.uniform(55, 140, 180), 1)
    lines = [_record(HR, hr[k], t0 + k) for k in range(180)]
    # Step intervals on whole seconds, of any length (one starts and ends mid-minute).
    intervals = [(t0 + 10, t0 + 130, 120), (t0 + 200, t0 + 200, 7), (t0 + 300, t0 + 545, 301),
                 (t0 + 600, t0 + 660, 60)]
    lines += [_record(STEPS, c, s, e) for s, e, c in intervals]
    lines += [_record(SPO2, "0.97", t0 + 30), _record(SPO2, "0.95", t0 + 40),
              _record(SDNN, "45.25", t0 + 90)]
    order = rng.permutation(len(lines))
    days, summary = read_apple_health(_export(tmp_path, [lines[i] for i in order]))
    assert days.schema.names == ("HR", "steps", "sdnn0595", "spo2")
    assert list(days.info["date"]) == ["2021-12-11"] and list(days.person_ids) == ["export"]
    day = days.raw[0]
    m0 = t0 // 60
    np.testing.assert_allclose(day[m0:m0 + 3, 0], hr.reshape(3, 60).mean(axis=1), rtol=1e-6)
    assert np.isnan(day[:m0, 0]).all() and np.isnan(day[m0 + 3:, 0]).all()
    # Reference: each interval's count spread uniformly over its seconds, summed per minute.
    per_second = np.zeros(86400)
    for s, e, c in intervals:
        if e == s:
            per_second[s] += c
        else:
            per_second[s:e] += c / (e - s)
    per_minute = per_second.reshape(1440, 60).sum(axis=1)
    counted = np.nan_to_num(day[:, 1])
    np.testing.assert_allclose(counted, per_minute, rtol=1e-5, atol=1e-4)
    assert counted.sum() == pytest.approx(sum(c for _, _, c in intervals), rel=1e-6)
    assert np.isnan(day[per_minute == 0, 1]).all()  # minutes without a record stay missing
    np.testing.assert_allclose(day[m0, 3], 96.0, rtol=1e-6)  # mean of 97 and 95
    np.testing.assert_allclose(day[m0 + 1, 2], 45.25, rtol=1e-6)
    assert summary["rows"] == len(lines) and summary["records"]["HeartRate"] == 180


def test_correlation_elements_are_skipped_with_their_records(tmp_path):
    """A blood-pressure ``<Correlation>`` wraps its own ``<Record>`` elements (no schema
    channel); even a heart-rate record inside one is not read (nothing is counted twice)."""
    inner = (_record("HKQuantityTypeIdentifierBloodPressureSystolic", 120, 3600, unit="mmHg")
             + _record(HR, 99, 3600))
    correlation = (f' <Correlation type="HKCorrelationTypeIdentifierBloodPressure" '
                   f'sourceName="Cuff" startDate="{_stamp(3600)}" endDate="{_stamp(3600)}">\n'
                   f'{inner} </Correlation>\n')
    days, summary = read_apple_health(_export(tmp_path, [_record(HR, 61, 3600), correlation]))
    assert summary["records"] == {"HeartRate": 1}
    assert days.raw[0, 60, 0] == 61 and np.isfinite(days.raw[0, :, 0]).sum() == 1


def test_chunk_size_does_not_change_the_result(tmp_path):
    lines = [_record(HR, 60 + k % 7, 3600 + 13 * k) for k in range(50)]
    lines += [_record(STEPS, 10 + k, 3600 + 100 * k, 3700 + 100 * k, source=[WATCH, PHONE][k % 2])
              for k in range(20)]
    path = _export(tmp_path, lines)
    small, _ = read_apple_health(path, chunk_records=3)
    large, _ = read_apple_health(path)
    np.testing.assert_array_equal(small.raw, large.raw)


def test_duplicate_sources_one_source_per_minute(tmp_path):
    """Steps: per minute the source with the most steps; heart rate: the one with the most
    samples; ties: the source with more samples of the channel, then by name."""
    t0 = 9 * 3600
    lines = [
        # 09:00-09:02: the Watch counts 100, 100; the phone 90, 120 -> 100 (Watch), 120 (phone).
        _record(STEPS, 200, t0, t0 + 120), _record(STEPS, 210, t0, t0 + 120, source=PHONE),
        # 09:05: only the phone.
        _record(STEPS, 33, t0 + 300, t0 + 360, source=PHONE),
        # 09:10: a tie (50 each; either source gives 50).
        _record(STEPS, 50, t0 + 600, t0 + 660), _record(STEPS, 50, t0 + 600, t0 + 660,
                                                        source=PHONE),
        _record(STEPS, 1, t0 + 3600, t0 + 3660, source=PHONE),
    ]
    lines[1:2] = [_record(STEPS, 90, t0, t0 + 60, source=PHONE),
                  _record(STEPS, 120, t0 + 60, t0 + 120, source=PHONE)]
    # Heart rate at 09:20: the Watch 3 samples (60, 62, 64), a strap app 1 (100) -> mean 62.
    lines += [_record(HR, v, t0 + 1200 + 10 * k) for k, v in enumerate((60, 62, 64))]
    lines += [_record(HR, 100, t0 + 1205, source="Polar Beat")]
    # 09:21: one sample each (tie): the Watch has more HR samples over the export -> 70.
    lines += [_record(HR, 70, t0 + 1260), _record(HR, 90, t0 + 1261, source="Polar Beat")]
    days, summary = read_apple_health(_export(tmp_path, lines))
    day, m0 = days.raw[0], t0 // 60
    np.testing.assert_allclose(day[[m0, m0 + 1, m0 + 5, m0 + 10, m0 + 60], 1],
                               [100, 120, 33, 50, 1])
    np.testing.assert_allclose(day[[m0 + 20, m0 + 21], 0], [62, 70])
    assert summary["minutes_with_several_sources"] == {"HR": 2, "steps": 3}
    assert summary["sources"] == {"HR": 2, "steps": 2}
    assert any("most steps" in n for n in summary["notes"])


def test_sleep_stages_and_workouts_become_events(tmp_path):
    night = 22 * 3600 + 1800  # 22:30
    value = "HKCategoryValueSleepAnalysis"
    stages = [("AsleepCore", 0, 90), ("AsleepDeep", 90, 150), ("Awake", 150, 170),
              ("AsleepREM", 170, 230), ("AsleepCore", 230, 480)]
    lines = [_record(SLEEP, value + v, night + 60 * a, night + 60 * b, unit=None)
             for v, a, b in stages]
    lines += [_record(SLEEP, value + "InBed", night - 1800, night + 9 * 3600, unit=None,
                      source=PHONE),
              # A 5-minute doze in the afternoon (dropped: under 10 minutes) and an older
              # 'Asleep' nap of 40 minutes, 13:00-13:40.
              _record(SLEEP, value + "AsleepUnspecified", 15 * 3600, 15 * 3600 + 300, unit=None),
              _record(SLEEP, value + "Asleep", 13 * 3600, 13 * 3600 + 2400, unit=None)]
    lines += [_workout("Running", 7 * 3600, 7 * 3600 + 2400),
              _workout("Running", 7 * 3600 + 60, 7 * 3600 + 2340, source="Strava"),  # same run
              _workout("Walking", 12 * 3600, 12 * 3600 + 1500),
              _workout("StairClimbing", 17 * 3600, 17 * 3600 + 600)]
    lines += [_record(HR, 60, s) for s in range(0, 86400 * 2, 3600)]
    days, summary = read_apple_health(_export(tmp_path, lines))
    assert list(days.info["date"]) == ["2021-12-11", "2021-12-12"]
    # The night 22:30 -> 06:30 (the 20-minute awake bout inside it merged), InBed ignored.
    sleep = Event("sleep", "sleep", 1350, 389)
    assert days.events[0] == [Event("activity", "run", 420, 459),
                              Event("activity", "walk", 720, 744),
                              Event("sleep", "sleep", 780, 819),
                              Event("activity", "stair climbing", 1020, 1029), sleep]
    assert days.events[1] == [sleep]
    assert days.activity_labels == ("run", "none")
    assert (summary["sleep_periods"], summary["workouts"], summary["duplicate_workouts"]) == \
        (2, 3, 1)


def test_days_follow_each_records_clock_and_dst(tmp_path):
    """A record sits at its own clock reading: a flight from UTC-7 to UTC-4 keeps each
    reading's wall-clock minute; on the US fall-back day (2021-11-07) 01:30 happened twice
    (-0400, then -0500): the readings share the minute (mean for HR, sum for steps)."""
    def at(day, clock, offset):
        return f"2021-11-{day:02d} {clock} {offset}"

    def record(kind, value, start, end, source=WATCH):
        return (f' <Record type="{kind}" sourceName="{source}" unit="{UNITS[kind]}" '
                f'startDate="{start}" endDate="{end}" value="{value}"/>\n')

    lines = [
        record(HR, 60, at(7, "01:30:10", "-0400"), at(7, "01:30:10", "-0400")),
        record(HR, 80, at(7, "01:30:20", "-0500"), at(7, "01:30:20", "-0500")),
        record(STEPS, 30, at(7, "01:30:00", "-0400"), at(7, "01:31:00", "-0400")),
        record(STEPS, 12, at(7, "01:30:00", "-0500"), at(7, "01:31:00", "-0500")),
        # Travel: 08:00 at UTC-7 and 08:00 at UTC-4 three days later stay at 08:00.
        record(HR, 70, at(9, "08:00:00", "-0700"), at(9, "08:00:00", "-0700")),
        record(HR, 90, at(12, "08:00:00", "-0400"), at(12, "08:00:00", "-0400")),
    ]
    days, _ = read_apple_health(_export(tmp_path, lines))
    assert list(days.info["date"]) == ["2021-11-07", "2021-11-09", "2021-11-12"]
    assert days.raw[0, 90, 0] == pytest.approx(70.0) and days.raw[0, 90, 1] == pytest.approx(42)
    assert days.raw[1, 480, 0] == 70.0 and days.raw[2, 480, 0] == 90.0


def test_zip_folder_person_channels_and_control_characters(tmp_path):
    lines = [_record(HR, 61, 3600, source="Ann\x0bs Watch"), _record(STEPS, 5, 3600, 3660)]
    xml = _export(tmp_path, lines)
    folder = tmp_path / "apple_health_export"
    folder.mkdir()
    (folder / "export.xml").write_bytes(xml.read_bytes())
    with zipfile.ZipFile(tmp_path / "export.zip", "w") as archive:
        archive.write(xml, "apple_health_export/export.xml")
        archive.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
    from_zip, _ = read_apple_health(tmp_path / "export.zip", person="ann")
    from_folder, summary = read_apple_health(tmp_path, channels=["steps"])
    assert list(from_zip.person_ids) == ["ann"] and from_zip.raw[0, 60, 0] == 61.0
    assert from_folder.schema.names == ("steps",) and list(from_folder.person_ids) == [
        tmp_path.name]
    assert summary["rows"] == 1  # heart-rate records are not read when not asked for
    with pytest.raises(ConfigError, match=r"channels: expected channels an Apple Health "
                                          r"export holds .*received \['eda_level_real'\]"):
        read_apple_health(xml, channels=["eda_level_real"])


def test_implausible_values_dropped_and_wrong_units_refused(tmp_path):
    lines = [_record(HR, 60 + k % 5, 60 * k) for k in range(200)] + [_record(HR, 900, 12_000)]
    days, summary = read_apple_health(_export(tmp_path, lines))
    assert summary["implausible_values"] == {"HR": 1} and np.isnan(days.raw[0, 200, 0])
    line = PROLOGUE_LINES + 1
    # SpO2 written as percent by an app (97 instead of 0.97) -> 9700 %: the units are wrong.
    bad = [_record(SPO2, 97, 60), _record(SPO2, 96, 120)]
    with pytest.raises(DataError, match=rf"export.xml line {line}, attribute 'value': 2 of 2 "
                                        r"spo2 values are outside its plausible range \[50, 100\]"
                                        r" \(first 9700\); the units cannot be right"):
        read_apple_health(_export(tmp_path, bad))


LINE = PROLOGUE_LINES + 2  # the second record


@pytest.mark.parametrize("second, expected", [
    (_record(HR, 62, 60, startDate="yesterday"),
     rf"export.xml line {LINE} \(HeartRate record\), attribute 'startDate': expected a date "
     r"such as '2021-12-11 18:04:47 -0700', received 'yesterday'"),
    (_record(HR, 62, 60, startDate="2021-13-11 00:01:00 -0700"),
     rf"export.xml line {LINE} \(HeartRate record\), attribute 'startDate': expected a date "
     r"such as '2021-12-11 18:04:47 -0700', received '2021-13-11 00:01:00 -0700' \(no such "
     r"time\)"),
    (_record(HR, "sixty", 60),
     rf"export.xml line {LINE} \(HeartRate record\), attribute 'value': expected a number, "
     r"received 'sixty'"),
    (_record(HR, 1.1, 60, unit="count/s"),
     rf"export.xml line {LINE} \(HeartRate record\), attribute 'unit': expected 'count/min' "
     r"for HR, received 'count/s'"),
    (_record(STEPS, 10, 60, 120, endDate=None),
     rf"export.xml line {LINE}, <Record> StepCount: expected the attribute 'endDate', "
     r"received a record without it"),
    (_record(STEPS, 10, 120, 60),
     rf"export.xml line {LINE} \(StepCount record\), attribute 'endDate': expected a date at "
     r"or after startDate '2021-12-11 00:02:00 -0700', received '2021-12-11 00:01:00 -0700'"),
    (_record(SLEEP, "HKCategoryValueSleepAnalysisDozing", 60, 120, unit=None),
     rf"export.xml line {LINE} \(SleepAnalysis record\), attribute 'value': expected "
     r"HKCategoryValueSleepAnalysisInBed, .* received 'HKCategoryValueSleepAnalysisDozing'"),
    (' <Workout workoutActivityType="Running" startDate="2021-12-11 07:00:00 -0700" '
     'endDate="2021-12-11 07:30:00 -0700"/>\n',
     rf"export.xml line {LINE} \(Workout\), attribute 'workoutActivityType': expected an "
     r"HKWorkoutActivityType... name, received 'Running'"),
    (' <Record type="HKQuantityTypeIdentifierHeartRate" value="1"\n',
     rf"export.xml line {LINE + 1}, column 1: expected well-formed XML, not well-formed"),
])
def test_bad_records_name_the_file_line_and_attribute(tmp_path, second, expected):
    path = _export(tmp_path, [_record(HR, 61, 0), second])
    with pytest.raises(DataError, match=expected):
        read_apple_health(path)


def test_empty_or_foreign_exports_are_refused(tmp_path):
    with pytest.raises(DataError, match=r"export.xml: expected HeartRate, StepCount, "
                                        r"OxygenSaturation, HeartRateVariabilitySDNN records, "
                                        r"found none \(1 record\(s\) of other types"):
        read_apple_health(_export(tmp_path, [_record("HKQuantityTypeIdentifierBodyMass", 60, 0,
                                                     unit="kg")]))
    (tmp_path / "other.xml").write_text('<?xml version="1.0"?>\n<svg>\n</svg>\n')
    with pytest.raises(DataError, match=r"other.xml line 2: expected an Apple Health export "
                                        r"\(root element <HealthData>\), received <svg>"):
        read_apple_health(tmp_path / "other.xml")
    (tmp_path / "empty.xml").write_text("")
    with pytest.raises(DataError, match=r"empty.xml line 1, column 1: expected well-formed "
                                        r"XML, no element found"):
        read_apple_health(tmp_path / "empty.xml")
    (tmp_path / "nothing").mkdir()
    with pytest.raises(DataError, match=r"found no export.xml in the directory"):
        read_apple_health(tmp_path / "nothing")


def build_with_cli(capsys, fmt, source, out, *extra):
    """``(exit code, stdout, stderr)`` of ``sensorlm data build --format fmt`` (also used by the
    Fitbit tests)."""
    code = cli.main(["data", "build", "--input", str(source), "--format", fmt, "--out",
                     str(out), "--salt", "s", *extra, "--no-progress"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_cli_refuses(capsys, fmt, source, message, out, *extra):
    """Bad input: exit code 2, the one-line ``message`` on stderr and nothing written."""
    code, _, err = build_with_cli(capsys, fmt, source, out, *extra)
    assert code == 2 and err.startswith(f"sensorlm: error: {message}")
    assert err.count("\n") == 1 and not os.path.exists(out)


def assert_built(out, importer, channels, num_examples):
    """The ``train`` split of a built dataset: `DatasetManifest.load` reads it."""
    manifest = DatasetManifest.load(out / "train")
    assert list(manifest.channel_names) == channels and manifest.num_examples == num_examples
    assert manifest.extra["importer"] == importer
    return manifest


def test_cli_build_apple_health(tmp_path, capsys):
    lines = [_record(HR, 60 + k % 9, 37 * k) for k in range(2000)]
    lines += [_record(STEPS, 40, 36_000 + 600 * k, 36_300 + 600 * k, source=s)
              for k in range(20) for s in (WATCH, PHONE)]
    lines += [_workout("Running", 7 * 3600, 7 * 3600 + 2400)]
    out = tmp_path / "ds"
    code, printed, _ = build_with_cli(capsys, "apple-health", _export(tmp_path, lines), out,
                                      "--person", "ann", "--splits", "1,0,0",
                                      "--missing-threshold", "1")
    assert code == 0
    assert "Read 2041 rows of 1 person from 1 file(s): 1 day with data, channels HR, steps" \
        in printed
    manifest = assert_built(out, "apple-health", ["HR", "steps"], 1)
    assert "steps: 100 minute(s) recorded by several of its 2 sources; kept the one with the " \
        "most steps" in printed and "Ann" not in json.dumps(manifest.extra)
    assert manifest.extra["import_summary"]["records"]["StepCount"] == 40
    # A Watch's heart rate every 5 minutes, steps on 30 minutes: 89% of the day's cells are
    # empty; apple-health's default threshold (0.95) keeps the day, 0.8 (the tables') drops it.
    every_5_min = [_record(HR, 60, 300 * k) for k in range(288)]
    every_5_min += [_record(STEPS, 100, 25_200 + 60 * k, 25_260 + 60 * k) for k in range(30)]
    sparse = _export(tmp_path, every_5_min, name="watch.xml")
    for extra, kept in (((), 1), (("--missing-threshold", "0.8"), 0)):
        out = tmp_path / f"sparse{len(extra)}"
        code, printed, _ = build_with_cli(capsys, "apple-health", sparse, out, "--splits",
                                          "1,0,0", *extra)
        assert code == 0 and f"train: {kept} examples" in printed, printed
    assert DatasetManifest.load(tmp_path / "sparse0" / "train").extra["missing_threshold"] == 0.95
    bad = _export(tmp_path, [_record(HR, "x", 0)], name="bad.xml")
    assert_cli_refuses(capsys, "apple-health", bad, f"bad.xml line {PROLOGUE_LINES + 1} "
                       "(HeartRate record), attribute 'value': expected a number, received "
                       "'x'.", tmp_path / "never")
