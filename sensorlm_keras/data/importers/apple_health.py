"""`read_apple_health`: an Apple Health export (``export.xml``) -> `WearableDays`.

The Health app's "Export All Health Data" writes ``export.zip`` holding
``apple_health_export/export.xml``: one ``<Record>`` per measurement and one ``<Workout>`` per
workout, in no particular order, from every source that writes to Health (an iPhone and a Watch
both count steps). The rules this importer follows:

- **Days.** Every date carries the UTC offset of the device when it recorded
  (``2021-12-11 18:04:47 -0700``). A record is placed at its own clock reading and days are
  local wall-clock days: the rule of every importer (`wall_clock`; on a fall-back day the
  repeated hour's readings share their wall-clock minutes, a spring-forward day misses an hour).
- **Channels.** ``HeartRate`` (``count/min``) -> ``HR``; ``StepCount`` (``count``) ->
  ``steps``, each record's count spread uniformly over the minutes its interval covers, by
  overlap; ``OxygenSaturation`` (``%``, stored as a fraction 0-1) x100 -> ``spo2``;
  ``HeartRateVariabilitySDNN`` (``ms``) -> ``sdnn0595``: Apple's SDNN of about a minute of
  beats, the schema's the SDNN of a minute's beats within their 5th-95th percentiles (same
  unit and window; the closest channel). HR, SpO2 and SDNN records are samples at their
  ``startDate``: a minute holds their mean (steps: their sum). Any other unit of these types is
  refused; other record types are skipped.
- **Duplicate sources.** Per channel and real minute one source (``sourceName``) counts: for
  steps the source that counted the most steps in that minute, for the other channels the one
  with the most samples in it; ties go to the source with more samples of the channel in the
  whole export, then by name. An iPhone and a Watch counting the same walk are never added.
- **Sleep.** ``SleepAnalysis`` records scored asleep by any source (``AsleepCore``,
  ``AsleepDeep``, ``AsleepREM``, ``AsleepUnspecified``, the older ``Asleep``) are united; asleep
  spans less than `SLEEP_MERGE_GAP` (30) minutes apart are one ``sleep`` event, periods shorter
  than `SLEEP_MIN_MINUTES` (10) are dropped. ``InBed`` and ``Awake`` are not sleep.
- **Workouts** -> ``activity`` events, labelled in the captions' vocabulary where one matches
  (`WORKOUT_LABELS`: Running -> ``run``, Walking -> ``walk``, Cycling -> ``bike``, ...), else the
  type's readable lowercase name (``HKWorkoutActivityTypeStairClimbing`` -> ``stair
  climbing``). A workout overlapping an earlier one of the same label by at least half its
  length (the same workout written by a second app) is kept once.
- **Parsing** is streamed with expat (the parser under ``xml.etree.ElementTree.iterparse``,
  used directly: no element is ever built, and each record's line is known for errors). Memory
  holds the text of at most `chunk_records` records per type, one 28-day block of one
  channel's samples (`ChannelMinutes`, the rest on disk with ``spill_dir``) and the export's
  minute sums (a 483 MB export of 2.26 million records: 0.24 GB peak, 51 s; 967 MB: 0.32 GB).
  ``Correlation`` elements (blood pressure, food: no schema channel) are skipped with their
  inner records. The DTD prologue is skipped
  (iOS 16 wrote a malformed one) and control characters such as ``\\x0b``, which some sources
  write into names, are read as spaces.
"""

import contextlib
import os
import re
import zipfile
from xml.parsers import expat

import numpy as np

from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.data.event import MINUTES_PER_DAY
from sensorlm_keras.data.importers.channel_minutes import ChannelMinutes
from sensorlm_keras.data.importers.minute_table import (
    SUM_CHANNELS,
    channel_subset,
    days_of_samples,
)
from sensorlm_keras.data.importers.spill_file import SpillFile
from sensorlm_keras.errors import ConfigError, DataError, describe
from sensorlm_keras.utils.progress import progress_bar
from sensorlm_keras.utils.validation import check_float, check_positive_int

