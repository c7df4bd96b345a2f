"""Model FLOPs per sample, computed from a `SensorLMConfig` (matmul FLOPs, 2 per MAC).

Counts the dense and attention matmuls of both towers (patch projection, QKV, scores,
attention-weighted values, output projection, MLP, MAP head, projections) and the B x B logits
share per sample. Element-wise work (norms, activations, softmax) is not counted, as is usual
for model-FLOPs utilisation. A training step costs 3x the forward pass (forward + backward).
"""


def _encoder_layer_flops(tokens, width, mlp_dim):
    projections = 2 * tokens * width * (3 * width) + 2 * tokens * width * width
    attention = 2 * 2 * tokens * tokens * width
    mlp = 2 * 2 * tokens * width * mlp_dim
    return projections + attention + mlp


def _map_head_flops(tokens, width, mlp_dim):
    query = 2 * width * width
    key_value = 2 * tokens * width * 2 * width
    attention = 2 * 2 * tokens * width
    out = 2 * width * width
    mlp = 2 * 2 * width * mlp_dim
    return query + key_value + attention + out + mlp


def model_flops_per_sample(config, text_length=None, batch_size=1):
    """Return a dict of forward FLOPs per sample (sensor, text, total) and train FLOPs."""
    n = config.num_sensor_tokens
    d, m = config.sensor_hidden_dim, config.sensor_mlp_dim
    patch = config.patch_size[0] * config.patch_size[1]
    sensor = 2 * n * patch * d
    sensor += config.sensor_num_layers * _encoder_layer_flops(n, d, m)
    sensor += _map_head_flops(n, d, m)
    if config.uses_sensor_projection:
        sensor += 2 * d * config.embed_dim

    length = config.max_text_length if text_length is None else int(text_length)
    dt, mt = config.text_hidden_dim, config.text_mlp_dim
    text = config.text_num_layers * _encoder_layer_flops(length, dt, mt)
    text += 2 * dt * config.embed_dim

    logits = 2 * batch_size * config.embed_dim
    forward = sensor + text + logits
    return {
        "sensor_forward": float(sensor),
        "text_forward": float(text),
        "forward": float(forward),
        "train": float(3 * forward),
    }
