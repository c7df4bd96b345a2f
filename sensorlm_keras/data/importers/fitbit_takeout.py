"""`read_fitbit_takeout`: a Fitbit export from Google Takeout -> `WearableDays`.

Google Takeout's Fitbit archive keeps the raw data in ``Takeout/Fitbit/Global Export Data/``
(the older Fitbit account archive ``MyFitbitData/<name>/`` has the same files in
``Physical Activity/`` and ``Sleep/``): JSON arrays, one file per day or about a month. Read:

- ``heart_rate-YYYY-MM-DD.json``: ``[{"dateTime": "01/01/20 00:00:05", "value": {"bpm": 62,
  "confidence": 2}}, ...]``, a sample every few seconds -> ``HR`` (a minute holds their mean);
- ``steps-YYYY-MM-DD.json``: ``[{"dateTime": "01/01/20 00:00:00", "value": "0"}, ...]``, steps
  per minute -> ``steps``;
- ``sleep-YYYY-MM-DD.json``: sleep logs (``logId``, ``startTime``, ``endTime``, ``mainSleep``,
  ``levels``) -> a ``sleep`` event from ``startTime`` to ``endTime`` per log (naps included);
- ``exercise-N.json``: exercise logs (``activityName``, ``startTime``, ``duration`` in ms) ->
  ``activity`` events, labelled in the captions' vocabulary where one matches
  (`ACTIVITY_LABELS`: ``Run`` -> ``run``, ``Weights`` -> ``strength training``, ...), else the
  lowercase name.
- ``Oxygen Saturation (SpO2)/Minute SpO2 - YYYY-MM-DD.csv``: ``timestamp,value`` (a SpO2
  percentage a minute, at night) -> ``spo2``;
- ``Heart Rate Variability/Heart Rate Variability Details - YYYY-MM-DD.csv``:
  ``timestamp,rmssd,coverage,low_frequency,high_frequency`` (5-minute windows of the main
  sleep) -> ``rmssd0595`` (RMSSD, ms; the closest channel, not percentile-trimmed), ``LF`` and
  ``HF`` (band powers, ms²), each at its window's start minute; blank cells are missing.

**Time zones (the rule).** The ``MM/DD/YY HH:MM:SS`` times of the ``heart_rate``, ``steps`` and
``exercise`` files are UTC, and so are the ISO times of the SpO2 and HRV CSV files (an
explicit offset or ``Z`` is honoured); the ISO times of the ``sleep`` files
(``2024-02-22T23:41:30.000``, no offset) are the wearer's local clock. (Public analyses of
real exports agree: the ``heart_rate-2023-01-26.json`` of a wearer at UTC+11 runs from ``01/25/23 13:00`` to
``01/26/23 12:59``, the local day written in UTC; an exercise's ``startTime`` plus its duration
ends minutes before its ``lastModified``, a server time; sleep logs keep the local bedtime
across time zones.) UTC times are converted to the wearer's time zone with its DST rules: the
``timezone`` argument (an IANA name such as ``Europe/Berlin``), else the ``timezone`` column of
the archive's ``Profile.csv`` (``Your Profile/`` or ``Personal & Account/``); then the project's
day rule applies (local wall-clock days, `wall_clock`: on a fall-back day the repeated hour's
readings share their wall-clock minutes). One zone serves the whole export: days spent in
another zone are shifted by the difference (the archive does not say where the wearer was).
An export whose intraday times are already local is read as it is with ``timezone="UTC"``.

**Duplicates.** Fitbit merges a person's devices into one stream, so there is no source to
choose between; a timestamp found twice (overlapping files) is read once, from the first file
in name order, and a sleep or exercise log whose ``logId`` was read before is skipped.

Not read: temperature files, the daily summaries, and the newer CSV copies (``Physical
Activity_GoogleData``). The CSVs' time rule comes from public descriptions of the files, not
from a real export.
"""

import csv
import json
import os
import re

import numpy as np

from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.data.importers.channel_minutes import ChannelMinutes
from sensorlm_keras.data.importers.minute_table import channel_subset, days_of_samples
from sensorlm_keras.data.importers.spill_file import SpillFile
from sensorlm_keras.data.importers.wall_clock import wall_clock_minutes
from sensorlm_keras.errors import ConfigError, DataError, describe
from sensorlm_keras.utils.progress import progress_bar
from sensorlm_keras.utils.validation import check_float, check_positive_int

