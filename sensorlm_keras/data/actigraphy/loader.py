"""`load_actigraphy_days`: the real pyActigraphy recordings as midnight-to-midnight person-days.

The recordings (see `wheel`) are CamNtech/Philips ``.AWD`` files, Philips Actiware ``.csv``
exports (English, French, German; with device sleep/wake scoring and rest intervals) and an
Axivity ``timeSeries.csv.gz`` (acceleration with sleep / sedentary / light / moderate-vigorous
classes), read by `sensorlm_keras.data.readers`.

Mapping into the channel schema: activity counts (or Axivity acceleration) become the ``steps``
channel through a monotone, approximate calibration (`activity_counts`; walking ~ 100
steps/min), a temperature column (Actiwatch ``T`` models) becomes ``wrist_temperatures``; every
other channel is NaN (missing, so it is masked after preprocessing). Light, when present, is
returned in ``info["light"]`` (the schema has no light channel). Recordings are cut into
calendar days at local midnight; device sleep scoring becomes ``sleep`` events, Axivity
moderate-to-vigorous bouts become ``activity`` events; for AWD files (no scoring) sleep is
inferred with a simple rest heuristic when ``infer_sleep=True``.

Note: with 33 of 34 channels missing, a day's missing ratio is above 0.97; preprocess with a
schema restricted to the observed channels (``schema.select(["steps"])``) or with
``missing_threshold=1.0``.
"""

import glob
import os

import numpy as np

from sensorlm_keras.data.actigraphy.activity_counts import infer_rest, steps_per_minute
from sensorlm_keras.data.actigraphy.wheel import cached_data_dir
from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.data.event import MINUTES_PER_DAY
from sensorlm_keras.data.preprocessing.recording_days import (
    events_of_day,
    on_days,
    runs,
    to_minutes,
)
from sensorlm_keras.data.readers import SUPPORTED_FORMATS, reader_for
from sensorlm_keras.data.wearable_days import WearableDays
from sensorlm_keras.errors import ConfigError, DataError, describe
from sensorlm_keras.utils.validation import check_float, check_positive_int

# Per-day fields collected from every recording, in the order of the output.
_FIELDS = ("raw", "light", "events", "person_id", "day_index", "label", "date", "source",
           "sleep_source", "scale")


def load_actigraphy_days(
    cache_dir=None,
    schema=None,
    files=None,
    min_valid_fraction=0.5,
    infer_sleep=True,
    min_sleep_minutes=60,
    min_activity_minutes=10,
    download=True,
):
    """Load the real pyActigraphy recordings as midnight-to-midnight person-days.

    Args:
        cache_dir: where the wheel's data files live (see `actigraphy_cache_dir`).
        schema: output `ChannelSchema` (default: the 34 channels). ``steps`` is required;
            ``wrist_temperatures`` is filled when a recording has temperature; all other
            channels are NaN.
        files: optional list of file names (in the cache) or paths to load; default every
            supported recording (``*.AWD``, Actiware ``*.csv``, Axivity ``*timeSeries.csv.gz``).
        min_valid_fraction: keep days with at least this fraction of observed ``steps`` minutes.
        infer_sleep: infer sleep of recordings without device scoring (AWD) from long
            low-activity stretches (heuristic).
        min_sleep_minutes: shortest sleep period turned into an event.
        min_activity_minutes: shortest moderate-to-vigorous bout turned into an event.
        download: fetch the wheel if the cache is empty (``False``: raise instead).

    Returns:
        `WearableDays` with ``person_ids`` = recording name, ``day_index`` = day within the
        recording and ``info`` holding ``light`` ``(N, 1440)`` (lux, NaN if absent),
        ``date`` (ISO dates), ``source`` (file name), ``sleep_source`` (``"device"``,
        ``"inferred"`` or ``"none"``), ``steps_per_unit`` (the activity -> steps factor of the
        recording), ``skipped`` (files skipped, with the reason) and ``event_log``: the
        recordings' sleep and activity intervals as rows ``(source, kind, label, start, end)``
        (the recording's file name; local wall-clock timestamps, ``end`` exclusive), the format
        `read_event_log` reads.

    Raises:
        ActigraphyUnavailableError: the wheel is not cached and cannot be downloaded.

    Example:

    ```python
    from sensorlm_keras.data import load_actigraphy_days, preprocess_days

    days = load_actigraphy_days()
    steps_only = days.schema.select(["steps"])
    clean = preprocess_days(days.raw[..., [days.schema.index("steps")]], schema=steps_only)
    ```
    """
    schema = ChannelSchema.default() if schema is None else schema
    if not isinstance(schema, ChannelSchema):
        raise ConfigError(f"schema: expected a ChannelSchema or None, received {describe(schema)}.")
    if "steps" not in schema:
        raise ConfigError(
            f"schema: the actigraphy loader fills the 'steps' channel; the schema has "
            f"{list(schema.names)}."
        )
    min_valid_fraction = check_float(min_valid_fraction, "min_valid_fraction", 0, 1)
    check_positive_int(min_sleep_minutes, "min_sleep_minutes")
    check_positive_int(min_activity_minutes, "min_activity_minutes")
    paths = _recording_paths(cache_dir, files, download)
    rows, skipped, seen, event_log = [], {}, {}, []
    for path in paths:
        name = os.path.basename(path)
        try:
            rec = reader_for(path)(path)
        except DataError as error:
            skipped[name] = str(error)
            continue
        first, minutes = to_minutes(rec)
        fingerprint = (str(first), np.nan_to_num(minutes["activity"][:2880], nan=-1).tobytes())
        if fingerprint in seen:
            skipped[name] = f"same recording as {seen[fingerprint]}"
            continue
        seen[fingerprint] = name
        kept, log = _recording_days(rec, first, minutes, schema, min_valid_fraction,
                                    infer_sleep, min_sleep_minutes, min_activity_minutes)
        rows += kept
        event_log += log if kept else []
    if not rows:
        raise DataError(
            f"load_actigraphy_days: no day with at least {min_valid_fraction:.0%} observed minutes "
            f"in {len(paths)} file(s); skipped: {skipped}."
        )
    column = {key: [row[key] for row in rows] for key in _FIELDS}
    return WearableDays(
        raw=np.stack(column["raw"]),
        events=column["events"],
        person_ids=np.array(column["person_id"]),
        day_index=np.array(column["day_index"], dtype=np.int32),
        activity_labels=tuple(column["label"]),
        schema=schema,
        info={
            "light": np.stack(column["light"]),
            "date": np.array(column["date"]),
            "source": np.array(column["source"]),
            "sleep_source": np.array(column["sleep_source"]),
            "steps_per_unit": np.array(column["scale"], dtype=np.float64),
            "skipped": skipped,
            "event_log": event_log,
        },
    )


