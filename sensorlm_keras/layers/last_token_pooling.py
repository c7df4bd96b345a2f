"""`LastTokenPooling`: the vector of the last real token (the paper's text pooling)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class LastTokenPooling(keras.layers.Layer):
    """Take the vector at the last position where ``padding_mask`` is true.

    With the project's tokenizer every text ends with EOS, so this is the EOS token's vector
    (SensorLM paper / big_vision "last" pooling, robust to right padding). Without a mask the
    last position is taken.

    Call arguments:
        inputs: tensor ``(batch, length, width)``.
        padding_mask: optional bool/int tensor ``(batch, length)``; True/1 for real tokens.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.layers import LastTokenPooling

    x = np.arange(8, dtype="float32").reshape(1, 4, 2)
    LastTokenPooling()(x, padding_mask=np.array([[1, 1, 0, 0]]))   # [[2., 3.]]
    ```
    """

    def call(self, inputs, padding_mask=None):
        if padding_mask is None:
            return inputs[:, -1, :]
        m = ops.cast(padding_mask, "int32")
        index = ops.maximum(ops.sum(m, axis=1) - 1, 0)
        index = ops.cast(index, "int32")[:, None, None]
        return ops.take_along_axis(inputs, index, axis=1)[:, 0, :]

    def compute_output_shape(self, input_shape, padding_mask_shape=None):
        return (input_shape[0], input_shape[-1])
