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
        jax_coordinator, jax_num_processes, jax_process_id: multi-host JAX set-up passed to
            `keras.distribution.initialize` (or read from the environment when unset).

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

        if coordinator or num_processes or os.environ.get("JAX_COORDINATOR_ADDRESS"):
            keras.distribution.initialize(
                job_addresses=coordinator,
                num_processes=None if num_processes is None else int(num_processes),
                process_id=None if process_id is None else int(process_id),
            )
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
        return f"{self.strategy_name} over {self.num_replicas} replica(s) on {self.backend}"
