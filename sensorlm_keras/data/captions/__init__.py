"""Hierarchical captions of SensorLM: statistical (low), structural (middle), semantic (high).

`CaptionGenerator` produces the eight caption variants of `CAPTION_VARIANTS` from one pass over a
day (or a batch of days). The level modules expose their building blocks as pure functions:
`structural.detect_trends`, `structural.detect_peaks`, `structural.detect_patterns`,
`statistical.channel_statistics`, `semantic.select_activities`, ...
NumPy / SciPy only (``find_peaks`` is imported lazily).
"""

from sensorlm_keras.data.captions.caption_generator import (
    CAPTION_VARIANTS,
    VARIANT_LEVELS,
    CaptionGenerator,
)
from sensorlm_keras.data.captions.phrases import DISPLAY_NAMES, display_name
from sensorlm_keras.data.captions.statistical import CATEGORIES, channel_statistics
from sensorlm_keras.data.captions.structural import (
    average_points,
    detect_patterns,
    detect_peaks,
    detect_trends,
)
from sensorlm_keras.data.captions.structural_pattern import StructuralPattern
