"""Simulated day schedules: logged activities, mood logs, off-wrist gaps and everyday movement.

`ScheduleSimulator.simulate` turns one `SimulatedPerson` into a per-minute *state* (what the
person does and how hard: sleep and its stages, effort, wrist motion, cadence, altitude, skin
temperature change, sweat, electrode contact, stress, off-wrist) on one continuous timeline,
plus each day's `Event` list and activity label. `signals.simulate_signals` turns the state
into channel values.
"""

import numpy as np

from sensorlm_keras.data.captions.semantic import day_activity_label
from sensorlm_keras.data.event import MINUTES_PER_DAY, Event
from sensorlm_keras.data.synthetic.simulated_person import AROUSAL_MOODS, CALMING_MOODS
from sensorlm_keras.data.synthetic.sleep import STAGE_AWAKE, simulate_nights, sleep_events

T = MINUTES_PER_DAY
_EXERCISE_WINDOWS = {
    "morning": (6 * 60, 10 * 60),
    "midday": (11 * 60, 14 * 60),
    "evening": (16 * 60 + 30, 21 * 60),
}
_ANY_WINDOW = (6 * 60 + 30, 21 * 60 + 30)
_SECOND_ACTIVITY_PROBABILITY = 0.12
NO_ACTIVITY = "none"
# Per-minute float32 drivers of the signals (see `signals.simulate_signals`).
_LEVELS = ("intensity", "motion", "rhythmic", "steps", "altitude", "temp_delta", "eda_gain",
           "contact_loss", "stress")


class ScheduleSimulator:
    """Simulates the schedule of one person at a time (used by `SyntheticDayGenerator`).

    Args:
        profiles: mapping activity label -> `ActivityProfile` of the activities people log.
        offwrist: simulate off-wrist gaps and forgotten-watch days.
        moods: simulate mood logs.
    """

    def __init__(self, profiles, offwrist=True, moods=True):
        self.profiles = profiles
        self.offwrist = offwrist
        self.moods = moods

    def simulate(self, person, num_days, rng):
        """Sleep, activities, moods and off-wrist gaps of ``num_days`` consecutive days.

        Returns:
            ``(state, events, labels)``: dict of per-minute arrays over ``num_days * 1440``
            minutes, one `Event` list per day (in-day order) and one activity label per day.
        """
        asleep, stage, nights = simulate_nights(person, num_days, rng)
        state = {"asleep": asleep, "stage": stage}
        state.update({key: np.zeros(asleep.shape[0], np.float32) for key in _LEVELS})
        state["activity"] = np.zeros(asleep.shape[0], dtype=bool)
        state["offwrist"] = np.zeros(asleep.shape[0], dtype=bool)
        preferences = _labels_and_probabilities(person.activity_preferences)
        mood_weights = _labels_and_probabilities(person.mood_weights)
        all_events, labels = [], []
        for d in range(num_days):
            day_events = self._simulate_day(person, state, nights, d, preferences, mood_weights,
                                            rng)
            if day_events is None:  # the watch stayed on the charger
                all_events.append([])
                labels.append(NO_ACTIVITY)
                continue
            # In-day order: by the first minute of the event inside this day.
            day_events.sort(key=lambda item: item[0])
            all_events.append([event for _, event in day_events])
            labels.append(day_activity_label(event for _, event in day_events))
        paint_everyday_movement(state, person, rng)
        return state, all_events, labels

    def _simulate_day(self, person, state, nights, d, preferences, mood_weights, rng):
        """``(first minute, Event)`` pairs of day ``d`` (state painted), or None when the
        watch was not worn at all that day."""
        base = d * T
        day = slice(base, base + T)
        day_events = sleep_events(nights, d)
        if self.offwrist and rng.random() < person.forgot_watch_rate:
            # No signal, nothing logged from the watch.
            state["offwrist"][day] = True
            return None
        busy = state["asleep"][day].copy()  # minutes unavailable for new events
        activities = self._simulate_activities(person, state, base, busy, preferences, rng)
        for label, start, end in activities:
            day_events.append((start, Event("activity", label, start, end - 1)))
        if self.offwrist and rng.random() < person.offwrist_rate:
            _place_offwrist_gaps(state, base, busy, rng)
        if self.moods:
            n_mood = min(int(rng.poisson(person.mood_rate)), 3)
            for _ in range(n_mood):
                placed = place_mood(person, state, base, busy, activities, nights, d,
                                    mood_weights, rng)
                if placed is not None:
                    minute, mood = placed
                    day_events.append((minute, Event("mood", mood, minute, minute)))
        return day_events

    def _simulate_activities(self, person, state, base, busy, preferences, rng):
        """The day's logged activities ``(label, start, end)``, sorted by start.

        A workout on a day with probability ``activity_rate``; a second, rarer one on top, so
        that most active days have one activity and the day's label is unambiguous.
        """
        labels, p = preferences
        activities = []
        n_act = int(rng.random() < person.activity_rate)
        n_act += int(n_act and rng.random() < _SECOND_ACTIVITY_PROBABILITY)
        for label in rng.choice(labels, size=n_act, p=p):
            placed = self._place_activity(str(label), person, busy, rng)
            if placed is None:
                continue
            start, end = placed
            busy[max(start - 15, 0) : min(end + 15, T)] = True
            activities.append((str(label), start, end))
            self._paint_activity(state, base, str(label), start, end, person, rng)
        activities.sort(key=lambda a: a[1])
        return activities

    def _place_activity(self, label, person, busy, rng):
        lo, hi = self.profiles[label].duration_range
        duration = int(round(np.exp(rng.uniform(np.log(lo), np.log(hi + 1)))))
        duration = int(np.clip(duration, lo, hi))
        preferred = _EXERCISE_WINDOWS[person.exercise_time]
        window = preferred if rng.random() < 0.75 else _ANY_WINDOW
        start = find_free(busy, duration, window, rng, margin=15)
        if start is None and window is not _ANY_WINDOW:
            start = find_free(busy, duration, _ANY_WINDOW, rng, margin=15)
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


