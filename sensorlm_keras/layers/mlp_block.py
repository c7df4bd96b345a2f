"""`MLPBlock`: the two-layer feed-forward block of a transformer."""

import keras

from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.utils.validation import check_positive_int


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class MLPBlock(keras.layers.Layer):
    """Dense -> activation -> dropout -> Dense, returning the input width.

    Args:
        mlp_dim: int, hidden width (e.g. 3072 for a width-768 transformer).
        activation: activation of the hidden layer, default ``"gelu"``.
        dropout: float, dropout rate after the activation and after the output.
        kernel_initializer: initializer of both kernels.
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: tensor ``(..., width)``.
        training: bool, dropout switch.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.layers import MLPBlock

    y = MLPBlock(mlp_dim=256)(np.zeros((2, 16, 64), "float32"))   # (2, 16, 64)
    ```
    """

    def __init__(
        self, mlp_dim, activation="gelu", dropout=0.0, kernel_initializer="glorot_uniform", **kwargs
    ):
        super().__init__(**kwargs)
        mlp_dim = check_positive_int(mlp_dim, "MLPBlock.mlp_dim", error=InputValidationError)
        self.mlp_dim = int(mlp_dim)
        self.activation = keras.activations.get(activation)
        self.dropout = float(dropout)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        policy = self.dtype_policy
        self.hidden = keras.layers.Dense(
            self.mlp_dim,
            activation=self.activation,
            kernel_initializer=self.kernel_initializer,
            dtype=policy,
            name="hidden",
        )
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=policy)
        self.output_dense = None

    def build(self, input_shape):
        width = input_shape[-1]
        self.hidden.build(input_shape)
        self.output_dense = keras.layers.Dense(
            width, kernel_initializer=self.kernel_initializer, dtype=self.dtype_policy, name="output"
        )
        self.output_dense.build(tuple(input_shape[:-1]) + (self.mlp_dim,))
        self.built = True

    def call(self, inputs, training=None):
        x = self.hidden(inputs)
        x = self.dropout_layer(x, training=training)
        x = self.output_dense(x)
        return self.dropout_layer(x, training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "mlp_dim": self.mlp_dim,
                "activation": keras.activations.serialize(self.activation),
                "dropout": self.dropout,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
