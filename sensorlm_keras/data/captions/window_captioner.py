"""`WindowCaptioner`: captions of labelled windows of any length (`LabelledWindows`)."""

import numpy as np

from sensorlm_keras.data.captions import phrases
from sensorlm_keras.data.captions._draws import Draws
from sensorlm_keras.data.captions.statistical import (
    channel_statistics,
    select_category_channels,
    statistical_caption,
)
from sensorlm_keras.data.channel import CUSTOM_FAMILY
from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.errors import DataError, describe

WINDOW_CAPTION_VARIANTS = ("low", "high_summary", "high_all", "high_low")
"""The variants a window carries: the statistical level (``low``), the semantic level
(``high_summary`` = ``high_all``: a window has one label and no times inside it) and both
(``high_low``). The structural level (trends at clock times of a day) is not written for
windows."""

UNLABELLED_PHRASE = "An unlabelled recording window."


class WindowCaptioner:
    """Captions of windows of any length: semantic level from the label (or a given caption),
    statistical level from the window's values in physical units.

    The semantic sentence uses the day captions' summary phrases that name no day, without a
    duration (``"Logged activities: walking."``), so the zero-shot templates of window datasets
    (`WINDOW_PROMPT_TEMPLATES`) are the same phrases with ``{}`` for the class.

    Args:
        schema: `ChannelSchema` of the windows' channels (its constants de-normalise the
            z-scores for the statistical level).

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

    def __init__(self, schema):
        if not isinstance(schema, ChannelSchema):
            raise DataError(f"WindowCaptioner.schema: expected a ChannelSchema, received "
                            f"{describe(schema)}.")
        self.schema = schema

    def _categories(self, draws):
        """The day captions' categories of the schema channels, then every custom channel (a
        channel outside the 34-channel schema) on one ``Signals`` line."""
        custom = [c.name for c in self.schema.channels if c.family == CUSTOM_FAMILY]
        known = [n for n in self.schema.names if n not in custom]
        categories = select_category_channels(known, draws) if known else []
        return categories + ([("other", custom)] if custom else [])

    def generate_batch(self, sensor_z, masks=None, labels=None, captions=None, seeds=None):
        """The `WINDOW_CAPTION_VARIANTS` of every window.

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
        n = z.shape[0]
        seeds = list(range(n)) if seeds is None else [int(s) for s in seeds]
        x = self.schema.denormalize(z)
        stats = channel_statistics(x, None if masks is None else ~np.asarray(masks, bool))
        rows = np.stack([stats[k] for k in ("mean", "max", "min", "std", "count")], -1)
        out = []
        for i in range(n):
            draws = Draws(seeds[i])
            categories = self._categories(draws)
            row = {name: tuple(rows[i, k]) for k, name in enumerate(self.schema.names)}
            low = statistical_caption(categories, row, draws)
            if captions is not None:
                high = captions[i]
            elif labels is not None:
                high = draws.pick(phrases.WINDOW_ACTIVITY_PHRASES).format(items=labels[i])
            else:
                high = UNLABELLED_PHRASE
            out.append({"low": low, "high_summary": high, "high_all": high,
                        "high_low": f"{high}\n{low}"})
        return out
