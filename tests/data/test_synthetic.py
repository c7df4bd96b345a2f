"""Synthetic days: shapes, determinism, person differences, signals consistent with events."""

import dataclasses
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorlm_keras.data import (
    ACTIVITY_PROFILES,
    ChannelSchema,
    Event,
    SimulatedPerson,
    SyntheticDayGenerator,
    SyntheticDays,
    preprocess_days,
)
from sensorlm_keras.errors import ConfigError

SCHEMA = ChannelSchema.default()


def col(days, name):
    return days.raw[..., days.schema.index(name)]


def in_day_minutes(event, first=False):
    """Minutes of this day covered by an event (no simulated event wraps midnight)."""
    assert not event.wraps_midnight, event
    return np.arange(event.start_minute, event.end_minute + 1)


@pytest.fixture(scope="module")
def days():
    return SyntheticDayGenerator().generate(num_people=24, days_per_person=6, seed=7)


def test_shapes_dtypes_and_metadata(days):
    assert isinstance(days, SyntheticDays)
    assert days.raw.shape == (144, 1440, 34)
    assert days.raw.dtype == np.float32
    assert len(days.events) == len(days.activity_labels) == len(days) == 144
    assert list(days.day_index[:6]) == [0, 1, 2, 3, 4, 5]
    assert len(set(days.person_ids)) == 24
    assert all(isinstance(e, Event) for day in days.events for e in day)
    assert len(days.people) == 24


def test_nan_exactly_off_wrist(days):
    nan = np.isnan(days.raw)
    offwrist = days.info["offwrist"]
    assert np.array_equal(nan.any(-1), offwrist)
    assert np.array_equal(nan.all(-1), offwrist)
    assert 0.0 < offwrist.mean() < 0.3
    assert np.isfinite(days.raw[~offwrist]).all()


def test_physical_ranges_follow_channels_csv(days):
    for i, name in enumerate(SCHEMA.names):
        x = days.raw[..., i]
        mean = np.nanmean(x)
        assert abs(mean - SCHEMA.means[i]) < 3 * SCHEMA.stds[i], name
        if SCHEMA.non_negative[i]:
            assert np.nanmin(x) >= 0, name
    assert 35 <= np.nanmin(col(days, "HR")) and np.nanmax(col(days, "HR")) <= 215
    assert np.nanmax(col(days, "spo2")) <= 100


def test_determinism_and_seed_dependence():
    g = SyntheticDayGenerator()
    a = g.generate(3, 2, seed=11)
    b = g.generate(3, 2, seed=11)
    c = g.generate(3, 2, seed=12)
    assert np.array_equal(a.raw, b.raw, equal_nan=True)
    assert a.events == b.events and a.activity_labels == b.activity_labels
    assert not np.array_equal(a.raw, c.raw, equal_nan=True)
    # A person's days depend only on (seed, person index), not on how many people are drawn.
    more = g.generate(5, 2, seed=11)
    assert np.array_equal(a.raw, more.raw[:6], equal_nan=True)
    assert a.events == more.events[:6]


def test_people_differ(days):
    people = days.people
    assert len({round(p.resting_hr, 3) for p in people}) == len(people)
    assert len({tuple(sorted(p.activity_preferences)) for p in people}) > 5
    assert len({p.exercise_time for p in people}) > 1
    # Night-time heart rate tracks each person's resting HR.
    asleep = days.info["asleep"]
    hr = col(days, "HR")
    night_hr = [
        np.nanmean(hr[i * 6 : (i + 1) * 6][asleep[i * 6 : (i + 1) * 6]]) for i in range(len(people))
    ]
    resting = [p.resting_hr for p in people]
    assert np.corrcoef(night_hr, resting)[0, 1] > 0.9
    assert np.ptp(night_hr) > 10


def _minutes_of(days, kind, label=None):
    """Boolean (N, 1440) mask of minutes covered by matching events."""
    out = np.zeros((len(days), 1440), dtype=bool)
    for i, day in enumerate(days.events):
        for k, e in enumerate(day):
            if e.kind == kind and (label is None or e.label == label):
                out[i, in_day_minutes(e, first=k == 0)] = True
    return out


