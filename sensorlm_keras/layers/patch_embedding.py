"""`PatchEmbedding`: rectangular, non-overlapping patches of a (time x channel) series."""


import keras
from keras import ops

from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.utils.validation import check_positive_int


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class PatchEmbedding(keras.layers.Layer):
    """Embed a multichannel time series with rectangular Conv2D patches (kernel = stride).

    The input ``(batch, time, channels)`` is treated as a one-channel image
    ``(batch, time, channels, 1)`` and cut into non-overlapping patches of ``patch_size =
    (patch_time, patch_channels)`` (VALID padding). Each patch is linearly projected to
    ``hidden_dim``. The tokens are returned in row-major order over the patch grid (time-major),
    shape ``(batch, (time // patch_time) * (channels // patch_channels), hidden_dim)``.

    This is mathematically a ``Conv2D(hidden_dim, kernel_size=patch_size, strides=patch_size)``
    and stores its kernel in the Conv2D layout ``(patch_time, patch_channels, 1, hidden_dim)``;
    it is computed as one reshape and one matmul, which is faster than a one-input-channel
    convolution on every backend.

    Args:
        hidden_dim: int, the width of each token.
        patch_size: tuple of two ints ``(patch_time, patch_channels)``. Default ``(10, 2)``.
        use_bias: bool, whether the projection has a bias.
        kernel_initializer: initializer of the projection kernel.
        bias_initializer: initializer of the bias.
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: float tensor ``(batch, time, channels)``; ``time`` and ``channels`` must be
            divisible by the patch size.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.layers import PatchEmbedding

    layer = PatchEmbedding(hidden_dim=64, patch_size=(10, 2))
    tokens = layer(np.zeros((2, 1440, 34), "float32"))   # (2, 2448, 64)
    ```
    """

    def __init__(
        self,
        hidden_dim,
        patch_size=(10, 2),
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        patch_size = tuple(int(p) for p in patch_size)
        if len(patch_size) != 2 or min(patch_size) < 1:
            raise InputValidationError(
                f"PatchEmbedding.patch_size: expected two positive ints (time, channels), "
                f"received {patch_size!r}."
            )
        self.hidden_dim = check_positive_int(
            hidden_dim, "PatchEmbedding.hidden_dim", error=InputValidationError
        )
        self.patch_size = patch_size
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def _check_shape(self, shape):
        if len(shape) != 3:
            raise InputValidationError(
                "PatchEmbedding input: expected rank 3 (batch, time, channels), received shape "
                f"{tuple(shape)}."
            )
        pt, pc = self.patch_size
        time, channels = shape[1], shape[2]
        if time is not None and time % pt:
            raise InputValidationError(
                f"PatchEmbedding input: time length {time} is not divisible by the patch time "
                f"size {pt} (patch_size={self.patch_size})."
            )
        if channels is not None and channels % pc:
            raise InputValidationError(
                f"PatchEmbedding input: channel count {channels} is not divisible by the patch "
                f"channel size {pc} (patch_size={self.patch_size})."
            )

    def build(self, input_shape):
        self._check_shape(input_shape)
        pt, pc = self.patch_size
        self.kernel = self.add_weight(
            name="kernel",
            shape=(pt, pc, 1, self.hidden_dim),
            initializer=self.kernel_initializer,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.hidden_dim,), initializer=self.bias_initializer
            )
        self.built = True

    def grid_shape(self, time, channels):
        """Patch grid ``(time // patch_time, channels // patch_channels)``."""
        return time // self.patch_size[0], channels // self.patch_size[1]

    def call(self, inputs):
        self._check_shape(inputs.shape)
        pt, pc = self.patch_size
        time, channels = inputs.shape[1], inputs.shape[2]
        gt, gc = time // pt, channels // pc
        x = ops.cast(inputs, self.compute_dtype)
        x = ops.reshape(x, (-1, gt, pt, gc, pc))
        x = ops.transpose(x, (0, 1, 3, 2, 4))
        x = ops.reshape(x, (-1, gt * gc, pt * pc))
        kernel = ops.reshape(ops.cast(self.kernel, self.compute_dtype), (pt * pc, self.hidden_dim))
        x = ops.matmul(x, kernel)
        if self.use_bias:
            x = x + ops.cast(self.bias, self.compute_dtype)
        return x

    def compute_output_shape(self, input_shape):
        self._check_shape(input_shape)
        pt, pc = self.patch_size
        time, channels = input_shape[1], input_shape[2]
        tokens = None if time is None or channels is None else (time // pt) * (channels // pc)
        return (input_shape[0], tokens, self.hidden_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "patch_size": list(self.patch_size),
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config


def num_patches(sequence_length, num_channels, patch_size):
    """Number of tokens for a ``sequence_length x num_channels`` input."""
    return (sequence_length // patch_size[0]) * (num_channels // patch_size[1])