QUANTITY_TYPES = {
    "HKQuantityTypeIdentifierHeartRate": ("HR", "count/min", 1.0),
    "HKQuantityTypeIdentifierStepCount": ("steps", "count", 1.0),
    "HKQuantityTypeIdentifierOxygenSaturation": ("spo2", "%", 100.0),
    "HKQuantityTypeIdentifierHeartRateVariabilitySDNN": ("sdnn0595", "ms", 1.0),
}
"""Record type -> (channel, the unit the export writes, factor to the channel's unit)."""
SLEEP_TYPE = "HKCategoryTypeIdentifierSleepAnalysis"
WORKOUT_LABELS = {
    "Running": "run", "Walking": "walk", "Hiking": "hiking", "Cycling": "bike",
    "Swimming": "swim", "Elliptical": "elliptical", "Yoga": "yoga", "Tennis": "tennis",
    "TraditionalStrengthTraining": "strength training",
    "FunctionalStrengthTraining": "strength training", "Dance": "dancing",
    "SocialDance": "dancing", "CardioDance": "dancing",
    "HighIntensityIntervalTraining": "interval workout",
}
"""``HKWorkoutActivityType`` suffix -> activity label of the captions' vocabulary."""
SLEEP_MERGE_GAP = 30
SLEEP_MIN_MINUTES = 10
EXAMPLE_DATE = "2021-12-11 18:04:47 -0700"

_SLEEP_VALUE = "HKCategoryValueSleepAnalysis"
_WORKOUT_PREFIX = "HKWorkoutActivityType"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}")
_SUBSET_END = re.compile(rb"\]\s*>")
_CONTROL = bytes.maketrans(bytes(c for c in range(32) if c not in (9, 10, 13)), b" " * 29)
_READ_BYTES = 8 << 20


def read_apple_health(path, schema=None, channels=None, person=None, events=None,
                      max_days=3660, max_implausible_fraction=0.01, chunk_records=50_000,
                      progress=False, spill_dir=None):
    """Read an Apple Health export into raw person-days (one person: the export's owner).

    See the module docstring for the rules (days, units, duplicate sources, sleep, workouts).

    Args:
        path: ``export.xml``, the ``export.zip`` the Health app writes, or the
            ``apple_health_export`` folder.
        schema: `ChannelSchema` the channel names come from (default: the 34 SensorLM channels).
        channels: channels to keep among ``HR``, ``steps``, ``spo2``, ``sdnn0595``; ``None``:
            those the export has records of.
        person: the person id (default: the input's name without extension, e.g. ``export``).
        events: optional extra event log (`read_event_log` result, or a CSV path); its events
            of ``person`` join the sleep and workout events.
        max_days: most calendar days the export may span (exports hold years).
        max_implausible_fraction: values outside a channel's plausible range are dropped and
            counted; more than this fraction of a channel's values is refused (wrong units).
        chunk_records: records whose text is held at once before they become numbers.
        progress: show a tqdm bar of the bytes read.
        spill_dir: a directory for the samples read and the cut days (bounded memory: the
            samples wait there by blocks of 28 days, `ChannelMinutes`, and the days' ``raw``
            is a `DiskDayArray`); ``None`` keeps everything in memory.

    Returns:
        ``(days, summary)`` as `read_minute_tables`: `WearableDays` of every calendar day with
        a valid value (``info["date"]`` holds the dates) and a dict of what was read, kept and
        dropped (plus ``records``, ``sources`` (how many per channel),
        ``minutes_with_several_sources``, ``sleep_periods``, ``workouts``,
        ``duplicate_workouts`` and printable ``notes``; no source names, as the summary is
        stored in the dataset's manifest).

    Raises:
        DataError: malformed XML, a missing attribute, an unparsable date or value, an
            unexpected unit, an end before its start, or no supported record; the message names
            the file, the line and the attribute.

    Example:

    ```python
    from sensorlm_keras.data.importers import read_apple_health

    days, summary = read_apple_health("export.zip", person="me")
    days.schema.names          # e.g. ('HR', 'steps', 'sdnn0595', 'spo2')
    days.events[0]             # sleep periods and workouts of the first day
    summary["minutes_with_several_sources"]   # {'steps': 5210}: iPhone and Watch
    ```
    """
    from sensorlm_keras.data.importers.event_log import read_event_log

    schema = ChannelSchema.resolve(schema)
    max_days = check_positive_int(max_days, "max_days")
    fraction = check_float(max_implausible_fraction, "max_implausible_fraction", 0.0, 1.0)
    chunk_records = check_positive_int(chunk_records, "chunk_records")
    supported = [c for c, _, _ in QUANTITY_TYPES.values() if c in schema]
    wanted = channel_subset(channels, supported, "channels an Apple Health export holds "
                            f"({', '.join(supported)})")
    opener, name, default_person = _export_file(path)
    if person is None:
        person = default_person
    elif not isinstance(person, str) or not person.strip():
        raise ConfigError(f"person: expected a non-empty person id, received {describe(person)}.")
    if isinstance(events, (str, os.PathLike)):
        events = read_event_log(events)
    spill = SpillFile(spill_dir)
    reader = _ExportReader(name, wanted, chunk_records,
                           ChannelMinutes(schema.select(supported), spill, fraction))
    bar = progress_bar(progress, "read export", "B", unit_scale=True)
    try:
        with opener() as stream:
            reader.parse(stream, bar)
        if bar is not None:
            bar.close()
            bar = None
        return reader.to_days(schema, channels is not None, person.strip(), events or {},
                              max_days, spill_dir)
    finally:
        if bar is not None:
            bar.close()
        spill.close()


