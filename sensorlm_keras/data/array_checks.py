"""Checks of the per-minute boolean masks that travel with person-days."""

import numpy as np

from sensorlm_keras.errors import DataError


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
