"""Simulated channel values: the 34 default channels from a person's per-minute state.

The state (`schedule.ScheduleSimulator`) says what the person does; here it becomes physical
values with physiological lags (`lag`: heart rate follows effort within a minute or two, skin
temperature and sweat within several minutes, temperature falls over the first half hour of
sleep) and smoothed noise. Channels are drawn family by family (heart, movement, skin,
oxygen and sleep stages), always in the same order, so the output is a function of the
person, the state and the generator's state only.
"""

import dataclasses

import numpy as np

from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.data.event import MINUTES_PER_DAY
from sensorlm_keras.data.synthetic.sleep import STAGE_AWAKE, STAGE_DEEP, STAGE_LIGHT, STAGE_REM

T = MINUTES_PER_DAY


@dataclasses.dataclass(frozen=True)
class _Drivers:
    """Per-minute float64 inputs shared by the channel families."""

    a: np.ndarray  # asleep (0/1)
    deep: np.ndarray
    rem: np.ndarray
    light: np.ndarray
    wake_in_sleep: np.ndarray
    intensity: np.ndarray
    i_fast: np.ndarray  # effort seen by heart rate and HRV
    i_slow: np.ndarray  # effort seen by skin temperature
    sleep_slow: np.ndarray  # sleep seen by skin temperature and EDA
    stress: np.ndarray
    motion: np.ndarray
    circ: np.ndarray  # circadian rhythm peaking in the afternoon
    night_phase: np.ndarray  # circadian rhythm peaking at night


def simulate_signals(person, state, rng):
    """Physical values of the 34 default channels, shape ``(length, 34)``, float32.

    Args:
        person: the `SimulatedPerson`.
        state: per-minute state from `ScheduleSimulator.simulate`.
        rng: the person's ``numpy.random.Generator`` (after the schedule's draws).

    Returns:
        float32 array in `ChannelSchema.default` order, NaN where ``state["offwrist"]``.
    """
    length = state["asleep"].shape[0]

    def noise(width=1):
        """Unit-variance noise, smoothed over ``width`` minutes."""
        if width <= 1:
            return rng.standard_normal(length)
        white = rng.standard_normal(length + width)
        c = np.cumsum(white)
        return (c[width:] - c[:-width]) / np.sqrt(width)

    d = _drivers(person, state, noise)
    ch = _heart_channels(person, d, noise)
    ch.update(_movement_channels(state, d, noise))
    ch.update(_skin_channels(person, state, d, noise))
    ch.update(_oxygen_and_stage_channels(person, d, noise))
    names = ChannelSchema.default().names
    out = np.stack([ch[name] for name in names], axis=-1).astype(np.float32)
    out[state["offwrist"]] = np.nan
    return out


def _drivers(person, state, noise):
    length = state["asleep"].shape[0]
    minute = np.arange(length) % T
    chrono = person.bedtime_minute - 23 * 60
    a = state["asleep"].astype(np.float64)
    stage = state["stage"]
    intensity = state["intensity"].astype(np.float64)
    return _Drivers(
        a=a,
        deep=a * (stage == STAGE_DEEP),
        rem=a * (stage == STAGE_REM),
        light=a * (stage == STAGE_LIGHT),
        wake_in_sleep=a * (stage == STAGE_AWAKE),
        intensity=intensity,
        i_fast=lag(intensity, 1.5),
        i_slow=lag(intensity, 8.0),
        sleep_slow=lag(a, 25.0),
        stress=lag(state["stress"].astype(np.float64), 3.0),
        motion=np.clip(state["motion"] + 0.03 * noise(), 0, 1),
        circ=np.cos(2 * np.pi * (minute - (16 * 60 + chrono)) / T),
        night_phase=np.cos(2 * np.pi * (minute - (3 * 60 + chrono)) / T),
    )


def _heart_channels(person, d, noise):
    """Heart rate, RR interval and the HRV features."""
    a, deep, rem, i_fast, stress = d.a, d.deep, d.rem, d.i_fast, d.stress
    ch = {}
    hr = (
        person.resting_hr
        + (1 - a) * (7 + 3.5 * d.circ)
        + a * (-2 - 4 * deep + 4 * rem + 8 * d.wake_in_sleep)
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
        (0.8 * rmssd + 22 * np.exp(-2 * i_fast) * (1 + 0.2 * (1 - a))) * np.exp(0.12 * noise(3)),
        5,
        350,
    )
    ch["pnn20"] = np.clip(1 - np.exp(-rmssd / 32) + 0.04 * noise(), 0, 1)
    ch["coherence"] = np.clip(0.12 + 0.3 * deep + 0.08 * a + 0.05 * noise(), 0, 1)
    ch["ShEnRR"] = np.clip(2.5 + 0.55 * np.log(ch["sdnn0595"] / 35) + 0.12 * noise(), 0.3, 5.5)
    hf = 0.25 * rmssd**2 * np.exp(0.25 * noise(3))
    lf_hf = np.clip(
        (2.8 + 4 * i_fast + 2 * stress - 1.8 * deep - 0.8 * d.light) * np.exp(0.25 * noise(3)),
        0.2,
        25,
    )
    ch["HF"] = hf
    ch["LF_HF"] = lf_hf
    ch["LF"] = hf * lf_hf
    ch["VLF"] = (0.5 * hf * lf_hf + 350) * np.exp(0.35 * noise(3))
    ch["spectralEn"] = 2.55 + 0.3 * np.log(ch["sdnn0595"] / 40) + 0.08 * noise()
    ch["percent_good"] = np.clip(0.88 - 0.75 * d.motion + 0.06 * noise(), 0, 1)
    return ch


