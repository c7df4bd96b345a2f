"""`MaskedMeanPooling`: mean over the real (unpadded) tokens."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class MaskedMeanPooling(keras.layers.Layer):
    """Average token vectors over positions where ``padding_mask`` is true.

    The sum and the count are accumulated in float32; the count is floored at 1 so an
    all-padding row gives zeros instead of NaN.

    Call arguments:
        inputs: tensor ``(batch, length, width)``.
        padding_mask: optional bool/int tensor ``(batch, length)``; None means all tokens.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.layers import MaskedMeanPooling

    x = np.ones((1, 4, 8), "float32")
    mask = np.array([[True, True, False, False]])
    MaskedMeanPooling()(x, padding_mask=mask)   # (1, 8) of ones
    ```
    """

    def call(self, inputs, padding_mask=None):
        x = ops.cast(inputs, "float32")
        if padding_mask is None:
            pooled = ops.mean(x, axis=1)
        else:
            m = ops.cast(padding_mask, "float32")[:, :, None]
            pooled = ops.sum(x * m, axis=1) / ops.maximum(ops.sum(m, axis=1), 1.0)
        return ops.cast(pooled, self.compute_dtype)

    def compute_output_shape(self, input_shape, padding_mask_shape=None):
        return (input_shape[0], input_shape[-1])
