"""Tests of the hierarchical captions (statistical, structural, semantic) and their variants."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorlm_keras.data import (
    CAPTION_VARIANTS,
    CaptionGenerator,
    ChannelSchema,
    Event,
    StructuralPattern,
    detect_patterns,
    detect_peaks,
    detect_trends,
    preprocess_days,
)
from sensorlm_keras.data.captions import phrases, semantic, statistical, structural
from sensorlm_keras.errors import ConfigError, DataError

T = 1440
SCHEMA = ChannelSchema.default()
GENERATOR = CaptionGenerator(SCHEMA, seed=0)


# ------------------------------------------------------------------------------ text parsing
def _template_regex(template):
    out = []
    for i, part in enumerate(re.split(r"\{(\w+)\}", template)):
        if i % 2 == 0:
            out.append(re.escape(part))
        elif part in ("mean", "max", "min", "std"):
            out.append(rf"(?P<{part}>-?\d+\.\d)")
        elif part in ("start", "end", "minute"):
            out.append(rf"(?P<{part}>\d+)")
        elif part in ("name", "Name"):
            out.append(r"(?P<name>.+?)")
        else:
            raise AssertionError(part)
    return re.compile("^" + "".join(out) + "$")


STAT_REGEXES = [_template_regex(t) for t in phrases.STATISTICAL_PHRASES]
STRUCT_REGEXES = [
    (kind, _template_regex(t)) for kind, bank in phrases.STRUCTURAL_PHRASES.items() for t in bank
]
DISPLAY_TO_NAME = {}
for _name in SCHEMA.names:
    DISPLAY_TO_NAME[phrases.display_name(_name)] = _name
    DISPLAY_TO_NAME[phrases.capitalize(phrases.display_name(_name))] = _name


def split_lines(caption):
    """{header: [sentences]} of a low/middle caption."""
    out = {}
    for line in caption.split("\n"):
        header, _, body = line.partition(": ")
        out[header] = re.split(r"(?<=\.) ", body)
    return out


def parse_statistics(caption):
    """{channel name: {mean, max, min, std}} parsed back out of a low caption."""
    found = {}
    for header, sentences in split_lines(caption).items():
        for sentence in sentences:
            matches = [r.match(sentence) for r in STAT_REGEXES]
            matches = [m for m in matches if m and m.group("name") in DISPLAY_TO_NAME]
            assert matches, f"unparsed statistics sentence under {header!r}: {sentence!r}"
            m = matches[0]
            found[DISPLAY_TO_NAME[m.group("name")]] = {
                k: float(m.group(k)) for k in ("mean", "max", "min", "std")
            }
    return found


def parse_structure(caption):
    """[(channel name, StructuralPattern)] parsed back out of a middle caption."""
    found = []
    for header, sentences in split_lines(caption).items():
        for sentence in sentences:
            hits = []
            for kind, regex in STRUCT_REGEXES:
                m = regex.match(sentence)
                if m and m.group("name") in DISPLAY_TO_NAME:
                    hits.append((kind, m))
            assert hits, f"unparsed structural sentence under {header!r}: {sentence!r}"
            assert len({k for k, _ in hits}) == 1, f"ambiguous sentence {sentence!r}"
            kind, m = hits[0]
            d = m.groupdict()
            start = int(d.get("start") or d.get("minute"))
            end = int(d.get("end") or d.get("minute"))
            found.append((DISPLAY_TO_NAME[d["name"]], StructuralPattern(kind, start, end)))
    return found


def expected_statistics(z, mask=None, schema=SCHEMA):
    x = schema.denormalize(np.asarray(z, dtype=np.float64))
    out = {}
    for c, name in enumerate(schema.names):
        col = x[:, c] if mask is None else x[~mask[:, c], c]
        if col.size:
            out[name] = {
                "mean": col.mean(),
                "max": col.max(),
                "min": col.min(),
                "std": np.std(col, ddof=0),
            }
    return out


def day_from_points(points, channel="HR", schema=SCHEMA, base=None):
    """A z-score day whose de-normalised channel follows the 36 points (40 minutes each)."""
    z = np.zeros((T, schema.num_channels)) if base is None else base.copy()
    c = schema.index(channel)
    raw = np.repeat(np.asarray(points, dtype=np.float64), 40)
    z[:, c] = (raw - schema.means[c]) / schema.stds[c]
    return z


# ------------------------------------------------------------------- planted test vectors
RAMP = np.r_[np.zeros(12), np.linspace(0, 10, 12), np.full(12, 10.0)]


def test_planted_ramp_vector():
    assert detect_trends(RAMP) == [
        StructuralPattern("stable", 40, 480),
        StructuralPattern("increasing", 520, 960),
        StructuralPattern("stable", 1000, 1440),
    ]


def test_planted_spike_vector():
    x = np.zeros(36)
    x[17] = 10.0
    assert detect_peaks(x) == [StructuralPattern("spike", 720, 720)]


def test_flat_series_has_no_trend_at_all():
    for level in (0.0, -3.7, 1234.5):
        assert detect_trends(np.full(36, level)) == []
        assert detect_patterns(np.full(36, level)) == []


def test_equal_change_prefers_the_steeper_window():
    # A flat step-count day with one walk ending at point 17: the 12-point window 6..17
    # (minutes 280-720) and the 6-point window 12..17 (520-720) rise by the same amount. The
    # reference ranks by change, then steepness, so it reports the 3-hour climb, not 7 hours.
    x = np.zeros(36)
    x[16], x[17] = 5.0, 10.0
    trends = [p for p in detect_trends(x) if p.kind == "increasing"]
    assert trends == [StructuralPattern("increasing", 520, 720)]


def test_detectors_validate_input():
    with pytest.raises(DataError, match="points"):
        detect_trends(np.zeros(35))
    with pytest.raises(DataError, match="points"):
        detect_peaks(np.r_[np.zeros(35), np.inf])


@settings(deadline=None, max_examples=40)
@given(
    start=st.sampled_from([0, 6, 12, 18, 24]),
    amplitude=st.floats(0.5, 500.0),
    offset=st.floats(-100.0, 100.0),
    sign=st.sampled_from([1.0, -1.0]),
)
def test_planted_ramp_any_position(start, amplitude, offset, sign):
    x = np.zeros(36)
    x[start : start + 12] = np.linspace(0, 1, 12)
    x[start + 12 :] = 1.0
    x = offset + sign * amplitude * x
    kind = "increasing" if sign > 0 else "decreasing"
    trends = detect_trends(x)
    assert StructuralPattern(kind, (start + 1) * 40, (start + 12) * 40) in trends
    assert [t for t in trends if t.kind != "stable"] == [
        StructuralPattern(kind, (start + 1) * 40, (start + 12) * 40)
    ]
    assert trends == sorted(trends, key=lambda p: p.start_minute)


@settings(deadline=None, max_examples=40)
@given(
    point=st.integers(1, 34),
    height=st.floats(0.5, 300.0),
    level=st.floats(-50.0, 50.0),
    kind=st.sampled_from(["spike", "drop"]),
)
def test_planted_spike_or_drop_any_position(point, height, level, kind):
    x = np.full(36, level)
    x[point] += height if kind == "spike" else -height
    assert detect_peaks(x) == [StructuralPattern(kind, (point + 1) * 40, (point + 1) * 40)]


def test_wide_bump_is_not_a_spike():
    x = np.zeros(36)
    x[10:20] = 5.0  # 10 points wide: a plateau, not a spike
    assert [p for p in detect_peaks(x) if p.kind == "spike"] == []


def test_average_points_with_mask():
    series = np.arange(T, dtype=np.float64)
    np.testing.assert_allclose(structural.average_points(series)[:2], [19.5, 59.5])
    mask = np.zeros(T, dtype=bool)
    mask[:20] = True
    mask[40:80] = True
    points = structural.average_points(series, mask)
    assert points[0] == pytest.approx(29.5) and np.isnan(points[1])


# -------------------------------------------------------------- planted patterns in captions
@pytest.mark.parametrize(
    "points, expected",
    [
        (RAMP + 70, [("increasing", 520, 960), ("stable", 40, 480), ("stable", 1000, 1440)]),
        (np.where(np.arange(36) == 17, 120.0, 70.0), [("spike", 720, 720)]),
        (np.where(np.arange(36) == 9, 50.0, 70.0), [("drop", 400, 400)]),
    ],
)
def test_caption_reports_planted_pattern_at_right_minutes(points, expected):
    z = day_from_points(points)
    for seed in range(3):
        middle = GENERATOR.generate(z, seed=seed, variants="middle")["middle"]
        hr = [p for name, p in parse_structure(middle) if name == "HR"]
        for kind, start, end in expected:
            assert StructuralPattern(kind, start, end) in hr, middle
        # every other channel is flat: nothing is said about it
        assert {name for name, _ in parse_structure(middle)} == {"HR"}


def test_flat_day_middle_caption_has_no_statement():
    middle = GENERATOR.generate(np.zeros((T, 34)), variants=["middle"])["middle"]
    assert middle in phrases.NO_STRUCTURE_PHRASES


def test_at_most_seven_statements_per_category():
    rng = np.random.default_rng(3)
    z = np.cumsum(rng.normal(0, 0.3, (T, 34)), axis=0)
    z = np.clip(z - z.mean(0), -5, 5)
    for seed in range(5):
        middle = GENERATOR.generate(z, seed=seed)["middle"]
        lines = split_lines(middle)
        assert max(len(s) for s in lines.values()) <= structural.MAX_STATEMENTS_PER_CATEGORY
        # statements stay in channel order (category order), then time order
        rank = {}
        for _, core, extras, _ in statistical.CATEGORIES:
            for name in core + extras:
                rank[name] = len(rank)
        keys = [(rank[n], p.start_minute, p.end_minute) for n, p in parse_structure(middle)]
        for sentences in lines.values():
            chunk, keys = keys[: len(sentences)], keys[len(sentences) :]
            assert chunk == sorted(chunk)


def test_structural_level_describes_the_fixed_core_channels_only():
    # Random walks on every channel: each has trends, but the middle level speaks of the core
    # channels of each category only (the statistical level's random extras stay out of it).
    rng = np.random.default_rng(5)
    z = np.clip(np.cumsum(rng.normal(0, 0.3, (T, 34)), axis=0), -5, 5)
    core = {n for _, names, _, _ in statistical.CATEGORIES for n in names}
    said = set()
    for seed in range(8):
        middle = GENERATOR.generate(z, seed=seed, variants="middle")["middle"]
        said |= {name for name, _ in parse_structure(middle)}
    assert said and said <= core, sorted(said - core)


# ------------------------------------------------------------------------ statistical level
@settings(deadline=None, max_examples=25)
@given(seed=st.integers(0, 2**31 - 1), p_missing=st.sampled_from([0.0, 0.05, 0.5]))
def test_statistics_in_caption_equal_denormalised_statistics(seed, p_missing):
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, (T, 34)).clip(-5, 5)
    mask = rng.random((T, 34)) < p_missing if p_missing else None
    low = GENERATOR.generate(z, mask=mask, seed=seed % 1000, variants="low")["low"]
    parsed = parse_statistics(low)
    expected = expected_statistics(z, mask)
    assert parsed, low
    for name, stats in parsed.items():
        for key, value in stats.items():
            assert abs(value - expected[name][key]) <= 0.05 + 1e-9 * abs(value), (name, key, low)


def test_categories_core_channels_and_order():
    z = np.random.default_rng(0).normal(size=(T, 34))
    for seed in range(10):
        low = GENERATOR.generate(z, seed=seed, variants="low")["low"]
        lines = split_lines(low)
        assert list(lines) == ["Heart", "Activity", "Sleep", "EDA and temperature"]
        parsed = list(parse_statistics(low))
        heart = parsed[:6]
        assert heart[:4] == ["HR", "rr_med", "ShEnRR", "sdnn0595"]
        assert set(heart[4:]) <= set(statistical.CATEGORIES[0][2]) and len(set(heart[4:])) == 2
        activity = parsed[6:11]
        assert activity[:4] == ["steps", "jerk_auto", "log_energy", "kurtosis"]
        assert activity[4] in statistical.CATEGORIES[1][2]
        assert parsed[11:] == ["sleep_coefficient", "eda_level_real", "wrist_temperatures",
                               "leads_contact_counts"]


def test_display_names_and_non_negative_clamp():
    z = np.zeros((T, 34))
    z[:, SCHEMA.index("steps")] = -3.0  # de-normalises below 0 -> clamped to 0
    low = GENERATOR.generate(z, variants="low")["low"]
    for display in ("heart rate", "steps per minute", "skin temperature"):
        assert display in low.lower()
    assert "HR " not in low and "wrist_temperatures" not in low
    assert parse_statistics(low)["steps"] == {"mean": 0.0, "max": 0.0, "min": 0.0, "std": 0.0}


def test_masked_minutes_are_ignored():
    z = np.zeros((T, 34))
    mask = np.zeros((T, 34), dtype=bool)
    hr = SCHEMA.index("HR")
    z[:100, hr] = 5.0
    mask[:100, hr] = True
    low = GENERATOR.generate(z, mask=mask, variants="low")["low"]
    assert parse_statistics(low)["HR"]["max"] == pytest.approx(round(SCHEMA.means[hr], 1))


@pytest.mark.parametrize("name", ["paper26", "activity"])
def test_smaller_schemas(name):
    schema = ChannelSchema.named(name)
    generator = CaptionGenerator(schema, seed=1)
    z = np.random.default_rng(2).normal(size=(T, schema.num_channels))
    captions = generator.generate(z, events=[Event("activity", "walk", 100, 160)])
    assert set(captions) == set(CAPTION_VARIANTS)
    lines = split_lines(captions["low"])
    if name == "activity":
        assert list(lines) == ["Activity"]
    for channel, stats in parse_statistics(captions["low"]).items():
        assert channel in schema
        x = schema.denormalize(z)[:, schema.index(channel)]
        assert stats["mean"] == pytest.approx(x.mean(), abs=0.051)


def test_custom_schema_without_known_channels():
    from sensorlm_keras.data import Channel

    schema = ChannelSchema([Channel("foo", 1.0, 2.0), Channel("bar_baz", 0.0, 1.0)])
    captions = CaptionGenerator(schema).generate(np.zeros((T, 2)))
    assert captions["low"].startswith("Signals: ")
    assert "bar baz" in captions["low"]



def test_custom_channels_of_a_day_are_described_after_the_schema_channels():
    # A day dataset of the 34 channels plus one imported custom channel ("baro", normalised on
    # the train split): the statistical lines of the schema's channels are word for word those
    # of the day without it, the structural level finds the same patterns there, and a last
    # "Signals" line gives baro's statistics in its units and its planted ramp.
    from sensorlm_keras.data import Channel
    from sensorlm_keras.data.channel import CUSTOM_FAMILY

    schema = ChannelSchema(list(SCHEMA.channels) + [Channel("baro", 1000.0, 5.0, CUSTOM_FAMILY)])
    rng = np.random.default_rng(11)
    noisy = np.clip(rng.normal(0, 0.5, (T, 34)), -5, 5)
    ramp = np.r_[np.full(12, 990.0), np.linspace(990, 1010, 12), np.full(12, 1010.0)]
    hr_ramp = day_from_points(70 + RAMP)  # one pattern in the schema's channels
    for base in (noisy, hr_ramp):
        z = day_from_points(ramp, "baro", schema, np.c_[base, np.zeros(T)])
        with_baro = CaptionGenerator(schema).generate(z, seed=4)
        without = CaptionGenerator(SCHEMA).generate(base, seed=4)
        low, middle = with_baro["low"].split("\n"), with_baro["middle"].split("\n")
        assert "\n".join(low[:-1]) == without["low"]
        for last in (low[-1], middle[-1]):
            assert last.startswith("Signals") and "baro" in last.lower()
        signals = low[-1].partition(": ")[2]
        stats = [m for m in (r.match(signals) for r in STAT_REGEXES) if m]
        assert stats and stats[0].group("name").lower() == "baro"
        assert float(stats[0].group("mean")) == pytest.approx(ramp.mean(), abs=0.051)
        assert float(stats[0].group("max")) == pytest.approx(1010.0, abs=0.051)
        rises = [m for kind, r in STRUCT_REGEXES if kind == "increasing"
                 for sentence in split_lines(middle[-1])["Signals patterns"]
                 for m in [r.match(sentence)] if m]
        assert rises and (int(rises[0].group("start")), int(rises[0].group("end"))) == (520, 960)
    # the schema channels' patterns (phrasing draws differ once baro's line is drawn)
    assert parse_structure("\n".join(middle[:-1])) == parse_structure(without["middle"])
    assert ("HR", StructuralPattern("increasing", 520, 960)) in parse_structure(without["middle"])

# --------------------------------------------------------------------------- semantic level
@settings(deadline=None, max_examples=30)
@given(durations=st.lists(st.integers(1, 60), min_size=0, max_size=12))
def test_short_activities_never_mentioned(durations):
    labels = [f"activity{chr(97 + i)}x" for i in range(len(durations))]
    events = []
    for i, (label, d) in enumerate(zip(labels, durations)):
        start = 60 * i
        events.append(Event("activity", label, start, start + d - 1))
    captions = GENERATOR.generate(np.zeros((T, 34)), events=events)
    text = "\n".join(captions.values()).lower()
    high = captions["high_all"].lower()
    long_ones = sorted(
        [(d, i) for i, d in enumerate(durations) if d >= 20], key=lambda t: (-t[0], t[1])
    )[:8]
    for label, d in zip(labels, durations):
        if d < 20:
            assert label not in text
    # longest first, at most 8
    positions = [high.index(labels[i]) for _, i in long_ones]
    assert positions == sorted(positions)
    mentioned = [lab for lab in labels if lab in high]
    assert len(mentioned) == len(long_ones) <= 8


def test_longest_first_fixes_upstream_sort():
    events = [Event("activity", name, 100 * i, 100 * i + d - 1)
              for i, (name, d) in enumerate([("walk", 25), ("run", 80), ("yoga", 40)])]
    acts = semantic.select_activities(events)
    assert [e.label for e in acts] == ["run", "yoga", "walk"]


def test_overnight_sleep_reads_correctly():
    night = Event("sleep", "sleep", 1380, 390)  # 23:00 -> 06:30 inclusive
    nap = Event("sleep", "nap", 780, 809)
    captions = GENERATOR.generate(np.zeros((T, 34)), events=[nap, night])
    high = captions["high_all"]
    assert "from 23:00 to 06:31 across midnight (minutes 1380-1440 and 0-391)" in high
    assert "7 hours 31 minutes" in high
    assert "from 13:00 to 13:30 (minutes 780-810)" in high
    assert high.index("23:00") < high.index("13:00")  # longest first
    assert not re.search(r"-\d+ (hour|minute)", high)
    assert "7 hours 31 minutes" in captions["high_summary"] or "8 hours 1 minute" in captions[
        "high_summary"
    ]
    assert semantic.format_duration(night.duration_minutes) == "7 hours 31 minutes"


def test_moods_and_absent_event_lists():
    z = np.zeros((T, 34))
    for events in (None, (), []):
        captions = GENERATOR.generate(z, events=events)
        assert captions["high_all"] in phrases.NO_EVENTS_PHRASES
    captions = GENERATOR.generate(z, events=[Event("mood", "calm", 845, 845)])
    assert "at 14:05 (minute 845)" in captions["high_all"].lower()
    assert "calm" in captions["high_all"]
    assert "calm at 14:05 (minute 845)" in captions["high_summary"]
    out = GENERATOR.generate_batch(
        np.zeros((2, T, 34)), events_list=[None, [Event("mood", "sad", 0, 0)]]
    )
    assert "sad" in out[1]["high_all"] and "sad" not in out[0]["high_all"]
    # event dicts are accepted
    d = {"kind": "activity", "label": "swim", "start_minute": 600, "end_minute": 659}
    assert "swim" in GENERATOR.generate(z, events=[d])["high_all"]


# ------------------------------------------------------------------- variants, seeds, batch
def test_caption_variants_constant_and_validation():
    assert CAPTION_VARIANTS == {
        "low": 512, "middle": 512, "high_summary": 256, "high_all": 1024,
        "middle_low": 1024, "high_low": 1024, "high_middle": 512, "high_middle_low": 1024,
    }
    z = np.zeros((T, 34))
    with pytest.raises(ConfigError, match="variants.*'high_summary'") as info:
        GENERATOR.generate(z, variants=["low", "medium"])
    assert "medium" in str(info.value)
    full = GENERATOR.generate(z, seed=4)
    part = GENERATOR.generate(z, seed=4, variants=["middle_low", "low"])
    assert set(part) == {"middle_low", "low"}
    assert part["low"] == full["low"] and part["middle_low"] == full["middle_low"]
    assert full["middle_low"] == full["middle"] + "\n" + full["low"]
    assert full["high_middle_low"] == "\n".join([full["high_all"], full["middle"], full["low"]])


def test_same_seed_same_caption_different_seed_can_differ():
    rng = np.random.default_rng(5)
    z = np.cumsum(rng.normal(0, 0.2, (T, 34)), axis=0).clip(-5, 5)
    events = [Event("activity", "run", 400, 460), Event("mood", "calm", 500, 500)]
    a = GENERATOR.generate(z, events=events, seed=11)
    b = CaptionGenerator(SCHEMA, seed=99).generate(z, events=events, seed=11)
    assert a == b
    others = [GENERATOR.generate(z, events=events, seed=s) for s in range(12, 16)]
    for variant in ("low", "middle", "high_all"):
        assert any(o[variant] != a[variant] for o in others)
    assert GENERATOR.generate(z, events=events) == CaptionGenerator(SCHEMA, seed=0).generate(
        z, events=events
    )


def test_batch_equals_single_day_generation():
    rng = np.random.default_rng(6)
    z = np.cumsum(rng.normal(0, 0.2, (3, T, 34)), axis=1).clip(-5, 5).astype(np.float32)
    masks = rng.random(z.shape) < 0.1
    events = [[Event("activity", "bike", 300, 350)], None, [Event("sleep", "sleep", 1300, 400)]]
    batch = GENERATOR.generate_batch(z, masks=masks, events_list=events, seeds=[7, 8, 9])
    for i in range(3):
        single = GENERATOR.generate(z[i], mask=masks[i], events=events[i], seed=7 + i)
        assert batch[i] == single
    default = GENERATOR.generate_batch(z)
    assert default[2] == GENERATOR.generate(z[2], seed=GENERATOR.seed + 2)


def test_preprocessed_days_feed_the_generator():
    rng = np.random.default_rng(7)
    raw = SCHEMA.means + rng.normal(0, 0.2, (2, T, 34)) * SCHEMA.stds
    raw = np.clip(raw, 0.0, None)
    raw[:, :, SCHEMA.index("HR")] = 65.0
    raw[:, :300, SCHEMA.index("HR")] = np.nan
    result = preprocess_days(raw, plausible_ranges={})
    captions = GENERATOR.generate_batch(result.sensor, masks=result.mask)
    stats = parse_statistics(captions[0]["low"])
    assert stats["HR"]["mean"] == pytest.approx(65.0, abs=0.051)


# ----------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize(
    "z, match",
    [
        (np.zeros((T, 33)), "34 channels"),
        (np.zeros((1439, 34)), "1440 minutes"),
        (np.zeros((1, T, 34)), "rank 2"),
        (np.where(np.arange(34) == 3, np.nan, 0.0) * np.ones((T, 1)), "NaN/Inf.*'steps'"),
        (np.full((T, 34), np.inf), "NaN/Inf"),
        (np.full((T, 34), "a"), "numeric"),
    ],
)
def test_generate_rejects_bad_sensor(z, match):
    with pytest.raises(DataError, match=match) as info:
        GENERATOR.generate(z)
    assert "sensor_z" in str(info.value)


def test_generate_rejects_bad_arguments():
    z = np.zeros((T, 34))
    with pytest.raises(DataError, match="mask"):
        GENERATOR.generate(z, mask=np.zeros((T, 3), bool))
    with pytest.raises(DataError, match="mask"):
        GENERATOR.generate(z, mask=np.full((T, 34), 0.5))
    with pytest.raises(ConfigError, match="seed"):
        GENERATOR.generate(z, seed=-1)
    with pytest.raises(ConfigError, match="seed"):
        GENERATOR.generate(z, seed=1.5)
    with pytest.raises(DataError, match=r"events\[0\]"):
        GENERATOR.generate(z, events=["run"])
    with pytest.raises(DataError, match="events"):
        GENERATOR.generate(z, events=Event("mood", "ok", 1, 1))
    with pytest.raises(DataError, match="end_minute"):
        Event("activity", "run", 1400, 1500)
    with pytest.raises(DataError, match="start_minute"):
        GENERATOR.generate(z, events=[{"kind": "mood", "label": "x", "start_minute": -1,
                                       "end_minute": -1}])
    zb = np.zeros((2, T, 34))
    with pytest.raises(DataError, match="events_list"):
        GENERATOR.generate_batch(zb, events_list=[None])
    with pytest.raises(ConfigError, match="seeds"):
        GENERATOR.generate_batch(zb, seeds=[1])
    with pytest.raises(ConfigError, match=r"seeds\[1\]"):
        GENERATOR.generate_batch(zb, seeds=[1, -2])
    with pytest.raises(DataError, match="rank 3"):
        GENERATOR.generate_batch(z)
    with pytest.raises(ConfigError, match="schema"):
        CaptionGenerator(schema=[1, 2])
    with pytest.raises(ConfigError, match="seed"):
        CaptionGenerator(seed=-5)