def _movement_channels(state, d, noise):
    """Steps, the accelerometer features, the altimeter and the sleep coefficient."""
    a, motion, rhythmic = d.a, d.motion, state["rhythmic"]
    ch = {}
    ch["steps"] = np.round(np.maximum(state["steps"] * np.exp(0.06 * noise()), 0))
    ch["jerk_auto"] = 176 + 105 * motion + 8 * noise()
    ch["log_energy"] = np.maximum(6 + 170 * motion**1.2 + 4 * noise(), 0)
    ch["covariance"] = 33 + 42 * motion + 4 * noise()
    ch["log_energy_ratio"] = 26 + 55 * motion * (0.45 + 0.55 * rhythmic) + 5 * noise()
    ch["zero_crossing_std"] = 138 + 65 * motion * (1 - 0.5 * rhythmic) + 8 * noise()
    ch["zero_crossing_avg"] = np.maximum(22 + 125 * motion * rhythmic + 6 * noise(), 0)
    posture = np.where(a > 0, 100.0, np.where(state["contact_loss"] > 0.5, 110.0,
                                              127 + 10 * motion))
    ch["axis_mean"] = posture + 6 * noise(3)
    ch["altim_std"] = np.maximum(
        0.002 * np.exp(0.5 * noise()) + state["altitude"] * np.abs(noise(2)) * 0.6, 0
    )
    ch["kurtosis"] = np.maximum(28 + 175 * np.exp(-4 * motion) * np.exp(0.25 * noise()), 1)
    ch["sleep_coefficient"] = np.maximum(
        a * (8 + 8 * d.deep + 3 * d.light - 5 * d.wake_in_sleep)
        + (1 - a) * 2.5 * (1 - motion) ** 2
        + 1.2 * noise(),
        0,
    )
    return ch


def _skin_channels(person, state, d, noise):
    """Wrist temperature, EDA (sweat) and electrode contact."""
    contact = state["contact_loss"]
    ch = {}
    ch["wrist_temperatures"] = np.clip(
        person.temp_baseline
        + 2.6 * d.sleep_slow
        + 0.5 * d.night_phase
        - 1.3 * d.i_slow
        + lag(state["temp_delta"].astype(np.float64), 6.0)
        + 0.12 * noise(4),
        20,
        38,
    )
    sweat = lag(d.intensity * np.maximum(state["eda_gain"], 0), 10.0)
    ch["eda_level_real"] = np.clip(
        person.eda_baseline * (0.55 + 0.45 * (1 - d.sleep_slow)) * (1 - 0.9 * contact)
        + 5.0 * sweat
        + 2.8 * d.stress,
        0.02,
        60,
    ) * np.exp(0.1 * noise(3))
    ch["leads_contact_counts"] = np.clip(
        248 - 80 * d.motion - 150 * contact + 10 * noise(), 0, 300
    )
    return ch


def _oxygen_and_stage_channels(person, d, noise):
    """SpO2 with its confidence and coverage, and the four sleep-stage indicators."""
    a, motion = d.a, d.motion
    ch = {}
    dips = a * np.maximum(noise(4) - 1.2, 0)
    ch["spo2"] = np.clip(
        person.spo2_baseline - 1.3 * a - 1.5 * dips - 0.8 * motion + 0.5 * noise(), 80, 100
    )
    ch["spo2_confidence"] = np.clip(a * 82 + (1 - a) * 38 * (1 - motion) + 6 * noise(), 0, 100)
    ch["spo2_coverage"] = np.clip(a * 66 + (1 - a) * 42 * (1 - motion) + 5 * noise(), 0, 100)
    ch["sleep_stage_awake"] = d.wake_in_sleep
    ch["sleep_stage_light"] = d.light
    ch["sleep_stage_deep"] = d.deep
    ch["sleep_stage_rem"] = d.rem
    return ch


def lag(x, tau):
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
