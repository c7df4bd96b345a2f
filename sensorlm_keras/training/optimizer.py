"""The upstream optimiser recipe: AdamW, decoupled weight decay on kernels only, clipping."""

import keras

from sensorlm_keras.training.warmup_rsqrt_cooldown import WarmupRsqrtCooldown

# Variables whose name contains one of these get weight decay; everything else (biases,
# LayerNorm scales/offsets, token and position embeddings, the MAP probe, t' and b) does not.
DECAYED_NAME_PARTS = ("kernel",)


def decayed_variables(model):
    return [v for v in model.trainable_variables if any(p in v.name for p in DECAYED_NAME_PARTS)]


def build_optimizer(model, total_steps, peak_learning_rate=5e-4, weight_decay=1e-4,
                    global_clipnorm=1.0, warmup_fraction=0.2, cooldown_fraction=0.2,
                    timescale=10_000.0, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    """AdamW with SensorLM's schedule and decoupled, lr-independent weight decay.

    Upstream decays ``param -= wd * schedule_multiplier * param`` with ``wd = 1e-4``; Keras'
    AdamW multiplies its ``weight_decay`` by the learning rate, so the equivalent Keras value is
    ``weight_decay / peak_learning_rate`` (0.2 for the upstream 1e-4 and 5e-4). Only kernels are
    decayed.

    Args:
        model: the `SensorLM` (its variables decide what is excluded from weight decay).
        total_steps: optimizer steps of the run (for the schedule).
        peak_learning_rate, weight_decay, global_clipnorm, warmup_fraction, cooldown_fraction,
        timescale, beta_1, beta_2, epsilon: the recipe (SENSORLM_FACTS section 4 defaults).

    Example:

    ```python
    from sensorlm_keras import SensorLM
    from sensorlm_keras.training.optimizer import build_optimizer

    model = SensorLM.from_preset("sensorlm_tiny")
    model.compile(optimizer=build_optimizer(model, total_steps=1000))
    ```
    """
    schedule = WarmupRsqrtCooldown(
        peak_learning_rate, total_steps, warmup_fraction, cooldown_fraction, timescale
    )
    optimizer = keras.optimizers.AdamW(
        learning_rate=schedule,
        weight_decay=weight_decay / peak_learning_rate,
        beta_1=beta_1,
        beta_2=beta_2,
        epsilon=epsilon,
        global_clipnorm=global_clipnorm,
    )
    decayed = {id(v) for v in decayed_variables(model)}
    optimizer.exclude_from_weight_decay(
        var_list=[v for v in model.trainable_variables if id(v) not in decayed]
    )
    return optimizer
