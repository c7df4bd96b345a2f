"""`SimulatedPerson`: the traits that make one synthetic wearer differ from another."""

import dataclasses

import numpy as np

from sensorlm_keras.data.synthetic.activity_profile import ACTIVITY_PROFILES
from sensorlm_keras.errors import ConfigError
from sensorlm_keras.utils.validation import check_float

MOODS = ("happy", "calm", "content", "energetic", "tired", "stressed", "anxious", "sad")
# Moods that raise arousal before they are logged (EDA and heart-rate bump).
AROUSAL_MOODS = ("stressed", "anxious")
# Moods logged after a stretch of low arousal (lower heart rate, higher HRV, lower EDA).
CALMING_MOODS = ("calm",)
# Moods a person's weights draw from; "energetic" (after a workout) and "tired" (after a short
# night) are logged from the day's context instead. See `schedule.place_mood`.
WEIGHTED_MOODS = AROUSAL_MOODS + CALMING_MOODS
EXERCISE_TIMES = ("morning", "midday", "evening")


@dataclasses.dataclass(frozen=True)
class SimulatedPerson:
    """Physiology, schedule and habits of one synthetic wearer.

    Args:
        person_id: raw identifier (pseudonymised before anything is written to disk).
        age: years.
        fitness: 0 (sedentary) .. 1 (athlete); lowers resting HR, raises HRV and activity rate.
        resting_hr: sleeping/resting heart rate, bpm.
        max_hr: maximal heart rate, bpm.
        rmssd_rest: resting RMSSD in ms (HRV level).
        eda_baseline: resting skin conductance, microsiemens.
        temp_baseline: daytime wrist temperature, degrees C.
        spo2_baseline: awake SpO2, percent.
        bedtime_minute: usual sleep onset, minutes after midnight of the evening's day (may be
            >= 1440 for night owls, i.e. after midnight).
        sleep_minutes: usual sleep duration.
        bedtime_jitter: standard deviation of sleep onset, minutes.
        weekday_offset: weekday of day index 0 (0 = Monday); weekends shift sleep later.
        activity_rate: probability of a logged workout on a day (a second one follows with
            probability 0.12).
        activity_preferences: mapping activity label -> probability weight.
        exercise_time: ``"morning"``, ``"midday"`` or ``"evening"``.
        step_scale: multiplier of unlogged everyday walking.
        offwrist_rate: probability that a day has an off-wrist gap.
        forgot_watch_rate: probability that the watch is not worn at all on a day.
        mood_rate: expected number of mood logs per day.
        mood_weights: mapping mood -> probability weight of the moods drawn without context
            (`WEIGHTED_MOODS` when sampled).

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.data import SimulatedPerson

    person = SimulatedPerson.sample(np.random.default_rng(0), person_id="p0")
    person.resting_hr
    ```
    """

    person_id: str
    age: float
    fitness: float
    resting_hr: float
    max_hr: float
    rmssd_rest: float
    eda_baseline: float
    temp_baseline: float
    spo2_baseline: float
    bedtime_minute: float
    sleep_minutes: float
    bedtime_jitter: float
    weekday_offset: int
    activity_rate: float
    activity_preferences: dict
    exercise_time: str
    step_scale: float
    offwrist_rate: float
    forgot_watch_rate: float
    mood_rate: float
    mood_weights: dict

    def __post_init__(self):
        if not isinstance(self.person_id, str) or not self.person_id:
            raise ConfigError(
                f"SimulatedPerson.person_id: expected a non-empty string, received "
                f"{self.person_id!r}."
            )
        if not 30 <= self.resting_hr < self.max_hr <= 230:
            raise ConfigError(
                f"SimulatedPerson.resting_hr/max_hr: expected 30 <= resting_hr < max_hr <= 230, "
                f"received {self.resting_hr!r}, {self.max_hr!r}."
            )
        _check_known("activity_preferences", self.activity_preferences, "activities",
                     sorted(ACTIVITY_PROFILES))
        if not self.activity_preferences or min(self.activity_preferences.values()) < 0:
            raise ConfigError(
                "SimulatedPerson.activity_preferences: expected at least one activity with a "
                f"non-negative weight, received {self.activity_preferences!r}."
            )
        if self.exercise_time not in EXERCISE_TIMES:
            raise ConfigError(
                f"SimulatedPerson.exercise_time: expected one of {EXERCISE_TIMES}, received "
                f"{self.exercise_time!r}."
            )
        for field in ("offwrist_rate", "forgot_watch_rate"):
            check_float(getattr(self, field), f"SimulatedPerson.{field} (a probability)", 0, 1)
        _check_known("mood_weights", self.mood_weights, "moods", list(MOODS))

    @classmethod
    def sample(cls, rng, person_id, activities=None):
        """Draw a random, plausible person.

        Args:
            rng: a ``numpy.random.Generator``.
            person_id: identifier to give the person.
            activities: activity labels to choose preferences from (default: all of
                `ACTIVITY_PROFILES`).
        """
        activities = sorted(ACTIVITY_PROFILES) if activities is None else list(activities)
        age = float(rng.uniform(20, 70))
        fitness = float(rng.beta(2.0, 2.0))
        resting_hr = float(np.clip(66 - 14 * fitness + rng.normal(0, 4), 44, 88))
        max_hr = float(np.clip(208 - 0.7 * age + rng.normal(0, 5), resting_hr + 60, 215))
        rmssd = float(
            np.clip(
                np.exp(rng.normal(0, 0.25)) * 45 * (1.45 - age / 90) * (0.75 + 0.6 * fitness),
                12,
                140,
            )
        )
        chronotype = float(np.clip(rng.normal(0, 55), -120, 150))
        n_fav = int(rng.integers(2, min(5, len(activities)) + 1))
        favourites = rng.choice(len(activities), size=n_fav, replace=False)
        weights = rng.dirichlet(np.full(n_fav, 1.2))
        preferences = {activities[int(i)]: float(w) for i, w in zip(favourites, weights)}
        mood_w = rng.dirichlet(np.full(len(WEIGHTED_MOODS), 0.8))
        return cls(
            person_id=str(person_id),
            age=age,
            fitness=fitness,
            resting_hr=resting_hr,
            max_hr=max_hr,
            rmssd_rest=rmssd,
            eda_baseline=float(np.exp(rng.normal(np.log(2.5), 0.45))),
            temp_baseline=float(rng.normal(31.2, 0.6)),
            spo2_baseline=float(np.clip(rng.normal(96.8, 0.7), 94.0, 99.0)),
            bedtime_minute=float(23 * 60 + chronotype),
            sleep_minutes=float(np.clip(rng.normal(450, 40), 330, 570)),
            bedtime_jitter=float(rng.uniform(10, 40)),
            weekday_offset=int(rng.integers(0, 7)),
            activity_rate=float(np.clip(0.45 + 0.5 * fitness + rng.normal(0, 0.1), 0.3, 0.95)),
            activity_preferences=preferences,
            exercise_time=str(rng.choice(EXERCISE_TIMES)),
            step_scale=float(np.exp(rng.normal(0, 0.3))),
            offwrist_rate=float(rng.uniform(0.1, 0.45)),
            forgot_watch_rate=float(rng.choice([0.0, 0.0, 0.02, 0.05])),
            mood_rate=float(rng.uniform(0.2, 1.6)),
            mood_weights={m: float(w) for m, w in zip(WEIGHTED_MOODS, mood_w)},
        )


def _check_known(field, mapping, what, known):
    unknown = sorted(set(mapping) - set(known))
    if unknown:
        raise ConfigError(f"SimulatedPerson.{field}: unknown {what} {unknown}; known: {known}.")
