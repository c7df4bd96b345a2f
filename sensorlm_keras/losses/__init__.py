"""Contrastive losses of SensorLM (sigmoid/SigLIP and softmax/CLIP)."""

from sensorlm_keras.losses.clip_loss import CLIPLoss
from sensorlm_keras.losses.contrastive_ops import (
    contrastive_logits,
    positive_labels,
    sigmoid_loss,
    softmax_loss,
)
from sensorlm_keras.losses.siglip_loss import SigLIPLoss
