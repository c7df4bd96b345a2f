"""Real day-long actigraphy recordings (from the ``pyActigraphy==1.2.2`` wheel) as person-days.

The ``pyActigraphy`` wheel on PyPI carries real minute-level actigraphy exports in
``pyActigraphy/tests/data/``: CamNtech/Philips ``.AWD`` files, Philips Actiware ``.csv`` exports
(English, French, German; with device sleep/wake scoring and rest intervals) and an Axivity
``timeSeries.csv.gz`` (acceleration with sleep / sedentary / light / moderate-vigorous classes).
The package is GPL-3, so nothing of it is copied into this repository: on first use the wheel is
fetched with ``pip download --no-deps`` into a user cache (``~/.cache/sensorlm_keras/pyactigraphy``
or ``$SENSORLM_CACHE/pyactigraphy``), its checksum is verified and the data files are extracted
there. The files are parsed here with pandas/NumPy (no pyActigraphy code is imported or used).

Mapping into the channel schema: activity counts (or Axivity acceleration) become the ``steps``
channel through a monotone, approximate calibration (walking ~ 100 steps/min), a temperature
column (Actiwatch ``T`` models) becomes ``wrist_temperatures``; every other channel is NaN
(missing, so it is masked after preprocessing). Light, when present, is returned in
``info["light"]`` (the schema has no light channel). Recordings are cut into calendar days at
local midnight; device sleep scoring becomes ``sleep`` events, Axivity moderate-to-vigorous
bouts become ``activity`` events; for AWD files (no scoring) sleep is inferred with a simple
rest heuristic when ``infer_sleep=True``.

Note: with 33 of 34 channels missing, a day's missing ratio is above 0.97; preprocess with a
schema restricted to the observed channels (``schema.select(["steps"])``) or with
``missing_threshold=1.0``.
"""

import contextlib
import dataclasses
import datetime
import glob
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

from sensorlm_keras.utils.atomic_io import atomic_write_text
from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.data.event import MINUTES_PER_DAY, Event
from sensorlm_keras.data.wearable_days import WearableDays
from sensorlm_keras.errors import ConfigError, DataError, SensorLMError, describe

PYACTIGRAPHY_REQUIREMENT = "pyActigraphy==1.2.2"
PYACTIGRAPHY_WHEEL = "pyActigraphy-1.2.2-py3-none-any.whl"
PYACTIGRAPHY_WHEEL_SHA256 = "3199b8dde42f044f887f11ca333f60e85c4213dcc5bde742a4ecd2ca2c4d8e7f"
CACHE_ENV_VAR = "SENSORLM_CACHE"
_DATA_PREFIX = "pyActigraphy/tests/data/"
_DATA_DIRNAME = "pyActigraphy-1.2.2-data"
_COMPLETE_MARKER = ".complete"

# Approximate, monotone calibration of device activity to steps per minute: activity counts are
# scaled per recording (count units differ between Actiwatch models) so that the 95th percentile
# of the moving minutes is brisk walking; runs of >= 4 h of exact zeros count as non-wear.
# Axivity acceleration (mg, ENMO-like) uses a fixed slope (150-300 mg -> ~70-145 steps/min).
STEPS_AT_P95 = 110.0
AXIVITY_MG_PER_STEP = 2.0
MAX_STEPS_PER_MINUTE = 250.0
NON_WEAR_ZERO_MINUTES = 240

# CamNtech AWD epoch codes -> seconds.
_AWD_EPOCHS = {"1": 15, "2": 30, "4": 60, "8": 120, "20": 300, "81": 2, "C4": 5}


class ActigraphyUnavailableError(SensorLMError, RuntimeError):
    """The pyActigraphy wheel could not be downloaded (no network or registry unreachable)."""


