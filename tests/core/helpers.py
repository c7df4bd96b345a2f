"""Small builders shared by the core tests (run on every backend)."""

import numpy as np

from sensorlm_keras import SensorLM

T, C, V, L = 60, 8, 64, 12


def tiny_model(**overrides):
    kwargs = dict(
        sequence_length=T,
        num_channels=C,
        vocabulary_size=V,
        max_text_length=L,
        sensor_hidden_dim=32,
        sensor_num_heads=2,
        sensor_mlp_dim=64,
        sensor_num_layers=1,
        text_hidden_dim=32,
        text_num_heads=2,
        text_mlp_dim=64,
        text_num_layers=1,
        embed_dim=32,
    )
    kwargs.update(overrides)
    return SensorLM.from_preset("sensorlm_tiny", **kwargs)


def random_batch(batch=4, seed=0, length=L):
    rng = np.random.default_rng(seed)
    ids = rng.integers(3, V, size=(batch, length)).astype("int32")
    lengths = rng.integers(2, length + 1, size=batch)
    mask = np.arange(length)[None, :] < lengths[:, None]
    ids = np.where(mask, ids, 0).astype("int32")
    return {
        "sensor": rng.standard_normal((batch, T, C)).astype("float32"),
        "token_ids": ids,
        "padding_mask": mask,
    }
