"""Device recordings -> minute series -> calendar days, and interval events per day.

A `Recording` (see `readers`) holds epochs of any length from 2 seconds to several minutes.
`to_minutes` puts it on a minute grid, `on_days` cuts a minute series into local
midnight-to-midnight days, `runs` finds intervals (e.g. scored sleep) in a per-minute flag and
`events_of_day` turns intervals into the `Event` list of one day. NumPy only.
"""

import numpy as np

from sensorlm_keras.data.event import MINUTES_PER_DAY, Event
from sensorlm_keras.errors import DataError

# Per-epoch series of a `Recording` besides ``activity`` that are resampled as means.
_MEAN_SERIES = ("light", "temperature", "sleep", "mvpa")


def to_minutes(rec):
    """Resample a recording to a minute grid starting at the minute of its first epoch.

    Epochs of up to a minute are averaged per minute (activity counts are then scaled to
    counts per minute; a minute is excluded when at least half of its epochs are); longer
    epochs are repeated over their minutes (counts divided evenly).

    Returns:
        ``(first_minute, minutes)``: ``datetime64[m]`` of the first minute and a dict of
        per-minute float arrays (``activity`` and those of ``light``, ``temperature``,
        ``sleep``, ``mvpa`` the recording has; ``excluded`` as booleans).
    """
    first = rec.start.astype("datetime64[m]")
    offset = int((rec.start - first.astype("datetime64[s]")).astype(np.int64))
    e = rec.epoch_seconds
    seconds = offset + np.arange(rec.activity.size) * e
    if e <= 60:
        return first, _minute_means(rec, seconds // 60, 60.0 / e)
    if e % 60:
        raise DataError(f"{rec.source}: epoch of {e} s is not a multiple of a minute.")
    repeat = e // 60
    activity = np.repeat(rec.activity, repeat)
    out = {"activity": activity / repeat if rec.activity_kind == "counts" else activity}
    for key in _MEAN_SERIES:
        value = getattr(rec, key)
        if value is not None:
            out[key] = np.repeat(np.asarray(value, dtype=np.float64), repeat)
    if rec.excluded is not None:
        out["excluded"] = np.repeat(rec.excluded, repeat)
    return first, out


def _minute_means(rec, minute, epochs_per_minute):
    n = int(minute[-1]) + 1

    def mean(x):
        x = np.asarray(x, dtype=np.float64)
        ok = np.isfinite(x)
        total = np.bincount(minute[ok], weights=x[ok], minlength=n)
        count = np.bincount(minute[ok], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    activity = mean(rec.activity)
    if rec.activity_kind == "counts":
        activity = activity * epochs_per_minute  # counts per minute from the valid epochs
    out = {"activity": activity}
    for key in _MEAN_SERIES:
        value = getattr(rec, key)
        if value is not None:
            out[key] = mean(np.asarray(value, dtype=np.float64))
    if rec.excluded is not None:
        out["excluded"] = mean(rec.excluded.astype(np.float64)) >= 0.5
    return out


def runs(flag, min_length, max_gap):
    """``[start, end)`` runs of True of at least ``min_length``, merging gaps of at most
    ``max_gap`` minutes."""
    flag = np.asarray(flag, dtype=bool)
    if not flag.any():
        return []
    padded = np.concatenate([[False], flag, [False]])
    change = np.flatnonzero(np.diff(padded.astype(np.int8)))
    found = list(zip(change[::2], change[1::2]))
    merged = [list(found[0])]
    for start, end in found[1:]:
        if start - merged[-1][1] <= max_gap:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(int(s), int(e)) for s, e in merged if e - s >= min_length]


def on_days(values, lead, num_days):
    """Place a minute series starting ``lead`` minutes after midnight on a (days, 1440) grid."""
    out = np.full(num_days * MINUTES_PER_DAY, np.nan, dtype=np.float64)
    out[lead : lead + values.size] = values
    return out.reshape(num_days, MINUTES_PER_DAY)


def events_of_day(intervals, d):
    """Events of day ``d`` from ``(kind, label, start, end)`` minute intervals counted from
    midnight of day 0 (``end`` exclusive), and the label of its longest activity (``"none"``
    without one; moods and sleep are never the label).

    A sleep interval keeps its wrap around midnight (at most 24 h); an activity is cut to the
    part inside the day. Events are in the order of their first minute inside the day.
    """
    base = d * MINUTES_PER_DAY
    found = []
    longest, longest_len = "none", 0
    for kind, label, start, end in intervals:
        if start >= base + MINUTES_PER_DAY or end <= base:
            continue
        if kind == "sleep":
            end = min(end, start + MINUTES_PER_DAY - 1)  # a sleep event covers < 24 h
            event = Event(kind, label, start % MINUTES_PER_DAY, (end - 1) % MINUTES_PER_DAY)
        else:  # activities must not wrap: keep the part inside this day
            s, e = max(start, base), min(end, base + MINUTES_PER_DAY)
            event = Event(kind, label, s - base, e - 1 - base)
            if kind == "activity" and e - s > longest_len:
                longest, longest_len = label, e - s
        found.append((max(start - base, 0), event))
    found.sort(key=lambda item: item[0])
    return [event for _, event in found], longest
