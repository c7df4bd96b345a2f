"""Importers of a researcher's own recordings: files -> `WearableDays` for `build_tfrecord_dataset`.

- `read_minute_tables` (``minute_table``): minute-level CSV / Parquet tables (or samples at any
  rate) of one or several people -> days; `TableReader` (``table_reader``) reads the files in
  chunks and checks them row by row.
- `read_event_log` (``event_log``): activities, sleep and moods as ``person,kind,label,start,end``.
- `wall_clock`: the day rule every importer follows (local wall-clock days; DST days handled).

`sensorlm data build` is the command-line entry point. pandas (and pyarrow for Parquet) are
imported inside the functions.
"""

from sensorlm_keras.data.importers.event_log import EVENT_COLUMNS, read_event_log
from sensorlm_keras.data.importers.minute_table import (
    TABLE_SUFFIXES,
    read_minute_tables,
    table_files,
)

__all__ = ["EVENT_COLUMNS", "TABLE_SUFFIXES", "read_event_log", "read_minute_tables", "table_files"]
