"""`write_actigraphy_tables`: the loaded actigraphy recordings as a minute table and an event
log, the files a researcher's own recordings arrive as (`sensorlm data build`'s inputs)."""

import os

import numpy as np

from sensorlm_keras.data.event import MINUTES_PER_DAY
from sensorlm_keras.utils.atomic_io import atomic_write_text

TABLE_CHANNELS = ("steps", "wrist_temperatures")
"""The channels the recordings fill (`load_actigraphy_days`); a channel no day observes is
left out of the table."""


def write_actigraphy_tables(days, out_dir):
    """Write ``minutes.csv`` and ``events.csv`` of `load_actigraphy_days`' days into ``out_dir``.

    ``minutes.csv``: ``timestamp,person,steps[,wrist_temperatures]``, one row per minute of each
    kept day (blank = missing), the person being the recording's file name (two recordings
    never merge, even when their files share a stem). ``events.csv``: the recordings' sleep
    and activity intervals (``info["event_log"]``), an interval over 24 hours cut to 24 hours
    (the event log's limit). Both files are written atomically.

    Args:
        days: `WearableDays` from `load_actigraphy_days`.
        out_dir: folder to write into (created if needed).

    Returns:
        dict of what was written: ``minutes``, ``events_file`` (paths), ``rows``, ``people``,
        ``days``, ``channels``, ``events``, ``events_by_kind``.

    Example:

    ```python
    from sensorlm_keras.data.actigraphy import load_actigraphy_days
    from sensorlm_keras.data.actigraphy.tables import write_actigraphy_tables

    summary = write_actigraphy_tables(load_actigraphy_days(), "data/actigraphy_tables")
    # then: sensorlm data build --input data/actigraphy_tables/minutes.csv
    #       --events data/actigraphy_tables/events.csv --out data/actigraphy
    ```
    """
    import pandas as pd

    channels = [c for c in TABLE_CHANNELS
                if c in days.schema and np.isfinite(days.raw[..., days.schema.index(c)]).any()]
    minute = np.arange(MINUTES_PER_DAY).astype("timedelta64[m]")
    stamps = (days.info["date"].astype("datetime64[D]").astype("datetime64[m]")[:, None]
              + minute[None, :])
    frame = pd.DataFrame({
        "timestamp": np.datetime_as_string(stamps.ravel(), unit="m"),
        "person": np.repeat(days.info["source"], MINUTES_PER_DAY),
    })
    for name in channels:
        frame[name] = days.raw[..., days.schema.index(name)].ravel()
    os.makedirs(out_dir, exist_ok=True)
    minutes_path = os.path.join(out_dir, "minutes.csv")
    atomic_write_text(minutes_path, frame.to_csv(index=False, float_format="%.4g"))
    people = set(days.info["source"])
    rows = [_within_a_day(row) for row in days.info["event_log"] if row[0] in people]
    events = pd.DataFrame(rows, columns=["person", "kind", "label", "start", "end"])
    events_path = os.path.join(out_dir, "events.csv")
    atomic_write_text(events_path, events.to_csv(index=False))
    return {"minutes": minutes_path, "events_file": events_path, "rows": len(frame),
            "people": len(people), "days": len(days), "channels": channels,
            "events": len(events), "events_by_kind": events["kind"].value_counts().to_dict()}


def _within_a_day(row):
    person, kind, label, start, end = row
    last = np.datetime64(start, "m") + np.timedelta64(MINUTES_PER_DAY, "m")
    return person, kind, label, start, str(min(np.datetime64(end, "m"), last))
