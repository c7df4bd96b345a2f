"""Backend-specific training steps of `SensorLM`.

The SigLIP loss lives in `SensorLM.compute_loss`, shared by every backend and computed from the
embeddings of the one forward pass. Each backend's `train_step` is overridden only to add what
Keras' default step lacks:

- TensorFlow (`tensorflow_train_step.py`): global gradient norm in the logs; hooks for the
  replica all-gather and loss scaling under `tf.distribute` live in `SensorLM`.
- JAX (`jax_train_step.py`): stateless step with the global gradient norm in the logs.
- PyTorch (`torch_train_step.py`): eager step with the global gradient norm in the logs.

Only the module of the active backend is imported.
"""

import keras


def train_step_mixin():
    """The train-step mixin class of the active Keras backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from sensorlm_keras.trainers.tensorflow_train_step import TensorFlowTrainStep

        return TensorFlowTrainStep
    if backend == "jax":
        from sensorlm_keras.trainers.jax_train_step import JAXTrainStep

        return JAXTrainStep
    if backend == "torch":
        from sensorlm_keras.trainers.torch_train_step import TorchTrainStep

        return TorchTrainStep
    from sensorlm_keras.trainers.default_train_step import DefaultTrainStep

    return DefaultTrainStep
