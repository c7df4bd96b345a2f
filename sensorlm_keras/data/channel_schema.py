"""Channel schema: the named minute-level features of a wearable day and their constants.

The default is the 34 channels of SensorLM's caption pipeline (``channels.csv``), in order, with
the population mean and standard deviation used for z-scoring, a family label and whether the
de-normalised value is clamped to be non-negative. Any subset (``schema.select([...])``) or a
fully custom list (``ChannelSchema([Channel(...), ...])``) can be used instead.
"""

import csv
import dataclasses
import importlib.resources

import numpy as np

from sensorlm_keras.data.channel import Channel
from sensorlm_keras.errors import ConfigError, describe


class ChannelSchema:
    """An ordered list of channels with vectorised normalisation helpers.

    Args:
        channels: sequence of `Channel`.

    Example:

    ```python
    from sensorlm_keras.data import ChannelSchema

    schema = ChannelSchema.default()          # the 34 SensorLM channels
    heart = schema.select(["HR", "rr_med"])   # a 2-channel subset
    z = schema.normalize(raw_day)             # (1440, 34) raw -> z-scores
    ```
    """

    def __init__(self, channels):
        channels = tuple(channels)
        if not channels:
            raise ConfigError("ChannelSchema.channels: expected at least one channel, received 0.")
        for c in channels:
            if not isinstance(c, Channel):
                raise ConfigError(
                    f"ChannelSchema.channels: expected Channel objects, received {type(c).__name__}."
                )
        names = [c.name for c in channels]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigError(f"ChannelSchema.channels: duplicated channel names {dupes}.")
        self.channels = channels
        self.names = tuple(names)
        self.means = np.array([c.mean for c in channels], dtype=np.float64)
        self.stds = np.array([c.std for c in channels], dtype=np.float64)
        self.non_negative = np.array([c.non_negative for c in channels], dtype=bool)
        self.families = tuple(c.family for c in channels)
        self._index = {n: i for i, n in enumerate(names)}

    # ------------------------------------------------------------------ construction
    @classmethod
    def default(cls):
        """The 34 channels of ``channels.csv`` in their canonical order."""
        return cls(_load_default_channels())

    @classmethod
    def named(cls, name):
        """A named channel set: ``"all34"`` (default), ``"paper26"`` or ``"activity"``."""
        full = cls.default()
        if name in ("all34", "default"):
            return full
        if name == "paper26":
            return full.select(PAPER26_CHANNELS)
        if name == "activity":
            return full.select([c.name for c in full.channels if c.family == "activity"])
        raise ConfigError(
            f"ChannelSchema.named: unknown channel set {name!r}; expected one of "
            "'all34', 'paper26', 'activity'."
        )

    @classmethod
    def resolve(cls, schema, field="schema"):
        """The schema an argument names: ``None`` -> `default`, a channel-set name -> `named`,
        a `ChannelSchema` -> itself; anything else is a `ConfigError` naming ``field``."""
        if schema is None:
            return cls.default()
        if isinstance(schema, str):
            return cls.named(schema)
        if not isinstance(schema, ChannelSchema):
            raise ConfigError(
                f"{field}: expected a ChannelSchema, a channel-set name or None, received "
                f"{describe(schema)}."
            )
        return schema

    def select(self, names):
        """A new schema with the given channel names, in the given order."""
        names = list(names)
        unknown = [n for n in names if n not in self._index]
        if unknown:
            raise ConfigError(
                f"ChannelSchema.select: unknown channel names {unknown}; known names are "
                f"{list(self.names)}."
            )
        return ChannelSchema([self.channels[self._index[n]] for n in names])

    # ------------------------------------------------------------------ queries
    @property
    def num_channels(self):
        return len(self.channels)

    def __len__(self):
        return len(self.channels)

    def __contains__(self, name):
        return name in self._index

    def __eq__(self, other):
        return isinstance(other, ChannelSchema) and self.channels == other.channels

    def __hash__(self):
        return hash(self.channels)

    def __repr__(self):
        return f"ChannelSchema({self.num_channels} channels: {', '.join(self.names[:5])}...)"

    def index(self, name):
        """Column index of a channel name."""
        try:
            return self._index[name]
        except KeyError:
            raise ConfigError(
                f"ChannelSchema.index: unknown channel {name!r}; known names are {list(self.names)}."
            ) from None

    # ------------------------------------------------------------------ maths
    def _check_last_axis(self, x, field):
        x = np.asarray(x)
        if x.ndim < 1 or x.shape[-1] != self.num_channels:
            raise ConfigError(
                f"{field}: expected last axis of size {self.num_channels} (channels), received "
                f"shape {tuple(x.shape)}."
            )
        return x

    def normalize(self, x):
        """Raw values -> z-scores, channel-wise, on the last axis (NaN stays NaN)."""
        x = self._check_last_axis(x, "ChannelSchema.normalize(x)")
        return ((x - self.means) / self.stds).astype(np.float32)

    def denormalize(self, z, clamp=True):
        """z-scores -> raw values; non-negative channels are clamped at 0 when ``clamp``."""
        z = self._check_last_axis(z, "ChannelSchema.denormalize(z)")
        x = z.astype(np.float64) * self.stds + self.means
        if clamp and self.non_negative.any():
            x = np.where(self.non_negative, np.maximum(x, 0.0), x)
        return x

    def to_config(self):
        return [dataclasses.asdict(c) for c in self.channels]

    @classmethod
    def from_config(cls, config):
        return cls([Channel(**c) for c in config])


def _load_default_channels():
    text = (
        importlib.resources.files("sensorlm_keras.data").joinpath("channels.csv").read_text("utf-8")
    )
    rows = list(csv.DictReader(text.splitlines()))
    return [
        Channel(
            name=r["name"],
            mean=float(r["mean"]),
            std=float(r["std"]),
            family=r["family"],
            non_negative=r["non_negative"].strip().lower() == "true",
        )
        for r in rows
    ]


# The released model read 26 of the 34 channels; their names were not published. This project's
# 26-channel set keeps every family and drops the 8 most redundant or sparse channels
# (leads_contact_counts, pnn20, coherence, VLF, percent_good, spo2_confidence, spo2_coverage,
# sleep_stage_awake).
PAPER26_CHANNELS = (
    "HR",
    "eda_level_real",
    "steps",
    "jerk_auto",
    "log_energy",
    "covariance",
    "log_energy_ratio",
    "zero_crossing_std",
    "zero_crossing_avg",
    "axis_mean",
    "altim_std",
    "kurtosis",
    "sleep_coefficient",
    "wrist_temperatures",
    "rr_med",
    "sdnn0595",
    "rmssd0595",
    "ShEnRR",
    "LF",
    "HF",
    "LF_HF",
    "spectralEn",
    "sleep_stage_light",
    "sleep_stage_deep",
    "sleep_stage_rem",
    "spo2",
)
assert len(PAPER26_CHANNELS) == 26