def _export_file(path):
    """``(opener, name, default person)`` of the export's ``export.xml``."""
    path = os.fspath(path)
    stem = os.path.splitext(os.path.basename(os.path.normpath(path)))[0]
    if os.path.isdir(path):
        for candidate in (os.path.join(path, "export.xml"),
                          os.path.join(path, "apple_health_export", "export.xml")):
            if os.path.isfile(candidate):
                return (lambda: open(candidate, "rb")), "export.xml", stem
        raise DataError(f"--input {path}: expected an Apple Health export (export.xml, "
                        "export.zip or the apple_health_export folder), found no export.xml "
                        "in the directory.")
    if not os.path.exists(path):
        raise DataError(f"--input {path}: does not exist.")
    if path.lower().endswith(".zip"):
        try:
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.namelist() if m.rsplit("/", 1)[-1] == "export.xml"]
        except zipfile.BadZipFile as err:
            raise DataError(f"{os.path.basename(path)}: expected a zip archive ({err}).") from None
        if not members:
            raise DataError(f"{os.path.basename(path)}: expected an Apple Health export with "
                            "apple_health_export/export.xml, found no export.xml in the archive.")

        @contextlib.contextmanager
        def opener():
            with zipfile.ZipFile(path) as archive, archive.open(members[0]) as stream:
                yield stream

        return opener, f"{os.path.basename(path)}:{members[0]}", stem
    if not path.lower().endswith(".xml"):
        raise DataError(f"--input {path}: expected an Apple Health export: export.xml, "
                        "export.zip or the apple_health_export folder.")
    return (lambda: open(path, "rb")), os.path.basename(path), stem


def _xml_chunks(stream, name):
    """The file's bytes in chunks, the DTD replaced by its newlines (lines keep their numbers)."""
    head = stream.read(_READ_BYTES)
    start = head.find(b"<!DOCTYPE")
    while start >= 0:
        close, bracket = head.find(b">", start), head.find(b"[", start)
        if bracket >= 0 and (close < 0 or bracket < close):
            match = _SUBSET_END.search(head, bracket)
            end = match.end() if match else -1
        else:
            end = close + 1 if close >= 0 else -1
        if end > 0:
            head = head[:start] + b"\n" * head.count(b"\n", start, end) + head[end:]
            break
        more = stream.read(_READ_BYTES)
        if not more:
            raise DataError(f"{name}: expected the <!DOCTYPE prologue to end with ']>', "
                            "received the end of the file.")
        head += more
    yield head
    while True:
        chunk = stream.read(_READ_BYTES)
        if not chunk:
            return
        yield chunk


