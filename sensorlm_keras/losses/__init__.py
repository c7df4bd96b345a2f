"""Contrastive losses of SensorLM (sigmoid/SigLIP and softmax/CLIP) as `keras.losses.Loss`
classes, and the formulas they share (`contrastive_ops`)."""

from sensorlm_keras.losses.clip_loss import CLIPLoss
from sensorlm_keras.losses.contrastive_ops import contrastive_logits, positive_labels
from sensorlm_keras.losses.siglip_loss import SigLIPLoss