def test_sleep_events_match_the_sleep_signal(days):
    asleep = days.info["asleep"]
    covered = _minutes_of(days, "sleep")
    worn = ~days.info["offwrist"].all(-1)
    assert np.array_equal(covered[worn], asleep[worn])
    stages = np.stack(
        [col(days, f"sleep_stage_{s}") for s in ("awake", "light", "deep", "rem")], -1
    )
    ok = ~days.info["offwrist"]
    assert np.allclose(stages[asleep & ok].sum(-1), 1.0)
    assert np.all(stages[~asleep & ok] == 0)
    assert (col(days, "sleep_stage_deep")[asleep & ok] > 0).mean() > 0.05
    sc = col(days, "sleep_coefficient")
    assert np.nanmean(sc[asleep]) > np.nanmean(sc[~asleep]) + 5
    temp = col(days, "wrist_temperatures")
    assert np.nanmean(temp[asleep]) > np.nanmean(temp[~asleep]) + 1.0
    # Nights cross midnight in the signals, and each day logs only its own part of them: last
    # night's sleep from minute 0, tonight's (when it starts before midnight) up to 1439.
    sleeps = [[e for e in day if e.kind == "sleep"] for day in days.events]
    assert not any(e.wraps_midnight for day in sleeps for e in day)
    assert any(day[0].start_minute == 0 for day in sleeps if day)
    assert any(day[-1].end_minute == 1439 for day in sleeps if day)


def test_activity_signatures(days):
    asleep = days.info["asleep"]
    hr, steps = col(days, "HR"), col(days, "steps")
    rmssd, eda = col(days, "rmssd0595"), col(days, "eda_level_real")
    active = _minutes_of(days, "activity")
    assert active.any()
    quiet_awake = ~asleep & ~active
    assert np.nanmean(hr[active]) > np.nanmean(hr[quiet_awake]) + 15
    assert np.nanmean(hr[quiet_awake]) > np.nanmean(hr[asleep])
    assert np.nanmean(rmssd[active]) < 0.6 * np.nanmean(rmssd[asleep])
    assert np.nanmean(eda[active]) > np.nanmean(eda[asleep])
    assert np.nanmean(col(days, "log_energy")[active]) > 2 * np.nanmean(
        col(days, "log_energy")[asleep]
    )
    labels = {e.label for day in days.events for e in day if e.kind == "activity"}
    assert len(labels) >= 8
    for label in labels:
        minutes = _minutes_of(days, "activity", label)
        profile = ACTIVITY_PROFILES[label]
        # Every logged activity raises heart rate above sleep.
        assert np.nanmean(hr[minutes]) > np.nanmean(hr[asleep]) + 10, label
        mean_steps = np.nanmean(steps[minutes])
        if profile.steps_per_minute >= 90:
            assert mean_steps > 60, label
        if profile.steps_per_minute <= 10:
            assert mean_steps < 20, label


def test_run_is_harder_than_walk_and_swim_cools_the_wrist():
    generator = SyntheticDayGenerator(activities=["run", "walk", "swim", "hiking"])
    days = generator.generate(num_people=30, days_per_person=4, seed=3)
    hr, temp = col(days, "HR"), col(days, "wrist_temperatures")
    run = _minutes_of(days, "activity", "run")
    walk = _minutes_of(days, "activity", "walk")
    swim = _minutes_of(days, "activity", "swim")
    hike = _minutes_of(days, "activity", "hiking")
    asleep = days.info["asleep"]
    assert run.any() and walk.any() and swim.any() and hike.any()
    assert np.nanmean(hr[run]) > np.nanmean(hr[walk]) + 15
    assert np.nanmean(hr[run]) > np.nanmean(hr[asleep]) + 40
    assert np.nanmean(temp[swim]) < np.nanmean(temp[walk]) - 2
    assert np.nanmean(col(days, "steps")[swim]) < 5
    alt = col(days, "altim_std")
    assert np.nanmean(alt[hike]) > 5 * np.nanmean(alt[run])


def test_event_durations_labels_and_moods():
    days = SyntheticDayGenerator().generate(num_people=40, days_per_person=5, seed=1)
    durations = [e.duration_minutes for day in days.events for e in day if e.kind == "activity"]
    assert min(durations) >= 10 and max(durations) <= 180
    assert any(d < 20 for d in durations) and any(d >= 60 for d in durations)
    moods = [e for day in days.events for e in day if e.kind == "mood"]
    assert moods and all(e.start_minute == e.end_minute for e in moods)
    # Only moods that leave a trace in the signals are simulated.
    assert {e.label for e in moods} <= {"stressed", "anxious", "calm", "energetic", "tired"}
    for day, label in zip(days.events, days.activity_labels):
        # The label is the first activity the caption names: the longest of >= 20 minutes.
        acts = [e for e in day if e.kind == "activity" and e.duration_minutes >= 20]
        if not acts:
            assert label == "none"
        else:
            assert label == max(acts, key=lambda e: (e.duration_minutes, -e.start_minute)).label
    # Most active days have a single activity, so a day's label is unambiguous.
    counts = [sum(e.kind == "activity" for e in day) for day in days.events]
    active = [c for c in counts if c]
    assert np.mean([c == 1 for c in active]) > 0.8
    # Activities never overlap sleep or off-wrist gaps.
    active = _minutes_of(days, "activity")
    assert not (active & days.info["asleep"]).any()
    assert not (active & days.info["offwrist"]).any()


