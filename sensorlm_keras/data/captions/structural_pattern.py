"""`StructuralPattern`: one trend, spike or drop found in a 36-point day profile."""

from typing import NamedTuple


class StructuralPattern(NamedTuple):
    """A structural finding of the middle caption level, in minutes of day.

    Point ``i`` of the 36-point profile (the mean of minutes ``40 i .. 40 i + 39``) is reported
    as minute ``(i + 1) * 40``. A trend over points ``s .. s + L - 1`` spans
    ``start_minute = (s + 1) * 40`` to ``end_minute = (s + L) * 40``; a spike or drop at point
    ``i`` has ``start_minute == end_minute == (i + 1) * 40``.

    Args:
        kind: ``"increasing"``, ``"decreasing"``, ``"stable"``, ``"spike"`` or ``"drop"``.
        start_minute: first minute of the pattern.
        end_minute: last minute of the pattern (equal to ``start_minute`` for spikes/drops).

    Example:

    ```python
    from sensorlm_keras.data.captions import StructuralPattern

    StructuralPattern("increasing", 520, 960)
    ```
    """

    kind: str
    start_minute: int
    end_minute: int
