"""`WearableDays`: a batch of raw person-days with their events and identities."""

import dataclasses

import numpy as np

from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.data.disk_day_array import DiskDayArray
from sensorlm_keras.data.event import MINUTES_PER_DAY, Event
from sensorlm_keras.errors import DataError, describe


@dataclasses.dataclass
class WearableDays:
    """Raw minute-level person-days in physical units, one row per day.

    Produced by `SyntheticDayGenerator.generate` (as its subclass `SyntheticDays`) and by
    `load_actigraphy_days`; consumed by `preprocess_days`, the caption generator and the TFRecord
    writer.

    Args:
        raw: ``float32`` array ``(N, 1440, C)`` of physical values; NaN marks missing minutes
            (off-wrist, not measured, outside the recording). A `DiskDayArray` (days in a
            file, read a few rows at a time) is kept as it is.
        events: list of ``N`` lists of `Event` (logged activities, sleep periods, mood logs).
        person_ids: ``N`` raw person identifiers (strings). They are pseudonymised (salted
            SHA-256) before anything is written to disk.
        day_index: ``int32`` array ``(N,)``, the day number of each row within its person.
        activity_labels: ``N`` strings: the label of the day's longest logged activity of at
            least 20 minutes (the first one its caption names), or ``"none"``. Used as the class
            label for activity recognition evaluation.
        schema: the `ChannelSchema` of the last axis of ``raw``.
        info: free-form per-dataset extras (e.g. ``{"light": (N, 1440) array}``); arrays whose
            first axis has length ``N`` are sliced along with the days by `select`.

    Example:

    ```python
    from sensorlm_keras.data import SyntheticDayGenerator

    days = SyntheticDayGenerator().generate(num_people=2, days_per_person=3, seed=0)
    len(days)                 # 6
    days.raw.shape            # (6, 1440, 34)
    first_two = days.select([0, 1])
    ```
    """

    raw: np.ndarray
    events: list
    person_ids: np.ndarray
    day_index: np.ndarray
    activity_labels: tuple
    schema: ChannelSchema
    info: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        name = type(self).__name__
        if not isinstance(self.schema, ChannelSchema):
            raise DataError(
                f"{name}.schema: expected a ChannelSchema, received {describe(self.schema)}."
            )
        raw = self.raw if isinstance(self.raw, DiskDayArray) else np.asarray(self.raw)
        if raw.ndim != 3 or raw.shape[1] != MINUTES_PER_DAY or raw.shape[2] != len(self.schema):
            raise DataError(
                f"{name}.raw: expected shape (N, {MINUTES_PER_DAY}, {len(self.schema)}), "
                f"received {describe(raw)}."
            )
        self.raw = raw if isinstance(raw, DiskDayArray) else raw.astype(np.float32, copy=False)
        n = raw.shape[0]
        self.person_ids = np.asarray([str(p) for p in self.person_ids], dtype=str)
        self.day_index = np.asarray(self.day_index, dtype=np.int32)
        self.activity_labels = tuple(str(a) for a in self.activity_labels)
        self.events = [list(e) for e in self.events]
        for field, value in (
            ("events", self.events),
            ("person_ids", self.person_ids),
            ("day_index", self.day_index),
            ("activity_labels", self.activity_labels),
        ):
            if len(value) != n:
                raise DataError(
                    f"{name}.{field}: expected {n} entries (one per day), received {len(value)}."
                )
        for i, day_events in enumerate(self.events):
            for event in day_events:
                if not isinstance(event, Event):
                    raise DataError(
                        f"{name}.events[{i}]: expected Event objects, received "
                        f"{describe(event)}."
                    )

    def __len__(self):
        return int(self.raw.shape[0])

    @property
    def num_days(self):
        """Number of person-days."""
        return len(self)

    def select(self, indices):
        """A new object with the given rows (any integer index array or boolean mask)."""
        indices = np.arange(len(self))[np.asarray(indices)]
        info = {
            k: (v[indices] if isinstance(v, np.ndarray) and v.shape[:1] == (len(self),) else v)
            for k, v in self.info.items()
        }
        kwargs = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("raw", "events", "person_ids", "day_index", "activity_labels", "info")
        }
        return type(self)(
            raw=self.raw[indices],
            events=[self.events[i] for i in indices],
            person_ids=self.person_ids[indices],
            day_index=self.day_index[indices],
            activity_labels=tuple(self.activity_labels[i] for i in indices),
            info=info,
            **kwargs,
        )