def test_schema_subset_and_preprocessing():
    paper26 = ChannelSchema.named("paper26")
    full = SyntheticDayGenerator().generate(2, 2, seed=5)
    sub = SyntheticDayGenerator(schema=paper26).generate(2, 2, seed=5)
    assert sub.raw.shape == (4, 1440, 26)
    for j, name in enumerate(paper26.names):
        assert np.array_equal(sub.raw[..., j], col(full, name), equal_nan=True)
    pre = preprocess_days(full.raw)
    assert len(pre) >= 3
    assert np.isfinite(pre.sensor).all()


def test_vectorised_speed():
    start = time.perf_counter()
    days = SyntheticDayGenerator().generate(num_people=50, days_per_person=6, seed=0)
    elapsed = time.perf_counter() - start
    assert len(days) == 300
    assert elapsed < 15, f"300 days took {elapsed:.1f} s"


def test_validation_errors():
    with pytest.raises(ConfigError, match="num_people"):
        SyntheticDayGenerator().generate(0, 1)
    with pytest.raises(ConfigError, match="days_per_person"):
        SyntheticDayGenerator().generate(1, -2)
    with pytest.raises(ConfigError, match="seed"):
        SyntheticDayGenerator().generate(1, 1, seed=-1)
    with pytest.raises(ConfigError, match="activities"):
        SyntheticDayGenerator(activities=["quidditch"])
    with pytest.raises(ConfigError, match="schema"):
        SyntheticDayGenerator(schema="all34")
    person = SimulatedPerson.sample(np.random.default_rng(0), "p")
    swimmer = dataclasses.replace(person, activity_preferences={"swim": 1.0})
    with pytest.raises(ConfigError, match="not simulated"):
        SyntheticDayGenerator(activities=["run"]).generate_for_people([swimmer], 1)
    with pytest.raises(ConfigError, match="resting_hr"):
        dataclasses.replace(person, resting_hr=250.0)


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    people=st.integers(1, 3),
    n_days=st.integers(1, 3),
)
def test_invariants_hold_for_any_seed(seed, people, n_days):
    days = SyntheticDayGenerator().generate(people, n_days, seed=seed)
    assert days.raw.shape == (people * n_days, 1440, 34)
    steps = col(days, "steps")
    assert np.nanmin(steps, initial=0) >= 0
    worn = ~days.info["offwrist"].all(-1)
    covered = _minutes_of(days, "sleep")
    assert np.array_equal(covered[worn], days.info["asleep"][worn])
    for day in days.events:
        for e in day:
            if e.kind == "activity":
                lo, hi = ACTIVITY_PROFILES[e.label].duration_range
                assert lo <= e.duration_minutes <= hi, e


def test_moods_leave_a_trace_in_the_signals():
    days = SyntheticDayGenerator().generate(num_people=60, days_per_person=5, seed=4)
    eda = col(days, "eda_level_real")
    before = {"aroused": [], "calm": []}
    for d, day in enumerate(days.events):
        ends = [e.end_minute for e in day if e.kind == "activity"]
        for e in day:
            if e.kind != "mood" or e.start_minute < 45:
                continue
            window = slice(e.start_minute - 30, e.start_minute)
            if e.label in ("stressed", "anxious"):
                before["aroused"].append(np.nanmean(eda[d, window]))
            elif e.label == "calm":
                before["calm"].append(np.nanmean(eda[d, window]))
            elif e.label == "energetic":  # logged 5-60 minutes after a workout ended
                assert any(5 <= e.start_minute - end <= 61 for end in ends), (d, e)
    assert len(before["aroused"]) > 10 and len(before["calm"]) > 10
    assert np.nanmean(before["aroused"]) > np.nanmean(before["calm"]) + 1.0
