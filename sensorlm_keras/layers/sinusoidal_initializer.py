"""`SinusoidalInitializer`: the sine/cosine position table of the Transformer, as a start."""

import keras
from keras import ops

from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.utils.validation import check_float


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class SinusoidalInitializer(keras.initializers.Initializer):
    """Initialise a ``(positions, width)`` weight with sine/cosine position codes.

    Row ``p`` is ``[sin(p * f_0), ..., sin(p * f_{h-1}), cos(p * g_0), ..., cos(p * g_{k-1})]``
    with ``h = width // 2`` sines, ``k = width - h`` cosines and frequencies
    ``f_i = max_wavelength ** (-i / h)`` (``g`` likewise over ``k``): the table of Vaswani et
    al. (2017), laid out in two halves as in MAE's fixed position embeddings. Used as the
    *initial* value of a learned `PositionEmbedding`: every position starts distinct and
    ordered (nearby positions have similar codes, and a linear map reads the position off
    them), so a small model trained briefly can tell *where* in the day a pattern lies.

    Args:
        max_wavelength: float > 1, the longest wavelength in positions (default 10,000).

    Example:

    ```python
    from sensorlm_keras.layers import PositionEmbedding, SinusoidalInitializer

    layer = PositionEmbedding(144, initializer=SinusoidalInitializer())
    ```
    """

    def __init__(self, max_wavelength=10_000.0):
        self.max_wavelength = check_float(
            max_wavelength, "SinusoidalInitializer.max_wavelength", minimum=1.0,
            exclusive_minimum=True, error=InputValidationError,
        )

    def _half(self, positions, count):
        exponents = ops.arange(count, dtype="float32") / float(max(count, 1))
        frequencies = ops.power(self.max_wavelength, -exponents)
        return positions[:, None] * frequencies[None, :]

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise InputValidationError(
                "SinusoidalInitializer: expected a (positions, width) shape, received "
                f"{tuple(shape)}."
            )
        length, width = int(shape[0]), int(shape[1])
        positions = ops.arange(length, dtype="float32")
        sines = ops.sin(self._half(positions, width // 2))
        cosines = ops.cos(self._half(positions, width - width // 2))
        return ops.cast(ops.concatenate([sines, cosines], axis=1), dtype or "float32")

    def get_config(self):
        return {"max_wavelength": self.max_wavelength}
