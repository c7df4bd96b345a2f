"""`ActivityProfile`: the physiological signature of a logged activity in synthetic days."""

import dataclasses

from sensorlm_keras.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class ActivityProfile:
    """How a logged activity shows up in the minute-level channels of a synthetic day.

    Args:
        name: activity label written into the `Event` (lower case, e.g. ``"run"``).
        intensity: mean effort as a fraction of the heart-rate reserve (0..1).
        steps_per_minute: mean cadence counted by the watch (0 for swimming, few on a bike).
        motion: wrist movement level (0 = still, 1 = vigorous); drives the accelerometer
            features, contact quality and HRV signal quality.
        rhythmic: how periodic the movement is (0..1); raises zero crossings and the
            energy ratio for walking, running, elliptical.
        altitude: altimeter variability added (hiking and outdoor cycling).
        wrist_temp_delta: change of skin temperature in degrees C (swimming cools strongly).
        eda_gain: sweat response multiplier for EDA (negative: wet skin, contact lost).
        contact_loss: fraction of lost electrode contact (0..1).
        interval_minutes: period of work/rest alternation (0 for steady effort).
        interval_depth: relative depth of that alternation (0..1).
        duration_range: ``(min, max)`` minutes of one session.

    Example:

    ```python
    from sensorlm_keras.data import ACTIVITY_PROFILES

    ACTIVITY_PROFILES["run"].intensity   # 0.75
    ```
    """

    name: str
    intensity: float
    steps_per_minute: float
    motion: float
    rhythmic: float
    altitude: float = 0.0
    wrist_temp_delta: float = 0.0
    eda_gain: float = 1.0
    contact_loss: float = 0.0
    interval_minutes: float = 0.0
    interval_depth: float = 0.0
    duration_range: tuple = (20, 60)

    def __post_init__(self):
        lo, hi = self.duration_range
        if not 1 <= lo <= hi <= 1000:
            raise ConfigError(
                f"ActivityProfile({self.name!r}).duration_range: expected 1 <= min <= max <= "
                f"1000 minutes, received {self.duration_range!r}."
            )
        for field in ("intensity", "motion", "rhythmic", "contact_loss", "interval_depth"):
            value = getattr(self, field)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(
                    f"ActivityProfile({self.name!r}).{field}: expected a value in [0, 1], "
                    f"received {value!r}."
                )


def _profiles(*profiles):
    return {p.name: p for p in profiles}


# Sixteen activity classes with distinct signatures, covering the paper's groups (locomotion,
# cardio, gym, sports, environment). Durations reach below 20 minutes for several classes so
# that captions have short sessions to skip.
ACTIVITY_PROFILES = _profiles(
    ActivityProfile("walk", 0.25, 105, 0.45, 0.85, 0.01, -0.3, 0.5, duration_range=(10, 90)),
    ActivityProfile("run", 0.75, 165, 0.95, 1.0, 0.01, -1.2, 1.6, duration_range=(12, 90)),
    ActivityProfile("bike", 0.55, 4, 0.35, 0.4, 0.04, -1.6, 1.0, duration_range=(20, 120)),
    ActivityProfile(
        "spinning", 0.65, 3, 0.25, 0.55, 0.0, 0.3, 1.4, 0.0, 4, 0.35, duration_range=(20, 60)
    ),
    ActivityProfile("swim", 0.6, 0, 0.7, 0.7, 0.0, -4.5, -0.8, 0.65, duration_range=(15, 75)),
    ActivityProfile(
        "strength training",
        0.4,
        8,
        0.55,
        0.2,
        0.0,
        0.2,
        0.9,
        0.0,
        3,
        0.5,
        duration_range=(15, 75),
    ),
    ActivityProfile("yoga", 0.15, 2, 0.2, 0.1, 0.0, 0.4, 0.3, duration_range=(20, 90)),
    ActivityProfile("pilates", 0.2, 2, 0.25, 0.15, 0.0, 0.3, 0.4, duration_range=(20, 60)),
    ActivityProfile("hiking", 0.45, 90, 0.55, 0.7, 0.25, -0.8, 1.0, duration_range=(45, 120)),
    ActivityProfile("elliptical", 0.6, 140, 0.5, 0.9, 0.0, 0.0, 1.2, duration_range=(10, 60)),
    ActivityProfile("treadmill", 0.55, 145, 0.75, 0.95, 0.0, 0.0, 1.2, duration_range=(10, 60)),
    ActivityProfile(
        "tennis", 0.55, 60, 0.85, 0.3, 0.0, -0.5, 1.2, 0.0, 2, 0.5, duration_range=(30, 120)
    ),
    ActivityProfile(
        "dancing", 0.45, 70, 0.7, 0.5, 0.0, 0.2, 1.1, 0.0, 4, 0.3, duration_range=(20, 90)
    ),
    ActivityProfile("aerobic workout", 0.6, 90, 0.7, 0.6, 0.0, 0.1, 1.2, duration_range=(15, 60)),
    ActivityProfile(
        "interval workout",
        0.65,
        60,
        0.8,
        0.5,
        0.0,
        0.1,
        1.3,
        0.0,
        3,
        0.7,
        duration_range=(10, 40),
    ),
    ActivityProfile(
        "martial arts", 0.6, 40, 0.9, 0.3, 0.0, 0.1, 1.2, 0.0, 2, 0.4, duration_range=(30, 90)
    ),
)
