"""`Channel`: one named minute-level feature with its normalisation constants."""

import dataclasses

import numpy as np

from sensorlm_keras.errors import ConfigError

CUSTOM_FAMILY = "custom"
"""Family of a channel outside the 34-channel schema: its constants come from the train split of
the dataset it is in (`train_split_schema`)."""


@dataclasses.dataclass(frozen=True)
class Channel:
    """One minute-level feature.

    Args:
        name: unique channel name, e.g. ``"HR"``.
        mean: population mean used for z-scoring.
        std: population standard deviation used for z-scoring (must be > 0).
        family: a family label such as ``"heart"`` or ``"activity"`` (free text for custom
            channels).
        non_negative: clamp de-normalised values to ``>= 0`` (``steps``, ``sleep_coefficient``).
    """

    name: str
    mean: float
    std: float
    family: str = "other"
    non_negative: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"Channel.name: expected a non-empty string, received {self.name!r}.")
        if not np.isfinite(self.mean):
            raise ConfigError(f"Channel {self.name!r}: mean must be finite, received {self.mean!r}.")
        if not (np.isfinite(self.std) and self.std > 0):
            raise ConfigError(
                f"Channel {self.name!r}: std must be finite and > 0, received {self.std!r}."
            )