class _ExportReader:
    """Expat handlers that keep the supported records, a chunk of text at a time."""

    def __init__(self, name, wanted, chunk_records, minutes):
        self.name = name
        self.wanted = wanted
        self.chunk_records = chunk_records
        self.parser = None
        self.depth = 0
        self.root = None
        self.buffers = {c: [] for c in wanted}
        self.buffers.update(sleep=[], workout=[])
        self.minutes = minutes  # the samples, by channel and block of time (`ChannelMinutes`)
        self.source_records = {c: np.zeros(0, np.int64) for c in wanted}  # per source code
        self.asleep = []  # (wall start, wall end) chunks
        self.workouts = []  # (wall start, wall end, label) tuples
        self.sources = {}  # sourceName -> code
        self.records = {}  # short type name -> records read
        self.skipped = 0
        self.long_step_records = 0

    def parse(self, stream, bar):
        self.parser = parser = expat.ParserCreate()
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        try:
            for chunk in _xml_chunks(stream, self.name):
                parser.Parse(chunk.translate(_CONTROL), False)
                if bar is not None:
                    bar.update(len(chunk))
            parser.Parse(b"", True)
        except expat.ExpatError as err:
            raise DataError(f"{self.name} line {err.lineno}, column {err.offset + 1}: expected "
                            f"well-formed XML, {expat.ErrorString(err.code)}.") from None
        for key in list(self.buffers):
            self._flush(key)

    def _start(self, tag, attrs):
        self.depth += 1
        if self.depth != 2:
            if self.depth == 1:
                self.root = tag
                if tag != "HealthData":
                    raise DataError(f"{self.name} line {self.parser.CurrentLineNumber}: expected "
                                    f"an Apple Health export (root element <HealthData>), "
                                    f"received <{tag}>.")
            return
        if tag == "Workout":
            key, kind = "workout", "Workout"
            fields = ("workoutActivityType", "startDate", "endDate")
        elif tag != "Record":
            return
        else:
            kind = attrs.get("type")
            if kind is None:
                raise DataError(f"{self.name} line {self.parser.CurrentLineNumber}, <Record>: "
                                "expected the attribute 'type', received a record without it.")
            if kind == SLEEP_TYPE:
                key, fields = "sleep", ("sourceName", "startDate", "endDate", "value")
            elif kind in QUANTITY_TYPES and QUANTITY_TYPES[kind][0] in self.wanted:
                key = QUANTITY_TYPES[kind][0]
                fields = ("sourceName", "unit", "startDate", "endDate", "value")
            else:
                self.skipped += 1
                return
        line = self.parser.CurrentLineNumber
        row = [line]
        for field in fields:
            value = attrs.get(field)
            if value is None:
                raise DataError(f"{self.name} line {line}, <{tag}> {_short(kind)}: expected the "
                                f"attribute {field!r}, received a {tag.lower()} without it.")
            row.append(value)
        self.records[kind] = self.records.get(kind, 0) + 1
        buffer = self.buffers[key]
        buffer.append(row)
        if len(buffer) >= self.chunk_records:
            self._flush(key)

    def _end(self, tag):
        self.depth -= 1

    def _flush(self, key):
        rows = self.buffers[key]
        if not rows:
            return
        self.buffers[key] = []
        columns = list(zip(*rows))
        lines = np.asarray(columns[0], dtype=np.int64)
        label = {"sleep": "SleepAnalysis record", "workout": "Workout"}.get(key)
        if label is None:
            label = next(_short(k) for k, v in QUANTITY_TYPES.items() if v[0] == key) + " record"

        def where(i):
            return f"{self.name} line {lines[i]} ({label})"

        if key == "workout":
            start, end = self._interval(columns[2], columns[3], where)
            end = _ceil_minute(*end)
            for i, kind in enumerate(columns[1]):
                if not kind.startswith(_WORKOUT_PREFIX):
                    raise DataError(f"{where(i)}, attribute 'workoutActivityType': expected "
                                    f"an {_WORKOUT_PREFIX}... name, received {kind!r}.")
                self.workouts.append((int(start[0][i]), int(end[i]), workout_label(kind)))
        elif key == "sleep":
            start, end = self._interval(columns[2], columns[3], where)
            asleep = np.asarray([_asleep(v, where, i) for i, v in enumerate(columns[4])], bool)
            self.asleep.append((start[0][asleep], _ceil_minute(*end)[asleep]))
        else:
            self._quantities(key, columns, lines, where)

    def _quantities(self, channel, columns, lines, where):
        unit, factor = next((u, f) for c, u, f in QUANTITY_TYPES.values() if c == channel)
        units = np.asarray(columns[2], dtype=object)
        bad = np.flatnonzero(units != unit)
        if bad.size:
            i = int(bad[0])
            raise DataError(f"{where(i)}, attribute 'unit': expected {unit!r} for {channel}, "
                            f"received {units[i]!r}.")
        (wall, start), (_, end) = self._interval(columns[3], columns[4], where)
        value = _numbers(columns[5], where) * factor
        source = np.asarray([self.sources.setdefault(s, len(self.sources)) for s in columns[1]],
                            dtype=np.int64)
        if channel in SUM_CHANNELS:
            too_long = end - start > MINUTES_PER_DAY * 60_000
            self.long_step_records += int(too_long.sum())
            keep = ~too_long
            record, minute, wall, value = _spread(start[keep], end[keep], wall[keep],
                                                  value[keep])
            source, lines = source[keep][record], lines[keep][record]
        else:
            minute = start // 60_000
        count = np.bincount(source, minlength=len(self.sources))
        count[: self.source_records[channel].size] += self.source_records[channel]
        self.source_records[channel] = count
        # 20 bytes a sample: int32 minutes (until the year 6053) and lines, float32 values.
        self.minutes.add(channel, minute, minute=minute.astype(np.int32),
                         wall=wall.astype(np.int32), value=value.astype(np.float32),
                         source=source.astype(np.int32), line=lines.astype(np.int32))

    def _interval(self, start_text, end_text, where):
        """``((wall, absolute ms) of the starts, (wall, absolute ms) of the ends)``."""
        start = _dates(start_text, where, "startDate")
        end = _dates(end_text, where, "endDate")
        bad = np.flatnonzero(end[1] < start[1])
        if bad.size:
            i = int(bad[0])
            raise DataError(f"{where(i)}, attribute 'endDate': expected a date at or after "
                            f"startDate {start_text[i]!r}, received {end_text[i]!r}.")
        return start, end

    def to_days(self, schema, explicit, person, events, max_days, spill_dir):
        found = [c for c in schema.names if c in self.wanted
                 and (explicit or self.minutes.has(c))]
        if not any(self.minutes.has(c) for c in found):
            raise DataError(f"{self.name}: expected {', '.join(_short(k) for k in QUANTITY_TYPES)}"
                            f" records, found none ({self.skipped} record(s) of other types, "
                            f"{sum(self.records.values())} sleep or workout record(s)).")
        used = schema.select(found)
        names = sorted(self.sources, key=self.sources.get)
        sources, several = {}, {}
        for channel in used.names:
            if not self.minutes.has(channel):
                continue
            records = np.zeros(len(names), np.int64)
            records[: self.source_records[channel].size] = self.source_records[channel]
            several[channel] = 0
            sources[channel] = int(np.count_nonzero(records))
            for block in self.minutes.blocks(channel):
                keep, n = _one_source(block, channel in SUM_CHANNELS, names, records)
                several[channel] += n
                lines = block["line"][keep]
                self.minutes.keep(channel, block["wall"][keep], block["value"][keep], lines,
                                  lambda i: f"{self.name} line {lines[i]}, attribute 'value'")
        samples, dropped = self.minutes.samples(used)
        own = list(events.get(person, []))
        sleep = self._sleep_periods()
        workouts, duplicates = _distinct_workouts(self.workouts)
        own += [("sleep", "sleep", s, e) for s, e in sleep] + workouts
        days, counts = days_of_samples({person: samples}, used, {**events, person: own},
                                       max_days, spill_dir)
        summary = {"files": 1, "rows": int(sum(self.records.values())), **counts,
                   "implausible_values": dropped,
                   "records": dict(sorted((_short(k), n) for k, n in self.records.items())),
                   "sources": sources, "minutes_with_several_sources": several,
                   "sleep_periods": len(sleep), "workouts": len(workouts),
                   "duplicate_workouts": duplicates,
                   "step_records_over_a_day": self.long_step_records}
        summary["notes"] = _notes(summary)
        return days, summary

    def _sleep_periods(self):
        if not self.asleep:
            return []
        starts = np.concatenate([s for s, _ in self.asleep])
        ends = np.concatenate([e for _, e in self.asleep])
        periods = []
        for s, e in sorted(zip(starts.tolist(), ends.tolist())):
            if periods and s - periods[-1][1] < SLEEP_MERGE_GAP:
                periods[-1][1] = max(periods[-1][1], e)
            else:
                periods.append([s, e])
        return [(s, e) for s, e in periods if e - s >= SLEEP_MIN_MINUTES]


