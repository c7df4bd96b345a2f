"""`SyntheticDayGenerator`: realistic synthetic wearable days in physical units, with events.

Each simulated person (`SimulatedPerson`) has a resting and maximal heart rate, an HRV level,
fitness, a chronotype (sleep timing), favourite activities and a preferred exercise time. A
person's days are simulated as one continuous timeline, so a night's sleep crosses midnight and
heart rate, temperature and sweat respond with physiological lags. Every day carries the `Event`
list that produced its signal: sleep periods (each cut at midnight, see `sleep`), logged
activities (10 to 180 minutes, each with the signature of its `ActivityProfile`; one on most
active days, rarely two) and mood logs that leave a trace in the signals (see
`schedule.place_mood`). Off-wrist gaps are NaN. The channel values are drawn in `signals`.

Only NumPy is needed; the generator is deterministic given its seed, and a person's days depend
only on ``(seed, person index)``, not on how many people are generated.
"""

import numpy as np

from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.data.event import MINUTES_PER_DAY
from sensorlm_keras.data.synthetic.activity_profile import ACTIVITY_PROFILES, ActivityProfile
from sensorlm_keras.data.synthetic.schedule import ScheduleSimulator
from sensorlm_keras.data.synthetic.signals import simulate_signals
from sensorlm_keras.data.synthetic.simulated_person import SimulatedPerson
from sensorlm_keras.data.synthetic.synthetic_days import SyntheticDays
from sensorlm_keras.errors import ConfigError, describe
from sensorlm_keras.utils.validation import check_positive_int, check_seed

T = MINUTES_PER_DAY


