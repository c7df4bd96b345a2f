"""Checks of the float arrays the evaluation metrics take (embeddings, similarity matrices)."""

import numpy as np

from sensorlm_keras.errors import InputValidationError, describe


def check_finite_array(value, field, expected, is_valid=None):
    """``value`` as a float64 array without NaN/Inf, or an `InputValidationError` naming
    ``field``.

    Args:
        value: the received array-like.
        field: the name the message gives, e.g. ``"similarity"``.
        expected: what was expected, for the message, e.g. ``"a non-empty 2-D array (N, D)"``.
        is_valid: optional ``array -> bool`` test of the shape.

    Example:

    ```python
    x = check_finite_array([[1.0, 2.0]], "embeddings", "a non-empty 2-D array (N, D)",
                           lambda a: a.ndim == 2 and a.shape[0] > 0)
    ```
    """
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or (is_valid is not None and not is_valid(array)):
        raise InputValidationError(f"{field}: expected {expected}, received {describe(value)}.")
    if not np.isfinite(array).all():
        raise InputValidationError(f"{field}: contains NaN or Inf values.")
    return array


def check_square_matrix(value, field="similarity"):
    """A non-empty ``(N, N)`` float64 matrix of scores whose diagonal holds the matching pairs."""
    return check_finite_array(
        value, field,
        "a non-empty square array (N queries, N candidates) whose diagonal holds the matching "
        "pairs",
        lambda a: a.ndim == 2 and a.shape[0] == a.shape[1] and a.shape[0] > 0,
    )


def check_embeddings(value, field):
    """A non-empty ``(N, D)`` float64 matrix of embeddings."""
    return check_finite_array(value, field, "a non-empty 2-D array (N, D)",
                              lambda a: a.ndim == 2 and a.shape[0] > 0)
