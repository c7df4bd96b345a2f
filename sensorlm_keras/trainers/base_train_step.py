"""`BaseTrainStep`: what every backend's step shares (the single-device gather hook)."""


class BaseTrainStep:
    def _gather_for_loss(self, sensor_embeddings, text_embeddings):
        """Hook for data parallelism used by `SensorLM.compute_loss`.

        Returns a dict with ``sensor_local``/``text_local`` (this replica's rows),
        ``sensor_all``/``text_all`` (the global batch, gathered from every replica),
        ``offset`` (global column of the first local row's positive) and ``replicas`` (number
        of replicas whose summed gradients make one step). On one device, and under JAX's
        ``keras.distribution`` (global arrays), it is the identity with one replica; the
        TensorFlow step overrides it with a differentiable all-gather under `tf.distribute`.
        """
        return {
            "sensor_local": sensor_embeddings,
            "text_local": text_embeddings,
            "sensor_all": sensor_embeddings,
            "text_all": text_embeddings,
            "offset": 0,
            "replicas": 1,
        }
