"""Checks of arrays at the entry points: per-minute boolean masks, embeddings and score
matrices. Each raises one short error naming the field, what was expected and what was
received (never the values)."""

import numpy as np

from sensorlm_keras.errors import DataError, InputValidationError, describe


def check_bool_mask(mask, shape, field, meaning):
    """``mask`` as a boolean array of ``shape``, or a `DataError` naming ``field``.

    Booleans are accepted, and so are integer arrays holding only 0 and 1.

    Args:
        mask: the received array (or anything ``numpy.asarray`` takes).
        shape: the expected shape.
        field: the name the message gives, e.g. ``"off_wrist"``.
        meaning: what ``True`` means, for the message (e.g. ``"True = missing"``).
    """
    m = np.asarray(mask)
    if m.shape != tuple(shape):
        raise DataError(
            f"{field}: expected a boolean array of shape {tuple(shape)}, received shape "
            f"{tuple(m.shape)}."
        )
    if m.dtype != bool:
        if m.dtype.kind in "iu" and np.isin(m, (0, 1)).all():
            return m.astype(bool)
        raise DataError(
            f"{field}: expected a boolean array ({meaning}; or 0/1 integers), received dtype "
            f"{m.dtype}."
        )
    return m


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