class SyntheticDayGenerator:
    """Generates realistic synthetic person-days for all 34 SensorLM channels.

    Values are in physical units (bpm, ms, steps/min, degrees C, microsiemens, percent, ...),
    shaped like ``channels.csv`` (means and spreads of the same order), with NaN where the watch
    was off the wrist. Use `preprocess_days` to z-score them.

    Events of a day are sorted by their first minute inside the day. Sleep is logged as the
    day's window shows it: every day starts with the part of last night's sleep after
    midnight (``0..wake-up``, listed first) and, when tonight's sleep starts before midnight,
    ends with its part before midnight (``onset..1439``, listed last); no simulated event
    wraps midnight. So every sleep time and duration that a caption states can be read from
    the day's own signals (the reason, measured, is in docs/learning.md: a night's full
    length depends on minutes in the neighbouring days). ``info["asleep"]`` and
    ``info["offwrist"]`` hold the exact minute masks.

    Args:
        schema: `ChannelSchema` of the output (default: the 34 default channels). Any subset of
            the 34 names, in any order, is allowed.
        activities: activity labels people may log (default: all of `ACTIVITY_PROFILES`), or a
            mapping label -> `ActivityProfile` for custom activities.
        offwrist: simulate off-wrist gaps and forgotten-watch days (NaN).
        moods: simulate mood logs.

    Example:

    ```python
    from sensorlm_keras.data import SyntheticDayGenerator, preprocess_days

    days = SyntheticDayGenerator().generate(num_people=4, days_per_person=7, seed=0)
    days.raw.shape             # (28, 1440, 34), physical units, NaN = off-wrist
    days.events[0]             # [Event('sleep', 'sleep', 1391, 412), Event('activity', ...)]
    days.activity_labels[0]    # e.g. 'run' (longest logged activity >= 20 min) or 'none'
    clean = preprocess_days(days.raw)
    ```
    """

    def __init__(self, schema=None, activities=None, offwrist=True, moods=True):
        full = ChannelSchema.default()
        self.schema = _check_schema(schema, full)
        self._columns = np.array([full.index(n) for n in self.schema.names])
        self.profiles = _check_profiles(activities)
        self.offwrist = bool(offwrist)
        self.moods = bool(moods)

    # ------------------------------------------------------------------ public API
    def sample_people(self, num_people, seed=0):
        """Draw ``num_people`` `SimulatedPerson`; person ``i`` depends only on ``seed``, ``i``."""
        num_people = check_positive_int(num_people, "num_people", maximum=10_000_000)
        seed = check_seed(seed)
        people = []
        for i in range(num_people):
            rng = np.random.default_rng([seed, i, 0])
            person = SimulatedPerson.sample(
                rng, person_id=f"synthetic-{seed}-{i:06d}", activities=sorted(self.profiles)
            )
            people.append(person)
        return people

    def generate(self, num_people, days_per_person, seed=0):
        """Simulate ``num_people`` new people for ``days_per_person`` consecutive days each.

        Args:
            num_people: number of distinct people.
            days_per_person: consecutive days per person (day_index 0..days_per_person-1).
            seed: non-negative integer; equal seeds give bit-identical output.

        Returns:
            `SyntheticDays` with ``num_people * days_per_person`` rows, person-major.
        """
        people = self.sample_people(num_people, seed)
        return self.generate_for_people(people, days_per_person, seed)

    def generate_for_people(self, people, days_per_person, seed=0):
        """Simulate ``days_per_person`` days for each given `SimulatedPerson`."""
        days_per_person = check_positive_int(days_per_person, "days_per_person", maximum=100_000)
        seed = check_seed(seed)
        people = self._check_people(people)
        n = len(people) * days_per_person
        raw = np.empty((n, T, len(self.schema)), dtype=np.float32)
        offwrist = np.zeros((n, T), dtype=bool)
        asleep = np.zeros((n, T), dtype=bool)
        events, labels, person_ids, day_index = [], [], [], []
        schedules = ScheduleSimulator(self.profiles, self.offwrist, self.moods)
        for i, person in enumerate(people):
            rng = np.random.default_rng([seed, i, 1])
            rows = slice(i * days_per_person, (i + 1) * days_per_person)
            state, day_events, day_labels = schedules.simulate(person, days_per_person, rng)
            signals = simulate_signals(person, state, rng)
            raw[rows] = signals[:, self._columns].reshape(days_per_person, T, -1)
            offwrist[rows] = state["offwrist"].reshape(days_per_person, T)
            asleep[rows] = state["asleep"].reshape(days_per_person, T)
            events.extend(day_events)
            labels.extend(day_labels)
            person_ids.extend([person.person_id] * days_per_person)
            day_index.extend(range(days_per_person))
        return SyntheticDays(
            raw=raw,
            events=events,
            person_ids=np.array(person_ids),
            day_index=np.array(day_index, dtype=np.int32),
            activity_labels=tuple(labels),
            schema=self.schema,
            info={"offwrist": offwrist, "asleep": asleep},
            people=tuple(people),
        )

    def _check_people(self, people):
        people = list(people)
        if not people:
            raise ConfigError("people: expected at least one SimulatedPerson, received none.")
        for p in people:
            if not isinstance(p, SimulatedPerson):
                raise ConfigError(
                    f"people: expected SimulatedPerson objects, received {describe(p)}."
                )
            unknown = sorted(set(p.activity_preferences) - set(self.profiles))
            if unknown:
                raise ConfigError(
                    f"people[{p.person_id!r}].activity_preferences: activities {unknown} are not "
                    f"simulated by this generator ({sorted(self.profiles)})."
                )
        return people


def _check_schema(schema, full):
    if schema is None:
        return full
    if not isinstance(schema, ChannelSchema):
        raise ConfigError(
            f"SyntheticDayGenerator.schema: expected a ChannelSchema or None, received "
            f"{describe(schema)}."
        )
    unknown = [n for n in schema.names if n not in full]
    if unknown:
        raise ConfigError(
            f"SyntheticDayGenerator.schema: the generator cannot simulate channels {unknown}; "
            f"it knows {list(full.names)}."
        )
    return schema


def _check_profiles(activities):
    """Mapping label -> `ActivityProfile` from None, a list of known labels or a mapping."""
    if activities is None:
        profiles = dict(ACTIVITY_PROFILES)
    elif isinstance(activities, dict):
        profiles = dict(activities)
    else:
        activities = list(activities)
        unknown = [a for a in activities if a not in ACTIVITY_PROFILES]
        if unknown or not activities:
            raise ConfigError(
                f"SyntheticDayGenerator.activities: expected known activity labels, received "
                f"{activities!r}; known: {sorted(ACTIVITY_PROFILES)}."
            )
        profiles = {a: ACTIVITY_PROFILES[a] for a in activities}
    for label, profile in profiles.items():
        if not isinstance(profile, ActivityProfile) or profile.name != label:
            raise ConfigError(
                f"SyntheticDayGenerator.activities[{label!r}]: expected an ActivityProfile "
                f"named {label!r}, received {describe(profile)}."
            )
    if not profiles:
        raise ConfigError("SyntheticDayGenerator.activities: expected at least one activity.")
    return profiles
