"""`DistributionPlan`: one object that sets up a `tf.distribute` strategy or a Keras
distribution for the active backend and gives the scope to build and compile the model in."""

import contextlib
import os

from sensorlm_keras.errors import ConfigError

STRATEGIES = ("none", "mirrored", "multi_worker", "tpu", "data_parallel", "model_parallel")
_TF_STRATEGIES = ("mirrored", "multi_worker", "tpu")
_JAX_STRATEGIES = ("data_parallel", "model_parallel")


def request_cpu_devices(count, backend=None):
    """Split this machine's CPU into ``count`` devices (for tests and benchmarks).

    Must run before the backend initialises its devices: for JAX it sets ``XLA_FLAGS``
    (before ``import jax``); for TensorFlow it configures logical CPU devices (before the first
    op). Raises `ConfigError` when it is too late.
    """
    count = int(count)
    if count < 1:
        raise ConfigError(f"cpu devices: expected >= 1, received {count}.")
    backend = backend or os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend == "jax":
        import sys

        if "jax" in sys.modules and _jax_backends_initialised():
            import jax

            if len(jax.devices("cpu")) != count:
                raise ConfigError(
                    "cpu devices: JAX is already initialised; set XLA_FLAGS="
                    f"--xla_force_host_platform_device_count={count} before starting Python."
                )
            return
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = (
            f"{flags} --xla_force_host_platform_device_count={count}".strip()
        )
    elif backend == "tensorflow":
        import tensorflow as tf

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
    else:
        raise ConfigError(f"cpu devices: not supported on the {backend!r} backend.")


_JAX_CLUSTER_VARIABLES = (
    ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
     "KERAS_DISTRIBUTION_PROCESS_ID"),
    ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID"),
)


def jax_cluster(coordinator=None, num_processes=None, process_id=None, environ=None):
    """The multi-process JAX cluster ``(addresses, num_processes, process_id)`` or None.

    Explicit arguments win; otherwise one of two sets of environment variables is read:
    Keras' own (``KERAS_DISTRIBUTION_JOB_ADDRESSES``, ``KERAS_DISTRIBUTION_NUM_PROCESSES``,
    ``KERAS_DISTRIBUTION_PROCESS_ID``, as `keras.distribution.initialize` documents) or JAX's
    names (``JAX_COORDINATOR_ADDRESS``, ``JAX_NUM_PROCESSES``, ``JAX_PROCESS_ID``). A set must
    be complete: a partial one raises `ConfigError` naming the missing variables (JAX itself
    reads only the coordinator address and would stop with "Number of processes must be
    defined").
    """
    environ = os.environ if environ is None else environ
    values = [coordinator, num_processes, process_id]
    source = "arguments"
    if all(v is None for v in values):
        for names in _JAX_CLUSTER_VARIABLES:
            found = [environ.get(name) for name in names]
            if any(v not in (None, "") for v in found):
                missing = [n for n, v in zip(names, found) if v in (None, "")]
                if missing:
                    raise ConfigError(
                        f"multi-process JAX: {', '.join(missing)} not set; set all of "
                        f"{', '.join(names)} on every process."
                    )
                values, source = found, " / ".join(names)
                break
        else:
            return None
    address, count, index = values
    if not address or count is None or index is None:
        raise ConfigError(
            "multi-process JAX: expected a coordinator address, a number of processes and a "
            f"process id, received {address!r}, {count!r}, {index!r} ({source})."
        )
    try:
        count, index = int(count), int(index)
    except (TypeError, ValueError):
        raise ConfigError(
            f"multi-process JAX: number of processes and process id must be integers, received "
            f"{count!r} and {index!r} ({source})."
        ) from None
    if count < 1 or not 0 <= index < count:
        raise ConfigError(
            f"multi-process JAX: expected 0 <= process id < number of processes, received "
            f"process id {index} of {count} ({source})."
        )
    return str(address), count, index


def _jax_backends_initialised():
    """Whether JAX has created its backends (after which XLA_FLAGS is no longer read)."""
    try:
        from jax._src import xla_bridge

        return bool(getattr(xla_bridge, "_backends", {}))
    except ImportError:  # a JAX without this module: assume the worst
        return True


