"""`progress_bar`: a tqdm bar when asked for and tqdm is installed, else None."""


def progress_bar(enabled, description, unit, total=None, **options):
    """A ``tqdm.auto.tqdm`` bar, or None when ``enabled`` is false or tqdm is not installed
    (tqdm is optional: callers update the bar only when they got one).

    Args:
        enabled: whether to show a bar.
        description: the bar's label, e.g. ``"caption + write"``.
        unit: what one step counts, e.g. ``"day"``.
        total: the number of steps when known.
        **options: other tqdm options (``unit_scale=True``, ...).

    Example:

    ```python
    from sensorlm_keras.utils.progress import progress_bar

    bar = progress_bar(True, "read tables", "row", unit_scale=True)
    if bar is not None:
        bar.update(100_000)
        bar.close()
    ```
    """
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional
        return None
    return tqdm(total=total, desc=description, unit=unit, **options)
