"""Readers of device file formats: each turns one export into a `Recording` of epochs.

- `parse_awd` (``awd``): CamNtech / Philips ``.AWD`` activity files.
- `parse_actiware_csv` (``actiware_csv``): Philips Actiware epoch-by-epoch ``.csv`` exports.
- `parse_axivity_timeseries` (``axivity``): Axivity ``*-timeSeries.csv.gz``.

`reader_for` picks the reader from a file name. Turning a `Recording` into calendar days is
`preprocessing.recording_days`; readers only parse. pandas is imported inside the readers.
"""

import os

from sensorlm_keras.data.readers.actiware_csv import parse_actiware_csv
from sensorlm_keras.data.readers.awd import parse_awd
from sensorlm_keras.data.readers.axivity import parse_axivity_timeseries
from sensorlm_keras.data.readers.recording import Recording

SUPPORTED_FORMATS = ".AWD, Actiware rpx .csv, Axivity timeSeries.csv.gz"


def reader_for(path):
    """The reader of a file, from its name, or None when no reader handles it."""
    name = os.path.basename(path).lower()
    if name.endswith(".awd"):
        return parse_awd
    if name.endswith("timeseries.csv.gz"):
        return parse_axivity_timeseries
    # Actiware exports are named *rpx*.csv; the pyActigraphy sample export is test_sample.csv.
    if name.endswith(".csv") and ("rpx" in name or name == "test_sample.csv"):
        return parse_actiware_csv
    return None


__all__ = [
    "SUPPORTED_FORMATS",
    "Recording",
    "parse_actiware_csv",
    "parse_awd",
    "parse_axivity_timeseries",
    "reader_for",
]
