"""`SensorLMCoCaConfig`: a `SensorLMConfig` plus the captioning decoder, and the CoCa presets."""

import dataclasses

from sensorlm_keras.errors import ConfigError
from sensorlm_keras.models.sensorlm_config import MODEL_ARGUMENTS, PRESETS, SensorLMConfig
from sensorlm_keras.utils.validation import check_bool, check_float, check_int, check_positive_int

# {config field: CaptionDecoder argument}: the decoder uses the text tower's width, heads, MLP
# width and positions, and reads sensor tokens of the sensor tower's width.
CAPTION_DECODER_ARGUMENTS = {
    "vocabulary_size": "vocabulary_size",
    "max_text_length": "max_text_length",
    "text_hidden_dim": "hidden_dim",
    "text_num_heads": "num_heads",
    "text_mlp_dim": "mlp_dim",
    "decoder_unimodal_layers": "num_unimodal_layers",
    "decoder_multimodal_layers": "num_multimodal_layers",
    "decoder_pooler_queries": "num_pooler_queries",
    "sensor_hidden_dim": "sensor_width",
    "tie_embeddings": "tie_embeddings",
    "dropout": "dropout",
    "layer_norm_epsilon": "layer_norm_epsilon",
    "flash_attention": "flash_attention",
}
COCA_MODEL_ARGUMENTS = {
    **MODEL_ARGUMENTS,
    "captioning_loss_weight": "captioning_loss_weight",
    "label_smoothing": "label_smoothing",
}


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

    PARTS = {
        **SensorLMConfig.PARTS,
        "caption_decoder": CAPTION_DECODER_ARGUMENTS,
        "model": COCA_MODEL_ARGUMENTS,
    }

    def __post_init__(self):
        super().__post_init__()
        name = type(self).__name__
        check_int(self.decoder_unimodal_layers, f"{name}.decoder_unimodal_layers", minimum=0)
        check_positive_int(self.decoder_multimodal_layers, f"{name}.decoder_multimodal_layers")
        check_positive_int(self.decoder_pooler_queries, f"{name}.decoder_pooler_queries",
                           allow_none=True)
        check_bool(self.tie_embeddings, f"{name}.tie_embeddings")
        check_float(self.captioning_loss_weight, f"{name}.captioning_loss_weight", minimum=0.0)
        check_float(self.label_smoothing, f"{name}.label_smoothing", 0.0, 1.0,
                    exclusive_maximum=True)

    # ------------------------------------------------------------------ (de)serialisation
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
