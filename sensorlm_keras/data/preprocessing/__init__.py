"""Preprocessing: raw readings -> model-ready person-days (z-scores, missing mask, imputation).

- `preprocess_days` (``day_arrays``): arrays of minute-level days -> `PreprocessedDays`.
- `preprocess_dataframe` (``frame_days``): a timestamped table -> per-minute calendar days
  (`frame_days.minute_days`) -> `preprocess_days`.
- `PLAUSIBLE_RANGES` (``plausible_ranges``): the physical range of each channel.
- `impute_over_time` (``imputation``): linear interpolation over time, then edge fill.

NumPy only; pandas is imported by `preprocess_dataframe`.
"""

from sensorlm_keras.data.preprocessing.day_arrays import preprocess_days
from sensorlm_keras.data.preprocessing.frame_days import preprocess_dataframe
from sensorlm_keras.data.preprocessing.imputation import impute_over_time
from sensorlm_keras.data.preprocessing.plausible_ranges import PLAUSIBLE_RANGES

__all__ = ["PLAUSIBLE_RANGES", "impute_over_time", "preprocess_days", "preprocess_dataframe"]
