"""`SensorLMCoCaConfig`: a `SensorLMConfig` plus the captioning decoder, and the CoCa presets."""

import dataclasses
import math

from sensorlm_keras.errors import ConfigError
from sensorlm_keras.models.sensorlm_config import PRESETS, SensorLMConfig


@dataclasses.dataclass(frozen=True)
class SensorLMCoCaConfig(SensorLMConfig):
    """Hyper-parameters of `SensorLMCoCa`: every `SensorLMConfig` field plus the decoder's.

    The decoder uses the text tower's width, heads and MLP width (``text_hidden_dim``,
    ``text_num_heads``, ``text_mlp_dim``) and its ``max_text_length`` positions.

    Args:
        **SensorLMConfig fields: the two towers and the contrastive loss.
        decoder_unimodal_layers: causal text-only decoder layers (CoCa's unimodal layers).
        decoder_multimodal_layers: causal decoder layers that also cross-attend to the pooled
            sensor tokens.
        decoder_pooler_queries: learned queries of the attentional pooler over the sensor
            tokens (CoCa uses 256); the multimodal layers cross-attend to these tokens. None:
            no pooler, the multimodal layers cross-attend to every sensor token (the tiny
            preset's choice: with 16 queries the decoder did not read sleep times, see
            docs/learning.md).
        tie_embeddings: output logits use the decoder's token embedding matrix (True) or an
            own Dense layer (False).
        captioning_loss_weight: weight of the captioning (next-token cross-entropy) loss added
            to the contrastive loss; 0 gives exactly the two-tower `SensorLM` loss. Default 2.0
            (CoCa's weighting of captioning against contrastive).
        label_smoothing: label smoothing of the captioning loss, in [0, 1).

    Example:

    ```python
    from sensorlm_keras.models import SensorLMCoCaConfig

    config = SensorLMCoCaConfig.from_preset("sensorlm_coca_tiny", sequence_length=120,
                                            num_channels=8, captioning_loss_weight=1.0)
    ```
    """

    decoder_unimodal_layers: int = 6
    decoder_multimodal_layers: int = 6
    decoder_pooler_queries: int = 256
    tie_embeddings: bool = True
    captioning_loss_weight: float = 2.0
    label_smoothing: float = 0.0

    def __post_init__(self):
        super().__post_init__()
        for name in ("decoder_unimodal_layers", "decoder_multimodal_layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(
                    f"SensorLMCoCaConfig.{name}: expected an int >= 0, received {value!r}."
                )
        if self.decoder_multimodal_layers < 1:
            raise ConfigError(
                "SensorLMCoCaConfig.decoder_multimodal_layers: expected >= 1 (the decoder must "
                f"see the sensor), received {self.decoder_multimodal_layers!r}."
            )
        q = self.decoder_pooler_queries
        if q is not None and (isinstance(q, bool) or not isinstance(q, int) or q < 1):
            raise ConfigError(
                "SensorLMCoCaConfig.decoder_pooler_queries: expected a positive int or None, "
                "received "
                f"{q!r}."
            )
        if not isinstance(self.tie_embeddings, bool):
            raise ConfigError(
                f"SensorLMCoCaConfig.tie_embeddings: expected a bool, received "
                f"{self.tie_embeddings!r}."
            )
        w = self.captioning_loss_weight
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise ConfigError(
                "SensorLMCoCaConfig.captioning_loss_weight: expected a finite float >= 0, "
                f"received {w!r}."
            )
        s = self.label_smoothing
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0.0 <= s < 1.0:
            raise ConfigError(
                f"SensorLMCoCaConfig.label_smoothing: expected a float in [0, 1), received {s!r}."
            )

    # ------------------------------------------------------------------ (de)serialisation
    def base_config(self):
        """The `SensorLMConfig` of the two-tower part (decoder fields dropped)."""
        known = {f.name for f in dataclasses.fields(SensorLMConfig)}
        return SensorLMConfig.from_dict({k: v for k, v in self.to_dict().items() if k in known})

    def replace(self, **overrides):
        return SensorLMCoCaConfig.from_dict({**self.to_dict(), **overrides})

    @classmethod
    def from_preset(cls, name, **overrides):
        """The named CoCa preset's config (or a two-tower preset's plus CoCa defaults), with
        optional field overrides."""
        if name in COCA_PRESETS:
            base = COCA_PRESETS[name]["config"]
        elif name in PRESETS:
            base = PRESETS[name]["config"]
        else:
            raise ConfigError(
                f"SensorLMCoCaConfig.from_preset: unknown preset {name!r}; available presets are "
                f"{sorted(COCA_PRESETS)} (and the two-tower presets {sorted(PRESETS)})."
            )
        return cls.from_dict({**base, **overrides})


COCA_PRESETS = {
    "sensorlm_coca_tiny": {
        "description": "CPU-test sized SensorLM with a captioning decoder: sensorlm_tiny towers "
        "plus 1 unimodal + 1 multimodal decoder layer (width 64) cross-attending to every "
        "sensor token (no pooler); sine/cosine start for the sensor position embedding.",
        "config": {
            **PRESETS["sensorlm_tiny"]["config"],
            "sensor_position_initializer": "sincos",
            "decoder_unimodal_layers": 1,
            "decoder_multimodal_layers": 1,
            "decoder_pooler_queries": None,
        },
    },
    "sensorlm_coca_base": {
        "description": "sensorlm_base towers (ViT-B/10/2, 768-wide text) plus a CoCa decoder: "
        "6 unimodal + 6 multimodal layers of width 768, 256 pooler queries.",
        "config": {
            **PRESETS["sensorlm_base"]["config"],
            "decoder_unimodal_layers": 6,
            "decoder_multimodal_layers": 6,
            "decoder_pooler_queries": 256,
        },
    },
}
