"""`Recording`: the epochs of one device export, as a reader returns them."""

import dataclasses

import numpy as np


@dataclasses.dataclass
class Recording:
    """One device recording on a regular epoch grid (local clock time).

    Readers (`parse_awd`, `parse_actiware_csv`, `parse_axivity_timeseries`) return it;
    `preprocessing.recording_days.to_minutes` puts it on a minute grid. Epochs without data are
    NaN (``activity``, ``light``, ``temperature``) or flagged in ``excluded``.

    Args:
        name: recording name (the person id of its days).
        source: file name it was read from.
        start: ``numpy.datetime64[s]`` local clock time of the first epoch.
        epoch_seconds: epoch length in seconds.
        activity: float array per epoch: activity counts (sum-like) or acceleration (mean-like).
        activity_kind: ``"counts"`` or ``"mg"`` (acceleration in milli-g).
        light: optional light per epoch (lux).
        temperature: optional skin temperature per epoch (degrees C).
        excluded: optional bool per epoch: off-wrist or excluded by the device software.
        sleep: optional device sleep scoring per epoch (bool, or a probability).
        mvpa: optional moderate-to-vigorous activity probability per epoch.
    """

    name: str
    source: str
    start: np.datetime64
    epoch_seconds: int
    activity: np.ndarray
    activity_kind: str
    light: np.ndarray = None
    temperature: np.ndarray = None
    excluded: np.ndarray = None
    sleep: np.ndarray = None
    mvpa: np.ndarray = None


def on_epoch_grid(values, index, n, fill):
    """``values`` at epoch numbers ``index`` of a grid of ``n`` epochs (``fill`` elsewhere)."""
    values = np.asarray(values)
    out = np.full(n, fill, dtype=values.dtype)
    out[index] = values
    return out
