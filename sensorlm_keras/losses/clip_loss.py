"""`CLIPLoss`: the softmax (InfoNCE) contrastive loss, SensorLM's CLIP variant."""

import math

import keras

from sensorlm_keras.losses import contrastive_ops


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class CLIPLoss:
    """Symmetric softmax contrastive loss between two batches of L2-normalised embeddings.

    ``logits = exp(t') * z_s @ z_t^T``; the loss is the mean of the sensor->text and
    text->sensor cross-entropies with the diagonal as targets, in float32. A bias is accepted
    for interface symmetry with `SigLIPLoss` and ignored (softmax is shift invariant per row).

    Call arguments:
        sensor_embeddings: float tensor ``(B, D)``, L2-normalised.
        text_embeddings: float tensor ``(B, D)``, L2-normalised.
        logit_scale: scalar ``t'``.
        logit_bias: ignored.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.losses import CLIPLoss

    z = np.eye(4, 8, dtype="float32")
    loss = CLIPLoss()(z, z, logit_scale=np.log(10.0))
    ```
    """

    def __call__(self, sensor_embeddings, text_embeddings, logit_scale=math.log(10.0), logit_bias=None):
        return contrastive_ops.softmax_loss(sensor_embeddings, text_embeddings, logit_scale)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
