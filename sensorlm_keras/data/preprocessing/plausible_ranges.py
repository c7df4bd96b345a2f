"""Plausible physical ranges of the channels: values outside are sensor glitches, not data."""

import numpy as np

from sensorlm_keras.errors import ConfigError, describe

# Plausible physical range (inclusive) per channel name; a value outside becomes missing.
# ``None`` means unbounded on that side. Channels not listed (and custom channels) only get the
# non-finite check. The bounds are deliberately wide: they remove sensor glitches (negative
# counts, heart rates no human has, saturation above 100 %), not unusual physiology.
PLAUSIBLE_RANGES = {
    "HR": (25.0, 250.0),  # beats per minute
    "rr_med": (240.0, 2400.0),  # ms; the RR interval of 250 .. 25 bpm
    "sdnn0595": (0.0, None),
    "rmssd0595": (0.0, None),
    "pnn20": (0.0, 1.0),
    "coherence": (0.0, 1.0),
    "ShEnRR": (0.0, None),
    "LF": (0.0, None),
    "HF": (0.0, None),
    "LF_HF": (0.0, None),
    "VLF": (0.0, None),
    "spectralEn": (0.0, None),
    "percent_good": (0.0, 1.0),
    "steps": (0.0, 500.0),  # steps per minute
    "altim_std": (0.0, None),
    "zero_crossing_std": (0.0, None),
    "zero_crossing_avg": (0.0, None),
    "leads_contact_counts": (0.0, None),
    "sleep_coefficient": (0.0, None),
    "sleep_stage_awake": (0.0, 1.0),
    "sleep_stage_light": (0.0, 1.0),
    "sleep_stage_deep": (0.0, 1.0),
    "sleep_stage_rem": (0.0, 1.0),
    "wrist_temperatures": (15.0, 45.0),  # degrees Celsius
    "spo2": (50.0, 100.0),  # percent
    "spo2_confidence": (0.0, 100.0),
    "spo2_coverage": (0.0, 100.0),
}


def range_bounds(schema, plausible_ranges=None):
    """Per-channel ``(low, high)`` float arrays of ``schema`` from a range table.

    Args:
        schema: the `ChannelSchema`.
        plausible_ranges: dict ``{name: (low, high)}`` (``None`` bound = open side) replacing
            `PLAUSIBLE_RANGES`; ``None`` uses `PLAUSIBLE_RANGES`. Channels without an entry are
            unbounded (``-inf``, ``inf``).
    """
    table = PLAUSIBLE_RANGES if plausible_ranges is None else plausible_ranges
    if not isinstance(table, dict):
        raise ConfigError(
            "plausible_ranges: expected a dict {channel name: (low, high)} or None, received "
            f"{describe(table)}."
        )
    low = np.full(schema.num_channels, -np.inf)
    high = np.full(schema.num_channels, np.inf)
    for i, name in enumerate(schema.names):
        if name not in table:
            continue
        bounds = table[name]
        if not (isinstance(bounds, (tuple, list)) and len(bounds) == 2):
            raise ConfigError(
                f"plausible_ranges[{name!r}]: expected a (low, high) pair, received {bounds!r}."
            )
        lo, hi = bounds
        low[i] = -np.inf if lo is None else float(lo)
        high[i] = np.inf if hi is None else float(hi)
        if not low[i] <= high[i]:
            raise ConfigError(
                f"plausible_ranges[{name!r}]: expected low <= high, received {bounds!r}."
            )
    return low, high
