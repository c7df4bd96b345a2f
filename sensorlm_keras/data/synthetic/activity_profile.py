"""`ActivityProfile`: the physiological signature of a logged activity in synthetic days."""

import dataclasses

from sensorlm_keras.errors import ConfigError
from sensorlm_keras.utils.validation import check_float


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

    ACTIVITY_PROFILES["run"].intensity   # 0.78
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
            check_float(getattr(self, field), f"ActivityProfile({self.name!r}).{field}", 0, 1)


def _profiles(*profiles):
    return {p.name: p for p in profiles}


# Twelve activity classes, each with a signature a wrist device can tell apart: cadence (steps),
# effort (heart rate), wrist motion and its rhythm (accelerometer features), altitude changes,
# skin temperature, sweat (EDA), electrode contact, work/rest intervals and session length.
# Pairs that no wrist signal separates were merged (pilates into yoga, treadmill into run,
# martial arts into tennis, aerobic workout into dancing);
# `tests/evaluation/test_supervised_baseline.py` checks with a supervised classifier on the
# simulated days that every class stays apart.
# Walk, run and interval workouts reach below 20 minutes so that captions have short sessions to
# skip (a day whose only sessions are shorter than 20 minutes is labelled "none").
#
# | class            | effort | steps/min | wrist motion | rhythm | what else sets it apart       |
# |------------------|--------|-----------|--------------|--------|-------------------------------|
# | walk             | 0.22   | 112       | 0.45         | 0.90   | light effort, steady cadence  |
# | run              | 0.78   | 168       | 0.95         | 1.00   | high cadence and effort       |
# | hiking           | 0.42   | 78        | 0.55         | 0.70   | altitude changes, 1-3 hours   |
# | bike             | 0.55   | 2         | 0.30         | 0.30   | no steps, altitude, wind-cold |
# | spinning         | 0.72   | 2         | 0.15         | 0.55   | no steps, still wrist, 4-min intervals, warm |
# | swim             | 0.60   | 0         | 0.75         | 0.80   | cold wet wrist, contact lost  |
# | elliptical       | 0.60   | 132       | 0.22         | 0.95   | steps with a still wrist      |
# | strength training| 0.38   | 8         | 0.60         | 0.12   | 3-minute sets, few steps      |
# | yoga             | 0.20   | 1         | 0.20         | 0.05   | slow 8-minute flows, warm     |
# | tennis           | 0.55   | 55        | 0.90         | 0.25   | 2-minute rallies, 1-2 hours   |
# | dancing          | 0.45   | 85        | 0.75         | 0.65   | steady, warm, no intervals    |
# | interval workout | 0.72   | 120       | 0.85         | 0.60   | deep 4-minute intervals       |
ACTIVITY_PROFILES = _profiles(
    ActivityProfile("walk", 0.22, 112, 0.45, 0.9, 0.02, -0.3, 0.5, duration_range=(10, 90)),
    ActivityProfile("run", 0.78, 168, 0.95, 1.0, 0.02, -1.2, 1.6, duration_range=(12, 80)),
    ActivityProfile("hiking", 0.42, 78, 0.55, 0.7, 0.8, -0.8, 1.0, duration_range=(60, 180)),
    ActivityProfile("bike", 0.55, 2, 0.3, 0.3, 0.25, -2.2, 0.8, duration_range=(30, 120)),
    ActivityProfile(
        "spinning", 0.72, 2, 0.15, 0.55, 0.0, 0.8, 1.8, 0.0, 4, 0.4, duration_range=(30, 60)
    ),
    ActivityProfile("swim", 0.6, 0, 0.75, 0.8, 0.0, -4.5, -0.8, 0.65, duration_range=(20, 75)),
    ActivityProfile("elliptical", 0.6, 132, 0.22, 0.95, 0.0, 0.3, 1.2, duration_range=(20, 60)),
    ActivityProfile(
        "strength training", 0.38, 8, 0.6, 0.12, 0.0, 0.2, 0.9, 0.0, 3, 0.6,
        duration_range=(30, 75),
    ),
    ActivityProfile(
        "yoga", 0.2, 1, 0.2, 0.05, 0.0, 0.8, 0.4, 0.0, 8, 0.5, duration_range=(45, 90)
    ),
    ActivityProfile(
        "tennis", 0.55, 55, 0.9, 0.25, 0.0, -0.5, 1.3, 0.0, 2, 0.6, duration_range=(60, 120)
    ),
    ActivityProfile("dancing", 0.45, 85, 0.75, 0.65, 0.0, 0.4, 1.1, duration_range=(30, 90)),
    ActivityProfile(
        "interval workout", 0.72, 120, 0.85, 0.6, 0.0, 0.0, 1.4, 0.0, 4, 0.8,
        duration_range=(12, 40),
    ),
)
