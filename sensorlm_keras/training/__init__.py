"""Training of SensorLM: run directories, the upstream optimiser recipe and schedule, callbacks
and the `sensorlm train` driver."""

from sensorlm_keras.training.run_artifacts import RunArtifacts, load_run, save_run
from sensorlm_keras.training.train_config import TrainConfig
from sensorlm_keras.training.warmup_rsqrt_cooldown import WarmupRsqrtCooldown


def train(config, overwrite=False, verbose=1):
    """Train a SensorLM from a `TrainConfig` (see `sensorlm_keras.training.trainer.train`)."""
    from sensorlm_keras.training.trainer import train as _train

    return _train(config, overwrite=overwrite, verbose=verbose)
