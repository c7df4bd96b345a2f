"""`TensorFlowDistribution`: `tf.distribute` strategies for `DistributionPlan`."""

import contextlib
import os

import tensorflow as tf

from sensorlm_keras.errors import ConfigError
from sensorlm_keras.backend.tensorflow.tensorflow_workers import describe_lost_worker


def request_cpu_devices(count):
    """Split the CPU into ``count`` logical devices (before TensorFlow's first op)."""
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * count
        )
    except RuntimeError as error:
        if len(tf.config.list_logical_devices("CPU")) != count:
            raise ConfigError(
                f"cpu devices: TensorFlow is already initialised ({error})."
            ) from None


class TensorFlowDistribution:
    """One `tf.distribute` strategy: ``"mirrored"`` (all local GPUs, or the CPU devices),
    ``"multi_worker"`` (MultiWorkerMirroredStrategy from ``TF_CONFIG``) or ``"tpu"``.

    Args:
        strategy: one of `STRATEGIES`.
        tpu: TPU name/address for ``"tpu"`` (default: the environment's).

    Example:

    ```python
    distribution = TensorFlowDistribution("mirrored")
    with distribution.scope():
        ...  # build and compile the model
    ```
    """

    STRATEGIES = ("mirrored", "multi_worker", "tpu")

    def __init__(self, strategy, tpu=None, **unused):
        self.name = strategy
        self.strategy = self._make_strategy(strategy, tpu)

    @staticmethod
    def _make_strategy(strategy, tpu):
        if strategy == "mirrored":
            gpus = tf.config.list_logical_devices("GPU")
            devices = [d.name for d in gpus] or [
                d.name for d in tf.config.list_logical_devices("CPU")
            ]
            return tf.distribute.MirroredStrategy(devices)
        if strategy == "multi_worker":
            if "TF_CONFIG" not in os.environ:
                raise ConfigError(
                    "strategy 'multi_worker' reads the cluster from the TF_CONFIG environment "
                    "variable, which is not set (see README: Training on several devices)."
                )
            return tf.distribute.MultiWorkerMirroredStrategy()
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)

    @property
    def _multi_worker(self):
        return self.name == "multi_worker"

    @property
    def num_replicas(self):
        return self.strategy.num_replicas_in_sync

    def count_workers(self):
        if not self._multi_worker:
            return 1
        spec = self.strategy.cluster_resolver.cluster_spec().as_dict()
        return sum(len(spec.get(job, ())) for job in ("chief", "worker"))

    @property
    def worker_index(self):
        if not self._multi_worker:
            return 0
        resolver = self.strategy.cluster_resolver
        spec = resolver.cluster_spec().as_dict()
        if resolver.task_type == "chief":
            return 0
        return int(resolver.task_id) + (1 if "chief" in spec else 0)

    def barrier(self):
        self.strategy.reduce(
            tf.distribute.ReduceOp.SUM, self.strategy.run(lambda: tf.constant(1.0)), axis=None
        )

    def lost_worker(self, error):
        return describe_lost_worker(error)

    def shard_dataset(self, dataset):
        """Multi-worker: tf.data's DATA auto-shard policy on the re-batched stream, so each
        worker keeps its slice of every global batch; otherwise the dataset as is."""
        if not self._multi_worker:
            return dataset
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        return dataset.with_options(options)

    def release(self):
        """Nothing to undo: the strategy applies only inside `scope`."""

    @contextlib.contextmanager
    def scope(self):
        with self.strategy.scope():
            yield
