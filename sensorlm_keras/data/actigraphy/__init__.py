"""Real day-long actigraphy recordings (from the ``pyActigraphy==1.2.2`` wheel) as person-days.

- ``wheel``: download the wheel once with pip, verify it and extract its recordings to a cache
  (`fetch_actigraphy_files`, `actigraphy_cache_dir`).
- ``activity_counts``: device activity -> steps per minute (a calibration) and rest periods.
- ``loader``: `load_actigraphy_days`, the recordings (read by `sensorlm_keras.data.readers`)
  cut into calendar days with their sleep and activity events.
"""

from sensorlm_keras.data.actigraphy.activity_counts import (
    AXIVITY_MG_PER_STEP,
    MAX_STEPS_PER_MINUTE,
    NON_WEAR_ZERO_MINUTES,
    STEPS_AT_P95,
)
from sensorlm_keras.data.actigraphy.loader import load_actigraphy_days
from sensorlm_keras.data.actigraphy.wheel import (
    CACHE_ENV_VAR,
    PYACTIGRAPHY_REQUIREMENT,
    ActigraphyUnavailableError,
    actigraphy_cache_dir,
    fetch_actigraphy_files,
)

__all__ = [
    "AXIVITY_MG_PER_STEP",
    "CACHE_ENV_VAR",
    "MAX_STEPS_PER_MINUTE",
    "NON_WEAR_ZERO_MINUTES",
    "PYACTIGRAPHY_REQUIREMENT",
    "STEPS_AT_P95",
    "ActigraphyUnavailableError",
    "actigraphy_cache_dir",
    "fetch_actigraphy_files",
    "load_actigraphy_days",
]