def _labels_and_probabilities(weights):
    """Sorted labels of a weight mapping and their normalised probabilities."""
    labels = sorted(weights)
    p = np.array([weights[label] for label in labels], dtype=np.float64)
    return labels, p / p.sum()


def _place_offwrist_gaps(state, base, busy, rng):
    """One (rarely two) off-wrist gaps of 15 to 150 minutes during the waking day."""
    for _ in range(1 if rng.random() < 0.75 else 2):
        gap = int(np.exp(rng.uniform(np.log(15), np.log(150))))
        start = find_free(busy, gap, _ANY_WINDOW, rng, margin=5)
        if start is not None:
            state["offwrist"][base + start : base + start + gap] = True
            busy[start : start + gap] = True


def find_free(busy, length, window, rng, margin, tries=40):
    """A random start in ``window`` whose ``length`` minutes (plus ``margin`` either side) are
    free in ``busy``, or None after ``tries`` draws."""
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


def place_mood(person, state, base, busy, activities, nights, day, mood_weights, rng):
    """One mood log that leaves a trace in the signals, or None when no minute is free.

    Every simulated mood is partly physiological, as a wearer's log would be:
    "energetic" follows a workout by 5 to 60 minutes, "tired" comes in the morning after
    a night at least 45 minutes shorter than usual, and the rest are drawn from the
    person's weights: "stressed" and "anxious" with an EDA, heart-rate and LF/HF rise over
    the 45 minutes before the log, "calm" with a lower heart rate and higher HRV over the
    30 minutes before it. Moods without any signal ("happy", "content", "sad") are not
    simulated; they stay valid labels for real logs.
    """
    mood_labels, mood_p = mood_weights
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
    minute = find_free(busy, 1, window, rng, margin=0)
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


def paint_everyday_movement(state, person, rng):
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
    idle = 0.02 + 0.15 * (state["asleep"] & (state["stage"] == STAGE_AWAKE))
    turns = state["asleep"] & (rng.random(length) < 0.02)
    everyday_motion = np.where(awake, 0.12 + 0.33 * in_bout, idle + 0.2 * turns)
    np.maximum(state["motion"], everyday_motion.astype(np.float32), out=state["motion"])
    everyday_intensity = np.where(awake, 0.02 + 0.08 * in_bout, 0.0).astype(np.float32)
    np.maximum(state["intensity"], everyday_intensity, out=state["intensity"])
    state["rhythmic"] = np.where(in_bout, 0.8, state["rhythmic"]).astype(np.float32)
    stairs = in_bout & (rng.random(length) < 0.08)
    state["altitude"] = np.maximum(state["altitude"], 0.05 * stairs).astype(np.float32)
