"""`JAXTrainStep`: the JAX training step of `SensorLM` (Keras' stateless step plus the global
gradient norm).

Under `keras.distribution.DataParallel` the arrays in the step are global (sharded) arrays, so
`SensorLM.compute_loss` already sees the whole global batch: no gather and no loss scaling.
"""

import jax
import keras

from sensorlm_keras.backend.common.base_train_step import BaseTrainStep, global_norm


class JAXTrainStep(BaseTrainStep):
    """Keras' stateless JAX step, logging the global gradient norm as ``grad_norm``."""

    def train_step(self, state, data):
        trainable, non_trainable, optimizer_vars, metrics_vars = state
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
        (_, aux), gradients = grad_fn(
            trainable,
            non_trainable,
            metrics_vars,
            x,
            y,
            sample_weight,
            training=True,
            optimizer_variables=optimizer_vars,
        )
        unscaled_loss, y_pred, non_trainable, metrics_vars = aux
        grad_norm = global_norm(gradients)
        trainable, optimizer_vars = self.optimizer.stateless_apply(
            optimizer_vars, gradients, trainable
        )
        logs, metrics_vars = self._update_metrics_variables(
            metrics_vars, unscaled_loss, x, y, y_pred, sample_weight
        )
        logs["grad_norm"] = grad_norm
        return logs, (trainable, non_trainable, optimizer_vars, metrics_vars)
