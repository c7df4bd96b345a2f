"""`EvaluationData`: the days an evaluation runs on, with their captions and class labels."""

import dataclasses
import itertools
import os

import numpy as np

from sensorlm_keras.errors import DataError, InputValidationError, describe

NO_ACTIVITY = "none"
LABEL_SOURCES = ("auto", "label", "events")
"""Where a stored example's class label comes from (`EvaluationData.from_tfrecord`)."""


def activity_label_from_events(events):
    """Label of a day from its events: the longest logged activity of at least 20 minutes (the
    first activity its caption names; ties: the earlier start, then the label), or ``"none"``
    when no such activity was logged (`day_activity_label`)."""
    from sensorlm_keras.data.captions.semantic import day_activity_label

    return day_activity_label(events, none=NO_ACTIVITY)


def _strings(values, n, field):
    if values is None:
        return None
    if isinstance(values, (str, bytes)):
        raise InputValidationError(
            f"{field}: expected one string per day ({n}), received a single string."
        )
    out = tuple(
        v.decode("utf-8") if isinstance(v, bytes) else str(v)
        for v in np.asarray(values, dtype=object).reshape(-1)
    )
    if len(out) != n:
        raise InputValidationError(
            f"{field}: expected {n} entries (one per day), received {len(out)}."
        )
    return out


