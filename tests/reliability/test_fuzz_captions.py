"""Fuzz `CaptionGenerator`: random z-scores, masks, events (outside the day, unsorted,
duplicated, overlapping, odd labels) and seeds. Every case gives non-empty UTF-8 captions with no
NaN/Inf/impossible numbers, deterministic for a seed, or a named project error."""

import re

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sensorlm_keras.data import CaptionGenerator, ChannelSchema
from sensorlm_keras.data.captions import CAPTION_VARIANTS
from sensorlm_keras.errors import ConfigError, DataError
from tests.reliability.fuzz_counts import run_case

T = 1440
SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
                phases=(Phase.explicit, Phase.generate))
SCHEMA = ChannelSchema.default()
GENERATOR = CaptionGenerator(SCHEMA, seed=0)
BAD_WORDS = re.compile(r"\b(nan|inf|infinity|none|e\+\d+)\b", re.IGNORECASE)

minutes = st.one_of(st.integers(0, T - 1), st.integers(0, T - 1),
                    st.sampled_from([-1, T, 10**9, 30.5, True, "60", None]))
labels = st.one_of(st.sampled_from(["run", "walk", "sleep", "calm", "strength training"]),
                   st.text(max_size=30), st.sampled_from(["", "   ", "é" * 3000, 7]))
event_dicts = st.fixed_dictionaries({
    "kind": st.one_of(st.sampled_from(["activity", "sleep", "mood"]), st.sampled_from(
        ["activity", "sleep", "workout", ""])),
    "label": labels, "start_minute": minutes, "end_minute": minutes,
})



@st.composite
def valid_events(draw):
    """A valid event: in the day, possibly overlapping/duplicated/unsorted with the others."""
    kind = draw(st.sampled_from(["activity", "sleep", "mood"]))
    start = draw(st.integers(0, T - 1))
    label = draw(st.one_of(st.sampled_from(["run", "walk", "sleep", "calm", "bike"]),
                           st.text(min_size=1, max_size=20).filter(str.strip)))
    if kind == "mood":
        end = start
    elif kind == "sleep":
        end = draw(st.integers(0, T - 1))  # may wrap around midnight
    else:
        end = draw(st.integers(start, T - 1))
    return {"kind": kind, "label": label, "start_minute": start, "end_minute": end}


def _duplicated(events):
    return events + events[:1]


@st.composite
def days(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = draw(st.sampled_from([(T, 34)] * 8 + [(T, 33), (T - 1, 34), (1, T, 34), (T,)]))
    scale = draw(st.sampled_from([0.0, 1.0, 1.0, 1.0, 5.0, 5.0, 300.0, 1e4, 1e30]))
    z = rng.normal(0, 1, size=shape) * scale
    special = draw(st.sampled_from([None] * 6 + [np.nan, np.inf]))
    if special is not None and z.size:
        z.flat[int(rng.integers(0, z.size))] = special
    if draw(st.booleans()) and len(shape) >= 2:  # a flat stretch and a planted ramp
        z[..., 100:400, :] = 0.0
        z[..., 600:700, :] += np.linspace(0, 3, 100)[:, None]
    dtype = draw(st.sampled_from(["float32"] * 4 + ["float64", "int32", "complex64"]))
    with np.errstate(all="ignore"):
        z = z.astype(dtype)
    mask_kind = draw(st.sampled_from(["none"] * 3 + ["random"] * 3 + ["all", "wrong_shape",
                                                                        "float"]))
    mask = {"none": None, "random": rng.random(shape) < 0.3, "all": np.ones(shape, bool),
            "wrong_shape": np.zeros((T, 3), bool), "float": np.full(shape, 0.5)}[mask_kind]
    events = draw(st.one_of(st.lists(valid_events(), max_size=8),
                            st.lists(valid_events(), max_size=8).map(_duplicated),
                            st.lists(valid_events(), max_size=8).map(lambda e: e[::-1]),
                            st.lists(event_dicts, min_size=1, max_size=3), st.just(None),
                            st.sampled_from(["run", {"kind": "sleep"}, 5])))
    seed = draw(st.one_of(st.integers(0, 2**31), st.integers(0, 2**31),
                          st.sampled_from([-1, 1.5, "3"])))
    variants = draw(st.one_of(st.none(), st.none(), st.sampled_from(list(CAPTION_VARIANTS)),
                              st.sampled_from(["nope", []])))
    return z, mask, events, seed, variants


@settings(max_examples=250, **SETTINGS)
@given(days())
def test_fuzz_caption_generator(case):
    z, mask, events, seed, variants = case

    def generate():
        return GENERATOR.generate(z, mask=mask, events=events, seed=seed, variants=variants)

    def check(captions):
        expected = list(CAPTION_VARIANTS) if variants is None else [variants]
        assert sorted(captions) == sorted(expected)
        for variant, text in captions.items():
            assert isinstance(text, str) and text.strip(), (variant, text)
            text.encode("utf-8")  # valid UTF-8 (no lone surrogates)
            assert not BAD_WORDS.search(text), (variant, BAD_WORDS.search(text), text[:300])
            assert "\x00" not in text
        assert generate() == captions  # deterministic for a seed

    run_case("fuzz CaptionGenerator.generate (days, events)", generate,
             (DataError, ConfigError), check,
             fields=("sensor_z", "mask", "events", "Event.", "seed", "variant"))


@st.composite
def valid_days(draw):
    """Well-formed days (the path real data takes) with adversarial content."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([0.0, 0.01, 1.0, 3.0, 5.0, 100.0, 1000.0]))
    z = (rng.normal(0, 1, size=(T, 34)) * scale).astype(np.float32)
    z = np.clip(z, -1000, 1000)
    pattern = draw(st.sampled_from(["none", "constant", "steps", "spikes", "ramp"]))
    if pattern == "constant":
        z[:] = draw(st.floats(-1000, 1000))
    elif pattern == "steps":
        z[::2] = -z[::2]
    elif pattern == "spikes":
        z[rng.integers(0, T, size=20)] = draw(st.floats(-1000, 1000))
    elif pattern == "ramp":
        z += np.linspace(-5, 5, T, dtype=np.float32)[:, None]
    mask = draw(st.sampled_from([None, "random", "all", "channel"]))
    if mask == "random":
        mask = rng.random((T, 34)) < draw(st.floats(0, 1))
    elif mask == "all":
        mask = np.ones((T, 34), bool)
    elif mask == "channel":
        mask = np.zeros((T, 34), bool)
        mask[:, int(rng.integers(0, 34))] = True
    events = draw(st.lists(valid_events(), max_size=10))
    if events and draw(st.booleans()):
        events = events + events  # duplicated events
    if draw(st.booleans()):
        events = events[::-1]  # unsorted
    return z, mask, events, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=150, **SETTINGS)
@given(valid_days())
def test_fuzz_caption_generator_on_well_formed_days(case):
    z, mask, events, seed = case

    def generate():
        return GENERATOR.generate(z, mask=mask, events=events, seed=seed)

    def check(captions):
        assert sorted(captions) == sorted(CAPTION_VARIANTS)
        for variant, text in captions.items():
            assert isinstance(text, str) and text.strip(), (variant, text)
            text.encode("utf-8")
            assert not BAD_WORDS.search(text), (variant, BAD_WORDS.search(text), text[:300])
        assert generate() == captions

    run_case("fuzz CaptionGenerator.generate (well-formed days)", generate, (DataError,),
             check, fields=("sensor_z",))