CHANNEL_FILES = {"heart_rate": "HR", "steps": "steps"}
"""File prefix -> channel."""
CSV_FILES = {
    "Minute SpO2": ("spo2_minute", {"value": "spo2"}),
    "Heart Rate Variability Details": (
        "hrv_details", {"rmssd": "rmssd0595", "low_frequency": "LF", "high_frequency": "HF"}),
}
"""CSV file name prefix -> (kind, column -> channel)."""
EXAMPLE_ISO_TIME = "2024-02-22T03:15:00"
ACTIVITY_LABELS = {
    "run": "run", "treadmill run": "run", "walk": "walk", "hike": "hiking", "bike": "bike",
    "outdoor bike": "bike", "spinning": "spinning", "swim": "swim", "elliptical": "elliptical",
    "weights": "strength training", "weightlifting": "strength training",
    "strength training": "strength training", "yoga": "yoga", "tennis": "tennis",
    "dancing": "dancing", "dance": "dancing", "interval workout": "interval workout",
    "hiit": "interval workout",
}
"""Lowercase Fitbit ``activityName`` -> activity label of the captions' vocabulary."""
INTRADAY_FORMAT = "%m/%d/%y %H:%M:%S"
EXAMPLE_TIME = "01/31/20 23:59:00"

_FILE = re.compile(r"(heart_rate|steps|sleep|exercise)-[0-9-]+\.json")
_CSV_FILE = re.compile(r"(Minute SpO2|Heart Rate Variability Details) - [0-9-]+\.csv")


