"""TensorFlow training step of `SensorLM`: Keras' step plus the global gradient norm.

Under `tf.distribute`, `SensorLM.compute_loss` gathers the embeddings of all replicas and scales
the loss (see `SensorLM._gather_for_loss`); this step unscales it for the logged loss as Keras
does, and reports the norm of this replica's gradient before the cross-replica reduction.
"""

import tensorflow as tf
from keras.src.losses import loss as loss_module

import keras
from sensorlm_keras.trainers.grad_norm import global_norm


class TensorFlowTrainStep:
    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self._compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
            )
            self._loss_tracker.update_state(
                loss_module.unscale_loss_for_distribution(loss),
                sample_weight=tf.shape(tf.nest.flatten(x)[0])[0],
            )
            if self.optimizer is not None:
                loss = self.optimizer.scale_loss(loss)
        weights = self.trainable_weights
        gradients = tape.gradient(loss, weights)
        grad_norm = global_norm(gradients)
        self.optimizer.apply_gradients(zip(gradients, weights))
        logs = self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        logs["grad_norm"] = grad_norm
        return logs
