"""Axivity ``*-timeSeries.csv.gz`` (biobankAccelerometerAnalysis output)."""

import os

import numpy as np

from sensorlm_keras.data.readers.recording import Recording, on_epoch_grid
from sensorlm_keras.errors import DataError


def parse_axivity_timeseries(path):
    """Parse an Axivity ``*-timeSeries.csv.gz`` into a `Recording`.

    Columns: ``time`` (``2014-05-07 13:29:50.439000+0100 [Europe/London]``, read as local
    wall-clock time), ``acc`` in milli-g and class probabilities ``sleep``, ``sedentary``,
    ``light``, ``moderate-vigorous``. Epochs without ``acc`` are excluded (non-wear).
    """
    import pandas as pd

    table = pd.read_csv(path)
    for column in ("time", "acc"):
        if column not in table.columns:
            raise DataError(
                f"{path!r}: column {column!r} not found; columns are {list(table.columns)}."
            )
    # "2014-05-07 13:29:50.439000+0100 [Europe/London]": keep the local wall-clock time.
    local = table["time"].astype(str).str.slice(0, 19)
    stamps = pd.to_datetime(local, format="%Y-%m-%d %H:%M:%S").to_numpy().astype("datetime64[s]")
    offsets = (stamps - stamps[0]).astype(np.int64)
    epoch = int(np.median(np.diff(offsets))) if len(offsets) > 1 else 30
    index = np.round(offsets / epoch).astype(np.int64)
    n = int(index[-1]) + 1

    def column(name):
        if name not in table.columns:
            return None
        return on_epoch_grid(table[name].to_numpy(dtype=np.float64), index, n, np.nan)

    acc = column("acc")
    return Recording(
        name=os.path.basename(path).split(".")[0],
        source=os.path.basename(path),
        start=stamps[0],
        epoch_seconds=epoch,
        activity=acc,
        activity_kind="mg",
        excluded=~np.isfinite(acc),
        sleep=column("sleep"),
        mvpa=column("moderate-vigorous"),
    )
