"""`DistributionPlan`: one object that sets up the active backend's way of training on several
devices (`tf.distribute` on TensorFlow, `keras.distribution` on JAX) and gives the scope to
build and compile the model in. The backends' own code is in
`sensorlm_keras.backend.tensorflow.tensorflow_distribution` and
`sensorlm_keras.backend.jax.jax_distribution`."""

import contextlib
import os

from sensorlm_keras import backend
from sensorlm_keras.errors import ConfigError
from sensorlm_keras.utils.validation import check_choice, check_positive_int

STRATEGIES = ("none", "mirrored", "multi_worker", "tpu", "data_parallel", "model_parallel")
_BACKEND_OF = {"mirrored": "tensorflow", "multi_worker": "tensorflow", "tpu": "tensorflow",
               "data_parallel": "jax", "model_parallel": "jax"}


def request_cpu_devices(count, backend=None):
    """Split this machine's CPU into ``count`` devices (for tests and benchmarks).

    Must run before the backend initialises its devices: for JAX it sets ``XLA_FLAGS``
    (before JAX creates its backends); for TensorFlow it configures logical CPU devices
    (before the first op). Raises `ConfigError` when it is too late.

    Args:
        count: int >= 1.
        backend: ``"jax"`` or ``"tensorflow"``; default ``KERAS_BACKEND`` (tensorflow).
    """
    count = check_positive_int(count, "cpu devices")
    name = backend or os.environ.get("KERAS_BACKEND", "tensorflow")
    request = getattr(_backend_package(name), "request_cpu_devices", None)
    if request is None:
        raise ConfigError(f"cpu devices: not supported on the {name!r} backend.")
    request(count)


def _backend_package(name):
    return backend.package(name)


class DistributionPlan:
    """How to spread training over devices, for the active Keras backend.

    Args:
        strategy: one of ``"none"``, ``"mirrored"``, ``"multi_worker"``, ``"tpu"`` (TensorFlow)
            or ``"data_parallel"``, ``"model_parallel"`` (JAX).
        model_parallel_size: devices per model replica for ``"model_parallel"`` (the ``model``
            mesh axis); the rest form the ``batch`` axis.
        tpu: TPU name/address for ``"tpu"`` (default: the environment's).
        jax_coordinator, jax_num_processes, jax_process_id: multi-host JAX set-up (read from
            the environment when unset, see `sensorlm_keras.backend.jax.jax_processes`); the
            processes join as `keras.distribution.initialize` would, with a 30 s heartbeat
            timeout so that a lost process ends the others within a bounded time.

    Example:

    ```python
    from sensorlm_keras import SensorLM
    from sensorlm_keras.distribute import DistributionPlan

    plan = DistributionPlan("mirrored")          # KERAS_BACKEND=tensorflow, all local GPUs
    with plan.scope():
        model = SensorLM.from_preset("sensorlm_base")
        model.compile(optimizer="adam")
    model.fit(dataset, epochs=1)                  # dataset batches are global batches
    ```
    """

    def __init__(self, strategy="none", model_parallel_size=2, tpu=None, jax_coordinator=None,
                 jax_num_processes=None, jax_process_id=None):
        import keras

        check_choice(strategy, "strategy", STRATEGIES)
        check_positive_int(model_parallel_size, "model_parallel_size")
        self.backend = keras.backend.backend()
        self.strategy_name = strategy
        self.implementation = None
        self._num_workers = None
        if strategy == "none":
            return
        distribution = getattr(backend.current(), "Distribution", None)
        if distribution is None:
            raise ConfigError(
                f"strategy {strategy!r}: multi-device training is not supported on the "
                f"{'PyTorch' if self.backend == 'torch' else self.backend} backend with keras "
                "3.15 (its trainer has no distribution support). Use KERAS_BACKEND=jax "
                "(data_parallel, model_parallel) or KERAS_BACKEND=tensorflow (mirrored, "
                "multi_worker, tpu)."
            )
        if strategy not in distribution.STRATEGIES:
            other = {"tensorflow": "mirrored, multi_worker or tpu",
                     "jax": "data_parallel or model_parallel"}[self.backend]
            kind = ("a tf.distribute" if _BACKEND_OF[strategy] == "tensorflow"
                    else "a keras.distribution")
            raise ConfigError(
                f"strategy {strategy!r} is {kind} strategy and needs "
                f"KERAS_BACKEND={_BACKEND_OF[strategy]} (current backend: {self.backend}); on "
                f"{self.backend} use {other}."
            )
        self.implementation = distribution(
            strategy, model_parallel_size=model_parallel_size, tpu=tpu,
            jax_coordinator=jax_coordinator, jax_num_processes=jax_num_processes,
            jax_process_id=jax_process_id,
        )

    @property
    def tf_strategy(self):
        """The `tf.distribute` strategy (TensorFlow), else None."""
        return getattr(self.implementation, "strategy", None)

    @property
    def distribution(self):
        """The `keras.distribution` distribution (JAX), else None."""
        return getattr(self.implementation, "distribution", None)

    @property
    def num_replicas(self):
        """Data-parallel replicas (the global batch must be divisible by it)."""
        return 1 if self.implementation is None else self.implementation.num_replicas

    @property
    def num_workers(self):
        """Processes (TF workers or JAX processes) that train together; 1 on one process."""
        if self._num_workers is None:  # fixed once the cluster is up
            self._num_workers = (1 if self.implementation is None
                                 else self.implementation.count_workers())
        return self._num_workers

    @property
    def worker_index(self):
        """This process's index among `num_workers` (0 = the chief)."""
        return 0 if self.implementation is None else self.implementation.worker_index

    @property
    def is_chief(self):
        """Whether this process writes the run directory (the only one that does)."""
        return self.worker_index == 0

    def barrier(self):
        """Wait until every worker/process reaches this point (no-op on one process)."""
        if self.num_workers > 1:
            self.implementation.barrier()

    def lost_worker(self, error):
        """A one-line reason when ``error`` means another worker/process of this run stopped
        or became unreachable (the backend's collective failed); None otherwise, and always
        None on one process."""
        if self.num_workers == 1:
            return None
        return self.implementation.lost_worker(error)

    def shard_dataset(self, dataset):
        """Each worker's part of a dataset of global batches: every worker builds the same
        seeded pipeline over all shard files and keeps its slice of every global batch, so the
        global batch is exactly the single-process one."""
        return dataset if self.implementation is None else self.implementation.shard_dataset(
            dataset)

    def release(self):
        """Stop distributing new models and computations (JAX: unset the Keras distribution),
        so that work after training (the chief's evaluation) runs on local devices only."""
        if self.implementation is not None:
            self.implementation.release()

    @contextlib.contextmanager
    def scope(self):
        """Build and compile the model inside this scope."""
        if self.implementation is None:
            yield self
        else:
            with self.implementation.scope():
                yield self

    def describe(self):
        if self.strategy_name == "none":
            return "single device"
        text = f"{self.strategy_name} over {self.num_replicas} replica(s) on {self.backend}"
        if self.num_workers > 1:
            role = "chief" if self.is_chief else "non-chief"
            text += f", {self.num_workers} processes (this is {self.worker_index}, {role})"
        return text
