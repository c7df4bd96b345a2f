"""The pyActigraphy wheel: download once with pip, verify, extract its recordings to a cache.

The ``pyActigraphy`` wheel on PyPI carries real minute-level actigraphy exports in
``pyActigraphy/tests/data/``. The package is GPL-3, so nothing of it is copied into this
repository: on first use the wheel is fetched with ``pip download --no-deps`` into a user cache
(``~/.cache/sensorlm_keras/pyactigraphy`` or ``$SENSORLM_CACHE/pyactigraphy``), its checksum is
verified and the data files are extracted there. No pyActigraphy code is imported or used.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

from sensorlm_keras.errors import DataError, SensorLMError
from sensorlm_keras.utils.atomic_io import atomic_write_text

PYACTIGRAPHY_REQUIREMENT = "pyActigraphy==1.2.2"
PYACTIGRAPHY_WHEEL = "pyActigraphy-1.2.2-py3-none-any.whl"
PYACTIGRAPHY_WHEEL_SHA256 = "3199b8dde42f044f887f11ca333f60e85c4213dcc5bde742a4ecd2ca2c4d8e7f"
CACHE_ENV_VAR = "SENSORLM_CACHE"
_DATA_PREFIX = "pyActigraphy/tests/data/"
_DATA_DIRNAME = "pyActigraphy-1.2.2-data"
_COMPLETE_MARKER = ".complete"


class ActigraphyUnavailableError(SensorLMError, RuntimeError):
    """The pyActigraphy wheel could not be downloaded (no network or registry unreachable)."""


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
        wheel = _download_wheel(tmp, timeout)
        with open(wheel, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != PYACTIGRAPHY_WHEEL_SHA256:
            raise DataError(
                f"{PYACTIGRAPHY_WHEEL}: SHA-256 expected {PYACTIGRAPHY_WHEEL_SHA256}, received "
                f"{digest}; refusing to use it."
            )
        staging = os.path.join(tmp, "data")
        os.makedirs(staging)
        _extract_recordings(wheel, staging)
        atomic_write_text(
            os.path.join(staging, _COMPLETE_MARKER),
            f"{PYACTIGRAPHY_REQUIREMENT} sha256={digest}\n",
        )
        if os.path.isdir(data_dir):  # an incomplete earlier attempt
            shutil.rmtree(data_dir)
        os.replace(staging, data_dir)
    return data_dir


def _download_wheel(directory, timeout):
    """``pip download --no-deps`` of the wheel into ``directory``; returns its path."""
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
        directory,
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ActigraphyUnavailableError(
            f"Could not download {PYACTIGRAPHY_REQUIREMENT} with pip ({error}); the real "
            "actigraphy recordings need access to the Python package registry."
        ) from None
    wheel = os.path.join(directory, PYACTIGRAPHY_WHEEL)
    if result.returncode != 0 or not os.path.isfile(wheel):
        tail = (result.stderr or result.stdout or "").strip().splitlines()[-3:]
        raise ActigraphyUnavailableError(
            f"`pip download --no-deps {PYACTIGRAPHY_REQUIREMENT}` failed (exit code "
            f"{result.returncode}): {' | '.join(tail)}. The real actigraphy recordings need "
            "access to the Python package registry."
        )
    return wheel


def _extract_recordings(wheel, staging):
    """Copy the files of ``pyActigraphy/tests/data/`` (no sub-directories) into ``staging``."""
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            name = member[len(_DATA_PREFIX) :]
            if not member.startswith(_DATA_PREFIX) or not name or "/" in name:
                continue
            with archive.open(member) as src, open(os.path.join(staging, name), "wb") as dst:
                shutil.copyfileobj(src, dst)


def cached_data_dir(cache_dir=None, download=True):
    """The extracted recordings in the cache, downloaded first when missing and ``download``.

    Raises:
        ActigraphyUnavailableError: not cached and ``download=False``, or pip failed.
    """
    data_dir = os.path.join(actigraphy_cache_dir(cache_dir), _DATA_DIRNAME)
    if os.path.isfile(os.path.join(data_dir, _COMPLETE_MARKER)):
        return data_dir
    if not download:
        raise ActigraphyUnavailableError(
            f"The pyActigraphy recordings are not in the cache {data_dir!r} and download=False."
        )
    return fetch_actigraphy_files(cache_dir)