def workout_label(activity_type):
    """Activity label of an ``HKWorkoutActivityType...`` name: the captions' word where one
    matches (`WORKOUT_LABELS`), else the readable lowercase name (``StairClimbing`` ->
    ``"stair climbing"``)."""
    name = activity_type[len(_WORKOUT_PREFIX):]
    if name in WORKOUT_LABELS:
        return WORKOUT_LABELS[name]
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)
    return " ".join(w.lower() for w in words) or "workout"


def _short(kind):
    for prefix in ("HKQuantityTypeIdentifier", "HKCategoryTypeIdentifier"):
        if kind and kind.startswith(prefix):
            return kind[len(prefix):]
    return kind


def _dates(texts, where, field):
    """``(wall minutes, absolute ms)`` of Apple dates: `wall_clock`'s rule (the clock reading is
    the wall-clock time, the offset only gives the real time), parsed by NumPy in bulk (pandas'
    offset parsing takes 10 us a date, a minute for a few million records)."""
    for i, text in enumerate(texts):
        if not _DATE.fullmatch(text):
            raise DataError(f"{where(i)}, attribute {field!r}: expected a date such as "
                            f"{EXAMPLE_DATE!r}, received {text!r}.")
    clock = np.array([t[:19] for t in texts])
    try:
        seconds = clock.astype("datetime64[s]").astype(np.int64)
    except ValueError:
        for i, text in enumerate(texts):
            try:
                np.datetime64(text[:19].replace(" ", "T"), "s")
            except ValueError:
                raise DataError(f"{where(i)}, attribute {field!r}: expected a date such as "
                                f"{EXAMPLE_DATE!r}, received {text!r} (no such time).") from None
        raise
    sign = np.where(np.array([t[-5] for t in texts]) == "-", -1, 1)
    hours = np.array([t[-4:-2] for t in texts]).astype(np.int64)
    minutes = np.array([t[-2:] for t in texts]).astype(np.int64)
    offset = sign * (hours * 60 + minutes)
    return seconds // 60, (seconds - offset * 60) * 1000


