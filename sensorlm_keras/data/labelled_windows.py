"""`LabelledWindows`: fixed-length windows of any length and channel set, with their labels."""

import dataclasses
import os

import numpy as np

from sensorlm_keras.errors import DataError, describe

NPZ_KEYS = ("sensor", "channel_names", "person_id", "label", "caption", "split", "step_seconds")
"""Arrays an ``.npz`` of labelled windows may hold (`LabelledWindows.from_npz`)."""


def _string_array(values, n, field):
    """``values`` as a tuple of ``n`` non-empty strings (``DataError`` naming ``field``)."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "US" or arr.ndim != 1 or arr.shape[0] != n:
        raise DataError(
            f"{field}: expected {n} strings (one per window), received {describe(values)}."
        )
    out = tuple(v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in arr.tolist())
    empty = [i for i, v in enumerate(out) if not v.strip()]
    if empty:
        raise DataError(f"{field}: window {empty[0]} has an empty string.")
    return out


@dataclasses.dataclass
class LabelledWindows:
    """Windows ``(N, T, C)`` of any length ``T`` and any channels, with people and labels.

    The input of `build_window_dataset` (``sensorlm data build --format windows``): a
    human-activity-recognition dataset, sleep-stage epochs or stress windows, one row per
    window. Values are in physical units (NaN = missing) unless ``zscored``.

    Args:
        sensor: float array ``(N, T, C)``.
        channel_names: ``C`` distinct channel names; names of the 34-channel schema keep the
            schema's normalisation, any other channel is normalised with the mean and standard
            deviation of the train split.
        person_ids: ``N`` person identifiers (windows of one person never cross splits).
        labels: optional ``N`` class labels (the semantic caption and the evaluation labels).
        captions: optional ``N`` captions, used as the semantic level instead of the label.
        splits: optional ``N`` split names (``"train"``, ``"validation"``, ``"test"``): a
            fixed split given by the dataset; default: split by person.
        step_seconds: seconds between two time steps (60 for minute data, 0.1 at 10 Hz).
        zscored: the values are z-scores already (no normalisation is applied).
        source: where the windows came from (for messages and manifests).

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.data import LabelledWindows

    windows = LabelledWindows(
        sensor=np.random.default_rng(0).normal(size=(8, 100, 3)),
        channel_names=["acc_x", "acc_y", "acc_z"],
        person_ids=["p1"] * 4 + ["p2"] * 4, labels=["walk", "run"] * 4, step_seconds=0.1)
    windows.num_timesteps, windows.num_channels   # (100, 3)
    ```
    """

    sensor: np.ndarray
    channel_names: tuple
    person_ids: tuple
    labels: tuple = None
    captions: tuple = None
    splits: tuple = None
    step_seconds: float = 60.0
    zscored: bool = False
    source: str = "arrays"

    def __post_init__(self):
        where = self.source
        sensor = np.asarray(self.sensor)
        if sensor.dtype.kind not in "iuf" or sensor.ndim != 3 or 0 in sensor.shape:
            raise DataError(
                f"{where}: field 'sensor' expected a numeric array (N, T, C) with N, T, C > 0, "
                f"received {describe(self.sensor)}."
            )
        self.sensor = sensor.astype(np.float32)
        if np.isinf(self.sensor).any():
            raise DataError(f"{where}: field 'sensor' holds infinite values; use NaN for "
                            "missing values.")
        n, _, c = self.sensor.shape
        self.channel_names = _string_array(self.channel_names, c, f"{where}: field "
                                           "'channel_names'")
        dupes = sorted({x for x in self.channel_names if self.channel_names.count(x) > 1})
        if dupes:
            raise DataError(f"{where}: field 'channel_names' repeats {dupes}.")
        self.person_ids = _string_array(self.person_ids, n, f"{where}: field 'person_id'")
        for name in ("labels", "captions", "splits"):
            if getattr(self, name) is not None:
                key = {"labels": "label", "captions": "caption", "splits": "split"}[name]
                setattr(self, name, _string_array(getattr(self, name), n,
                                                  f"{where}: field {key!r}"))
        if self.splits is not None and "train" not in self.splits:
            raise DataError(f"{where}: field 'split' expected some 'train' windows, received "
                            f"{sorted(set(self.splits))}.")
        step = np.asarray(self.step_seconds, dtype=object).reshape(-1)
        try:
            self.step_seconds = float(step[0]) if step.size == 1 else float("nan")
        except (TypeError, ValueError):
            self.step_seconds = float("nan")
        if not (np.isfinite(self.step_seconds) and self.step_seconds > 0):
            raise DataError(f"{where}: field 'step_seconds' expected one positive number, "
                            f"received {describe(step)}.")

    def __len__(self):
        return int(self.sensor.shape[0])

    @property
    def num_timesteps(self):
        return int(self.sensor.shape[1])

    @property
    def num_channels(self):
        return int(self.sensor.shape[2])

    @classmethod
    def from_npz(cls, path, zscored=False):
        """Windows from an ``.npz`` file with ``sensor`` (N, T, C), ``channel_names`` (C,),
        ``person_id`` (N,) and optionally ``label``, ``caption``, ``split`` (N,) strings and
        ``step_seconds`` (a number; default 60)."""
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise DataError(f"--input {path}: does not exist.")
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
        except (OSError, ValueError, EOFError) as error:
            raise DataError(f"{path}: not a readable .npz file of plain arrays ({error}).") from None
        missing = [k for k in ("sensor", "channel_names", "person_id") if k not in arrays]
        if missing:
            raise DataError(f"{path}: expected arrays {missing}, found {sorted(arrays)}.")
        unknown = sorted(set(arrays) - set(NPZ_KEYS))
        if unknown:
            raise DataError(f"{path}: unknown arrays {unknown}; expected only {list(NPZ_KEYS)}.")
        return cls(
            sensor=arrays["sensor"], channel_names=arrays["channel_names"],
            person_ids=arrays["person_id"], labels=arrays.get("label"),
            captions=arrays.get("caption"), splits=arrays.get("split"),
            step_seconds=arrays.get("step_seconds", 60.0), zscored=zscored, source=path,
        )

    def save_npz(self, path):
        """Write the windows as an ``.npz`` that `from_npz` reads (atomically)."""
        from sensorlm_keras.utils.atomic_io import atomic_open

        arrays = {"sensor": self.sensor, "channel_names": np.array(self.channel_names),
                  "person_id": np.array(self.person_ids),
                  "step_seconds": np.float64(self.step_seconds)}
        for key, values in (("label", self.labels), ("caption", self.captions),
                            ("split", self.splits)):
            if values is not None:
                arrays[key] = np.array(values)
        with atomic_open(path, "wb") as f:
            np.savez_compressed(f, **arrays)
        return os.fspath(path)