def read_fitbit_takeout(path, schema=None, channels=None, timezone=None, person=None,
                        events=None, max_days=3660, max_implausible_fraction=0.01,
                        progress=False, spill_dir=None):
    """Read a Fitbit export (Google Takeout) into raw person-days of its one wearer.

    See the module docstring for the rules (files, time zones, duplicates).

    Args:
        path: the ``Takeout`` folder, its ``Fitbit`` or ``Fitbit/Global Export Data`` folder
            (or an older account archive's folder): every matching file below it is read.
        schema: `ChannelSchema` the channel names come from (default: the 34 SensorLM channels).
        channels: channels to keep among ``HR``, ``steps``, ``spo2``, ``rmssd0595``, ``LF`` and
            ``HF``; ``None``: those with files.
        timezone: IANA time zone of the wearer (``"America/New_York"``) the UTC times are
            converted to; ``None``: the archive's ``Profile.csv``.
        person: the person id (default: the name of the ``path`` folder).
        events: optional extra event log (`read_event_log` result, or a CSV path); its events
            of ``person`` join the sleep and exercise events.
        max_days: most calendar days the export may span (exports hold years).
        max_implausible_fraction: values outside a channel's plausible range are dropped and
            counted; more than this fraction of a channel's values is refused.
        progress: show a tqdm bar of the files read.
        spill_dir: a directory for the samples read and the cut days (bounded memory: the
            samples wait there by blocks of 28 days, `ChannelMinutes`, and the days' ``raw``
            is a `DiskDayArray`); ``None`` keeps everything in memory.

    Returns:
        ``(days, summary)`` as `read_minute_tables`: `WearableDays` of every calendar day with
        a valid value (``info["date"]`` holds the dates) and a dict of what was read, kept and
        dropped (plus ``time_zone``, ``duplicate_timestamps``, ``sleep_logs``, ``exercises``
        and printable ``notes``).

    Raises:
        DataError: malformed JSON, an entry without a field, an unparsable time or value, an
            end before its start, no time zone, or no heart-rate or step file; the message names
            the file, the entry (counted from 0) and the field.

    Example:

    ```python
    from sensorlm_keras.data.importers import read_fitbit_takeout

    days, summary = read_fitbit_takeout("Takeout", timezone="Europe/Berlin", person="me")
    days.schema.names     # ('HR', 'steps')
    days.events[0]        # sleep logs and exercises of the first day
    ```
    """
    from sensorlm_keras.data.importers.event_log import read_event_log

    schema = ChannelSchema.resolve(schema)
    max_days = check_positive_int(max_days, "max_days")
    fraction = check_float(max_implausible_fraction, "max_implausible_fraction", 0.0, 1.0)
    supported = [c for c in [*CHANNEL_FILES.values(), *_csv_channels()] if c in schema]
    wanted = channel_subset(channels, supported, "channels a Fitbit export holds "
                            f"({', '.join(supported)})")
    files, profiles = _export_files(path)
    zone, zone_source = _time_zone(timezone, profiles)
    if person is None:
        person = os.path.basename(os.path.normpath(os.fspath(path)))
    elif not isinstance(person, str) or not person.strip():
        raise ConfigError(f"person: expected a non-empty person id, received {describe(person)}.")
    person = person.strip()
    if isinstance(events, (str, os.PathLike)):
        events = read_event_log(events)
    events = events or {}
    bar = progress_bar(progress, "read export", "file",
                       total=sum(len(v) for v in files.values()))
    names, rows, duplicates = [], 0, {}
    spill = SpillFile(spill_dir)
    minutes = ChannelMinutes(schema.select(supported), spill, fraction)
    try:
        for kind, fields in _SAMPLE_FILES.items():
            if not wanted & set(fields.values()):
                continue
            for f in files[kind]:
                name = os.path.basename(f)
                if kind in CHANNEL_FILES:
                    utc, values = _intraday(f, _load(f), kind)
                    columns, entry, where = {kind: values}, np.arange(utc.size), "entry"
                else:
                    utc, columns, entry = _csv_samples(f, fields)
                    where = "line"
                for field, values in columns.items():
                    if fields[field] in wanted:
                        # int64 times, float32 values, int32 file and entry: 20 bytes a sample
                        minutes.add(fields[field], utc // 60_000, utc=utc,
                                    value=values.astype(np.float32),
                                    file=np.full(utc.size, len(names), np.int32),
                                    entry=entry.astype(np.int32))
                names.append(f"{name} {where} {{}}")
                rows += utc.size
                if bar is not None:
                    bar.update(1)
        for channel in supported:
            if minutes.has(channel):
                duplicates[channel] = _keep_first_of_each_time(minutes, channel, names, zone)
        if not duplicates:
            raise DataError(f"{path}: expected heart_rate-*.json, steps-*.json, 'Minute SpO2 - "
                            "*.csv' or 'Heart Rate Variability Details - *.csv' files of the "
                            f"channels {sorted(wanted)}, found none.")
        own = list(events.get(person, []))
        sleep = _logs(files["sleep"], _sleep_log, zone, bar)
        exercises = _logs(files["exercise"], _exercise_log, zone, bar)
        own += sleep + exercises
        used = schema.select([c for c in schema.names
                              if c in duplicates or (channels is not None and c in wanted)])
        samples, dropped = minutes.samples(used)
    finally:
        if bar is not None:
            bar.close()
        spill.close()
    days, counts = days_of_samples({person: samples}, used, {**events, person: own},
                                   max_days, spill_dir)
    summary = {"files": len(names) + len(files["sleep"]) + len(files["exercise"]),
               "rows": rows, **counts, "implausible_values": dropped,
               "time_zone": str(zone.key), "time_zone_source": zone_source,
               "duplicate_timestamps": duplicates, "sleep_logs": len(sleep),
               "exercises": len(exercises)}
    summary["notes"] = [
        f"heart rate, steps, SpO2, HRV and exercise times read as UTC and converted to "
        f"{zone.key} (from {zone_source}); sleep times read as local",
        f"{len(sleep)} sleep log(s), {len(exercises)} exercise(s)",
    ] + [f"{channel}: read {n} repeated timestamp(s) once" for channel, n in
         duplicates.items() if n]
    return days, summary


