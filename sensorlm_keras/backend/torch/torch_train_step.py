"""`TorchTrainStep`: the PyTorch training step of `SensorLM` (Keras' eager step plus the global
gradient norm).

The norm is ``torch.nn.utils.get_total_norm`` (fused per-tensor norms, one pass over the
gradients) rather than the portable `global_norm`, which squares each gradient into a new
tensor and sums it, one call at a time: 0.47 against 0.03 CPU seconds per step at width 768,
2 layers (`benchmarks/torch_step_parts.py`).

Multi-device training is not supported on the PyTorch backend with the pinned Keras version
(Keras' torch trainer has no distribution support); use TensorFlow or JAX for several devices.
"""

import keras
import torch

from sensorlm_keras.backend.common.base_train_step import BaseTrainStep


class TorchTrainStep(BaseTrainStep):
    """Keras' eager PyTorch step, logging the global gradient norm as ``grad_norm``."""

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        self.zero_grad()
        loss = self._compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
        )
        batch = next(t for t in keras.tree.flatten(x) if t is not None).shape[0]
        self._loss_tracker.update_state(loss, sample_weight=batch)
        if self.optimizer is not None:
            loss = self.optimizer.scale_loss(loss)
        loss.backward()
        weights = self.trainable_weights[:]
        gradients = [v.value.grad for v in weights]
        with torch.no_grad():
            grad_norm = torch.nn.utils.get_total_norm([g for g in gradients if g is not None])
            self.optimizer.apply(gradients, weights)
        logs = self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        logs["grad_norm"] = grad_norm
        return logs
