"""Fallback for backends without a custom step (e.g. numpy, inference only)."""

from sensorlm_keras.trainers.base_train_step import BaseTrainStep


class DefaultTrainStep(BaseTrainStep):
    """Uses Keras' own `train_step` unchanged."""
