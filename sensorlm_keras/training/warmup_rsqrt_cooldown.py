"""`WarmupRsqrtCooldown`: SensorLM's upstream learning-rate schedule."""

import keras
from keras import ops

from sensorlm_keras.errors import ConfigError
from sensorlm_keras.utils.validation import check_positive_int


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class WarmupRsqrtCooldown(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up, reciprocal square root decay, linear cool-down to 0.

    ``lr(s) = peak * s / W`` for ``s < W``; afterwards ``peak / sqrt(1 + (s - W) / timescale)``,
    multiplied during the last ``cooldown`` steps by ``(total - s) / cooldown`` (reaching 0 at
    ``total``). Upstream: W = 20% and cool-down = 20% of the steps, timescale 10,000.

    Args:
        peak_learning_rate: float, the learning rate at the end of warm-up (upstream 5e-4).
        total_steps: int, number of optimizer steps of the run.
        warmup_fraction: float in [0, 1), fraction of steps of linear warm-up.
        cooldown_fraction: float in [0, 1), fraction of steps of linear cool-down.
        timescale: float, the rsqrt timescale in steps.

    Example:

    ```python
    import keras
    from sensorlm_keras.training import WarmupRsqrtCooldown

    schedule = WarmupRsqrtCooldown(5e-4, total_steps=48_828)
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=0.2, global_clipnorm=1.0)
    ```
    """

    def __init__(self, peak_learning_rate, total_steps, warmup_fraction=0.2,
                 cooldown_fraction=0.2, timescale=10_000.0):
        if not peak_learning_rate > 0:
            raise ConfigError(
                f"WarmupRsqrtCooldown.peak_learning_rate: expected > 0, received "
                f"{peak_learning_rate!r}."
            )
        total_steps = check_positive_int(total_steps, "WarmupRsqrtCooldown.total_steps")
        for name, value in (("warmup_fraction", warmup_fraction),
                            ("cooldown_fraction", cooldown_fraction)):
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"WarmupRsqrtCooldown.{name}: expected [0, 1), received {value!r}.")
        if warmup_fraction + cooldown_fraction > 1.0:
            raise ConfigError(
                "WarmupRsqrtCooldown: warmup_fraction + cooldown_fraction must be <= 1, received "
                f"{warmup_fraction} + {cooldown_fraction}."
            )
        if not timescale > 0:
            raise ConfigError(f"WarmupRsqrtCooldown.timescale: expected > 0, received {timescale!r}.")
        self.peak_learning_rate = float(peak_learning_rate)
        self.total_steps = int(total_steps)
        self.warmup_fraction = float(warmup_fraction)
        self.cooldown_fraction = float(cooldown_fraction)
        self.timescale = float(timescale)
        self.warmup_steps = int(round(self.warmup_fraction * self.total_steps))
        self.cooldown_steps = int(round(self.cooldown_fraction * self.total_steps))

    def __call__(self, step):
        s = ops.cast(step, "float32")
        peak = self.peak_learning_rate
        warm = float(max(self.warmup_steps, 1))
        warmup_lr = peak * s / warm
        decay_lr = peak / ops.sqrt(1.0 + ops.maximum(s - self.warmup_steps, 0.0) / self.timescale)
        lr = ops.where(s < self.warmup_steps, warmup_lr, decay_lr)
        if self.cooldown_steps > 0:
            start = float(self.total_steps - self.cooldown_steps)
            factor = ops.clip((self.total_steps - s) / float(self.cooldown_steps), 0.0, 1.0)
            lr = ops.where(s > start, lr * factor, lr)
        return lr

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "total_steps": self.total_steps,
            "warmup_fraction": self.warmup_fraction,
            "cooldown_fraction": self.cooldown_fraction,
            "timescale": self.timescale,
        }
