"""The pyActigraphy wheel: download once with pip, verify, extract its recordings to a cache.

The ``pyActigraphy`` wheel on PyPI carries real minute-level actigraphy exports in
``pyActigraphy/tests/data/``. The package is GPL-3, so nothing of it is copied into this
repository: on first use the wheel is fetched with ``pip download --no-deps`` into a user cache
(``~/.cache/sensorlm_keras/pyactigraphy`` or ``$SENSORLM_CACHE/pyactigraphy``), its checksum is
verified and the data files are extracted there (`RegistryWheel`). No pyActigraphy code is
imported or used.
"""

from sensorlm_keras.data.registry_wheel import (
    CACHE_ENV_VAR,
    RegistryDataUnavailableError,
    RegistryWheel,
)

PYACTIGRAPHY_REQUIREMENT = "pyActigraphy==1.2.2"
PYACTIGRAPHY_WHEEL_SHA256 = "3199b8dde42f044f887f11ca333f60e85c4213dcc5bde742a4ecd2ca2c4d8e7f"

__all__ = ["CACHE_ENV_VAR", "PYACTIGRAPHY_REQUIREMENT", "ActigraphyUnavailableError",
           "actigraphy_cache_dir", "cached_data_dir", "fetch_actigraphy_files"]


class ActigraphyUnavailableError(RegistryDataUnavailableError):
    """The pyActigraphy wheel could not be downloaded (no network or registry unreachable)."""


PYACTIGRAPHY_WHEEL = RegistryWheel(
    name="pyactigraphy",
    requirement=PYACTIGRAPHY_REQUIREMENT,
    wheel="pyActigraphy-1.2.2-py3-none-any.whl",
    sha256=PYACTIGRAPHY_WHEEL_SHA256,
    data_prefix="pyActigraphy/tests/data/",
    unavailable_error=ActigraphyUnavailableError,
)


def actigraphy_cache_dir(cache_dir=None):
    """The cache directory: the argument, else ``$SENSORLM_CACHE/pyactigraphy``, else
    ``~/.cache/sensorlm_keras/pyactigraphy``."""
    return PYACTIGRAPHY_WHEEL.cache_dir(cache_dir)


def fetch_actigraphy_files(cache_dir=None, timeout=600):
    """Download ``pyActigraphy==1.2.2`` once and extract its test recordings into the cache;
    returns the directory holding them (`RegistryWheel.fetch`).

    Raises:
        ActigraphyUnavailableError: pip could not fetch the wheel (message includes pip's error).
        DataError: the downloaded wheel does not have the expected SHA-256.
    """
    return PYACTIGRAPHY_WHEEL.fetch(cache_dir, timeout)


def cached_data_dir(cache_dir=None, download=True):
    """The extracted recordings in the cache, downloaded first when missing and ``download``.

    Raises:
        ActigraphyUnavailableError: not cached and ``download=False``, or pip failed.
    """
    return PYACTIGRAPHY_WHEEL.data_dir(cache_dir, download)
