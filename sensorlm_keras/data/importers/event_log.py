"""`read_event_log`: a CSV of logged activities, sleep periods and moods, per person."""

import os

import numpy as np

from sensorlm_keras.data.event import EVENT_KINDS, MINUTES_PER_DAY
from sensorlm_keras.data.importers.wall_clock import wall_clock_minutes
from sensorlm_keras.errors import DataError

EVENT_COLUMNS = ("person", "kind", "label", "start", "end")


def read_event_log(path):
    """Read an event log: CSV ``person,kind,label,start,end``, one logged event a line.

    ``kind`` is ``activity``, ``sleep`` or ``mood``; ``start`` and ``end`` are timestamps read
    at their local wall-clock time (see `wall_clock`); ``end`` is exclusive (an activity from
    07:00 to 07:40 covers 40 minutes) and may be empty for a mood (a point event). A sleep period
    may cross midnight; it is then an event of both days. The events become the days' `Event`
    lists (semantic captions) and each day's activity label is its longest logged activity
    (the label evaluation uses).

    Args:
        path: the CSV file.

    Returns:
        dict ``person id -> list of (kind, label, start, end)``: wall-clock minutes since
        1970-01-01, ``end`` exclusive, in file order.

    Raises:
        DataError: missing columns, unknown kinds, empty labels, unparsable timestamps, an end
            before its start or an event over 24 hours; the message names the file, the line
            and the field.

    Example:

    ```python
    from sensorlm_keras.data.importers import read_event_log

    # events.csv:
    # person,kind,label,start,end
    # p01,activity,run,2024-05-01 07:00,2024-05-01 07:40
    events = read_event_log("events.csv")
    events["p01"]   # [("activity", "run", 28575780, 28575820)]: minutes since 1970
    ```
    """
    import pandas as pd

    name = os.path.basename(os.fspath(path))
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as err:
        raise DataError(f"{name}: expected an event log CSV, could not read it ({err}).") from None
    missing = [c for c in EVENT_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{name}: expected the columns {list(EVENT_COLUMNS)}, missing {missing}; received "
            f"{list(frame.columns)[:10]}."
        )

    def where(row):
        return f"{name} line {row + 2}"

    for field in ("person", "label"):
        empty = frame[field].str.strip() == ""
        if empty.any():
            row = int(np.flatnonzero(empty.to_numpy())[0])
            raise DataError(f"{where(row)}, column {field!r}: expected a value, received ''.")
    kinds = frame["kind"].str.strip().str.lower()
    unknown = ~kinds.isin(EVENT_KINDS)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(f"{where(row)}, column 'kind': expected one of {list(EVENT_KINDS)}, "
                        f"received {frame['kind'].iloc[row]!r}.")
    if frame.empty:
        return {}
    start, _, _ = wall_clock_minutes(frame["start"], where, "start")
    end_text = frame["end"].where(frame["end"].str.strip() != "", frame["start"])
    point = (frame["end"].str.strip() == "").to_numpy()
    if (point & (kinds != "mood").to_numpy()).any():
        row = int(np.flatnonzero(point & (kinds != "mood").to_numpy())[0])
        raise DataError(f"{where(row)}, column 'end': expected an end time for a "
                        f"{kinds.iloc[row]} event, received ''.")
    end, _, _ = wall_clock_minutes(end_text, where, "end")
    end = np.where(point, start + 1, end)
    return _by_person(frame, kinds, start, end, where)


def _by_person(frame, kinds, start, end, where):
    events = {}
    for row in range(len(frame)):
        kind = kinds.iloc[row]
        if kind == "mood":
            end[row] = start[row] + 1  # a mood log is the minute it was logged
        length = int(end[row] - start[row])
        if length < 1:
            raise DataError(f"{where(row)}, column 'end': expected a time after start "
                            f"{frame['start'].iloc[row]!r}, received {frame['end'].iloc[row]!r}.")
        if length > MINUTES_PER_DAY:
            raise DataError(f"{where(row)}, column 'end': expected an event of at most 24 hours, "
                            f"received {length} minutes.")
        person = frame["person"].iloc[row].strip()
        events.setdefault(person, []).append(
            (kind, frame["label"].iloc[row].strip(), int(start[row]), int(end[row]))
        )
    return events