def _ceil_minute(wall, absolute):
    """Exclusive wall-clock end minute of end dates (a partly covered minute counts)."""
    return wall + (absolute % 60_000 > 0)


def _numbers(texts, where):
    import pandas as pd

    value = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(value))
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{where(i)}, attribute 'value': expected a number, received "
                        f"{texts[i]!r}.")
    return value


def _asleep(value, where, i):
    stage = value[len(_SLEEP_VALUE):] if value.startswith(_SLEEP_VALUE) else None
    if stage in ("InBed", "Awake"):
        return False
    if stage is not None and stage.startswith("Asleep"):
        return True
    raise DataError(f"{where(i)}, attribute 'value': expected {_SLEEP_VALUE}InBed, Awake, "
                    f"Asleep, AsleepCore, AsleepDeep, AsleepREM or AsleepUnspecified, received "
                    f"{value!r}.")


def _spread(start, end, wall, count):
    """Counts over ``[start, end)`` (ms) spread over the real minutes they overlap, by overlap:
    ``(record index, real minute, wall-clock minute, share)`` per piece. A piece's wall-clock
    minute keeps its record's start offset."""
    first = start // 60_000
    last = np.maximum((end - 1) // 60_000, first)
    pieces = last - first + 1
    record = np.repeat(np.arange(start.size), pieces)
    minute = first[record] + np.arange(record.size) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    overlap = (np.minimum(end[record], (minute + 1) * 60_000)
               - np.maximum(start[record], minute * 60_000))
    length = (end - start)[record]
    share = np.where(length > 0, overlap / np.maximum(length, 1), 1.0)
    return record, minute, minute + (wall - first)[record], count[record] * share


def _one_source(part, sums, names, records):
    """``(keep, minutes with several sources)``: per real minute the samples of one source,
    the one with the largest sum (``sums``) or the most samples; ties go to the source with
    more samples of the channel over the export (``records``, per source code), then by
    name."""
    source = part["source"]
    by_name = np.argsort(np.argsort(np.asarray(names, dtype=object), kind="stable"))
    rank_order = np.lexsort((by_name, -records))
    rank = np.empty(records.size, dtype=np.int64)
    rank[rank_order] = np.arange(records.size)
    width = records.size
    key = part["minute"].astype(np.int64) * width + source
    unique, inverse = np.unique(key, return_inverse=True)
    score = np.bincount(inverse, weights=part["value"]) if sums else np.bincount(inverse)
    minute, code = unique // width, unique % width
    order = np.lexsort((rank[code], -score, minute))
    first = np.ones(order.size, dtype=bool)
    first[1:] = minute[order][1:] != minute[order][:-1]
    chosen = np.zeros(unique.size, dtype=bool)
    chosen[order[first]] = True
    several = int((np.bincount(np.cumsum(first) - 1) > 1).sum())
    return chosen[inverse], several


def _distinct_workouts(workouts):
    """``(events, duplicates)``: workouts as activity intervals, one of each group of
    same-label workouts that overlap by at least half of the later one's length."""
    kept, active, duplicates = [], [], 0
    for start, end, label in sorted(workouts, key=lambda w: (w[0], w[0] - w[1])):
        end = max(end, start + 1)
        active = [w for w in active if w[1] > start]
        if any(l == label and 2 * (min(end, e) - start) >= end - start for _, e, l in active):
            duplicates += 1
            continue
        active.append((start, end, label))
        kept.append(("activity", label, int(start), int(end)))
    return kept, duplicates


def _notes(summary):
    # No person id or source name (e.g. "Ann's Apple Watch"): the summary is stored in the
    # dataset's manifest, whose person ids are pseudonymised.
    notes = []
    for channel, count in summary["minutes_with_several_sources"].items():
        if count:
            rule = "most steps" if channel in SUM_CHANNELS else "most samples"
            notes.append(f"{channel}: {count} minute(s) recorded by several of its "
                         f"{summary['sources'][channel]} sources; kept the one with the {rule}")
    notes.append(f"{summary['sleep_periods']} sleep period(s), {summary['workouts']} workout(s)"
                 + (f" ({summary['duplicate_workouts']} duplicate(s) left out)"
                    if summary["duplicate_workouts"] else ""))
    if summary["step_records_over_a_day"]:
        notes.append(f"left out {summary['step_records_over_a_day']} step record(s) spanning "
                     "more than a day")
    return notes
