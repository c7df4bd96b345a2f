"""`load_evaluation_data`: turn what a user passes (a path, raw days, arrays) into
`EvaluationData`."""

import os

import numpy as np

from sensorlm_keras.errors import DataError, InputValidationError, describe
from sensorlm_keras.evaluation.evaluation_data import EvaluationData
from sensorlm_keras.utils.validation import check_positive_int


def dataset_split_dir(path, split):
    """``path`` itself when it is a split (has manifest.json), ``path/split`` when it is a
    dataset root, else ``None``."""
    from sensorlm_keras.data.dataset_manifest import MANIFEST_FILENAME

    if os.path.isfile(os.path.join(path, MANIFEST_FILENAME)):
        return path
    candidate = os.path.join(path, split)
    if os.path.isfile(os.path.join(candidate, MANIFEST_FILENAME)):
        return candidate
    return None


def load_evaluation_data(data, caption_variant="high_summary", split="test", limit=None,
                         seed=0, labels="auto"):
    """Turn what the user passes into `EvaluationData`.

    Args:
        data: an `EvaluationData`; `WearableDays` (raw days, preprocessed and captioned here);
            a dict of arrays for `EvaluationData.from_arrays`; or a path: a TFRecord dataset
            root (its ``split`` sub-directory is used), a split directory with
            ``manifest.json``, a directory of shards, a shard file or glob, or an ``.npz`` file.
        caption_variant: caption variant used as the retrieval reference.
        split: split of a dataset root (default ``"test"``).
        limit: keep at most this many days (the first ones).
        seed: caption seed for `WearableDays`.
        labels: where a TFRecord example's class comes from: ``"auto"``, ``"label"`` (the
            stored label) or ``"events"`` (`EvaluationData.from_tfrecord`); an ``.npz`` file's
            labels are its ``labels`` array.

    Returns:
        `EvaluationData`.

    Example:

    ```python
    from sensorlm_keras.evaluation import load_evaluation_data

    data = load_evaluation_data("data/synth")      # -> data/synth/test
    len(data), data.labels[:3], data.captions[0][:60]
    ```
    """
    from sensorlm_keras.data import WearableDays

    limit = check_positive_int(limit, "limit", allow_none=True, error=InputValidationError)
    if isinstance(data, EvaluationData):
        result = data
    elif isinstance(data, WearableDays):
        if limit is not None:
            data = data.select(np.arange(min(limit, len(data))))
        result = EvaluationData.from_days(data, caption_variant=caption_variant, seed=seed)
    elif isinstance(data, dict):
        try:
            result = EvaluationData.from_arrays(**data)
        except TypeError as error:
            raise InputValidationError(
                f"data: a dict must have the keys of EvaluationData.from_arrays (sensor, labels, "
                f"captions, mask, person_ids, channel_names, events); {error}."
            ) from None
    elif isinstance(data, (str, os.PathLike)):
        result = _from_path(os.fspath(data), caption_variant, split, limit, labels)
    else:
        raise InputValidationError(
            "data: expected a TFRecord dataset path, an .npz file, WearableDays, a dict of "
            f"arrays or EvaluationData, received {describe(data)}."
        )
    if limit is not None and len(result) > limit:
        result = result.select(np.arange(limit))
    return result


def _from_path(path, caption_variant, split, limit, labels):
    """`EvaluationData` of an ``.npz`` file, a dataset root or split directory, a directory of
    shards, or a shard file or glob."""
    import glob

    if os.path.isfile(path) and path.lower().endswith(".npz"):
        if labels == "events":
            raise InputValidationError(
                f"labels: 'events' needs a TFRecord dataset with logged events; the .npz file "
                f"{path!r} has a 'labels' array at most."
            )
        return EvaluationData.from_npz(path)
    if os.path.isdir(path):
        split_dir = dataset_split_dir(path, split)
        if split_dir is None and not any(
            p.endswith((".tfrecord", ".tfrecord.gz")) for p in os.listdir(path)
        ):
            raise DataError(
                f"data: {path!r} is neither a dataset directory (with {split}/manifest.json) "
                "nor a split directory (with manifest.json) nor a directory of "
                "*.tfrecord[.gz] shards."
            )
        return EvaluationData.from_tfrecord(split_dir or path, caption_variant=caption_variant,
                                            limit=limit, labels=labels)
    if os.path.isfile(path) or glob.glob(path):
        return EvaluationData.from_tfrecord(path, caption_variant=caption_variant, limit=limit,
                                            labels=labels)
    raise DataError(f"data: the path {path!r} does not exist.")
