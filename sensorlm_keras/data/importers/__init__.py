"""Importers of a researcher's own recordings: files -> `WearableDays` for `build_tfrecord_dataset`.

- `read_minute_tables` (``minute_table``): minute-level CSV / Parquet tables (or samples at any
  rate) of one or several people -> days; `TableReader` (``table_reader``) reads the files in
  chunks and checks them row by row.
- `read_apple_health` (``apple_health``): an Apple Health ``export.xml`` / ``export.zip``.
- `read_fitbit_takeout` (``fitbit_takeout``): a Fitbit export from Google Takeout.
- `read_event_log` (``event_log``): activities, sleep and moods as ``person,kind,label,start,end``.
- `wall_clock`: the day rule every importer follows (local wall-clock days; DST days handled);
  `minute_table.days_of_samples` is the one place that puts values on minutes and cuts days.

`sensorlm data build` is the command-line entry point. pandas (and pyarrow for Parquet) are
imported inside the functions.
"""

from sensorlm_keras.data.importers.apple_health import read_apple_health
from sensorlm_keras.data.importers.event_log import EVENT_COLUMNS, read_event_log
from sensorlm_keras.data.importers.fitbit_takeout import read_fitbit_takeout
from sensorlm_keras.data.importers.minute_table import (
    TABLE_SUFFIXES,
    read_minute_tables,
    table_files,
)

__all__ = ["EVENT_COLUMNS", "TABLE_SUFFIXES", "read_apple_health", "read_event_log",
           "read_fitbit_takeout", "read_minute_tables", "table_files"]
