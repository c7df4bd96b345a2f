"""`BaseTrainStep`: what every backend's training step of `SensorLM` shares."""

from keras import ops


class BaseTrainStep:
    """Mixin base of the backend train steps (`SensorLM` inherits the active backend's).

    It holds the single-device gather hook that `SensorLM.compute_loss` calls; the TensorFlow
    step overrides it with a differentiable all-gather under `tf.distribute`. Keras' own
    ``train_step`` is used unless a backend's subclass overrides it.
    """

    def _gather_for_loss(self, sensor_embeddings, text_embeddings):
        """Hook for data parallelism used by `SensorLM.compute_loss`.

        Returns a dict with ``sensor_local``/``text_local`` (this replica's rows),
        ``sensor_all``/``text_all`` (the global batch, gathered from every replica),
        ``offset`` (global column of the first local row's positive) and ``replicas`` (number
        of replicas whose summed gradients make one step). On one device, and under JAX's
        ``keras.distribution`` (global arrays), it is the identity with one replica.
        """
        return {
            "sensor_local": sensor_embeddings,
            "text_local": text_embeddings,
            "sensor_all": sensor_embeddings,
            "text_all": text_embeddings,
            "offset": 0,
            "replicas": 1,
        }


def global_norm(gradients):
    """``sqrt(sum_g ||g||^2)`` in float32, skipping ``None`` gradients."""
    squares = [ops.sum(ops.square(ops.cast(g, "float32"))) for g in gradients if g is not None]
    if not squares:
        return ops.zeros((), "float32")
    return ops.sqrt(ops.sum(ops.stack(squares)))
