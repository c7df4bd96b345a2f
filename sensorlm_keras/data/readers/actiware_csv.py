"""Philips Actiware epoch-by-epoch ``.csv`` exports (English, French or German)."""

import io
import os

import numpy as np

from sensorlm_keras.data.readers.recording import Recording, on_epoch_grid
from sensorlm_keras.data.readers.text_fields import parse_numbers
from sensorlm_keras.errors import DataError

# Column key -> header names in the export languages (lower case).
CSV_COLUMNS = {
    "date": ("date", "datum"),
    "time": ("time", "heure", "zeit"),
    "activity": ("activity", "activité", "aktivität"),
    "light": ("white light", "lumière blanche", "weißes licht"),
    "sleep_wake": ("sleep/wake", "sommeil/éveil", "schlaf/wach"),
    "status": (
        "interval status",
        "statut de l’intervalle",
        "statut de l'intervalle",
        "intervallstatus",
    ),
    "off_wrist": ("off-wrist status",),
}
_TIMESTAMP_FORMATS = ("%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S",
                      "%Y-%m-%d %H:%M:%S")


def parse_actiware_csv(path):
    """Parse a Philips Actiware epoch-by-epoch ``.csv`` export into a `Recording`.

    The export starts with summary sections; the epoch table is the last block whose header
    starts with ``Line`` (``Ligne``, ``Zeile``) and has an activity column. Device sleep
    scoring comes from the interval status (``REST-S``, ``S-...``), exclusion from the
    ``EXCLUDED`` intervals and the off-wrist column.
    """
    table, header = _epoch_table(path)
    cols = {k: _find_column(header, k) for k in CSV_COLUMNS}
    for key in ("date", "time", "activity"):
        if cols[key] is None:
            raise DataError(f"{path!r}: column {key!r} not found in the header {header}.")
    stamps = _parse_timestamps(
        table.iloc[:, cols["date"]].str.strip().tolist(),
        table.iloc[:, cols["time"]].str.strip().tolist(),
    )
    epoch = int(np.median(np.diff(stamps).astype(np.int64))) if len(stamps) > 1 else 60
    excluded = np.zeros(len(table), dtype=bool)
    sleep = None
    if cols["status"] is not None:
        status = table.iloc[:, cols["status"]].str.strip().str.upper()
        sleep = (status.str.endswith("-S") | status.str.startswith("S-")).to_numpy()
        excluded |= status.str.startswith(("EXCL", "AUSGESCHLOSSEN")).to_numpy()
    if cols["off_wrist"] is not None:
        excluded |= parse_numbers(table.iloc[:, cols["off_wrist"]]) == 1
    # Stamps must be a regular grid for the minute resampling.
    offsets = (stamps - stamps[0]).astype(np.int64)
    if (offsets % epoch).any() or (np.diff(offsets) <= 0).any():
        raise DataError(f"{path!r}: epochs are not on a regular {epoch}-second grid.")
    index, n = offsets // epoch, int(offsets[-1] // epoch) + 1
    light = None if cols["light"] is None else parse_numbers(table.iloc[:, cols["light"]])
    return Recording(
        name=os.path.splitext(os.path.basename(path))[0],
        source=os.path.basename(path),
        start=stamps[0],
        epoch_seconds=epoch,
        activity=on_epoch_grid(parse_numbers(table.iloc[:, cols["activity"]]), index, n, np.nan),
        activity_kind="counts",
        light=None if light is None else on_epoch_grid(light, index, n, np.nan),
        excluded=on_epoch_grid(excluded, index, n, True),
        sleep=None if sleep is None else on_epoch_grid(sleep, index, n, False),
    )


def _epoch_table(path):
    """The epoch-by-epoch table as strings (numbered rows only) and its header."""
    import pandas as pd

    with open(path, encoding="utf-8-sig", errors="replace") as f:
        lines = f.read().splitlines()
    header_index = None
    for i, line in enumerate(lines):
        first = line.split(",")[0].strip().strip('"').lower()
        if (
            first in ("line", "ligne", "zeile")
            and _find_column(line.split(","), "activity") is not None
        ):
            header_index = i
    if header_index is None:
        raise DataError(f"{path!r}: no epoch-by-epoch table (header 'Line,...,Activity') found.")
    table = pd.read_csv(
        io.StringIO("\n".join(lines[header_index:])),
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=True,
        index_col=False,
    )
    header = list(table.columns)
    table = table[table.iloc[:, 0].str.strip().str.fullmatch(r"\d+")]
    if table.empty:
        raise DataError(f"{path!r}: the epoch-by-epoch table has no rows.")
    return table, header


def _find_column(header, key):
    names = [h.strip().strip('"').lower() for h in header]
    for candidate in CSV_COLUMNS[key]:
        if candidate in names:
            return names.index(candidate)
    if key == "off_wrist":
        for i, n in enumerate(names):
            if "handgelenk" in n or "off-wrist" in n or "poignet" in n:
                return i
    return None


def _parse_timestamps(dates, times):
    """Day-first or month-first, whichever gives a regular, increasing time axis."""
    import pandas as pd

    text = pd.Series(dates, dtype=object) + " " + pd.Series(times, dtype=object)
    best = None
    for fmt in _TIMESTAMP_FORMATS:
        try:
            stamps = pd.to_datetime(text, format=fmt).to_numpy().astype("datetime64[s]")
        except ValueError:
            continue
        steps = np.diff(stamps).astype(np.int64)
        if steps.size == 0 or (steps > 0).all() and np.unique(steps).size == 1:
            return stamps
        if best is None:
            best = stamps
    if best is None:
        raise DataError(f"Actiware CSV: unreadable dates, e.g. {dates[0]!r} {times[0]!r}.")
    return best
