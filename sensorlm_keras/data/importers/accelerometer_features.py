"""`AccelerometerFeatures`: a raw tri-axial accelerometer stream -> minute features.

The mean of an axis over a minute is the device's orientation, not how much the wearer moved.
What raw accelerometry is summarised by per minute in the field (GGIR, the UK Biobank
accelerometer pipeline) is the signal of the vector magnitude ``vm = sqrt(x² + y² + z²)`` with
gravity (1 g) taken away: ENMO, the mean of ``max(vm - 1 g, 0)``, and the standard deviation
of ``vm`` within the minute. Both come out of per-sample moments whose minute sums can be added
across chunks and files, so the import stays streaming.

The 34-channel schema's accelerometer features (``jerk_auto``, ``log_energy``, ``kurtosis``,
...) are the device maker's, with no public definition or scale; they are not imitated here:
the two features are custom channels, normalised on the train split like any other.
"""

import numpy as np

from sensorlm_keras.errors import ConfigError, DataError, describe

GRAVITY_M_S2 = 9.80665
UNITS = {"g": 1.0, "mg": 1e-3, "m/s2": 1.0 / GRAVITY_M_S2}
"""Accepted units of the axes -> factor to g."""

GRAVITY_RANGE_G = (0.5, 2.0)
"""A worn or resting device measures gravity: most samples' vector magnitude lies here (in g).
More than half of a file's samples outside it means the unit is not the one given."""


class AccelerometerFeatures:
    """Minute features of a raw tri-axial accelerometer stream, from its samples at any rate.

    Channels (custom, in milli-g): ``enmo`` (mean of ``max(vm - 1 g, 0)`` over the minute's
    samples) and ``vm_sd`` (population standard deviation of ``vm`` over them). Per sample,
    `moments` gives ``enmo``, ``vm - 1 g`` and its square (mg, mg²); a minute's means of those
    (`TableReader` sums them per minute, across chunk and file boundaries) become the features
    in `minute_features`. A sample with a missing axis is left out.

    Args:
        axes: the three column names of the x, y and z axes.
        unit: ``"g"``, ``"mg"`` or ``"m/s2"``.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.data.importers.accelerometer_features import AccelerometerFeatures

    features = AccelerometerFeatures(["acc_x", "acc_y", "acc_z"], unit="g")
    t = np.arange(3000) / 50.0                      # a minute at 50 Hz
    walk = np.c_[0.3 * np.sin(2 * np.pi * 2 * t), np.zeros_like(t), np.ones_like(t)]
    moments, _ = features.moments(walk)
    features.minute_features(moments.mean(0)[None])  # [[enmo, vm_sd]] in mg
    ```
    """

    CHANNELS = ("enmo", "vm_sd")
    """The channels the stream becomes."""

    MOMENTS = ("enmo", "_vm_dev_mg", "_vm_dev_mg_sq")
    """The per-sample columns whose minute means `minute_features` reads (the first is
    ``enmo`` itself)."""

    def __init__(self, axes, unit="g"):
        if (isinstance(axes, str) or not hasattr(axes, "__len__") or len(axes) != 3
                or not all(isinstance(a, str) and a for a in axes) or len(set(axes)) != 3):
            raise ConfigError(f"accelerometer: expected three distinct axis column names "
                              f"(x, y, z), received {describe(axes)}.")
        if unit not in UNITS:
            raise ConfigError(f"accelerometer_unit: expected one of {sorted(UNITS)}, received "
                              f"{unit!r}.")
        self.axes = tuple(axes)
        self.unit = unit

    def moments(self, axes_values):
        """``(moments, vm_g)`` of samples ``(n, 3)`` in the axes' unit: float64 ``(n, 3)``
        columns `MOMENTS` (NaN where an axis is missing) and the vector magnitude in g."""
        a = np.asarray(axes_values, dtype=np.float64) * UNITS[self.unit]
        vm = np.sqrt(np.einsum("ij,ij->i", a, a))
        dev = (vm - 1.0) * 1000.0
        return np.stack([np.maximum(dev, 0.0), dev, dev * dev], axis=1), vm

    def minute_features(self, minute_means):
        """Minute means ``(..., 3)`` of the `MOMENTS` -> ``(..., 2)`` float32 `CHANNELS`."""
        m = np.asarray(minute_means, dtype=np.float64)
        variance = np.maximum(m[..., 2] - m[..., 1] ** 2, 0.0)
        return np.stack([m[..., 0], np.sqrt(variance)], axis=-1).astype(np.float32)

    def reader_names(self, names):
        """The columns a `TableReader` keeps: ``names`` then the `MOMENTS`."""
        clash = [n for n in names if n in self.CHANNELS + self.MOMENTS]
        if clash:
            raise ConfigError(f"channels: {clash} are the accelerometer's minute features; "
                              "rename those columns or leave them out.")
        return list(names) + list(self.MOMENTS)

    def finish(self, cube):
        """A reader's minute grid ``(..., C + 3)`` (its last columns the `MOMENTS`' minute
        means) -> the days' grid ``(..., C + 2)`` (the last two the `CHANNELS`)."""
        return np.concatenate([cube[..., :-3], self.minute_features(cube[..., -3:])], axis=-1)

    def check_gravity(self, where, vm_g, outside, observed):
        """Refuse a file whose unit cannot be right: ``outside`` of its ``observed`` samples'
        vector magnitudes lie outside `GRAVITY_RANGE_G`; ``vm_g`` are some of them (the first
        chunk's) for the message."""
        if observed and outside > 0.5 * observed:
            median = float(np.nanmedian(vm_g)) / UNITS[self.unit]
            low, high = GRAVITY_RANGE_G
            raise DataError(
                f"{where}, columns {', '.join(self.axes)}: expected acceleration in "
                f"{self.unit} (gravity: a vector magnitude near {1.0 / UNITS[self.unit]:g} "
                f"{self.unit}), received a median magnitude of {median:.4g} {self.unit}; "
                f"{outside} of {observed} samples are outside [{low:g}, {high:g}] g. Pass "
                f"--accelerometer-unit ({', '.join(UNITS)})."
            )
