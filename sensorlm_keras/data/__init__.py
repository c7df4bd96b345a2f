"""Data side of SensorLM: channel schema, events, preprocessing, captions, synthetic days,
TFRecord storage and the tf.data pipeline.

Only NumPy is needed for the schema, events, preprocessing, captions and synthetic days;
TensorFlow is imported lazily by the TFRecord and tf.data code.
"""

from sensorlm_keras.data.channel import Channel
from sensorlm_keras.data.channel_schema import PAPER26_CHANNELS, ChannelSchema
from sensorlm_keras.data.event import EVENT_KINDS, MINUTES_PER_DAY, Event
from sensorlm_keras.data.preprocessed_days import PreprocessedDays
from sensorlm_keras.data.preprocessing import (
    PLAUSIBLE_RANGES,
    impute_over_time,
    preprocess_dataframe,
    preprocess_days,
)
from sensorlm_keras.data.captions import (
    CAPTION_VARIANTS,
    CaptionGenerator,
    StructuralPattern,
    detect_patterns,
    detect_peaks,
    detect_trends,
)

# Synthetic days, real actigraphy, TFRecord storage and the tf.data pipeline. These modules
# import TensorFlow / pandas only inside their functions, so importing them here needs NumPy only.
from sensorlm_keras.data.wearable_days import WearableDays
from sensorlm_keras.data.synthetic import (
    ACTIVITY_PROFILES,
    MOODS,
    ActivityProfile,
    SimulatedPerson,
    SyntheticDayGenerator,
    SyntheticDays,
)
from sensorlm_keras.data.actigraphy import (
    ActigraphyUnavailableError,
    actigraphy_cache_dir,
    fetch_actigraphy_files,
    load_actigraphy_days,
)
from sensorlm_keras.data.pseudonym import pseudonymize_person_id
from sensorlm_keras.data.person_split import assign_split, split_by_person
from sensorlm_keras.data.dataset_manifest import SCHEMA_VERSION, DatasetManifest
from sensorlm_keras.data.tfrecord import check_shards, read_examples, resolve_shards
from sensorlm_keras.data.tfrecord_writer import TFRecordDatasetWriter
from sensorlm_keras.data.dataset_builder import build_tfrecord_dataset
from sensorlm_keras.data.pipeline import make_dataset