# ---------------------------------------------------------------------------- download / cache
def actigraphy_cache_dir(cache_dir=None):
    """The cache directory: the argument, else ``$SENSORLM_CACHE/pyactigraphy``, else
    ``~/.cache/sensorlm_keras/pyactigraphy``."""
    if cache_dir is not None:
        return os.path.abspath(os.fspath(cache_dir))
    root = os.environ.get(CACHE_ENV_VAR)
    if root:
        return os.path.join(os.path.abspath(root), "pyactigraphy")
    return os.path.join(os.path.expanduser("~"), ".cache", "sensorlm_keras", "pyactigraphy")


def fetch_actigraphy_files(cache_dir=None, timeout=600):
    """Download ``pyActigraphy==1.2.2`` (``pip download --no-deps``) once and extract its test
    recordings into the cache; returns the directory holding them.

    Raises:
        ActigraphyUnavailableError: pip could not fetch the wheel (message includes pip's error).
        DataError: the downloaded wheel does not have the expected SHA-256.
    """
    cache = actigraphy_cache_dir(cache_dir)
    data_dir = os.path.join(cache, _DATA_DIRNAME)
    if os.path.isfile(os.path.join(data_dir, _COMPLETE_MARKER)):
        return data_dir
    os.makedirs(cache, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as tmp:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "--no-input",
            "--only-binary=:all:",
            PYACTIGRAPHY_REQUIREMENT,
            "-d",
            tmp,
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ActigraphyUnavailableError(
                f"Could not download {PYACTIGRAPHY_REQUIREMENT} with pip ({error}); the real "
                "actigraphy recordings need access to the Python package registry."
            ) from None
        wheel = os.path.join(tmp, PYACTIGRAPHY_WHEEL)
        if result.returncode != 0 or not os.path.isfile(wheel):
            tail = (result.stderr or result.stdout or "").strip().splitlines()[-3:]
            raise ActigraphyUnavailableError(
                f"`pip download --no-deps {PYACTIGRAPHY_REQUIREMENT}` failed (exit code "
                f"{result.returncode}): {' | '.join(tail)}. The real actigraphy recordings need "
                "access to the Python package registry."
            )
        digest = hashlib.sha256(open(wheel, "rb").read()).hexdigest()
        if digest != PYACTIGRAPHY_WHEEL_SHA256:
            raise DataError(
                f"{PYACTIGRAPHY_WHEEL}: SHA-256 expected {PYACTIGRAPHY_WHEEL_SHA256}, received "
                f"{digest}; refusing to use it."
            )
        staging = os.path.join(tmp, "data")
        os.makedirs(staging)
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                name = member[len(_DATA_PREFIX) :]
                if not member.startswith(_DATA_PREFIX) or not name or "/" in name:
                    continue
                with archive.open(member) as src, open(os.path.join(staging, name), "wb") as dst:
                    shutil.copyfileobj(src, dst)
        atomic_write_text(
            os.path.join(staging, _COMPLETE_MARKER),
            f"{PYACTIGRAPHY_REQUIREMENT} sha256={digest}\n",
        )
        if os.path.isdir(data_dir):  # an incomplete earlier attempt
            shutil.rmtree(data_dir)
        os.replace(staging, data_dir)
    return data_dir


# ---------------------------------------------------------------------------- recordings
@dataclasses.dataclass
class _Recording:
    name: str
    source: str
    start: np.datetime64  # local clock time of the first epoch (seconds)
    epoch_seconds: int
    activity: np.ndarray  # per epoch; counts (sum-like) or acceleration (mean-like)
    activity_kind: str  # "counts" or "mg"
    light: np.ndarray = None
    temperature: np.ndarray = None
    excluded: np.ndarray = None  # bool per epoch: off-wrist / excluded
    sleep: np.ndarray = None  # bool/float per epoch: device-scored sleep
    mvpa: np.ndarray = None  # float per epoch: moderate-to-vigorous class


def _float(text):
    text = str(text).strip().strip('"').strip()
    if not text or text.upper() in ("NAN", "NA", "N/A", "KZ"):
        return np.nan
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return np.nan


def _parse_clock(text):
    text = text.strip()
    for fmt in ("%H:%M", "%H:%M:%S", "%I:%M:%S %p", "%I:%M %p"):
        with contextlib.suppress(ValueError):
            return datetime.datetime.strptime(text, fmt).time()
    raise DataError(f"AWD header: unreadable start time {text!r}.")


def parse_awd(path):
    """Parse a CamNtech/Philips ``.AWD`` file (7 header lines, then one epoch per line:
    ``count[ , light-or-temperature][ M]``)."""
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
    if code not in _AWD_EPOCHS:
        raise DataError(
            f"{path!r}: unknown AWD epoch code {code!r}; known codes {sorted(_AWD_EPOCHS)}."
        )
    serial = lines[5].strip()
    counts, second = [], []
    for line in lines[7:]:
        if not line.strip():
            continue
        parts = line.replace("M", " ").split(",")
        counts.append(_float(parts[0]))
        second.append(_float(parts[1]) if len(parts) > 1 else np.nan)
    counts = np.asarray(counts, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    has_second = np.isfinite(second).any()
    is_temperature = serial.upper().startswith("T")
    start = np.datetime64(datetime.datetime.combine(date, clock), "s")
    return _Recording(
        name=os.path.splitext(os.path.basename(path))[0],
        source=os.path.basename(path),
        start=start,
        epoch_seconds=_AWD_EPOCHS[code],
        activity=counts,
        activity_kind="counts",
        light=second if has_second and not is_temperature else None,
        temperature=second if has_second and is_temperature else None,
    )


_CSV_COLUMNS = {
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


def _find_column(header, key):
    names = [h.strip().strip('"').lower() for h in header]
    for candidate in _CSV_COLUMNS[key]:
        if candidate in names:
            return names.index(candidate)
    if key == "off_wrist":
        for i, n in enumerate(names):
            if "handgelenk" in n or "off-wrist" in n or "poignet" in n:
                return i
    return None


def _parse_dates(dates, times):
    """Day-first or month-first, whichever gives a regular, increasing time axis."""
    best = None
    for fmt in ("%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            stamps = np.array(
                [datetime.datetime.strptime(f"{d} {t}", fmt) for d, t in zip(dates, times)],
                dtype="datetime64[s]",
            )
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


def parse_actiware_csv(path):
    """Parse a Philips Actiware epoch-by-epoch ``.csv`` export (English, French or German)."""
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
    cols = {k: _find_column(header, k) for k in _CSV_COLUMNS}
    for key in ("date", "time", "activity"):
        if cols[key] is None:
            raise DataError(f"{path!r}: column {key!r} not found in the header {header}.")
    stamps = _parse_dates(
        table.iloc[:, cols["date"]].str.strip().tolist(),
        table.iloc[:, cols["time"]].str.strip().tolist(),
    )
    epoch = int(np.median(np.diff(stamps).astype(np.int64))) if len(stamps) > 1 else 60
    activity = np.array([_float(v) for v in table.iloc[:, cols["activity"]]])
    light = (
        None
        if cols["light"] is None
        else np.array([_float(v) for v in table.iloc[:, cols["light"]]])
    )
    excluded = np.zeros(len(table), dtype=bool)
    sleep = None
    if cols["status"] is not None:
        status = table.iloc[:, cols["status"]].str.strip().str.upper()
        sleep = status.str.endswith("-S") | status.str.startswith("S-")
        sleep = sleep.to_numpy()
        excluded |= status.str.startswith(("EXCL", "AUSGESCHLOSSEN")).to_numpy()
    if cols["off_wrist"] is not None:
        excluded |= np.array([_float(v) == 1 for v in table.iloc[:, cols["off_wrist"]]])
    # Stamps must be a regular grid for the minute resampling.
    offsets = (stamps - stamps[0]).astype(np.int64)
    if (offsets % epoch).any() or (np.diff(offsets) <= 0).any():
        raise DataError(f"{path!r}: epochs are not on a regular {epoch}-second grid.")
    n = int(offsets[-1] // epoch) + 1

    def grid(values, fill):
        values = np.asarray(values)
        out = np.full(n, fill, dtype=values.dtype)
        out[offsets // epoch] = values
        return out

    return _Recording(
        name=os.path.splitext(os.path.basename(path))[0],
        source=os.path.basename(path),
        start=stamps[0],
        epoch_seconds=epoch,
        activity=grid(activity, np.nan),
        activity_kind="counts",
        light=None if light is None else grid(light, np.nan),
        excluded=grid(excluded, True),
        sleep=None if sleep is None else grid(sleep, False),
    )


def parse_axivity_timeseries(path):
    """Parse an Axivity ``*-timeSeries.csv.gz`` (biobankAccelerometerAnalysis output: ``acc`` in
    mg and class probabilities ``sleep``, ``sedentary``, ``light``, ``moderate-vigorous``)."""
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

    def grid(column):
        out = np.full(n, np.nan)
        if column in table.columns:
            out[index] = table[column].to_numpy(dtype=np.float64)
        return out

    acc = grid("acc")
    return _Recording(
        name=os.path.basename(path).split(".")[0],
        source=os.path.basename(path),
        start=stamps[0],
        epoch_seconds=epoch,
        activity=acc,
        activity_kind="mg",
        excluded=~np.isfinite(acc),
        sleep=grid("sleep") if "sleep" in table.columns else None,
        mvpa=grid("moderate-vigorous") if "moderate-vigorous" in table.columns else None,
    )


def _parser_for(path):
    name = os.path.basename(path).lower()
    if name.endswith(".awd"):
        return parse_awd
    if name.endswith("timeseries.csv.gz"):
        return parse_axivity_timeseries
    if name.endswith(".csv") and ("rpx" in name or name == "test_sample.csv"):
        return parse_actiware_csv
    return None


# ---------------------------------------------------------------------------- minute grid
def _to_minutes(rec):
    """Resample a recording to a minute grid starting at the minute of its first epoch.

    Returns (first_minute datetime64[m], dict of per-minute float arrays)."""
    first = rec.start.astype("datetime64[m]")
    offset = int((rec.start - first.astype("datetime64[s]")).astype(np.int64))
    e = rec.epoch_seconds
    n_epochs = rec.activity.size
    seconds = offset + np.arange(n_epochs) * e
    out = {}
    if e <= 60:
        minute = seconds // 60
        n = int(minute[-1]) + 1
        per_minute = 60.0 / e

        def mean(x):
            x = np.asarray(x, dtype=np.float64)
            ok = np.isfinite(x)
            total = np.bincount(minute[ok], weights=x[ok], minlength=n)
            count = np.bincount(minute[ok], minlength=n)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(count > 0, total / np.maximum(count, 1), np.nan)

        activity = mean(rec.activity)
        if rec.activity_kind == "counts":
            activity = activity * per_minute  # counts per minute from the valid epochs
        out["activity"] = activity
        for key in ("light", "temperature", "sleep", "mvpa"):
            value = getattr(rec, key)
            if value is not None:
                out[key] = mean(np.asarray(value, dtype=np.float64))
        if rec.excluded is not None:
            out["excluded"] = mean(rec.excluded.astype(np.float64)) >= 0.5
    else:
        repeat = e // 60
        if e % 60:
            raise DataError(f"{rec.source}: epoch of {e} s is not a multiple of a minute.")
        activity = np.repeat(rec.activity, repeat)
        if rec.activity_kind == "counts":
            activity = activity / repeat
        out["activity"] = activity
        for key in ("light", "temperature", "sleep", "mvpa"):
            value = getattr(rec, key)
            if value is not None:
                out[key] = np.repeat(np.asarray(value, dtype=np.float64), repeat)
        if rec.excluded is not None:
            out["excluded"] = np.repeat(rec.excluded, repeat)
    return first, out


def _zero_runs(activity, min_length):
    """Minutes inside runs of at least ``min_length`` consecutive exact-zero activity minutes."""
    out = np.zeros(activity.size, dtype=bool)
    for s, e in _runs(activity == 0, min_length, max_gap=0):
        out[s:e] = True
    return out


def _steps(minutes, kind):
    """Steps per minute from device activity; returns (steps, scale used)."""
    activity = minutes["activity"]
    missing = ~np.isfinite(activity)
    if "excluded" in minutes:
        missing |= minutes["excluded"]
    if kind == "mg":
        scale = 1.0 / AXIVITY_MG_PER_STEP
        steps = np.maximum(activity - 10.0, 0.0) * scale
    else:
        # Count units differ between device models, so counts are scaled per recording: the
        # 95th percentile of the non-zero minutes (brisk everyday walking) maps to
        # STEPS_AT_P95 steps/min. Without device wear flags, long runs of exact zeros are
        # non-wear.
        if "excluded" not in minutes:
            missing |= _zero_runs(np.where(missing, -1.0, activity), NON_WEAR_ZERO_MINUTES)
        moving = activity[~missing & (activity > 0)]
        p95 = float(np.percentile(moving, 95)) if moving.size >= 60 else 0.0
        scale = STEPS_AT_P95 / p95 if p95 > 0 else 1.0 / 4.0
        steps = activity * scale
    steps = np.clip(steps, 0.0, MAX_STEPS_PER_MINUTE)
    return np.where(missing, np.nan, steps), scale


def _runs(flag, min_length, max_gap):
    """[start, end) runs of True, merging gaps of at most ``max_gap`` minutes."""
    flag = np.asarray(flag, dtype=bool)
    if not flag.any():
        return []
    padded = np.concatenate([[False], flag, [False]])
    change = np.flatnonzero(np.diff(padded.astype(np.int8)))
    runs = list(zip(change[::2], change[1::2]))
    merged = [list(runs[0])]
    for start, end in runs[1:]:
        if start - merged[-1][1] <= max_gap:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(int(s), int(e)) for s, e in merged if e - s >= min_length]


def _infer_rest(steps, min_length=180, max_length=16 * 60):
    """Rest periods of an unscored recording: long stretches where the 30-minute centred
    moving average of activity stays very low. A heuristic, not a validated sleep scorer."""
    valid = np.isfinite(steps)
    x = np.where(valid, steps, 0.0)
    k = 31
    kernel = np.ones(k)
    total = np.convolve(x, kernel, mode="same")
    count = np.convolve(valid.astype(np.float64), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        smooth = np.where(count > k // 2, total / np.maximum(count, 1), np.nan)
    daytime = np.nanpercentile(smooth, 75) if np.isfinite(smooth).any() else 0.0
    threshold = max(0.5, 0.1 * daytime)
    return [
        (s, e) for s, e in _runs(smooth < threshold, min_length, max_gap=20) if e - s <= max_length
    ]


def load_actigraphy_days(
    cache_dir=None,
    schema=None,
    files=None,
    min_valid_fraction=0.5,
    infer_sleep=True,
    min_sleep_minutes=60,
    min_activity_minutes=10,
    download=True,
):
    """Load the real pyActigraphy recordings as midnight-to-midnight person-days.

    Args:
        cache_dir: where the wheel's data files live (see `actigraphy_cache_dir`).
        schema: output `ChannelSchema` (default: the 34 channels). ``steps`` is required;
            ``wrist_temperatures`` is filled when a recording has temperature; all other
            channels are NaN.
        files: optional list of file names (in the cache) or paths to load; default every
            supported recording (``*.AWD``, Actiware ``*.csv``, Axivity ``*timeSeries.csv.gz``).
        min_valid_fraction: keep days with at least this fraction of observed ``steps`` minutes.
        infer_sleep: infer sleep of recordings without device scoring (AWD) from long
            low-activity stretches (heuristic).
        min_sleep_minutes: shortest sleep period turned into an event.
        min_activity_minutes: shortest moderate-to-vigorous bout turned into an event.
        download: fetch the wheel if the cache is empty (``False``: raise instead).

    Returns:
        `WearableDays` with ``person_ids`` = recording name, ``day_index`` = day within the
        recording and ``info`` holding ``light`` ``(N, 1440)`` (lux, NaN if absent),
        ``date`` (ISO dates), ``source`` (file name), ``sleep_source`` (``"device"``,
        ``"inferred"`` or ``"none"``), ``steps_per_unit`` (the activity -> steps factor of the
        recording) and ``skipped`` (files skipped, with the reason).

    Raises:
        ActigraphyUnavailableError: the wheel is not cached and cannot be downloaded.

    Example:

    ```python
    from sensorlm_keras.data import load_actigraphy_days, preprocess_days

    days = load_actigraphy_days()
    steps_only = days.schema.select(["steps"])
    clean = preprocess_days(days.raw[..., [days.schema.index("steps")]], schema=steps_only)
    ```
    """
    schema = ChannelSchema.default() if schema is None else schema
    if not isinstance(schema, ChannelSchema):
        raise ConfigError(f"schema: expected a ChannelSchema or None, received {describe(schema)}.")
    if "steps" not in schema:
        raise ConfigError(
            f"schema: the actigraphy loader fills the 'steps' channel; the schema has "
            f"{list(schema.names)}."
        )
    if (
        isinstance(min_valid_fraction, bool)
        or not isinstance(min_valid_fraction, (int, float))
        or not 0.0 <= float(min_valid_fraction) <= 1.0
    ):
        raise ConfigError(
            f"min_valid_fraction: expected a number in [0, 1], received {min_valid_fraction!r}."
        )
    for field, value in (
        ("min_sleep_minutes", min_sleep_minutes),
        ("min_activity_minutes", min_activity_minutes),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{field}: expected a positive integer, received {value!r}.")
    if files is None or any(not os.path.isabs(os.fspath(f)) for f in files):
        data_dir = os.path.join(actigraphy_cache_dir(cache_dir), _DATA_DIRNAME)
        if not os.path.isfile(os.path.join(data_dir, _COMPLETE_MARKER)):
            if not download:
                raise ActigraphyUnavailableError(
                    f"The pyActigraphy recordings are not in the cache {data_dir!r} and "
                    "download=False."
                )
            data_dir = fetch_actigraphy_files(cache_dir)
    if files is None:
        paths = sorted(p for p in glob.glob(os.path.join(data_dir, "*")) if _parser_for(p))
    else:
        paths = [f if os.path.isabs(os.fspath(f)) else os.path.join(data_dir, f) for f in files]
        for p in paths:
            if not os.path.isfile(p):
                raise DataError(f"files: {p!r} does not exist.")
            if _parser_for(p) is None:
                raise DataError(
                    f"files: {os.path.basename(p)!r} is not a supported format (.AWD, Actiware "
                    "rpx .csv, Axivity timeSeries.csv.gz)."
                )

    steps_col = schema.index("steps")
    temp_col = schema.index("wrist_temperatures") if "wrist_temperatures" in schema else None
    raws, lights, events, person_ids, day_index, labels = [], [], [], [], [], []
    dates, sources, sleep_sources, scales = [], [], [], []
    skipped = {}
    fingerprints = {}
    for path in paths:
        try:
            rec = _parser_for(path)(path)
        except DataError as error:
            skipped[os.path.basename(path)] = str(error)
            continue
        first, minutes = _to_minutes(rec)
        steps, scale = _steps(minutes, rec.activity_kind)
        fingerprint = (str(first), np.nan_to_num(minutes["activity"][:2880], nan=-1).tobytes())
        if fingerprint in fingerprints:
            skipped[os.path.basename(path)] = f"same recording as {fingerprints[fingerprint]}"
            continue
        fingerprints[fingerprint] = os.path.basename(path)

        # Place the minute series on a grid of whole days starting at local midnight.
        day0 = first.astype("datetime64[D]")
        lead = int((first - day0.astype("datetime64[m]")).astype(np.int64))
        total = lead + steps.size
        num_days = -(-total // MINUTES_PER_DAY)

        steps_days = _on_days(steps, lead, num_days)
        temp_days = None
        if rec.temperature is not None and "temperature" in minutes:
            temp = np.where(minutes.get("excluded", False), np.nan, minutes["temperature"])
            temp_days = _on_days(temp, lead, num_days)
        light_days = _on_days(minutes["light"], lead, num_days) if "light" in minutes else None

        intervals = []  # (kind, label, absolute start, absolute end) in minutes from day0
        sleep_source = "none"
        if "sleep" in minutes:
            sleep_source = "device"
            for s, e in _runs(minutes["sleep"] >= 0.5, min_sleep_minutes, max_gap=15):
                intervals.append(("sleep", "sleep", lead + s, lead + e))
        elif infer_sleep:
            sleep_source = "inferred"
            for s, e in _infer_rest(steps):
                intervals.append(("sleep", "sleep", lead + s, lead + e))
        if "mvpa" in minutes:
            for s, e in _runs(minutes["mvpa"] >= 0.5, min_activity_minutes, max_gap=2):
                intervals.append(("activity", "moderate-vigorous activity", lead + s, lead + e))

        for d in range(num_days):
            valid = np.isfinite(steps_days[d]).mean()
            if valid < min_valid_fraction or valid == 0:
                continue
            raw = np.full((MINUTES_PER_DAY, len(schema)), np.nan, dtype=np.float32)
            raw[:, steps_col] = steps_days[d]
            if temp_col is not None and temp_days is not None:
                raw[:, temp_col] = temp_days[d]
            day_events, longest = _events_of_day(intervals, d)
            raws.append(raw)
            lights.append(
                light_days[d].astype(np.float32)
                if light_days is not None
                else np.full(MINUTES_PER_DAY, np.nan, np.float32)
            )
            events.append(day_events)
            person_ids.append(rec.name)
            day_index.append(d)
            labels.append(longest)
            dates.append(str(day0 + np.timedelta64(d, "D")))
            sources.append(rec.source)
            sleep_sources.append(sleep_source)
            scales.append(scale)
    if not raws:
        raise DataError(
            f"load_actigraphy_days: no day with at least {min_valid_fraction:.0%} observed minutes "
            f"in {len(paths)} file(s); skipped: {skipped}."
        )
    return WearableDays(
        raw=np.stack(raws),
        events=events,
        person_ids=np.array(person_ids),
        day_index=np.array(day_index, dtype=np.int32),
        activity_labels=tuple(labels),
        schema=schema,
        info={
            "light": np.stack(lights),
            "date": np.array(dates),
            "source": np.array(sources),
            "sleep_source": np.array(sleep_sources),
            "steps_per_unit": np.array(scales, dtype=np.float64),
            "skipped": skipped,
        },
    )


def _on_days(values, lead, num_days):
    """Place a minute series starting ``lead`` minutes after midnight on a (days, 1440) grid."""
    out = np.full(num_days * MINUTES_PER_DAY, np.nan, dtype=np.float64)
    out[lead : lead + values.size] = values
    return out.reshape(num_days, MINUTES_PER_DAY)


def _events_of_day(intervals, d):
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
            if e - s > longest_len:
                longest, longest_len = label, e - s
        found.append((max(start - base, 0), event))
    found.sort(key=lambda item: item[0])
    return [event for _, event in found], longest
