"""The serving contract's names and limits (no TensorFlow import).

`SIGNATURES` lists the SavedModel signatures in registration order with a one-line
description; `serving_default` is `DEFAULT_SIGNATURE`. The metadata JSON, the CLI and
`sensorlm_keras.export.SIGNATURE_NAMES` read these names from here.
"""

# Name of each signature -> one-line description (in registration order; serving_default is
# embed_sensor).
SIGNATURES = {
    "embed_sensor": "z-scored sensor batch (B, T, C) -> sensor_embeddings (B, D)",
    "embed_sensor_masked": "z-scores (B, T, C) + sensor_mask (True = missing) -> missing cells "
    "imputed as in training -> sensor_embeddings (B, D)",
    "embed_text": "texts (N,) tokenised in the graph -> text_embeddings (N, D)",
    "embed_text_ids": "token_ids (N, L) + padding_mask (N, L) -> text_embeddings (N, D)",
    "tokenize": "texts (N,) -> token_ids (N, L), padding_mask (N, L) (the training tokenizer)",
    "score": "sensor (B, T, C) + texts (N,) -> logits and probabilities (B, N)",
    "zero_shot": "sensor (B, T, C) + class_names (K,) with the evaluation's prompt templates -> "
    "probabilities (B, K), predicted_index (B,)",
    "zero_shot_templates": "sensor (B, T, C) + class_names (K,) + prompt_templates (P,) -> "
    "probabilities (B, K), predicted_index (B,)",
    "metadata": "no inputs -> preprocessing constants, tokenizer proto, export JSON",
}
DEFAULT_SIGNATURE = "embed_sensor"

MAX_PROMPT_TEMPLATES = 16
PLACEHOLDER = "{}"
