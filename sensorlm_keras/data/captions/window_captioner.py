"""`WindowCaptioner`: captions of labelled windows of any length (`LabelledWindows`)."""

import numpy as np

from sensorlm_keras.data.captions import phrases
from sensorlm_keras.data.captions._draws import Draws
from sensorlm_keras.data.captions.caption_generator import CAPTION_VARIANTS, VARIANT_LEVELS
from sensorlm_keras.data.captions.statistical import (
    caption_categories,
    channel_statistics,
    statistical_caption,
)
from sensorlm_keras.data.captions.structural import (
    NUM_POINTS,
    POINT_MINUTES,
    point_bounds,
    point_means,
    profile_patterns,
    structural_caption,
)
from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.errors import DataError, describe
from sensorlm_keras.utils.validation import check_float

WINDOW_CAPTION_VARIANTS = ("low", "high_summary", "high_all", "high_low")
"""The variants of a window shorter than 36 steps: the statistical level (``low``), the
semantic level (``high_summary`` = ``high_all``: a window has one label and no times inside
it) and both (``high_low``). A window of 36 steps or more carries all eight `CAPTION_VARIANTS`
(`window_caption_variants`): its structural level is the day's, on 36 points of
``T / 36`` steps, with times counted from the window's start."""

SECONDS_PER_UNIT = (("second", 1.0), ("minute", 60.0), ("hour", 3600.0))


def window_caption_variants(num_timesteps):
    """The caption variants of windows of ``num_timesteps`` steps (see above)."""
    if num_timesteps >= NUM_POINTS:
        return tuple(CAPTION_VARIANTS)
    return WINDOW_CAPTION_VARIANTS


def time_unit(num_timesteps, step_seconds):
    """``(unit, seconds per unit)`` the structural level of such windows counts in: seconds
    for windows up to 10 minutes, minutes up to 2 days (a day of minutes reads as the day
    captions do), hours beyond."""
    total = num_timesteps * step_seconds
    if total <= 600:
        return SECONDS_PER_UNIT[0]
    return SECONDS_PER_UNIT[1] if total <= 2 * 86400 else SECONDS_PER_UNIT[2]

UNLABELLED_PHRASE = "An unlabelled recording window."


class WindowCaptioner:
    """Captions of windows of any length: semantic level from the label (or a given caption),
    statistical level from the window's values in physical units, and, for windows of 36 steps
    or more, the structural level: the day captions' trends, spikes and drops found on 36
    points of ``T / 36`` steps (`point_means`), reported in the window's own time
    (``"Heart rate rose between second 2.5 and second 6.1."``, `time_unit`).

    The semantic sentence uses the day captions' summary phrases that name no day, without a
    duration (``"Logged activities: walking."``), so the zero-shot templates of window datasets
    (`WINDOW_PROMPT_TEMPLATES`) are the same phrases with ``{}`` for the class.

    Args:
        schema: `ChannelSchema` of the windows' channels (its constants de-normalise the
            z-scores for the statistical and structural levels).
        step_seconds: seconds between two time steps (the structural level's times).

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.data import Channel, ChannelSchema
    from sensorlm_keras.data.captions.window_captioner import WindowCaptioner

    schema = ChannelSchema([Channel("acc_x", 0.0, 1.0), Channel("acc_y", 0.0, 1.0)])
    z = np.zeros((1, 100, 2), "float32")
    WindowCaptioner(schema).generate_batch(z, labels=["walking"], seeds=[0])[0]["high_summary"]
    ```
    """

    def __init__(self, schema, step_seconds=60.0):
        if not isinstance(schema, ChannelSchema):
            raise DataError(f"WindowCaptioner.schema: expected a ChannelSchema, received "
                            f"{describe(schema)}.")
        self.schema = schema
        self.step_seconds = check_float(step_seconds, "WindowCaptioner.step_seconds", 0.0,
                                        float("inf"))
        if not self.step_seconds > 0:
            raise DataError(f"WindowCaptioner.step_seconds: expected a positive number, "
                            f"received {step_seconds!r}.")

    def generate_batch(self, sensor_z, masks=None, labels=None, captions=None, seeds=None):
        """The `window_caption_variants` of every window.

        Args:
            sensor_z: z-scores ``(N, T, C)``, finite (imputed).
            masks: optional bool ``(N, T, C)``, ``True`` = missing (left out of the statistics).
            labels: optional ``N`` labels.
            captions: optional ``N`` captions (replace the label sentence).
            seeds: ``N`` non-negative integer seeds (phrase choices).

        Returns:
            list of ``N`` dicts variant -> caption.
        """
        z = np.asarray(sensor_z, dtype=np.float64)
        if z.ndim != 3 or z.shape[2] != self.schema.num_channels or not np.isfinite(z).all():
            raise DataError(
                f"sensor_z: expected finite z-scores (N, T, {self.schema.num_channels}), "
                f"received {describe(sensor_z)}."
            )
        n, steps = z.shape[0], z.shape[1]
        seeds = list(range(n)) if seeds is None else [int(s) for s in seeds]
        x = self.schema.denormalize(z)
        valid = None if masks is None else ~np.asarray(masks, bool)
        stats = channel_statistics(x, valid)
        rows = np.stack([stats[k] for k in ("mean", "max", "min", "std", "count")], -1)
        structural = steps >= NUM_POINTS
        if structural:
            patterns = profile_patterns(np.moveaxis(point_means(x, valid), -2, -1))
            fields = self._time_fields(steps)
        out = []
        for i in range(n):
            draws = Draws(seeds[i])
            categories = caption_categories(self.schema, draws)
            row = {name: tuple(rows[i, k]) for k, name in enumerate(self.schema.names)}
            levels = {"low": statistical_caption(categories, row, draws)}
            if captions is not None:
                high = captions[i]
            elif labels is not None:
                high = draws.pick(phrases.WINDOW_ACTIVITY_PHRASES).format(items=labels[i])
            else:
                high = UNLABELLED_PHRASE
            levels["high_all"] = levels["high_summary"] = high
            if structural:
                found = {name: patterns[i][k] for k, name in enumerate(self.schema.names)
                         if rows[i, k, 4] > 0}
                levels["middle"] = structural_caption(
                    caption_categories(self.schema), found, draws, fields,
                    phrases.WINDOW_STRUCTURAL_PHRASES, phrases.WINDOW_NO_STRUCTURE_PHRASES)
            out.append({v: "\n".join(levels[level] for level in VARIANT_LEVELS[v])
                        for v in window_caption_variants(steps)})
        return out

    def _time_fields(self, steps):
        """`StructuralPattern` -> the template fields in the window's own time unit."""
        unit, seconds = time_unit(steps, self.step_seconds)
        ends = point_bounds(steps)[1:] * (self.step_seconds / seconds)

        def at(minute):  # the day position (i + 1) * 40 of point i -> the end of point i
            value = float(ends[minute // POINT_MINUTES - 1])
            return f"{value:.1f}".removesuffix(".0")

        return lambda p: {"start": at(p.start_minute), "end": at(p.end_minute),
                          "minute": at(p.start_minute), "unit": unit, "units": f"{unit}s"}
