"""Simulated nights: sleep onset and wake-up per night and the sleep stages inside them.

A person's nights are drawn on one continuous timeline (day ``-1`` to the last day), so a
night that starts before midnight continues into the next day. Within a night, ~90-minute
cycles of light, deep and REM sleep with short awakenings follow each other; deep sleep
shrinks and REM grows from cycle to cycle.
"""

import numpy as np

from sensorlm_keras.data.event import MINUTES_PER_DAY, Event

T = MINUTES_PER_DAY
STAGE_AWAKE, STAGE_LIGHT, STAGE_DEEP, STAGE_REM = 0, 1, 2, 3


def simulate_nights(person, num_days, rng):
    """Sleep of one person for ``num_days`` days, as minute masks and night bounds.

    Args:
        person: the `SimulatedPerson`.
        num_days: days simulated (day indices ``0 .. num_days - 1``).
        rng: the person's ``numpy.random.Generator``.

    Returns:
        ``(asleep, stage, nights)``: boolean and int8 stage arrays of ``num_days * 1440``
        minutes, and the ``(onset, wake)`` minutes of the nights before days
        ``0 .. num_days - 1``, counted from midnight of day 0 (the first onset is negative).
    """
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
        fill_sleep(asleep_abs, stage_abs, onset + T, wake + T, rng)
    asleep = asleep_abs[T : T + length].copy()
    stage = stage_abs[T : T + length].copy()
    return asleep, stage, nights


def fill_sleep(asleep, stage, start, end, rng):
    """Mark [start, end) asleep with ~90-minute cycles of light, deep, REM and awakenings."""
    asleep[start:end] = True
    t = start
    latency = int(rng.integers(5, 20))
    stage[t : min(t + latency, end)] = STAGE_LIGHT
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
            (STAGE_LIGHT, first_light),
            (STAGE_DEEP, n_deep),
            (STAGE_LIGHT, n_light - first_light),
            (STAGE_REM, n_rem),
            (STAGE_AWAKE, n_wake),
        ):
            if t >= end:
                break
            stage[t : min(t + n, end)] = code
            t += n
        cycle += 1


def sleep_events(nights, day):
    """``(first minute, Event)`` of each night's part inside day ``day``.

    A day's window shows the end of last night (``0 .. wake-up``) and, when tonight's sleep
    starts before midnight, its beginning (``onset .. 1439``); no event wraps midnight.
    """
    base = day * T
    found = []
    for onset, wake in nights:
        if onset < base + T and wake > base:
            start, end = max(onset - base, 0), min(wake - base, T) - 1
            found.append((start, Event("sleep", "sleep", start, end)))
    return found
