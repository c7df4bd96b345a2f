"""The stored example: one ``tf.train.Example`` per captioned person-day, written and decoded.

One ``tf.train.Example`` per person-day (`SCHEMA_VERSION` 1):

=====================  =========  ===========================================================
key                    type       content
=====================  =========  ===========================================================
``sensor``             bytes      float32 little-endian z-scores, ``T x C`` row-major
``mask``               bytes      uint8 0/1, ``T x C`` (1 = missing before imputation)
``missing_ratio``      float      fraction of missing cells
``num_timesteps``      int64      ``T`` (1440)
``num_channels``       int64      ``C``
``channel_names``      bytes[]    the ``C`` channel names, in order
``caption/<variant>``  bytes      UTF-8 caption, one feature per variant of CAPTION_VARIANTS
``person_id``          bytes      pseudonym (HMAC-SHA256 of the raw id with a secret salt)
``day_index``          int64      day number within the person
``activity_label``     bytes      longest logged activity of >= 20 min or ``"none"``
``events``             bytes      JSON list of event dicts (`Event.to_dict`)
``schema_version``     int64      `SCHEMA_VERSION`
=====================  =========  ===========================================================

Raw bytes keep the sensor values bit-exact and parse fast (``tf.io.decode_raw``). TensorFlow is
imported inside the functions only.
"""

import json
import os

import numpy as np

from sensorlm_keras.data.dataset_manifest import SCHEMA_VERSION
from sensorlm_keras.data.event import Event
from sensorlm_keras.errors import DataError, describe

CAPTION_PREFIX = "caption/"


def caption_key(variant):
    """Feature key of a caption variant, e.g. ``"caption/high_summary"``."""
    return CAPTION_PREFIX + variant


def serialize_example(
    sensor,
    mask,
    missing_ratio,
    captions,
    person_pseudonym,
    day_index,
    events,
    channel_names,
    activity_label="none",
):
    """Encode one person-day as a serialized ``tf.train.Example`` (see the module table).

    Inputs are assumed validated (`TFRecordDatasetWriter.write` validates them).
    """
    import tensorflow as tf

    sensor = np.ascontiguousarray(sensor, dtype="<f4")
    mask = np.ascontiguousarray(mask, dtype=np.uint8)

    def b(values):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))

    def i(values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=values))

    def f(values):
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))

    feature = {
        "sensor": b([sensor.tobytes()]),
        "mask": b([mask.tobytes()]),
        "missing_ratio": f([float(missing_ratio)]),
        "num_timesteps": i([sensor.shape[0]]),
        "num_channels": i([sensor.shape[1]]),
        "channel_names": b([n.encode("utf-8") for n in channel_names]),
        "person_id": b([person_pseudonym.encode("utf-8")]),
        "day_index": i([int(day_index)]),
        "activity_label": b([str(activity_label).encode("utf-8")]),
        "events": b([json.dumps([e.to_dict() for e in events]).encode("utf-8")]),
        "schema_version": i([SCHEMA_VERSION]),
    }
    for variant, text in captions.items():
        feature[caption_key(variant)] = b([text.encode("utf-8")])
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    return example.SerializeToString()


def feature_spec(variants=(), metadata=False):
    """``tf.io.parse_example`` spec for the sensor, mask and the given caption variants."""
    import tensorflow as tf

    spec = {
        "sensor": tf.io.FixedLenFeature([], tf.string),
        "mask": tf.io.FixedLenFeature([], tf.string),
        "missing_ratio": tf.io.FixedLenFeature([], tf.float32),
        "schema_version": tf.io.FixedLenFeature([], tf.int64),
    }
    for variant in variants:
        spec[caption_key(variant)] = tf.io.FixedLenFeature([], tf.string)
    if metadata:
        spec["person_id"] = tf.io.FixedLenFeature([], tf.string)
        spec["day_index"] = tf.io.FixedLenFeature([], tf.int64)
        spec["activity_label"] = tf.io.FixedLenFeature([], tf.string, default_value="none")
    return spec


def decode_events(text):
    """JSON text of the ``events`` feature -> list of `Event`."""
    try:
        items = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise DataError(f"events: not a valid JSON event list ({error}).") from None
    if not isinstance(items, list):
        raise DataError(
            f"events: expected a JSON list of event objects, received {describe(items)}."
        )
    events = []
    for i, d in enumerate(items):
        if not isinstance(d, dict):
            raise DataError(f"events[{i}]: expected a JSON object, received {describe(d)}.")
        try:
            events.append(Event.from_dict(d))
        except TypeError as error:
            raise DataError(f"events[{i}]: unexpected or missing fields ({error}).") from None
    return events


def decode_example(serialized, variants, path, index):
    """One serialized record -> the dict `read_examples` yields (checked field by field)."""
    import tensorflow as tf

    example = tf.train.Example()
    try:
        example.ParseFromString(serialized)
    except Exception as error:  # protobuf DecodeError
        raise DataError(f"{path!r} record {index}: not a tf.train.Example ({error}).") from None
    f = example.features.feature
    where = f"{os.path.basename(path)} record {index}"

    def one(key, kind):
        if key not in f:
            raise DataError(f"{where}: missing feature {key!r}.")
        values = getattr(f[key], kind).value
        if len(values) != 1:
            raise DataError(f"{where}: feature {key!r} expected 1 value, received {len(values)}.")
        return values[0]

    version = one("schema_version", "int64_list")
    if version != SCHEMA_VERSION:
        raise DataError(f"{where}: schema_version expected {SCHEMA_VERSION}, received {version}.")
    t, c = one("num_timesteps", "int64_list"), one("num_channels", "int64_list")
    names = [n.decode("utf-8", "replace") for n in f["channel_names"].bytes_list.value] if (
        "channel_names" in f) else []
    if t < 1 or c < 1 or c != len(names):
        raise DataError(
            f"{where}: expected num_timesteps >= 1 and num_channels equal to the "
            f"{len(names)} channel_names, received num_timesteps={t}, num_channels={c}."
        )
    sensor = np.frombuffer(one("sensor", "bytes_list"), dtype="<f4")
    mask = np.frombuffer(one("mask", "bytes_list"), dtype=np.uint8)
    if sensor.size != t * c or mask.size != t * c:
        raise DataError(
            f"{where}: sensor/mask hold {sensor.size}/{mask.size} values, expected "
            f"{t} x {c} = {t * c}."
        )
    if variants is None:
        keys = sorted(k[len(CAPTION_PREFIX) :] for k in f if k.startswith(CAPTION_PREFIX))
    else:
        keys = list(variants)
    captions = {v: _utf8(one(caption_key(v), "bytes_list"), f"{where}: caption/{v}") for v in keys}
    try:
        events = decode_events(_utf8(one("events", "bytes_list"), "events"))
    except DataError as error:
        raise DataError(f"{where}: {error}") from None
    return {
        "sensor": sensor.reshape(t, c).astype(np.float32),
        "mask": mask.reshape(t, c).astype(bool),
        "missing_ratio": float(one("missing_ratio", "float_list")),
        "captions": captions,
        "person_id": _utf8(one("person_id", "bytes_list"), f"{where}: person_id"),
        "day_index": int(one("day_index", "int64_list")),
        "activity_label": _utf8(one("activity_label", "bytes_list"), f"{where}: activity_label"),
        "events": events,
        "channel_names": [_utf8(n, f"{where}: channel_names") for n in
                          f["channel_names"].bytes_list.value],
        "schema_version": int(version),
        "shard": path,
    }


def _utf8(raw, field):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(
            f"{field}: expected UTF-8 text, received invalid bytes ({error})."
        ) from None
