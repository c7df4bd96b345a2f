"""`Event`: a logged event of a wearable day (activity, sleep period or mood log)."""

import dataclasses

from sensorlm_keras.errors import DataError
from sensorlm_keras.utils.validation import check_int

MINUTES_PER_DAY = 1440
EVENT_KINDS = ("activity", "sleep", "mood")


@dataclasses.dataclass(frozen=True)
class Event:
    """A logged event with minute-of-day bounds.

    Minutes are integers in ``[0, 1439]``; ``end_minute`` is inclusive. A sleep period that
    crosses midnight (it started the evening before this day's data ends, or ends the next
    morning) is written with ``end_minute < start_minute``; its duration wraps around midnight.
    A mood log is a point event: ``start_minute == end_minute``. Activities and moods must not
    wrap.

    Args:
        kind: ``"activity"``, ``"sleep"`` or ``"mood"``.
        label: activity name (``"run"``), sleep label (``"sleep"``) or mood (``"calm"``).
        start_minute: first minute of the event, 0..1439.
        end_minute: last minute of the event (inclusive), 0..1439.

    Example:

    ```python
    from sensorlm_keras.data import Event

    run = Event("activity", "run", start_minute=420, end_minute=459)
    night = Event("sleep", "sleep", start_minute=1380, end_minute=390)   # 23:00 -> 06:30
    night.duration_minutes  # 451
    ```
    """

    kind: str
    label: str
    start_minute: int
    end_minute: int

    def __post_init__(self):
        if self.kind not in EVENT_KINDS:
            raise DataError(
                f"Event.kind: expected one of {EVENT_KINDS}, received {self.kind!r}."
            )
        if not isinstance(self.label, str) or not self.label.strip():
            raise DataError(f"Event.label: expected a non-empty string, received {self.label!r}.")
        for field in ("start_minute", "end_minute"):
            value = check_int(
                getattr(self, field),
                f"Event.{field} (event {self.kind} {self.label!r}, a minute of day)",
                0,
                MINUTES_PER_DAY - 1,
                error=DataError,
            )
            object.__setattr__(self, field, value)
        if self.end_minute < self.start_minute and self.kind != "sleep":
            raise DataError(
                f"Event.end_minute: a {self.kind} event must not end before it starts; received "
                f"start_minute={self.start_minute}, end_minute={self.end_minute} "
                f"({self.label!r}). Only sleep periods may wrap around midnight."
            )
        if self.kind == "mood" and self.end_minute != self.start_minute:
            raise DataError(
                f"Event.end_minute: a mood log is a point event, expected end_minute == "
                f"start_minute ({self.start_minute}), received {self.end_minute}."
            )

    @property
    def wraps_midnight(self):
        return self.end_minute < self.start_minute

    @property
    def duration_minutes(self):
        """Number of minutes covered (inclusive bounds; wraps for overnight sleep)."""
        return (self.end_minute - self.start_minute) % MINUTES_PER_DAY + 1

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d):
        return cls(**d)
