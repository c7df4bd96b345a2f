"""Validation of in-memory model inputs (NumPy arrays or eager tensors).

Compiled graphs cannot raise a Python error from a tensor's values, so value checks (NaN/Inf,
token ids out of range) run at the public entry points, on concrete arrays, before any graph.
"""

import numpy as np

from sensorlm_keras.errors import InputValidationError, describe

MODEL_INPUT_KEYS = ("sensor", "token_ids", "padding_mask", "sensor_mask")


def to_numpy(value):
    """Concrete value -> NumPy array (works for numpy, tf, jax and torch tensors)."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "numpy") and not hasattr(value, "__array_namespace__"):
        try:
            return value.detach().cpu().numpy() if hasattr(value, "detach") else value.numpy()
        except Exception:  # symbolic tensor
            return None
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except Exception:
        return None


def is_concrete(value):
    """True for NumPy arrays, lists and eager tensors; False for symbolic/traced tensors."""
    if isinstance(value, (np.ndarray, list, tuple, int, float)):
        return True
    module = type(value).__module__
    if module.startswith("jax") and "Tracer" in type(value).__name__:
        return False
    if module.startswith("keras"):
        return False
    if module.startswith("tensorflow"):
        try:
            import tensorflow as tf

            return tf.executing_eagerly() and hasattr(value, "numpy")
        except Exception:
            return False
    return True


def check_sensor(sensor, sequence_length, num_channels, field="sensor", check_values=True):
    """Validate a sensor batch ``(B, T, C)``; returns it as a float32 NumPy array."""
    array = to_numpy(sensor)
    if array is None:
        raise InputValidationError(f"{field}: expected an array, received {describe(sensor)}.")
    if array.ndim != 3:
        raise InputValidationError(
            f"{field}: expected rank 3 (batch, {sequence_length}, {num_channels}), received "
            f"shape {array.shape}."
        )
    if array.shape[1] != sequence_length:
        raise InputValidationError(
            f"{field}: expected sequence length {sequence_length} (axis 1), received "
            f"{array.shape[1]} in shape {array.shape}."
        )
    if array.shape[2] != num_channels:
        raise InputValidationError(
            f"{field}: expected {num_channels} channels (axis 2), received {array.shape[2]} in "
            f"shape {array.shape}."
        )
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise InputValidationError(
            f"{field}: expected a float array, received dtype {array.dtype}."
        )
    if check_values and np.issubdtype(array.dtype, np.floating):
        finite = np.isfinite(array)
        if not finite.all():
            bad = np.argwhere(~finite)[0]
            raise InputValidationError(
                f"{field}: contains {int((~finite).sum())} NaN/Inf values (first at index "
                f"{tuple(int(i) for i in bad)}); impute missing minutes first (see "
                "sensorlm_keras.data.preprocess_days) and pass the mask as 'sensor_mask'."
            )
    return array.astype(np.float32, copy=False)


def check_token_ids(token_ids, vocabulary_size, max_length, field="token_ids", check_values=True):
    """Validate token ids ``(B, L)``; returns an int32 NumPy array."""
    array = to_numpy(token_ids)
    if array is None:
        raise InputValidationError(f"{field}: expected an array, received {describe(token_ids)}.")
    if array.ndim != 2:
        raise InputValidationError(
            f"{field}: expected rank 2 (batch, length), received shape {array.shape}."
        )
    if array.shape[1] > max_length:
        raise InputValidationError(
            f"{field}: sequence length {array.shape[1]} exceeds max_text_length {max_length}."
        )
    if not np.issubdtype(array.dtype, np.integer):
        raise InputValidationError(f"{field}: expected integer ids, received dtype {array.dtype}.")
    if check_values and array.size:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= vocabulary_size:
            raise InputValidationError(
                f"{field}: ids must be in [0, {vocabulary_size - 1}] (vocabulary_size="
                f"{vocabulary_size}), received values in [{low}, {high}]."
            )
    return array.astype(np.int32, copy=False)


def check_padding_mask(padding_mask, token_ids_shape, field="padding_mask"):
    array = to_numpy(padding_mask)
    if array is None or array.shape != tuple(token_ids_shape):
        got = None if array is None else array.shape
        raise InputValidationError(
            f"{field}: expected shape {tuple(token_ids_shape)} (same as token_ids), received "
            f"{got if got is not None else describe(padding_mask)}."
        )
    if array.dtype != bool and not np.isin(array, (0, 1)).all():
        raise InputValidationError(f"{field}: expected booleans or 0/1 values.")
    array = array.astype(bool, copy=False)
    empty = np.flatnonzero(~array.any(axis=-1)) if array.ndim == 2 and array.shape[-1] else []
    if len(empty):
        raise InputValidationError(
            f"{field}: expected at least one real token (True) per text, received "
            f"{len(empty)} all-padding row(s), first row {int(empty[0])}; an all-padding text "
            "has no embedding (the tokenizer always keeps the EOS token)."
        )
    return array


def check_model_inputs(inputs, config, check_values=True, require_text=True):
    """Validate the dict a `SensorLM` takes; returns a new dict of NumPy arrays."""
    if not isinstance(inputs, dict):
        raise InputValidationError(
            "inputs: expected a dict with keys 'sensor', 'token_ids' and optionally "
            f"'padding_mask' and 'sensor_mask', received {describe(inputs)}."
        )
    unknown = sorted(set(inputs) - set(MODEL_INPUT_KEYS))
    if unknown:
        raise InputValidationError(
            f"inputs: unknown keys {unknown}; expected a subset of {list(MODEL_INPUT_KEYS)}."
        )
    required = ("sensor", "token_ids") if require_text else ("sensor",)
    missing = [k for k in required if k not in inputs]
    if missing:
        raise InputValidationError(f"inputs: missing required keys {missing}.")
    out = {}
    out["sensor"] = check_sensor(
        inputs["sensor"], config.sequence_length, config.num_channels, check_values=check_values
    )
    if "token_ids" in inputs:
        ids = check_token_ids(
            inputs["token_ids"], config.vocabulary_size, config.max_text_length,
            check_values=check_values,
        )
        out["token_ids"] = ids
        if ids.shape[0] != out["sensor"].shape[0]:
            raise InputValidationError(
                f"inputs: batch sizes differ between towers: sensor has {out['sensor'].shape[0]} "
                f"examples, token_ids has {ids.shape[0]}."
            )
        if inputs.get("padding_mask") is not None:
            out["padding_mask"] = check_padding_mask(inputs["padding_mask"], ids.shape)
    if inputs.get("sensor_mask") is not None:
        mask = to_numpy(inputs["sensor_mask"])
        if mask is None or mask.shape != out["sensor"].shape:
            raise InputValidationError(
                f"sensor_mask: expected shape {out['sensor'].shape} (same as sensor), received "
                f"{describe(inputs['sensor_mask'])}."
            )
        out["sensor_mask"] = mask
    return out
