"""`SyntheticDayGenerator`: realistic synthetic wearable days in physical units, with events.

Each simulated person (`SimulatedPerson`) has a resting and maximal heart rate, an HRV level,
fitness, a chronotype (sleep timing), favourite activities and a preferred exercise time. A
person's days are simulated as one continuous timeline, so a night's sleep crosses midnight and
heart rate, temperature and sweat respond with physiological lags. Every day carries the `Event`
list that produced its signal: sleep periods (each cut at midnight), logged activities (10 to 180
minutes, each with the signature of its `ActivityProfile`; one on most active days, rarely two)
and mood logs that leave a trace in the signals (see `_place_mood`). Off-wrist gaps are NaN.

Only NumPy is needed; the generator is deterministic given its seed, and a person's days depend
only on ``(seed, person index)``, not on how many people are generated.
"""

import numpy as np

from sensorlm_keras.data.activity_profile import ACTIVITY_PROFILES, ActivityProfile
from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.data.event import MINUTES_PER_DAY, Event
from sensorlm_keras.data.captions.semantic import day_activity_label
from sensorlm_keras.data.simulated_person import AROUSAL_MOODS, CALMING_MOODS, SimulatedPerson
from sensorlm_keras.data.synthetic_days import SyntheticDays
from sensorlm_keras.errors import ConfigError, describe

T = MINUTES_PER_DAY
_STAGE_AWAKE, _STAGE_LIGHT, _STAGE_DEEP, _STAGE_REM = 0, 1, 2, 3
_EXERCISE_WINDOWS = {
    "morning": (6 * 60, 10 * 60),
    "midday": (11 * 60, 14 * 60),
    "evening": (16 * 60 + 30, 21 * 60),
}
_ANY_WINDOW = (6 * 60 + 30, 21 * 60 + 30)
_SECOND_ACTIVITY_PROBABILITY = 0.12
NO_ACTIVITY = "none"


