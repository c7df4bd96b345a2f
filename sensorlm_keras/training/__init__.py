"""Training of SensorLM: the upstream optimiser recipe and schedule, callbacks and the
`sensorlm train` driver (which writes a run directory, `sensorlm_keras.runs`)."""

from sensorlm_keras.training.train_config import TrainConfig
from sensorlm_keras.training.warmup_rsqrt_cooldown import WarmupRsqrtCooldown


def train(config, overwrite=False, verbose=1):
    """Train a SensorLM from a `TrainConfig` (see `sensorlm_keras.training.trainer.train`)."""
    from sensorlm_keras.training.trainer import train as _train

    return _train(config, overwrite=overwrite, verbose=verbose)
