"""CamNtech / Philips ``.AWD`` activity files: 7 header lines, then one epoch per line."""

import contextlib
import datetime
import os

import numpy as np

from sensorlm_keras.data.readers.recording import Recording
from sensorlm_keras.data.readers.text_fields import parse_numbers
from sensorlm_keras.errors import DataError

# CamNtech AWD epoch codes -> seconds.
AWD_EPOCHS = {"1": 15, "2": 30, "4": 60, "8": 120, "20": 300, "81": 2, "C4": 5}


def parse_awd(path):
    """Parse a CamNtech/Philips ``.AWD`` file into a `Recording`.

    The header holds the name, start date (``23-Jan-2020``), start time, epoch code (see
    `AWD_EPOCHS`), age and the device serial; each epoch line is
    ``count[ , light-or-temperature][ M]`` (``M`` marks an event button press). Actiwatch
    ``T`` models (serial starting with ``T``) record temperature, the others light.
    """
    with open(path, encoding="latin-1") as f:
        lines = [line.rstrip("\r\n") for line in f]
    if len(lines) < 8:
        raise DataError(
            f"{path!r}: an AWD file needs 7 header lines and data, received {len(lines)} lines."
        )
    try:
        date = datetime.datetime.strptime(lines[1].strip(), "%d-%b-%Y").date()
    except ValueError:
        raise DataError(f"{path!r}: unreadable AWD start date {lines[1]!r}.") from None
    clock = _parse_clock(lines[2])
    code = lines[3].strip()
    if code not in AWD_EPOCHS:
        raise DataError(
            f"{path!r}: unknown AWD epoch code {code!r}; known codes {sorted(AWD_EPOCHS)}."
        )
    serial = lines[5].strip()
    rows = [line.replace("M", " ").split(",") for line in lines[7:] if line.strip()]
    counts = parse_numbers(parts[0] for parts in rows)
    second = parse_numbers(parts[1] if len(parts) > 1 else "" for parts in rows)
    has_second = np.isfinite(second).any()
    is_temperature = serial.upper().startswith("T")
    return Recording(
        name=os.path.splitext(os.path.basename(path))[0],
        source=os.path.basename(path),
        start=np.datetime64(datetime.datetime.combine(date, clock), "s"),
        epoch_seconds=AWD_EPOCHS[code],
        activity=counts,
        activity_kind="counts",
        light=second if has_second and not is_temperature else None,
        temperature=second if has_second and is_temperature else None,
    )


def _parse_clock(text):
    text = text.strip()
    for fmt in ("%H:%M", "%H:%M:%S", "%I:%M:%S %p", "%I:%M %p"):
        with contextlib.suppress(ValueError):
            return datetime.datetime.strptime(text, fmt).time()
    raise DataError(f"AWD header: unreadable start time {text!r}.")