@dataclasses.dataclass
class EvaluationData:
    """Preprocessed days to evaluate on, with their optional captions and labels.

    Args:
        sensor: float32 ``(N, T, C)`` z-scored, imputed days (as stored in the TFRecords).
        labels: ``N`` class labels (e.g. the day's longest logged activity, ``"none"`` when no
            activity was logged), or ``None`` for unlabelled data.
        captions: ``N`` reference captions (one variant), or ``None``.
        mask: optional bool ``(N, T, C)``, True where the value was missing before imputation.
        events: optional list of ``N`` lists of `Event`.
        person_ids: optional ``N`` person identifiers (pseudonyms), used to split by person.
        day_index: optional ``N`` day numbers.
        channel_names: optional ``C`` channel names of the last axis.
        source: where the data came from (for reports).

    Example:

    ```python
    from sensorlm_keras.evaluation import EvaluationData, load_evaluation_data

    data = load_evaluation_data("data/synth/test")          # TFRecord split, captions + labels
    data = EvaluationData.from_arrays(sensor, labels=["run", "walk"])
    labelled = data.select([i for i, y in enumerate(data.labels) if y != "none"])
    ```
    """

    sensor: np.ndarray
    labels: tuple = None
    captions: tuple = None
    mask: np.ndarray = None
    events: list = None
    person_ids: tuple = None
    day_index: np.ndarray = None
    channel_names: tuple = None
    source: str = "arrays"

    def __post_init__(self):
        sensor = np.asarray(self.sensor)
        if sensor.ndim != 3 or sensor.shape[0] == 0:
            raise InputValidationError(
                f"EvaluationData.sensor: expected a non-empty array (N, T, C), received "
                f"{describe(self.sensor)}."
            )
        if not np.issubdtype(sensor.dtype, np.number):
            raise InputValidationError(
                f"EvaluationData.sensor: expected numbers, received dtype {sensor.dtype}."
            )
        self.sensor = sensor.astype(np.float32, copy=False)
        if not np.isfinite(self.sensor).all():
            raise InputValidationError(
                "EvaluationData.sensor: contains NaN/Inf values; preprocess the days first "
                "(sensorlm_keras.data.preprocess_days imputes missing minutes)."
            )
        n = sensor.shape[0]
        self.labels = _strings(self.labels, n, "EvaluationData.labels")
        self.captions = _strings(self.captions, n, "EvaluationData.captions")
        self.person_ids = _strings(self.person_ids, n, "EvaluationData.person_ids")
        self.channel_names = (
            None if self.channel_names is None
            else _strings(self.channel_names, sensor.shape[2], "EvaluationData.channel_names")
        )
        if self.mask is not None:
            mask = np.asarray(self.mask)
            if mask.shape != sensor.shape:
                raise InputValidationError(
                    f"EvaluationData.mask: expected shape {sensor.shape} (as sensor), received "
                    f"{describe(mask)}."
                )
            self.mask = mask.astype(bool, copy=False)
        if self.events is not None:
            self.events = [list(e) for e in self.events]
            if len(self.events) != n:
                raise InputValidationError(
                    f"EvaluationData.events: expected {n} lists (one per day), received "
                    f"{len(self.events)}."
                )
        if self.day_index is not None:
            self.day_index = np.asarray(self.day_index, dtype=np.int64).reshape(-1)
            if self.day_index.size != n:
                raise InputValidationError(
                    f"EvaluationData.day_index: expected {n} entries, received "
                    f"{self.day_index.size}."
                )

    def __len__(self):
        return int(self.sensor.shape[0])

    def select(self, indices):
        """A new `EvaluationData` with the given rows (int indices or a boolean mask)."""
        indices = np.asarray(indices)
        try:
            if indices.dtype == bool:
                idx = np.arange(len(self))[indices]
            else:
                idx = np.arange(len(self))[indices.astype(np.int64)]
        except (IndexError, ValueError, TypeError) as error:
            raise InputValidationError(
                f"EvaluationData.select: invalid indices for {len(self)} days ({error})."
            ) from None
        if idx.size == 0:
            raise InputValidationError("EvaluationData.select: no day selected.")

        def pick(values):
            return None if values is None else tuple(values[i] for i in idx)

        return EvaluationData(
            sensor=self.sensor[idx],
            labels=pick(self.labels),
            captions=pick(self.captions),
            mask=None if self.mask is None else self.mask[idx],
            events=None if self.events is None else [self.events[i] for i in idx],
            person_ids=pick(self.person_ids),
            day_index=None if self.day_index is None else self.day_index[idx],
            channel_names=self.channel_names,
            source=self.source,
        )

    def align_channels(self, channel_names):
        """Reorder / select the channel axis to ``channel_names`` (e.g. a run's schema).

        Data without channel names must already have exactly that many channels.
        """
        names = tuple(channel_names)
        if self.channel_names is None:
            if self.sensor.shape[2] != len(names):
                raise DataError(
                    f"{self.source}: expected {len(names)} channels ({', '.join(names[:4])}, "
                    f"...), received {self.sensor.shape[2]}."
                )
            return dataclasses.replace(self, channel_names=names)
        if self.channel_names == names:
            return self
        missing = [n for n in names if n not in self.channel_names]
        if missing:
            raise DataError(
                f"{self.source}: the data lacks channels the model needs: {missing[:8]}"
                f"{' ...' if len(missing) > 8 else ''} (data has {len(self.channel_names)} "
                f"channels, the model {len(names)})."
            )
        columns = [self.channel_names.index(n) for n in names]
        return dataclasses.replace(
            self,
            sensor=self.sensor[:, :, columns],
            mask=None if self.mask is None else self.mask[:, :, columns],
            channel_names=names,
        )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(cls, sensor, labels=None, captions=None, mask=None, person_ids=None,
                    channel_names=None, events=None):
        """In-memory preprocessed days ``(N, T, C)`` with optional labels and captions."""
        return cls(sensor=sensor, labels=labels, captions=captions, mask=mask,
                   person_ids=person_ids, channel_names=channel_names, events=events)

    @classmethod
    def from_days(cls, days, caption_variant="high_summary", seed=0, missing_threshold=0.8):
        """Raw `WearableDays` (e.g. `SyntheticDayGenerator.generate`) -> preprocessed days with
        captions (seeded per day exactly as `build_tfrecord_dataset` seeds them) and labels
        (``days.activity_labels``). Days above ``missing_threshold`` are dropped."""
        from sensorlm_keras.data import CaptionGenerator, WearableDays, preprocess_days
        from sensorlm_keras.data.captions.caption_generator import check_variants
        from sensorlm_keras.data.dataset_builder import caption_seed

        if not isinstance(days, WearableDays):
            raise InputValidationError(
                f"days: expected WearableDays (e.g. SyntheticDayGenerator().generate(...)), "
                f"received {describe(days)}."
            )
        check_variants([caption_variant])
        pre = preprocess_days(days.raw, schema=days.schema, missing_threshold=missing_threshold)
        kept = pre.kept_indices
        if kept.size == 0:
            raise DataError(
                f"days: all {len(days)} days exceed the missing threshold {missing_threshold}."
            )
        events = [days.events[i] for i in kept]
        captions = CaptionGenerator(schema=days.schema, seed=seed).generate_batch(
            pre.sensor,
            masks=pre.mask,
            events_list=events,
            seeds=[caption_seed(seed, days.person_ids[i], days.day_index[i]) for i in kept],
            variants=[caption_variant],
        )
        return cls(
            sensor=pre.sensor,
            labels=[days.activity_labels[i] for i in kept],
            captions=[c[caption_variant] for c in captions],
            mask=pre.mask,
            events=events,
            person_ids=[days.person_ids[i] for i in kept],
            day_index=days.day_index[kept],
            channel_names=days.schema.names,
            source=f"in-memory days ({len(kept)} of {len(days)} kept)",
        )

    @classmethod
    def from_tfrecord(cls, source, caption_variant="high_summary", limit=None, labels="auto"):
        """Examples of a TFRecord split (anything `resolve_shards` accepts).

        ``labels`` says where each example's class comes from: ``"events"``, the stored events
        (`activity_label_from_events`: the longest activity of at least 20 minutes, the one the
        caption names first; ``"none"`` without one); ``"label"``, the stored
        ``activity_label`` (a labelled window's label); ``"auto"`` (default), the events when
        the example has any, else the stored label.
        """
        from sensorlm_keras.data.tfrecord import read_examples
        from sensorlm_keras.utils.validation import check_choice

        labels_from = check_choice(labels, "labels", LABEL_SOURCES, error=InputValidationError)

        rows = read_examples(source, variants=[caption_variant], verify="auto")
        if limit is not None:
            rows = itertools.islice(rows, int(limit))
        sensor, mask, captions, labels, events, people, day_index = [], [], [], [], [], [], []
        names = None
        for example in rows:
            if names is None:
                names = tuple(example["channel_names"])
            elif tuple(example["channel_names"]) != names:
                raise DataError(
                    f"{source}: examples have different channel lists; expected one schema."
                )
            sensor.append(example["sensor"])
            mask.append(example["mask"])
            captions.append(example["captions"][caption_variant])
            label = example["activity_label"] or NO_ACTIVITY
            if labels_from == "events" or (labels_from == "auto" and example["events"]):
                label = activity_label_from_events(example["events"])
            labels.append(label)
            events.append(example["events"])
            people.append(example["person_id"])
            day_index.append(example["day_index"])
        if not sensor:
            raise DataError(f"{source}: the dataset holds no examples.")
        return cls(
            sensor=np.stack(sensor),
            labels=labels,
            captions=captions,
            mask=np.stack(mask),
            events=events,
            person_ids=people,
            day_index=day_index,
            channel_names=names,
            source=os.fspath(source) if not isinstance(source, (list, tuple)) else "shards",
        )

    @classmethod
    def from_npz(cls, path):
        """An ``.npz`` file with ``sensor`` (N, T, C) z-scores and optional ``labels``,
        ``captions``, ``mask``, ``person_ids`` and ``channel_names`` arrays."""
        path = os.fspath(path)
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
        except (OSError, ValueError) as error:
            raise DataError(f"{path}: not a readable .npz file ({error}).") from None
        if "sensor" not in arrays:
            raise DataError(
                f"{path}: expected an array 'sensor' (N, T, C) of preprocessed z-scores, found "
                f"{sorted(arrays)}."
            )
        data = cls(
            sensor=arrays["sensor"],
            labels=arrays.get("labels"),
            captions=arrays.get("captions"),
            mask=arrays.get("mask"),
            person_ids=arrays.get("person_ids"),
            channel_names=arrays.get("channel_names"),
        )
        data.source = path
        return data