def _export_files(path):
    """``({prefix: sorted paths}, [Profile.csv paths])`` below ``path``."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise DataError(f"--input {path}: expected the Takeout folder (or its Fitbit/Global "
                        f"Export Data folder) of a Fitbit export, received "
                        f"{'a file' if os.path.exists(path) else 'a path that does not exist'}.")
    files = {kind: [] for kind in ("heart_rate", "steps", "sleep", "exercise", "spo2_minute",
                                   "hrv_details")}
    profiles = []
    if os.path.basename(os.path.normpath(path)).lower() == "global export data":
        parent = os.path.dirname(os.path.abspath(path))  # Profile.csv sits in a sibling folder
        profiles += [os.path.join(parent, d, "Profile.csv") for d in sorted(os.listdir(parent))
                     if os.path.isfile(os.path.join(parent, d, "Profile.csv"))]
    for folder, subfolders, names in os.walk(path):
        subfolders.sort()
        for name in names:
            match = _FILE.fullmatch(name)
            csv_match = _CSV_FILE.fullmatch(name)
            if match:
                files[match.group(1)].append(os.path.join(folder, name))
            elif csv_match:
                files[CSV_FILES[csv_match.group(1)][0]].append(os.path.join(folder, name))
            elif name.lower() == "profile.csv":
                profiles.append(os.path.join(folder, name))
    if not any(files.values()):
        raise DataError(f"--input {path}: expected a Fitbit export with heart_rate-*.json, "
                        "steps-*.json, sleep-*.json or exercise-*.json files (Takeout/Fitbit/"
                        "Global Export Data) or 'Minute SpO2 - *.csv' / 'Heart Rate Variability "
                        "Details - *.csv' files, found none.")
    return {k: sorted(v, key=lambda f: (os.path.basename(f), f)) for k, v in files.items()}, \
        profiles


def _time_zone(timezone, profiles):
    """``(ZoneInfo, where it came from)``."""
    import zoneinfo

    def zone(name, where, error):
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise error(f"{where}: expected an IANA time zone name such as 'Europe/Berlin', "
                        f"received {name!r}.") from None

    if timezone is not None:
        if not isinstance(timezone, str):
            raise ConfigError(f"timezone: expected an IANA time zone name such as "
                              f"'Europe/Berlin', received {describe(timezone)}.")
        return zone(timezone.strip(), "timezone", ConfigError), "--timezone"
    for profile in profiles:
        try:
            with open(profile, newline="", encoding="utf-8-sig") as f:
                row = next(csv.DictReader(f), None) or {}
        except (OSError, UnicodeDecodeError, csv.Error):
            continue
        name = (row.get("timezone") or "").strip()
        if name:
            where = f"{os.path.basename(profile)} line 2, column 'timezone'"
            return zone(name, where, DataError), os.path.basename(profile)
    raise DataError("time zone: the heart-rate, step and exercise times of a Fitbit export are "
                    "UTC; expected the wearer's time zone to cut local days: pass --timezone "
                    "NAME (an IANA name such as 'Europe/Berlin'), found no Profile.csv with a "
                    "'timezone' column in the export.")


def _load(path):
    name = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        raise DataError(f"{name} line {err.lineno}, column {err.colno}: expected JSON, "
                        f"{err.msg}.") from None
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{name}: expected a readable JSON file ({type(err).__name__}: "
                        f"{str(err)[:200]}).") from None
    if not isinstance(data, list):
        raise DataError(f"{name}: expected a JSON array of entries, received a "
                        f"{type(data).__name__}.")
    return data


def _csv_channels():
    return [c for _, fields in CSV_FILES.values() for c in fields.values()]


_SAMPLE_FILES = {**{k: {k: c} for k, c in CHANNEL_FILES.items()},
                 **dict(CSV_FILES.values())}
"""Kind of sample file -> its field -> channel."""


def _csv_samples(path, fields):
    """``(utc ms, {column: values}, lines)`` of a ``Minute SpO2`` or ``Heart Rate Variability
    Details`` CSV: a ``timestamp`` column (ISO 8601; UTC unless it carries an offset) and the
    ``fields`` columns (blank = missing)."""
    import pandas as pd

    name = os.path.basename(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as err:
        raise DataError(f"{name}: expected a CSV file ({type(err).__name__}: "
                        f"{str(err)[:200]}).") from None
    expected = ["timestamp", *fields]
    absent = [c for c in expected if c not in frame.columns]
    if absent:
        raise DataError(f"{name}: expected the columns {expected}, received "
                        f"{list(frame.columns)[:10]} (missing {absent}).")
    lines = np.arange(len(frame)) + 2
    utc = _utc_ms(list(frame["timestamp"].str.strip()), lambda i: f"{name} line {lines[i]}",
                  "timestamp", iso=True)
    columns = {}
    for field in fields:
        cells = frame[field].str.strip()
        values = pd.to_numeric(cells, errors="coerce")
        bad = np.flatnonzero((values.isna() & (cells != "")).to_numpy())
        if bad.size:
            i = int(bad[0])
            raise DataError(f"{name} line {lines[i]}, column {field!r}: expected a number, "
                            f"received {cells.iloc[i]!r}.")
        columns[field] = values.to_numpy(dtype=np.float64)
    return utc, columns, lines


def _intraday(path, data, prefix):
    """``(utc ms, values)`` of a heart_rate or steps file."""
    name = os.path.basename(path)
    field = "value.bpm" if prefix == "heart_rate" else "value"
    try:
        stamps = [e["dateTime"] for e in data]
        raw = [e["value"]["bpm"] for e in data] if prefix == "heart_rate" else \
            [e["value"] for e in data]
        values = np.asarray(raw, dtype=np.float64)
        if values.ndim != 1 or not np.isfinite(values).all():
            raise ValueError
    except (KeyError, TypeError, ValueError):
        _entry_error(name, data, field)
    return _utc_ms(stamps, lambda i: f"{name} entry {i}", "dateTime"), values


def _entry_error(name, data, field):
    """Raise the error of the first entry without a ``dateTime`` or a finite ``field``."""
    for i, entry in enumerate(data):
        where = f"{name} entry {i}"
        if not isinstance(entry, dict):
            raise DataError(f"{where}: expected an object with 'dateTime' and 'value', "
                            f"received {describe(entry)}.")
        if "dateTime" not in entry:
            raise DataError(f"{where}, field 'dateTime': expected a time such as "
                            f"{EXAMPLE_TIME!r}, received an entry without it.")
        value = entry
        for part in field.split("."):
            if not isinstance(value, dict) or part not in value:
                raise DataError(f"{where}, field {field!r}: expected a number, received an "
                                "entry without it.")
            value = value[part]
        if _number(value) is None:
            raise DataError(f"{where}, field {field!r}: expected a number, received "
                            f"{describe(value)}.")
    raise DataError(f"{name}: expected entries with 'dateTime' and {field!r}.")


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if np.isfinite(number) else None


def _utc_ms(stamps, where, field, iso=False):
    """Int64 ms since 1970 of UTC times: ``MM/DD/YY HH:MM:SS`` (the JSON files' ``field``), or
    ISO 8601 (``iso``: a CSV ``column``; an offset or ``Z`` is honoured, none means UTC)."""
    import pandas as pd

    parsed = pd.to_datetime(pd.Series(stamps, dtype=object), errors="coerce", utc=iso,
                            format="ISO8601" if iso else INTRADAY_FORMAT)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        example, form = ((EXAMPLE_ISO_TIME, "ISO 8601, UTC unless it carries an offset") if iso
                         else (EXAMPLE_TIME, "MM/DD/YY HH:MM:SS, UTC"))
        raise DataError(f"{where(i)}, {'column' if iso else 'field'} {field!r}: expected a time "
                        f"such as {example!r} ({form}), received {describe(stamps[i])}.")
    if iso:
        parsed = parsed.dt.tz_localize(None)
    return parsed.to_numpy(dtype="datetime64[ms]").astype(np.int64)


def _keep_first_of_each_time(minutes, channel, names, zone):
    """Keep one sample of ``channel`` per time, the first file's (`ChannelMinutes.keep`, on
    its local wall-clock minute); returns how many repeats were left out."""
    repeats = 0
    for block in minutes.blocks(channel):
        utc = block["utc"]
        _, first = np.unique(utc, return_index=True)
        first.sort()
        repeats += utc.size - first.size
        file, entry = block["file"][first], block["entry"][first]
        minutes.keep(channel, _local(utc[first], zone)[0], block["value"][first],
                     file.astype(np.int64) << 32 | entry,
                     lambda i: names[file[i]].format(entry[i]))
    return int(repeats)


def _local(utc_ms, zone):
    """``(wall minutes, exclusive-end wall minutes)`` of UTC ms in ``zone``."""
    import pandas as pd

    local = pd.DatetimeIndex(utc_ms.astype("datetime64[ms]")).tz_localize("UTC") \
        .tz_convert(zone).tz_localize(None)
    wall = local.to_numpy().astype("datetime64[m]").astype(np.int64)
    return wall, wall + (utc_ms % 60_000 > 0)


def _logs(paths, read, zone, bar):
    """Events of every sleep or exercise file, each ``logId`` once."""
    events, seen = [], set()
    for path in paths:
        name, data = os.path.basename(path), _load(path)
        keep = []
        for i, entry in enumerate(data):
            if not isinstance(entry, dict):
                raise DataError(f"{name} entry {i}: expected a log object, received "
                                f"{describe(entry)}.")
            log_id = entry.get("logId")
            if log_id is not None and log_id in seen:
                continue
            seen.add(log_id)
            keep.append(i)
        if keep:
            events += read(name, data, keep, zone)
        if bar is not None:
            bar.update(1)
    return events


def _fields(name, data, keep, fields):
    """The ``fields`` of the kept entries, each one present."""
    columns = {f: [] for f in fields}
    for i in keep:
        for f in fields:
            if f not in data[i] or data[i][f] is None:
                raise DataError(f"{name} entry {i}, field {f!r}: expected a value, received an "
                                "entry without it.")
            columns[f].append(data[i][f])
    return columns


def _sleep_log(name, data, keep, zone):
    """``sleep`` events from local ``startTime`` to ``endTime`` (end exclusive, rounded up)."""
    import pandas as pd

    columns = _fields(name, data, keep, ("startTime", "endTime"))

    def where(row):
        return f"{name} entry {keep[row]}"

    times = {}
    for field in ("startTime", "endTime"):
        text = columns[field]
        for row, value in enumerate(text):
            if not isinstance(value, str):
                raise DataError(f"{where(row)}, field {field!r}: expected a time such as "
                                f"'2024-02-22T23:41:30.000', received {describe(value)}.")
        wall, absolute, _ = wall_clock_minutes(pd.Series(text, dtype=object), where, field, "ms")
        times[field] = (wall, wall + (absolute % 60_000 > 0))
    start, end = times["startTime"][0], times["endTime"][1]
    bad = np.flatnonzero(end <= start)
    if bad.size:
        row = int(bad[0])
        raise DataError(f"{where(row)}, field 'endTime': expected a time after startTime "
                        f"{columns['startTime'][row]!r}, received {columns['endTime'][row]!r}.")
    return [("sleep", "sleep", int(s), int(e)) for s, e in zip(start, end)]


def _exercise_log(name, data, keep, zone):
    """``activity`` events from the UTC ``startTime`` for ``duration`` ms, in ``zone``."""
    columns = _fields(name, data, keep, ("activityName", "startTime", "duration"))
    durations = []
    for row, i in enumerate(keep):
        label = columns["activityName"][row]
        if not isinstance(label, str) or not label.strip():
            raise DataError(f"{name} entry {i}, field 'activityName': expected a name, received "
                            f"{describe(label)}.")
        duration = _number(columns["duration"][row])
        if duration is None or duration < 0:
            raise DataError(f"{name} entry {i}, field 'duration': expected milliseconds >= 0, "
                            f"received {describe(columns['duration'][row])}.")
        durations.append(duration)
    utc = _utc_ms(columns["startTime"], lambda row: f"{name} entry {keep[row]}", "startTime")
    start = _local(utc, zone)[0]
    end = _local(utc + np.asarray(durations).astype(np.int64), zone)[1]
    return [("activity", activity_label(label), int(s), int(max(e, s + 1)))
            for label, s, e in zip(columns["activityName"], start, end)]


def activity_label(name):
    """Activity label of a Fitbit ``activityName``: the captions' word where one matches
    (`ACTIVITY_LABELS`), else the lowercase name (``"Aerobic Workout"`` -> ``"aerobic
    workout"``)."""
    key = " ".join(name.lower().split())
    return ACTIVITY_LABELS.get(key, key)