def fsdp_layout_map(device_mesh, model_axis="model"):
    """A `keras.distribution.LayoutMap` that shards SensorLM's large weights over
    ``model_axis`` (FSDP style): projection kernels on their input width, MLP kernels on their
    first axis, output projections on their output width, token embeddings on the vocabulary
    and position embeddings on the width. Small weights (norms, biases, probe, t', b) are
    replicated. Every sharded axis must be divisible by the model-axis size.
    """
    import keras

    m = model_axis
    layout_map = keras.distribution.LayoutMap(device_mesh)
    layout_map[r".*qkv_kernel"] = (m, None, None, None)
    layout_map[r".*key_value_kernel"] = (m, None, None, None)
    layout_map[r".*query_kernel"] = (m, None, None)
    layout_map[r".*attention/output_kernel"] = (None, None, m)
    layout_map[r".*mlp/hidden/kernel"] = (m, None)
    layout_map[r".*mlp/output/kernel"] = (m, None)
    layout_map[r".*patch_embedding/kernel"] = (None, None, None, m)
    layout_map[r".*token_embedding/embeddings"] = (m, None)
    layout_map[r".*position_embedding/embeddings"] = (None, m)
    layout_map[r".*projection/kernel"] = (m, None)
    return layout_map


class DistributionPlan:
    """How to spread training over devices, for the active Keras backend.

    Args:
        strategy: one of ``"none"``, ``"mirrored"``, ``"multi_worker"``, ``"tpu"`` (TensorFlow)
            or ``"data_parallel"``, ``"model_parallel"`` (JAX).
        model_parallel_size: devices per model replica for ``"model_parallel"`` (the ``model``
            mesh axis); the rest form the ``batch`` axis.
        tpu: TPU name/address for ``"tpu"`` (default: the environment's).
        jax_coordinator, jax_num_processes, jax_process_id: multi-host JAX set-up (read from
            the environment when unset, see `jax_cluster`); the processes join as
            `keras.distribution.initialize` would, with a 30 s heartbeat timeout so that a
            lost process ends the others within a bounded time.

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

        if strategy not in STRATEGIES:
            raise ConfigError(
                f"strategy: unknown {strategy!r}; expected one of {list(STRATEGIES)}."
            )
        self.backend = keras.backend.backend()
        self.strategy_name = strategy
        self.tf_strategy = None
        self.distribution = None
        if strategy == "none":
            return
        if self.backend == "torch":
            raise ConfigError(
                f"strategy {strategy!r}: multi-device training is not supported on the PyTorch "
                "backend with keras 3.15 (its torch trainer has no distribution support). Use "
                "KERAS_BACKEND=jax (data_parallel, model_parallel) or KERAS_BACKEND=tensorflow "
                "(mirrored, multi_worker, tpu)."
            )
        if strategy in _TF_STRATEGIES and self.backend != "tensorflow":
            raise ConfigError(
                f"strategy {strategy!r} is a tf.distribute strategy and needs "
                f"KERAS_BACKEND=tensorflow (current backend: {self.backend}); on JAX use "
                "data_parallel or model_parallel."
            )
        if strategy in _JAX_STRATEGIES and self.backend != "jax":
            raise ConfigError(
                f"strategy {strategy!r} is a keras.distribution strategy and needs "
                f"KERAS_BACKEND=jax (current backend: {self.backend}); on TensorFlow use mirrored, "
                "multi_worker or tpu."
            )
        if self.backend == "tensorflow":
            self.tf_strategy = self._tf_strategy(strategy, tpu)
        else:
            self.distribution = self._jax_distribution(
                strategy, model_parallel_size, jax_coordinator, jax_num_processes, jax_process_id
            )

    @staticmethod
    def _tf_strategy(strategy, tpu):
        import tensorflow as tf

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

    @staticmethod
    def _jax_distribution(strategy, model_parallel_size, coordinator, num_processes, process_id):
        import keras

        cluster = jax_cluster(coordinator, num_processes, process_id)
        if cluster is not None and cluster[1] > 1:
            from sensorlm_keras.distribute.jax_processes import initialize_processes

            initialize_processes(*cluster)
        devices = keras.distribution.list_devices()
        if strategy == "data_parallel":
            return keras.distribution.DataParallel(devices=devices)
        size = int(model_parallel_size)
        if size < 1 or len(devices) % size:
            raise ConfigError(
                f"model_parallel_size: {size} does not divide the {len(devices)} devices."
            )
        mesh = keras.distribution.DeviceMesh(
            (len(devices) // size, size), axis_names=("batch", "model"), devices=devices
        )
        return keras.distribution.ModelParallel(
            layout_map=fsdp_layout_map(mesh), batch_dim_name="batch"
        )

    @property
    def num_replicas(self):
        """Data-parallel replicas (the global batch must be divisible by it)."""
        if self.tf_strategy is not None:
            return self.tf_strategy.num_replicas_in_sync
        if self.distribution is not None:
            # DataParallel: a 1-D mesh of replicas; ModelParallel: (batch, model), batch first.
            return self.distribution.device_mesh.shape[0]
        return 1

    @property
    def num_workers(self):
        """Processes (TF workers or JAX processes) that train together; 1 on one process."""
        if getattr(self, "_num_workers", None) is None:
            self._num_workers = self._count_workers()  # fixed once the cluster is up
        return self._num_workers

    def _count_workers(self):
        if self.tf_strategy is not None and self.strategy_name == "multi_worker":
            spec = self.tf_strategy.cluster_resolver.cluster_spec().as_dict()
            return sum(len(spec.get(job, ())) for job in ("chief", "worker"))
        if self.distribution is not None:
            import jax

            return jax.process_count()
        return 1

    @property
    def worker_index(self):
        """This process's index among `num_workers` (0 = the chief)."""
        if self.tf_strategy is not None and self.strategy_name == "multi_worker":
            resolver = self.tf_strategy.cluster_resolver
            spec = resolver.cluster_spec().as_dict()
            if resolver.task_type == "chief":
                return 0
            return int(resolver.task_id) + (1 if "chief" in spec else 0)
        if self.distribution is not None:
            import jax

            return jax.process_index()
        return 0

    @property
    def is_chief(self):
        """Whether this process writes the run directory (the only one that does)."""
        return self.worker_index == 0

    def barrier(self):
        """Wait until every worker/process reaches this point (no-op on one process)."""
        if self.num_workers == 1:
            return
        if self.tf_strategy is not None:
            import tensorflow as tf

            strategy = self.tf_strategy
            strategy.reduce(
                tf.distribute.ReduceOp.SUM, strategy.run(lambda: tf.constant(1.0)), axis=None
            )
        else:
            from jax.experimental import multihost_utils

            multihost_utils.sync_global_devices("sensorlm_keras barrier")

    def lost_worker(self, error):
        """A one-line reason when ``error`` means another worker/process of this run stopped
        or became unreachable (the backend's collective failed); None otherwise, and always
        None on one process."""
        if self.num_workers == 1:
            return None
        if self.tf_strategy is not None:
            from sensorlm_keras.distribute.tensorflow_workers import describe_lost_worker
        else:
            from sensorlm_keras.distribute.jax_processes import describe_lost_worker
        return describe_lost_worker(error)

    def shard_dataset(self, dataset):
        """Each worker's part of a dataset of global batches.

        Every worker builds the same seeded pipeline over all shard files and keeps its slice
        of every global batch, so the global batch is exactly the single-process one
        (TensorFlow multi-worker: tf.data's DATA auto-shard policy on the re-batched stream;
        JAX multi-process: `keras.distribution.DataParallel` re-batches and shards the same
        way by itself). Elsewhere the dataset is returned as is.
        """
        if self.tf_strategy is not None and self.strategy_name == "multi_worker":
            import tensorflow as tf

            options = tf.data.Options()
            options.experimental_distribute.auto_shard_policy = (
                tf.data.experimental.AutoShardPolicy.DATA
            )
            return dataset.with_options(options)
        return dataset

    def release(self):
        """Stop distributing new models and computations (JAX: unset the Keras distribution),
        so that work after training (the chief's evaluation) runs on local devices only."""
        if self.distribution is not None:
            import keras

            keras.distribution.set_distribution(None)

    @contextlib.contextmanager
    def scope(self):
        """Build and compile the model inside this scope."""
        if self.tf_strategy is not None:
            with self.tf_strategy.scope():
                yield self
        elif self.distribution is not None:
            import keras

            keras.distribution.set_distribution(self.distribution)
            yield self
        else:
            yield self

    def describe(self):
        if self.strategy_name == "none":
            return "single device"
        text = f"{self.strategy_name} over {self.num_replicas} replica(s) on {self.backend}"
        if self.num_workers > 1:
            role = "chief" if self.is_chief else "non-chief"
            text += f", {self.num_workers} processes (this is {self.worker_index}, {role})"
        return text
