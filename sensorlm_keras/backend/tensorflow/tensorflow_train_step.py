"""`TensorFlowTrainStep`: the TensorFlow training step of `SensorLM` (global negatives under
`tf.distribute`).

`tf.distribute` strategies (MirroredStrategy, MultiWorkerMirroredStrategy, TPUStrategy) give
each replica only its local batch. `_gather_for_loss` all-gathers the text (and, for the softmax
loss, sensor) embeddings of every replica with the differentiable `ReplicaContext.all_gather`,
places each local positive at its global column ``replica_id * local_batch + i`` and tells
`SensorLM.compute_loss` how many replicas there are, so that each replica's loss is its share
of the global loss and the summed replica gradients equal the single-device gradients. With
gradient clipping the step sums the replicas' gradients before clipping them (Keras' optimizer
would clip each replica's part). The step logs the unscaled loss (as Keras does for its own
losses) and ``grad_norm``: with clipping, the norm of the summed gradient (the single-device
value); without, the norm of this replica's part.
"""

import keras
import tensorflow as tf
from keras.src.losses import loss as loss_module

from sensorlm_keras.backend.common.base_train_step import BaseTrainStep, global_norm


class TensorFlowTrainStep(BaseTrainStep):
    """The TensorFlow step: global negatives and the replicas' summed, clipped gradient under
    `tf.distribute`; ``grad_norm`` in the logs (see the module docstring)."""

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

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Keras builds the model from one batch before `fit`/`evaluate` under a strategy. Its
        TensorFlow trainer (Keras 3.15) takes that batch from the training iterator and then
        starts a new one, so a seeded shuffle that reshuffles per iteration yields another
        order than on one device; and it reduces the nest of per-replica batches with one
        ``strategy.reduce``, which MultiWorkerMirroredStrategy rejects ("Attempt to convert a
        value ({'sensor': PerReplica...}) to a Tensor"). Only shapes and dtypes matter there,
        so this builds from zeros shaped like the dataset's elements: no batch consumed, no
        collective."""
        if self._distribute_strategy is None or iterator is None:
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        spec = iterator.data_adapter.get_tf_dataset().element_spec
        data_batch = tf.nest.map_structure(
            lambda s: tf.zeros([1 if d is None else d for d in s.shape], s.dtype), spec
        )
        return super()._maybe_symbolic_build(data_batch=data_batch)

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
        gradients = _dense(tape.gradient(loss, weights))
        context = tf.distribute.get_replica_context()
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if context is None or replicas == 1 or not gradients_clipped_per_replica(self.optimizer):
            grad_norm = global_norm(gradients)
            self.optimizer.apply_gradients(zip(gradients, weights))
        else:
            grad_norm = self._apply_clipped_global_gradients(context, replicas, gradients, weights)
        logs = self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        logs["grad_norm"] = grad_norm
        return _reducible_across_workers(logs)

    def _apply_clipped_global_gradients(self, context, replicas, gradients, weights):
        """Clip the summed gradient of all replicas, as one device would, then apply it.

        Keras 3.15's optimizer clips each replica's gradient before its cross-replica sum, so
        with ``global_clipnorm`` (the recipe's 1.0) data-parallel training took other steps
        than one device on the same global batch. Here the replicas sum their gradients first,
        the optimizer's own clipping rule is applied to the sum, and each replica hands the
        optimizer ``sum / replicas`` with its clipping off, so that the optimizer's own sum
        restores the clipped total. Returns the norm of the summed (unclipped) gradient.
        """
        gradients = [tf.zeros_like(w) if g is None else g for g, w in zip(gradients, weights)]
        total = context.all_reduce(tf.distribute.ReduceOp.SUM, gradients)
        grad_norm = global_norm(total)
        optimizer = self.optimizer
        clipped = optimizer._clip_gradients(total)  # the optimizer's rule (clipnorm/global/value)
        saved = (optimizer.clipnorm, optimizer.global_clipnorm, optimizer.clipvalue)
        optimizer.clipnorm = optimizer.global_clipnorm = optimizer.clipvalue = None
        try:
            optimizer.apply_gradients(zip([g / replicas for g in clipped], weights))
        finally:
            optimizer.clipnorm, optimizer.global_clipnorm, optimizer.clipvalue = saved
        return grad_norm

    def test_step(self, data):
        return _reducible_across_workers(super().test_step(data))


def _dense(gradients):
    """Gradients with every `tf.IndexedSlices` made dense.

    The token embeddings' gradient is IndexedSlices with one row per token occurrence, so a
    token that occurs several times in a batch has several rows. Keras 3.15's optimizer squares
    those rows before it adds them up (in the global norm of ``global_clipnorm`` and in Adam's
    second moment), so a one-device TensorFlow step differed from the same step on JAX or
    PyTorch (dense gradients) whenever a caption repeated a word: 1.35e-2 in the loss after 5
    epochs of notebook 06, where JAX and PyTorch agreed to 3.5e-4. Dense, the rows are summed
    first, as on the other backends (`tests/test_backends.py` trains the three from the same
    weights on batches with repeated tokens).
    """
    return [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in gradients]


def gradients_clipped_per_replica(optimizer):
    """Whether ``optimizer`` clips gradients (then the step clips the replicas' sum itself);
    False for no clipping or a loss-scale optimizer, whose steps pass through unchanged."""
    if optimizer is None or isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return False
    return bool(optimizer.clipnorm or optimizer.global_clipnorm or optimizer.clipvalue)


def _reducible_across_workers(logs):
    """Logs that Keras can average over the workers of a MultiWorkerMirroredStrategy.

    Keras 3.15 averages each log of a multi-worker step with ``strategy.reduce("MEAN", v,
    axis=0)``, which fails on the scalar logs every step returns ("Invalid reduction dimension
    0 for input with 0 dimensions"). Shaped (1,), each replica's value is one row and the
    reduction gives the mean over all replicas as a scalar. Elsewhere logs pass unchanged.
    """
    strategy = tf.distribute.get_strategy()
    if not (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and strategy.extended._in_multi_worker_mode()):
        return logs
    return {k: tf.reshape(v, [1]) if tf.is_tensor(v) and v.shape.rank == 0 else v
            for k, v in logs.items()}
