"""Validation at the public entry points: scalar arguments and in-memory model inputs.

Scalar arguments (`check_int`, `check_positive_int`, `check_seed`, `check_float`,
`check_choice`, `check_bool`) raise one short error naming the field, what was expected and
what was received. Compiled graphs cannot raise a Python error from a tensor's values, so value
checks of arrays (NaN/Inf, token ids out of range) run here too, on concrete arrays, before any
graph.
"""

import math
import numbers

import numpy as np

from sensorlm_keras.errors import ConfigError, InputValidationError, describe


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _int_range_text(minimum, maximum):
    if maximum is not None:
        return f"an integer in [{minimum if minimum is not None else '-inf'}, {maximum}]"
    if minimum == 1:
        return "a positive integer"
    if minimum == 0:
        return "a non-negative integer"
    return "an integer" if minimum is None else f"an integer >= {minimum}"


def check_int(value, field, minimum=None, maximum=None, allow_none=False, error=ConfigError):
    """``value`` as a Python int, or an ``error`` naming ``field``.

    Args:
        value: the received value (bools are refused; NumPy integers are accepted).
        field: the name the message gives, e.g. ``"make_dataset(batch_size)"``.
        minimum, maximum: inclusive bounds (None: unbounded).
        allow_none: return None for None instead of refusing it.
        error: the exception class (default `ConfigError`).

    Example:

    ```python
    from sensorlm_keras.utils.validation import check_int

    steps = check_int(2000, "steps", minimum=1)
    ```
    """
    if value is None and allow_none:
        return None
    if not _is_int(value) or (minimum is not None and value < minimum) or (
        maximum is not None and value > maximum
    ):
        expected = _int_range_text(minimum, maximum)
        if allow_none:
            expected = f"None or {expected}"
        raise error(f"{field}: expected {expected}, received {describe(value)}.")
    return int(value)


def check_positive_int(value, field, maximum=None, allow_none=False, error=ConfigError):
    """`check_int` with ``minimum=1``."""
    return check_int(value, field, 1, maximum, allow_none=allow_none, error=error)


def check_seed(value, field="seed", allow_none=False, error=ConfigError):
    """A random seed: a non-negative int (`check_int` with ``minimum=0``)."""
    return check_int(value, field, 0, None, allow_none=allow_none, error=error)


def check_float(value, field, minimum=None, maximum=None, exclusive_minimum=False,
                exclusive_maximum=False, allow_none=False, error=ConfigError):
    """``value`` as a finite Python float within the bounds, or an ``error`` naming ``field``.

    Args:
        value: the received value (bools are refused; ints are accepted).
        field: the name the message gives.
        minimum, maximum: bounds (None: unbounded); inclusive unless ``exclusive_*``.
        allow_none: return None for None instead of refusing it.
        error: the exception class (default `ConfigError`).
    """
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    ok = ok and math.isfinite(float(value))
    if ok and minimum is not None:
        ok = value > minimum if exclusive_minimum else value >= minimum
    if ok and maximum is not None:
        ok = value < maximum if exclusive_maximum else value <= maximum
    if not ok:
        if minimum is not None and maximum is not None:
            low = "(" if exclusive_minimum else "["
            high = ")" if exclusive_maximum else "]"
            expected = f"a number in {low}{minimum}, {maximum}{high}"
        elif minimum == 0:
            expected = "a positive number" if exclusive_minimum else "a non-negative number"
        elif minimum is not None:
            expected = f"a number {'>' if exclusive_minimum else '>='} {minimum}"
        elif maximum is not None:
            expected = f"a number {'<' if exclusive_maximum else '<='} {maximum}"
        else:
            expected = "a finite number"
        if allow_none:
            expected = f"None or {expected}"
        raise error(f"{field}: expected {expected}, received {describe(value)}.")
    return float(value)


def check_choice(value, field, choices, error=ConfigError):
    """``value`` if it is one of ``choices``, else an ``error`` listing them."""
    if isinstance(value, (list, dict, set)) or value not in tuple(choices):
        raise error(f"{field}: expected one of {list(choices)}, received {describe(value)}.")
    return value


def check_bool(value, field, error=ConfigError):
    """``value`` if it is a bool (NumPy bools included), else an ``error``."""
    if not isinstance(value, (bool, np.bool_)):
        raise error(f"{field}: expected True or False, received {describe(value)}.")
    return bool(value)

MODEL_INPUT_KEYS = ("sensor", "token_ids", "padding_mask", "sensor_mask")


def to_numpy(value):
    """The concrete value of an array or tensor as a NumPy array, or None when it has none
    (a symbolic or traced tensor).

    Tensors of the active backend go through `keras.ops.convert_to_numpy` (which detaches
    PyTorch tensors and copies device tensors to the host); anything else that NumPy can read
    (lists, tensors of another library such as an eager ``tf.Tensor`` from tf.data under JAX)
    through ``np.asarray``.
    """
    if isinstance(value, np.ndarray):
        return value
    import keras

    try:
        return np.asarray(keras.ops.convert_to_numpy(value))
    except Exception:  # a tensor of another library, or a symbolic one
        pass
    try:
        return np.asarray(value)
    except Exception:  # symbolic / traced: no value to validate
        return None


def is_concrete(value):
    """True when ``value`` has a concrete value (`to_numpy` can read it)."""
    return to_numpy(value) is not None


def check_token_shape(shape, max_text_length, field="token_ids"):
    """Raise `InputValidationError` unless ``shape`` is ``(batch, length)`` with ``length`` at
    most ``max_text_length`` (None entries, unknown while tracing, pass)."""
    shape = tuple(shape)
    if len(shape) != 2:
        raise InputValidationError(
            f"{field}: expected rank 2 (batch, length), received shape {shape}."
        )
    if shape[1] is not None and shape[1] > max_text_length:
        raise InputValidationError(
            f"{field}: sequence length {shape[1]} exceeds max_text_length {max_text_length} "
            "of this model."
        )


def _as_array(value, field):
    array = to_numpy(value)
    if array is None:
        raise InputValidationError(f"{field}: expected an array, received {describe(value)}.")
    return array


def check_sensor(sensor, sequence_length, num_channels, field="sensor", check_values=True):
    """Validate a sensor batch ``(B, T, C)``; returns it as a float32 NumPy array."""
    array = _as_array(sensor, field)
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
    array = _as_array(token_ids, field)
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
