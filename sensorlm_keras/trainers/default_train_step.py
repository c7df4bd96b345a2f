"""Fallback for backends without a custom step (e.g. numpy, inference only)."""


class DefaultTrainStep(BaseTrainStep):
    """Uses Keras' own `train_step` unchanged."""
