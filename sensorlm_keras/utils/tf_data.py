"""`tf.data` helpers that the models need on every backend (tf.data is the input pipeline
whatever the Keras backend; TensorFlow is imported only when a dataset is actually passed)."""

import sys


def is_tf_dataset(value):
    """Whether ``value`` is a ``tf.data.Dataset`` (False, without importing TensorFlow, when
    TensorFlow was never imported: then it cannot be one)."""
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(value, tf.data.Dataset)


def masks_to_int32(dataset):
    """``dataset`` with every bool tensor of its input dicts cast to int32.

    `tf.distribute` cannot aggregate bool tensors (TensorFlow has no AddN over bool), so masks
    enter the models as int32; the models treat both the same.
    """
    import tensorflow as tf

    spec = dataset.element_spec
    first = spec[0] if isinstance(spec, tuple) else spec
    if not isinstance(first, dict) or not any(
        getattr(s, "dtype", None) == tf.bool for s in first.values()
    ):
        return dataset

    def cast(element):
        return {k: (tf.cast(v, tf.int32) if v.dtype == tf.bool else v) for k, v in element.items()}

    if isinstance(spec, tuple):
        return dataset.map(lambda x, *rest: (cast(x), *rest))
    return dataset.map(cast)
