"""`PreprocessedDays`: the result of `preprocess_days` / `preprocess_dataframe`."""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class PreprocessedDays:
    """Cleaned, z-scored, clipped and imputed person-days with their missing mask.

    Row ``i`` of every array belongs to input day ``kept_indices[i]``; days whose missing ratio
    exceeded the threshold (or that had no observed value at all) are listed in
    ``dropped_indices`` and are absent from the arrays.

    Args:
        sensor: ``float32`` array ``(N, 1440, C)`` of clipped z-scores; missing cells are imputed
            (linear interpolation over time, then back-fill / forward-fill, then 0).
        mask: ``bool`` array ``(N, 1440, C)``, ``True`` where the value was missing before
            imputation (off-wrist, implausible, non-finite or absent).
        missing_ratio: ``float32`` array ``(N,)``, fraction of missing cells of each kept day.
        kept_indices: ``int64`` array ``(N,)``, indices of the kept days in the input.
        dropped_indices: ``int64`` array, indices of the dropped days in the input.
        dates: ``None`` for array input; for `preprocess_dataframe`, a tuple of
            ``datetime.date`` aligned with the rows (the dates of the kept days).

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.data import preprocess_days

    raw = np.full((2, 1440, 34), np.nan)
    raw[0] = 1.0
    result = preprocess_days(raw)
    result.sensor.shape      # (1, 1440, 34)
    result.dropped_indices   # array([1])
    ```
    """

    sensor: np.ndarray
    mask: np.ndarray
    missing_ratio: np.ndarray
    kept_indices: np.ndarray
    dropped_indices: np.ndarray
    dates: tuple = None

    def __len__(self):
        return int(self.sensor.shape[0])

    @property
    def num_days(self):
        """Number of kept days."""
        return len(self)