def _check_positive_int(value, field, maximum=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{field}: expected a positive integer, received {value!r}.")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{field}: expected at most {maximum}, received {value!r}.")
    return int(value)


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed: expected a non-negative integer, received {seed!r}.")
    return int(seed)


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
        if schema is None:
            schema = full
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
        self.schema = schema
        self._columns = np.array([full.index(n) for n in schema.names])
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
        self.profiles = profiles
        self.offwrist = bool(offwrist)
        self.moods = bool(moods)

    # ------------------------------------------------------------------ public API
    def sample_people(self, num_people, seed=0):
        """Draw ``num_people`` `SimulatedPerson`; person ``i`` depends only on ``seed``, ``i``."""
        num_people = _check_positive_int(num_people, "num_people", maximum=10_000_000)
        seed = _check_seed(seed)
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
        days_per_person = _check_positive_int(days_per_person, "days_per_person", maximum=100_000)
        seed = _check_seed(seed)
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
        n = len(people) * days_per_person
        raw = np.empty((n, T, len(self.schema)), dtype=np.float32)
        offwrist = np.zeros((n, T), dtype=bool)
        asleep = np.zeros((n, T), dtype=bool)
        events, labels, person_ids, day_index = [], [], [], []
        for i, person in enumerate(people):
            rng = np.random.default_rng([seed, i, 1])
            rows = slice(i * days_per_person, (i + 1) * days_per_person)
            state, day_events, day_labels = self._simulate_schedule(person, days_per_person, rng)
            signals = self._simulate_signals(person, state, rng)
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

    # ------------------------------------------------------------------ schedule
    def _simulate_schedule(self, person, num_days, rng):
        """Sleep, activities, moods and off-wrist gaps on one continuous per-person timeline."""
        length = num_days * T
        # Absolute timeline from the start of day -1 to the end of day num_days.
        total = (num_days + 2) * T
        asleep_abs = np.zeros(total, dtype=bool)
        stage_abs = np.zeros(total, dtype=np.int8)
        nights = []
        for k in range(-1, num_days):
            weekday = (person.weekday_offset + k) % 7
            weekend = weekday in (4, 5)  # Friday and Saturday nights
            onset = k * T + person.bedtime_minute + (45 if weekend else 0)
            onset += rng.normal(0, person.bedtime_jitter)
            duration = person.sleep_minutes + (40 if weekend else 0) + rng.normal(0, 35)
            onset = int(round(onset))
            wake = onset + int(round(np.clip(duration, 240, 660)))
            # Nobody here wakes up for the day before 03:00: every day starts asleep.
            wake = max(wake, (k + 1) * T + 180)
            nights.append((onset, wake))
            self._fill_sleep(asleep_abs, stage_abs, onset + T, wake + T, rng)
        asleep = asleep_abs[T : T + length].copy()
        stage = stage_abs[T : T + length].copy()

        state = {
            "asleep": asleep,
            "stage": stage,
            "intensity": np.zeros(length, np.float32),
            "motion": np.zeros(length, np.float32),
            "rhythmic": np.zeros(length, np.float32),
            "steps": np.zeros(length, np.float32),
            "altitude": np.zeros(length, np.float32),
            "temp_delta": np.zeros(length, np.float32),
            "eda_gain": np.zeros(length, np.float32),
            "contact_loss": np.zeros(length, np.float32),
            "stress": np.zeros(length, np.float32),
            "activity": np.zeros(length, dtype=bool),
            "offwrist": np.zeros(length, dtype=bool),
        }
        pref_labels = sorted(person.activity_preferences)
        pref_p = np.array([person.activity_preferences[a] for a in pref_labels], dtype=np.float64)
        pref_p = pref_p / pref_p.sum()
        mood_labels = sorted(person.mood_weights)
        mood_p = np.array([person.mood_weights[m] for m in mood_labels], dtype=np.float64)
        mood_p = mood_p / mood_p.sum()

        all_events, labels = [], []
        for d in range(num_days):
            base = d * T
            day = slice(base, base + T)
            day_events = []
            for onset, wake in nights:
                if onset < base + T and wake > base:
                    # The part of the night inside this day's window (see the class doc).
                    start, end = max(onset - base, 0), min(wake - base, T) - 1
                    day_events.append((start, Event("sleep", "sleep", start, end)))

            if self.offwrist and rng.random() < person.forgot_watch_rate:
                # The watch stayed on the charger: no signal, nothing logged from the watch.
                state["offwrist"][day] = True
                all_events.append([])
                labels.append(NO_ACTIVITY)
                continue

            busy = asleep[day].copy()  # minutes unavailable for new events
            activities = []
            # A workout on a day with probability activity_rate; a second, rarer one on top, so
            # that most active days have one activity and the day's label is unambiguous.
            n_act = int(rng.random() < person.activity_rate)
            n_act += int(n_act and rng.random() < _SECOND_ACTIVITY_PROBABILITY)
            for label in rng.choice(pref_labels, size=n_act, p=pref_p):
                placed = self._place_activity(str(label), person, busy, rng)
                if placed is None:
                    continue
                start, end = placed
                busy[max(start - 15, 0) : min(end + 15, T)] = True
                activities.append((str(label), start, end))
                self._paint_activity(state, base, str(label), start, end, person, rng)
            activities.sort(key=lambda a: a[1])
            for label, start, end in activities:
                day_events.append((start, Event("activity", label, start, end - 1)))

            if self.offwrist and rng.random() < person.offwrist_rate:
                for _ in range(1 if rng.random() < 0.75 else 2):
                    gap = int(np.exp(rng.uniform(np.log(15), np.log(150))))
                    start = self._find_free(busy, gap, _ANY_WINDOW, rng, margin=5)
                    if start is not None:
                        state["offwrist"][base + start : base + start + gap] = True
                        busy[start : start + gap] = True

            if self.moods:
                n_mood = min(int(rng.poisson(person.mood_rate)), 3)
                for _ in range(n_mood):
                    placed = self._place_mood(person, state, base, busy, activities, nights, d,
                                              mood_labels, mood_p, rng)
                    if placed is not None:
                        minute, mood = placed
                        day_events.append((minute, Event("mood", mood, minute, minute)))
            # In-day order: by the first minute of the event inside this day.
            day_events.sort(key=lambda item: item[0])
            all_events.append([event for _, event in day_events])
            labels.append(day_activity_label(event for _, event in day_events))

        self._paint_everyday_movement(state, person, rng)
        return state, all_events, labels

    @staticmethod
    def _place_mood(person, state, base, busy, activities, nights, day, mood_labels, mood_p,
                    rng):
        """One mood log that leaves a trace in the signals, or None when no minute is free.

        Every simulated mood is partly physiological, as a wearer's log would be:
        "energetic" follows a workout by 5 to 60 minutes, "tired" comes in the morning after
        a night at least 45 minutes shorter than usual, and the rest are drawn from the
        person's weights: "stressed" and "anxious" with an EDA, heart-rate and LF/HF rise over
        the 45 minutes before the log, "calm" with a lower heart rate and higher HRV over the
        30 minutes before it. Moods without any signal ("happy", "content", "sad") are not
        simulated; they stay valid labels for real logs.
        """
        last_night = nights[day]
        short_night = (last_night[1] - last_night[0]) < person.sleep_minutes - 45
        choice = rng.random()
        if activities and choice < 0.35:
            _, _, end = activities[int(rng.integers(len(activities)))]
            mood, window = "energetic", (end + 5, end + 60)
        elif short_night and choice < 0.7:
            wake_minute = max(last_night[1] - day * T, 0)
            mood, window = "tired", (wake_minute + 10, wake_minute + 180)
        else:
            mood, window = str(rng.choice(mood_labels, p=mood_p)), (7 * 60, 23 * 60)
        window = (max(window[0], 7 * 60), min(window[1], 23 * 60))
        minute = SyntheticDayGenerator._find_free(busy, 1, window, rng, margin=0)
        if minute is None:
            return None
        if mood in AROUSAL_MOODS:
            lo = max(minute - 45, 0)
            ramp = np.linspace(0.2, 1.0, minute + 1 - lo, dtype=np.float32)
            seg = state["stress"][base + lo : base + minute + 1]
            np.maximum(seg, ramp, out=seg)
        elif mood in CALMING_MOODS:
            lo = max(minute - 30, 0)
            seg = state["stress"][base + lo : base + minute + 1]
            np.minimum(seg, -0.6, out=seg)
        return minute, mood

    @staticmethod
    def _fill_sleep(asleep, stage, start, end, rng):
        """Mark [start, end) asleep with ~90-minute cycles of light, deep, REM and awakenings."""
        asleep[start:end] = True
        t = start
        latency = int(rng.integers(5, 20))
        stage[t : min(t + latency, end)] = _STAGE_LIGHT
        t += latency
        cycle = 0
        while t < end:
            length = int(np.clip(rng.normal(90, 10), 60, 120))
            deep_frac = max(0.05, 0.42 - 0.1 * cycle) * rng.uniform(0.8, 1.2)
            rem_frac = min(0.35, 0.1 + 0.07 * cycle) * rng.uniform(0.8, 1.2)
            n_deep = int(length * deep_frac)
            n_rem = int(length * rem_frac)
            n_wake = int(rng.integers(1, 6)) if rng.random() < 0.35 else 0
            n_light = max(length - n_deep - n_rem - n_wake, 4)
            first_light = n_light // 2
            for code, n in (
                (_STAGE_LIGHT, first_light),
                (_STAGE_DEEP, n_deep),
                (_STAGE_LIGHT, n_light - first_light),
                (_STAGE_REM, n_rem),
                (_STAGE_AWAKE, n_wake),
            ):
                if t >= end:
                    break
                stage[t : min(t + n, end)] = code
                t += n
            cycle += 1

    @staticmethod
    def _find_free(busy, length, window, rng, margin, tries=40):
        lo, hi = window
        hi = min(hi, T - length)
        if hi <= lo:
            return None
        for _ in range(tries):
            start = int(rng.integers(lo, hi))
            a, b = max(start - margin, 0), min(start + length + margin, T)
            if not busy[a:b].any():
                return start
        return None

    def _place_activity(self, label, person, busy, rng):
        lo, hi = self.profiles[label].duration_range
        duration = int(round(np.exp(rng.uniform(np.log(lo), np.log(hi + 1)))))
        duration = int(np.clip(duration, lo, hi))
        preferred = _EXERCISE_WINDOWS[person.exercise_time]
        window = preferred if rng.random() < 0.75 else _ANY_WINDOW
        start = self._find_free(busy, duration, window, rng, margin=15)
        if start is None and window is not _ANY_WINDOW:
            start = self._find_free(busy, duration, _ANY_WINDOW, rng, margin=15)
        return None if start is None else (start, start + duration)

    def _paint_activity(self, state, base, label, start, end, person, rng):
        p = self.profiles[label]
        n = end - start
        sl = slice(base + start, base + end)
        level = p.intensity * np.exp(rng.normal(0, 0.1)) * (0.85 + 0.3 * person.fitness)
        square = np.zeros(n, np.float32)
        if p.interval_minutes > 0:
            phase = rng.uniform(0, 2 * np.pi)
            square = np.sign(np.sin(2 * np.pi * np.arange(n) / p.interval_minutes + phase))
        intensity = np.clip(level * (1 + p.interval_depth * square), 0.03, 1.0)
        state["intensity"][sl] = intensity
        state["motion"][sl] = np.clip(
            p.motion * rng.uniform(0.9, 1.1) * (1 + 0.5 * p.interval_depth * square), 0, 1
        )
        state["rhythmic"][sl] = p.rhythmic
        cadence = p.steps_per_minute * np.exp(rng.normal(0, 0.08))
        state["steps"][sl] = np.maximum(cadence * (1 + 0.3 * p.interval_depth * square), 0)
        state["altitude"][sl] = p.altitude
        state["temp_delta"][sl] = p.wrist_temp_delta
        state["eda_gain"][sl] = p.eda_gain
        state["contact_loss"][sl] = p.contact_loss
        state["activity"][sl] = True

    @staticmethod
    def _paint_everyday_movement(state, person, rng):
        """Unlogged everyday movement: short walking bouts and fidgeting while awake."""
        length = state["asleep"].shape[0]
        t = np.arange(length)
        awake = ~state["asleep"]
        free = awake & ~state["activity"]
        hour = (t % T) / 60.0
        daytime = np.clip(np.sin(np.pi * (hour - 6.5) / 16.0), 0.15, 1.0)
        p_start = 0.012 * person.step_scale * daytime
        starts = (rng.random(length) < p_start) & free
        bout_len = rng.integers(2, 12, size=length)
        bout_end = np.maximum.accumulate(np.where(starts, t + bout_len, -1))
        in_bout = (t < bout_end) & free
        cadence = rng.normal(100, 8, size=length).clip(60, 130)
        fidget = free & ~in_bout & (rng.random(length) < 0.15)
        steps = np.where(in_bout, cadence, 0.0) + np.where(fidget, rng.integers(1, 15, length), 0)
        state["steps"] += steps.astype(np.float32) * ~state["activity"]
        idle = 0.02 + 0.15 * (state["asleep"] & (state["stage"] == _STAGE_AWAKE))
        turns = state["asleep"] & (rng.random(length) < 0.02)
        everyday_motion = np.where(awake, 0.12 + 0.33 * in_bout, idle + 0.2 * turns)
        np.maximum(state["motion"], everyday_motion.astype(np.float32), out=state["motion"])
        everyday_intensity = np.where(awake, 0.02 + 0.08 * in_bout, 0.0).astype(np.float32)
        np.maximum(state["intensity"], everyday_intensity, out=state["intensity"])
        state["rhythmic"] = np.where(in_bout, 0.8, state["rhythmic"]).astype(np.float32)
        stairs = in_bout & (rng.random(length) < 0.08)
        state["altitude"] = np.maximum(state["altitude"], 0.05 * stairs).astype(np.float32)

    # ------------------------------------------------------------------ signals
    @staticmethod
    def _simulate_signals(person, state, rng):
        """Physical values of the 34 default channels, shape (length, 34), float32."""
        length = state["asleep"].shape[0]

        def noise(width=1):
            """Unit-variance noise, smoothed over ``width`` minutes."""
            if width <= 1:
                return rng.standard_normal(length)
            white = rng.standard_normal(length + width)
            c = np.cumsum(white)
            return (c[width:] - c[:-width]) / np.sqrt(width)

        minute = np.arange(length) % T
        chrono = person.bedtime_minute - 23 * 60
        circ = np.cos(2 * np.pi * (minute - (16 * 60 + chrono)) / T)
        night_phase = np.cos(2 * np.pi * (minute - (3 * 60 + chrono)) / T)
        a = state["asleep"].astype(np.float64)
        stage = state["stage"]
        deep = a * (stage == _STAGE_DEEP)
        rem = a * (stage == _STAGE_REM)
        light = a * (stage == _STAGE_LIGHT)
        wake_in_sleep = a * (stage == _STAGE_AWAKE)
        intensity = state["intensity"].astype(np.float64)
        i_fast = _lag(intensity, 1.5)
        i_slow = _lag(intensity, 8.0)
        sleep_slow = _lag(a, 25.0)
        stress = _lag(state["stress"].astype(np.float64), 3.0)
        motion = np.clip(state["motion"] + 0.03 * noise(), 0, 1)
        rhythmic = state["rhythmic"]
        contact = state["contact_loss"]

        ch = {}
        hr = (
            person.resting_hr
            + (1 - a) * (7 + 3.5 * circ)
            + a * (-2 - 4 * deep + 4 * rem + 8 * wake_in_sleep)
            + (person.max_hr - person.resting_hr) * i_fast
            + 7 * stress
            + 1.8 * noise(5)
            + 1.0 * noise()
        )
        ch["HR"] = np.clip(hr, 35, 215)
        ch["rr_med"] = 60000.0 / ch["HR"] * (1 + 0.01 * noise())
        hrv = np.exp(-3.2 * i_fast) * (1 + 0.3 * a + 0.45 * deep - 0.15 * rem) * (1 - 0.25 * stress)
        rmssd = np.clip(person.rmssd_rest * hrv * np.exp(0.18 * noise(3)), 3, 300)
        ch["rmssd0595"] = rmssd
        ch["sdnn0595"] = np.clip(
            (0.8 * rmssd + 22 * np.exp(-2 * i_fast) * (1 + 0.2 * (1 - a)))
            * np.exp(0.12 * noise(3)),
            5,
            350,
        )
        ch["pnn20"] = np.clip(1 - np.exp(-rmssd / 32) + 0.04 * noise(), 0, 1)
        ch["coherence"] = np.clip(0.12 + 0.3 * deep + 0.08 * a + 0.05 * noise(), 0, 1)
        ch["ShEnRR"] = np.clip(2.5 + 0.55 * np.log(ch["sdnn0595"] / 35) + 0.12 * noise(), 0.3, 5.5)
        hf = 0.25 * rmssd**2 * np.exp(0.25 * noise(3))
        lf_hf = np.clip(
            (2.8 + 4 * i_fast + 2 * stress - 1.8 * deep - 0.8 * light) * np.exp(0.25 * noise(3)),
            0.2,
            25,
        )
        ch["HF"] = hf
        ch["LF_HF"] = lf_hf
        ch["LF"] = hf * lf_hf
        ch["VLF"] = (0.5 * hf * lf_hf + 350) * np.exp(0.35 * noise(3))
        ch["spectralEn"] = 2.55 + 0.3 * np.log(ch["sdnn0595"] / 40) + 0.08 * noise()
        ch["percent_good"] = np.clip(0.88 - 0.75 * motion + 0.06 * noise(), 0, 1)

        ch["steps"] = np.round(np.maximum(state["steps"] * np.exp(0.06 * noise()), 0))
        ch["jerk_auto"] = 176 + 105 * motion + 8 * noise()
        ch["log_energy"] = np.maximum(6 + 170 * motion**1.2 + 4 * noise(), 0)
        ch["covariance"] = 33 + 42 * motion + 4 * noise()
        ch["log_energy_ratio"] = 26 + 55 * motion * (0.45 + 0.55 * rhythmic) + 5 * noise()
        ch["zero_crossing_std"] = 138 + 65 * motion * (1 - 0.5 * rhythmic) + 8 * noise()
        ch["zero_crossing_avg"] = np.maximum(22 + 125 * motion * rhythmic + 6 * noise(), 0)
        posture = np.where(a > 0, 100.0, np.where(contact > 0.5, 110.0, 127 + 10 * motion))
        ch["axis_mean"] = posture + 6 * noise(3)
        ch["altim_std"] = np.maximum(
            0.002 * np.exp(0.5 * noise()) + state["altitude"] * np.abs(noise(2)) * 0.6, 0
        )
        ch["kurtosis"] = np.maximum(28 + 175 * np.exp(-4 * motion) * np.exp(0.25 * noise()), 1)
        ch["sleep_coefficient"] = np.maximum(
            a * (8 + 8 * deep + 3 * light - 5 * wake_in_sleep)
            + (1 - a) * 2.5 * (1 - motion) ** 2
            + 1.2 * noise(),
            0,
        )
        ch["wrist_temperatures"] = np.clip(
            person.temp_baseline
            + 2.6 * sleep_slow
            + 0.5 * night_phase
            - 1.3 * i_slow
            + _lag(state["temp_delta"].astype(np.float64), 6.0)
            + 0.12 * noise(4),
            20,
            38,
        )
        sweat = _lag(intensity * np.maximum(state["eda_gain"], 0), 10.0)
        ch["eda_level_real"] = np.clip(
            person.eda_baseline * (0.55 + 0.45 * (1 - sleep_slow)) * (1 - 0.9 * contact)
            + 5.0 * sweat
            + 2.8 * stress,
            0.02,
            60,
        ) * np.exp(0.1 * noise(3))
        ch["leads_contact_counts"] = np.clip(
            248 - 80 * motion - 150 * contact + 10 * noise(), 0, 300
        )
        dips = a * np.maximum(noise(4) - 1.2, 0)
        ch["spo2"] = np.clip(
            person.spo2_baseline - 1.3 * a - 1.5 * dips - 0.8 * motion + 0.5 * noise(), 80, 100
        )
        ch["spo2_confidence"] = np.clip(a * 82 + (1 - a) * 38 * (1 - motion) + 6 * noise(), 0, 100)
        ch["spo2_coverage"] = np.clip(a * 66 + (1 - a) * 42 * (1 - motion) + 5 * noise(), 0, 100)
        ch["sleep_stage_awake"] = wake_in_sleep
        ch["sleep_stage_light"] = light
        ch["sleep_stage_deep"] = deep
        ch["sleep_stage_rem"] = rem

        names = ChannelSchema.default().names
        out = np.stack([ch[name] for name in names], axis=-1).astype(np.float32)
        out[state["offwrist"]] = np.nan
        return out


def _lag(x, tau):
    """First-order (exponential) response of a 1-D series with time constant ``tau`` minutes.

    Implemented as a causal FIR convolution via FFT (NumPy only); the series is padded on the left
    with its first value so there is no start-up transient.
    """
    k = int(6 * tau) + 1
    h = np.exp(-np.arange(k) / tau)
    h /= h.sum()
    padded = np.concatenate([np.full(k, x[0]), x])
    n = 1 << int(np.ceil(np.log2(padded.size + k)))
    y = np.fft.irfft(np.fft.rfft(padded, n) * np.fft.rfft(h, n), n)
    return y[k : k + x.size]
