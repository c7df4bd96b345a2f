"""`PositionEmbedding`: a learned additive position embedding that owns its weight."""

import math

import keras
from keras import ops

from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.utils.validation import check_positive_int


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class PositionEmbedding(keras.layers.Layer):
    """Add a learned position embedding to a sequence of tokens.

    The layer owns a trainable ``(sequence_length, width)`` weight (initialised from a normal
    distribution with standard deviation ``1 / sqrt(width)`` unless ``initializer`` is given) and
    returns ``inputs + embedding[:length]``. Shorter inputs use the first positions; longer inputs
    raise an error.

    Args:
        sequence_length: int, the maximum number of positions.
        initializer: optional initializer; default ``RandomNormal(stddev=1/sqrt(width))``.
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: tensor ``(batch, length, width)`` with ``length <= sequence_length``.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.layers import PositionEmbedding

    layer = PositionEmbedding(sequence_length=2448)
    y = layer(np.zeros((2, 2448, 64), "float32"))   # (2, 2448, 64)
    ```
    """

    def __init__(self, sequence_length, initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = check_positive_int(
            sequence_length, "PositionEmbedding.sequence_length", error=InputValidationError
        )
        self.initializer = keras.initializers.get(initializer) if initializer else None

    def _check_shape(self, shape):
        if len(shape) != 3:
            raise InputValidationError(
                "PositionEmbedding input: expected rank 3 (batch, length, width), received "
                f"shape {tuple(shape)}."
            )
        if shape[1] is not None and shape[1] > self.sequence_length:
            raise InputValidationError(
                f"PositionEmbedding input: sequence length {shape[1]} exceeds the maximum "
                f"{self.sequence_length} positions of this layer."
            )

    def build(self, input_shape):
        self._check_shape(input_shape)
        width = input_shape[-1]
        initializer = self.initializer or keras.initializers.RandomNormal(
            stddev=1.0 / math.sqrt(width)
        )
        self.embeddings = self.add_weight(
            name="embeddings", shape=(self.sequence_length, width), initializer=initializer
        )
        self.built = True

    def call(self, inputs):
        self._check_shape(inputs.shape)
        length = inputs.shape[1]
        positions = ops.cast(self.embeddings, self.compute_dtype)
        if length is None:  # unknown at trace time (e.g. a tf.function with a None axis)
            positions = positions[: ops.shape(inputs)[1]]
        elif length != self.sequence_length:
            positions = positions[:length]
        return ops.cast(inputs, self.compute_dtype) + positions[None, :, :]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "initializer": (
                    keras.initializers.serialize(self.initializer) if self.initializer else None
                ),
            }
        )
        return config