def _recording_paths(cache_dir, files, download):
    """Paths of the recordings to load: every supported file of the cache, or ``files``."""
    if files is None or any(not os.path.isabs(os.fspath(f)) for f in files):
        data_dir = cached_data_dir(cache_dir, download)
    if files is None:
        return sorted(p for p in glob.glob(os.path.join(data_dir, "*")) if reader_for(p))
    paths = [f if os.path.isabs(os.fspath(f)) else os.path.join(data_dir, f) for f in files]
    for p in paths:
        if not os.path.isfile(p):
            raise DataError(f"files: {p!r} does not exist.")
        if reader_for(p) is None:
            raise DataError(
                f"files: {os.path.basename(p)!r} is not a supported format ({SUPPORTED_FORMATS})."
            )
    return paths


def _recording_days(rec, first, minutes, schema, min_valid_fraction, infer_sleep,
                    min_sleep_minutes, min_activity_minutes):
    """The kept days of one recording, as dicts of the `_FIELDS`, and its intervals as event
    log rows ``(source file, kind, label, start, end)`` (ISO local times, ``end`` exclusive)."""
    steps, scale = steps_per_minute(minutes, rec.activity_kind)
    # Place the minute series on a grid of whole days starting at local midnight.
    day0 = first.astype("datetime64[D]")
    lead = int((first - day0.astype("datetime64[m]")).astype(np.int64))
    num_days = -(-(lead + steps.size) // MINUTES_PER_DAY)
    steps_days = on_days(steps, lead, num_days)
    temp_days = None
    if rec.temperature is not None and "temperature" in minutes:
        temp = np.where(minutes.get("excluded", False), np.nan, minutes["temperature"])
        temp_days = on_days(temp, lead, num_days)
    light_days = on_days(minutes["light"], lead, num_days) if "light" in minutes else None
    intervals, sleep_source = _intervals(minutes, steps, lead, infer_sleep, min_sleep_minutes,
                                         min_activity_minutes)
    steps_col = schema.index("steps")
    temp_col = schema.index("wrist_temperatures") if "wrist_temperatures" in schema else None
    rows = []
    for d in range(num_days):
        valid = np.isfinite(steps_days[d]).mean()
        if valid < min_valid_fraction or valid == 0:
            continue
        raw = np.full((MINUTES_PER_DAY, len(schema)), np.nan, dtype=np.float32)
        raw[:, steps_col] = steps_days[d]
        if temp_col is not None and temp_days is not None:
            raw[:, temp_col] = temp_days[d]
        day_events, longest = events_of_day(intervals, d)
        light = (
            light_days[d].astype(np.float32)
            if light_days is not None
            else np.full(MINUTES_PER_DAY, np.nan, np.float32)
        )
        rows.append({
            "raw": raw, "light": light, "events": day_events, "person_id": rec.name,
            "day_index": d, "label": longest, "date": str(day0 + np.timedelta64(d, "D")),
            "source": rec.source, "sleep_source": sleep_source, "scale": scale,
        })
    midnight = day0.astype("datetime64[m]")
    log = [(rec.source, kind, label, str(midnight + np.timedelta64(int(start), "m")),
            str(midnight + np.timedelta64(int(end), "m")))
           for kind, label, start, end in intervals]
    return rows, log


def _intervals(minutes, steps, lead, infer_sleep, min_sleep_minutes, min_activity_minutes):
    """``(kind, label, start, end)`` intervals in minutes from midnight of the first day, and
    where the sleep came from (``"device"``, ``"inferred"`` or ``"none"``)."""
    intervals = []
    sleep_source = "none"
    if "sleep" in minutes:
        sleep_source = "device"
        for s, e in runs(minutes["sleep"] >= 0.5, min_sleep_minutes, max_gap=15):
            intervals.append(("sleep", "sleep", lead + s, lead + e))
    elif infer_sleep:
        sleep_source = "inferred"
        for s, e in infer_rest(steps):
            intervals.append(("sleep", "sleep", lead + s, lead + e))
    if "mvpa" in minutes:
        for s, e in runs(minutes["mvpa"] >= 0.5, min_activity_minutes, max_gap=2):
            intervals.append(("activity", "moderate-vigorous activity", lead + s, lead + e))
    return intervals, sleep_source
