"""`L2Normalization`: unit-norm vectors computed in float32 with an epsilon."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class L2Normalization(keras.layers.Layer):
    """``x / max(||x||, epsilon)`` along ``axis``, always computed and returned in float32.

    Args:
        epsilon: float, floor of the norm (default 1e-12), so a zero vector stays finite.
        axis: int, the axis to normalise.
        **kwargs: standard layer arguments. The layer's dtype is forced to float32 so that the
            embeddings that enter the contrastive logits are float32 under mixed precision.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.layers import L2Normalization

    L2Normalization()(np.array([[3.0, 4.0]], "float32"))   # [[0.6, 0.8]]
    ```
    """

    def __init__(self, epsilon=1e-12, axis=-1, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)
        self.axis = int(axis)

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        squared = ops.sum(ops.square(x), axis=self.axis, keepdims=True)
        return x * ops.rsqrt(ops.maximum(squared, self.epsilon**2))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon, "axis": self.axis})
        return config
