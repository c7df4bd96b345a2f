"""TensorFlow training step of `SensorLM`: global negatives under `tf.distribute`.

`tf.distribute` strategies (MirroredStrategy, MultiWorkerMirroredStrategy, TPUStrategy) give
each replica only its local batch. `_gather_for_loss` all-gathers the text (and, for the softmax
loss, sensor) embeddings of every replica with the differentiable `ReplicaContext.all_gather`,
places each local positive at its global column ``replica_id * local_batch + i`` and tells
`SensorLM.compute_loss` how many replicas there are, so that each replica's loss is its share
of the global loss and the summed replica gradients equal the single-device gradients. The step
logs the unscaled loss (as Keras does for its own losses) and ``grad_norm``, the norm of this
replica's gradient before the cross-replica sum.
"""

from sensorlm_keras.trainers.base_train_step import BaseTrainStep
import tensorflow as tf
from keras.src.losses import loss as loss_module

import keras
from sensorlm_keras.trainers.grad_norm import global_norm


class TensorFlowTrainStep(BaseTrainStep):
    def _gather_for_loss(self, sensor_embeddings, text_embeddings):
        context = tf.distribute.get_replica_context()
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if context is None or replicas == 1:
            return super()._gather_for_loss(sensor_embeddings, text_embeddings)
        gathered = {
            "sensor_local": sensor_embeddings,
            "text_local": text_embeddings,
            "sensor_all": sensor_embeddings,
            "text_all": text_embeddings,
            "offset": 0,
            "replicas": replicas,
        }
        if not self.global_negatives:
            return gathered
        gathered["text_all"] = context.all_gather(text_embeddings, axis=0)
        if self.loss_type == "softmax":
            gathered["sensor_all"] = context.all_gather(sensor_embeddings, axis=0)
        local = tf.shape(sensor_embeddings)[0]
        gathered["offset"] = context.replica_id_in_sync_group * local
        return gathered

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
