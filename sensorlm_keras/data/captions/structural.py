"""Structural (middle) caption level: trends, spikes and drops of a 36-point day profile.

The day is averaged into 36 points of 40 minutes; point ``i`` is reported as minute
``(i + 1) * 40``. With ``R = max - min`` of the 36 points:

- Trends: least-squares slope on windows of 6, 8 and 12 points with stride ``len // 2``
  (24 windows). A window is *increasing* if ``slope > k * R / 40`` (``k = 1.5, 1.3, 1.0`` for
  lengths 6, 8, 12) and ``last - first > 0.2 R``; *decreasing* is the mirror; *stable* if
  ``|slope| < 0.01 R`` and the window's own range ``< 0.1 R`` (strict, so a flat day has no
  trend at all). Windows are ranked by the size of change ``|last - first|`` (increasing and
  decreasing windows; stable windows, whose change is below ``0.1 R`` by definition, come after
  every trend), ties broken by the steeper window (``|slope|``), then the longer window, then
  the earlier start, as the reference does. Up to 3 are kept greedily,
  skipping a window that overlaps an already kept one by more than 0.3 of the shorter window's
  points; they are reported in time order.
- Spikes: ``scipy.signal.find_peaks`` with prominence ``0.5 R``, height ``mean + 0.6 R``,
  distance 5 points and width (at half prominence) ``<= 4`` points.
- Drops: the same on ``-x`` with height ``-mean - 0.4 R``.

A point whose 40 minutes are all missing is NaN: windows touching it are not reported, peak
search runs on the series interpolated over such points, and peaks located on them are dropped.

Everything except the per-series ``find_peaks`` call is vectorised over any leading axes.
"""

import numpy as np

from sensorlm_keras.data.captions.structural_pattern import StructuralPattern
from sensorlm_keras.data.event import MINUTES_PER_DAY
from sensorlm_keras.data.preprocessing.imputation import impute_over_time
from sensorlm_keras.errors import DataError, describe

NUM_POINTS = 36
POINT_MINUTES = MINUTES_PER_DAY // NUM_POINTS  # 40
# (window length in points, slope factor k): increasing if slope > k * R / 40.
TREND_WINDOWS = ((6, 1.5), (8, 1.3), (12, 1.0))
TREND_MIN_CHANGE = 0.2  # |last - first| > 0.2 R
STABLE_MAX_SLOPE = 0.01  # |slope| < 0.01 R
STABLE_MAX_RANGE = 0.1  # window range < 0.1 R
MAX_TREND_OVERLAP = 0.3  # of the shorter window
MAX_TRENDS = 3
PEAK_PROMINENCE = 0.5  # x R
PEAK_HEIGHT = 0.6  # mean + 0.6 R
DROP_HEIGHT = 0.4  # on -x: -mean - 0.4 R
PEAK_DISTANCE = 5  # points
PEAK_MAX_WIDTH = 4  # points
MAX_STATEMENTS_PER_CATEGORY = 7

TREND_KINDS = ("none", "increasing", "decreasing", "stable")


def _window_table():
    starts, lengths, factors = [], [], []
    for length, factor in TREND_WINDOWS:
        for s in range(0, NUM_POINTS - length + 1, length // 2):
            starts.append(s)
            lengths.append(length)
            factors.append(factor)
    starts = np.array(starts)
    lengths = np.array(lengths)
    ends = starts + lengths - 1
    first = np.maximum(starts[:, None], starts[None, :])
    last = np.minimum(ends[:, None], ends[None, :])
    overlap = np.maximum(last - first + 1, 0)
    shorter = np.minimum(lengths[:, None], lengths[None, :])
    conflict = overlap > MAX_TREND_OVERLAP * shorter
    return starts, lengths, np.array(factors), conflict


WINDOW_STARTS, WINDOW_LENGTHS, _WINDOW_FACTORS, _WINDOW_CONFLICT = _window_table()
NUM_WINDOWS = len(WINDOW_STARTS)  # 11 + 8 + 5 = 24
WINDOW_START_MINUTES = (WINDOW_STARTS + 1) * POINT_MINUTES
WINDOW_END_MINUTES = (WINDOW_STARTS + WINDOW_LENGTHS) * POINT_MINUTES


def point_minute(i):
    """Minute of day at which point ``i`` (0..35) is reported: ``(i + 1) * 40``."""
    return (int(i) + 1) * POINT_MINUTES


def average_points(series, mask=None):
    """Average minute-level values into 36 points of 40 minutes (time on the last axis).

    Args:
        series: array ``(..., 1440)``.
        mask: optional boolean array of the same shape, ``True`` = missing (ignored in the
            means). A point whose 40 minutes are all missing is NaN.

    Returns:
        float64 array ``(..., 36)``.

    Example:

    ```python
    average_points(np.arange(1440.0))[:2]   # array([19.5, 59.5])
    ```
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim < 1 or x.shape[-1] != MINUTES_PER_DAY:
        raise DataError(
            f"series: expected {MINUTES_PER_DAY} minutes on the last axis, received "
            f"{describe(series)}."
        )
    if mask is None:
        return point_means(x[..., None])[..., 0]
    m = np.asarray(mask, dtype=bool)
    if m.shape != x.shape:
        raise DataError(f"mask: expected shape {x.shape}, received {describe(mask)}.")
    return point_means(x[..., None], ~m[..., None])[..., 0]


def point_bounds(num_steps):
    """The 37 step indices that cut ``num_steps`` steps into the 36 points: multiples of 40
    for a day of 1440 minutes, ``round(k * num_steps / 36)`` for a window of any length (at
    least 36 steps, so that no point is empty)."""
    num_steps = int(num_steps)
    if num_steps < NUM_POINTS:
        raise DataError(f"num_steps: expected at least {NUM_POINTS} time steps for the "
                        f"{NUM_POINTS}-point profile, received {num_steps}.")
    return np.rint(np.linspace(0, num_steps, NUM_POINTS + 1)).astype(np.int64)


def point_means(x, valid=None):
    """Means of ``x`` ``(..., T, C)`` over the valid steps of each of the 36 points
    (`point_bounds`; 40 minutes each for a day): ``(..., 36, C)``.

    Args:
        x: float array with time on axis -2 (at least 36 steps).
        valid: optional boolean array of the same shape, ``True`` = observed. A point whose
            steps are all missing is NaN.
    """
    steps = x.shape[-2]
    if steps % NUM_POINTS:  # unequal points: sums between the bounds
        starts = point_bounds(steps)[:-1]
        observed = np.ones(x.shape, bool) if valid is None else valid
        total = np.add.reduceat(np.where(observed, x, 0.0), starts, axis=-2)
        count = np.add.reduceat(observed.astype(np.int64), starts, axis=-2)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)
    blocks = x.reshape(x.shape[:-2] + (NUM_POINTS, steps // NUM_POINTS, x.shape[-1]))
    if valid is None:
        return blocks.mean(-2)
    vb = valid.reshape(blocks.shape)
    count = vb.sum(-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(vb, blocks, 0.0).sum(-2) / np.maximum(count, 1)
        return np.where(count > 0, means, np.nan)


def profile_summary(points):
    """Mean and range ``R`` of 36-point profiles over their valid (non-NaN) points.

    Returns ``(mean, R, has_data)``, each of shape ``points.shape[:-1]``; ``R`` is 0 and
    ``mean`` NaN where no point is valid.
    """
    valid = ~np.isnan(points)
    count = valid.sum(-1)
    has_data = count > 0
    hi = np.where(valid, points, -np.inf).max(-1)
    lo = np.where(valid, points, np.inf).min(-1)
    rng = np.where(has_data, hi - lo, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.where(valid, points, 0.0).sum(-1)
        mean = np.where(has_data, total / np.maximum(count, 1), np.nan)
    return mean, rng, has_data


def trend_windows(points):
    """Classify the 24 trend windows of 36-point profiles (vectorised).

    Args:
        points: array ``(..., 36)``; NaN = missing point.

    Returns:
        ``(kinds, change, slope)``: int8 array ``(..., 24)`` with codes into `TREND_KINDS`
        (0 none, 1 increasing, 2 decreasing, 3 stable), the window change ``last - first``
        and the least-squares slope per point.
        Window ``w`` covers points ``WINDOW_STARTS[w] .. + WINDOW_LENGTHS[w] - 1``.
    """
    p = np.asarray(points, dtype=np.float64)
    _, r, _ = profile_summary(p)
    r = r[..., None]
    kinds, changes, slopes = [], [], []
    for length, factor in TREND_WINDOWS:
        win = np.lib.stride_tricks.sliding_window_view(p, length, axis=-1)[..., :: length // 2, :]
        t = np.arange(length) - (length - 1) / 2.0
        slope = win @ (t / (t @ t))
        change = win[..., -1] - win[..., 0]
        spread = win.max(-1) - win.min(-1)
        with np.errstate(invalid="ignore"):
            thr = factor * r / 40.0
            inc = (slope > thr) & (change > TREND_MIN_CHANGE * r)
            dec = (slope < -thr) & (change < -TREND_MIN_CHANGE * r)
            stable = (np.abs(slope) < STABLE_MAX_SLOPE * r) & (spread < STABLE_MAX_RANGE * r)
        kinds.append(np.where(inc, 1, np.where(dec, 2, np.where(stable, 3, 0))).astype(np.int8))
        changes.append(change)
        slopes.append(slope)
    return np.concatenate(kinds, -1), np.concatenate(changes, -1), np.concatenate(slopes, -1)


def select_trends(points):
    """Rank and greedily select up to 3 non-overlapping trend windows (vectorised).

    Args:
        points: array ``(..., 36)``.

    Returns:
        ``(chosen, kinds)``: boolean ``(..., 24)`` selection and the int8 window kinds.
    """
    kinds, change, slope = trend_windows(points)
    is_trend = (kinds == 1) | (kinds == 2)
    score = np.where(is_trend, np.abs(np.nan_to_num(change)), 0.0)
    steepness = np.where(is_trend, np.abs(np.nan_to_num(slope)), 0.0)
    shape = kinds.shape
    # As the reference: the larger change first, then the steeper window, then the longer one,
    # then the earlier start. (Ranking a tie in change by length alone reported a 7-hour rise
    # where the reference reports the 3-hour climb inside it.)
    order = np.lexsort(
        (
            np.broadcast_to(WINDOW_STARTS, shape),
            np.broadcast_to(-WINDOW_LENGTHS, shape),
            -np.round(steepness, 12),
            -np.round(score, 12),
        ),
        axis=-1,
    )
    chosen = np.zeros(shape, dtype=bool)
    count = np.zeros(shape[:-1], dtype=np.int64)
    for k in range(NUM_WINDOWS):
        cand = order[..., k]
        ok = np.take_along_axis(kinds, cand[..., None], -1)[..., 0] > 0
        if not ok.any():
            continue
        clash = (chosen & _WINDOW_CONFLICT[cand]).any(-1)
        take = ok & ~clash & (count < MAX_TRENDS)
        if take.any():
            # ``order`` is a permutation, so chosen[..., cand] is still False here.
            np.put_along_axis(chosen, cand[..., None], take[..., None], -1)
            count += take
    return chosen, kinds


def trends_from_selection(chosen, kinds):
    """`StructuralPattern` list (time order) of one series' selection from `select_trends`."""
    idx = np.flatnonzero(chosen)
    if idx.size == 0:
        return []
    idx = idx[np.argsort(WINDOW_STARTS[idx], kind="stable")]
    return [
        StructuralPattern(
            TREND_KINDS[kinds[w]], int(WINDOW_START_MINUTES[w]), int(WINDOW_END_MINUTES[w])
        )
        for w in idx
    ]


def peak_prescreen(filled, mean, r):
    """Cheap necessary conditions for a spike / a drop (vectorised over leading axes).

    A spike needs an interior rising edge ``x[i] > x[i-1]``, ``x[i] >= x[i+1]`` with
    ``x[i] >= mean + 0.6 R`` and ``x[i] - max(min(x[:i]), min(x[i+1:])) >= 0.5 R`` (an upper
    bound of its prominence); drops the mirror. Series failing both skip ``find_peaks``.

    Returns:
        ``(maybe_spike, maybe_drop)`` boolean arrays of shape ``filled.shape[:-1]``.
    """
    out = []
    for x, height in ((filled, mean + PEAK_HEIGHT * r), (-filled, -mean - DROP_HEIGHT * r)):
        pre_min = np.minimum.accumulate(x, axis=-1)
        suf_min = np.flip(np.minimum.accumulate(np.flip(x, -1), axis=-1), -1)
        mid = x[..., 1:-1]
        bound = mid - np.maximum(pre_min[..., :-2], suf_min[..., 2:])
        cand = (
            (mid > x[..., :-2])
            & (mid >= x[..., 2:])
            & (mid >= height[..., None])
            & (bound >= PEAK_PROMINENCE * r[..., None])
        )
        out.append(cand.any(-1) & (r > 0))
    return out[0], out[1]


def _find(x, height, prominence):
    from scipy.signal import find_peaks

    peaks, _ = find_peaks(
        x,
        height=height,
        prominence=prominence,
        distance=PEAK_DISTANCE,
        width=(None, PEAK_MAX_WIDTH),
    )
    return peaks


def peaks_of_series(filled, mean, r, valid=None, spikes=True, drops=True):
    """Spikes and drops of one 36-point series (``find_peaks``), as `StructuralPattern` s.

    Args:
        filled: float array ``(36,)`` without NaN (missing points interpolated).
        mean: mean of the valid points.
        r: range ``R`` of the valid points.
        valid: optional boolean ``(36,)``; peaks on invalid points are dropped.
        spikes, drops: set False to skip a search known to be empty (see `peak_prescreen`).

    Returns:
        list of `StructuralPattern` in time order.
    """
    if not r > 0:
        return []
    found = []
    if spikes:
        for i in _find(filled, mean + PEAK_HEIGHT * r, PEAK_PROMINENCE * r):
            found.append((int(i), "spike"))
    if drops:
        for i in _find(-filled, -mean - DROP_HEIGHT * r, PEAK_PROMINENCE * r):
            found.append((int(i), "drop"))
    found.sort()
    return [
        StructuralPattern(kind, point_minute(i), point_minute(i))
        for i, kind in found
        if valid is None or valid[i]
    ]


def _check_points(points):
    p = np.asarray(points)
    if p.dtype.kind not in "iuf" or p.shape != (NUM_POINTS,):
        raise DataError(
            f"points: expected a numeric array of shape ({NUM_POINTS},), received "
            f"{describe(points)}."
        )
    p = p.astype(np.float64)
    if np.isinf(p).any():
        raise DataError("points: expected finite values (NaN = missing point), received Inf.")
    return p


def detect_trends(points):
    """Trends of one 36-point profile.

    Args:
        points: array ``(36,)``; NaN marks a missing point.

    Returns:
        list of `StructuralPattern` (``increasing``/``decreasing``/``stable``), time order.

    Example:

    ```python
    x = np.r_[np.zeros(12), np.linspace(0, 10, 12), np.full(12, 10.0)]
    detect_trends(x)
    # [('stable', 40, 480), ('increasing', 520, 960), ('stable', 1000, 1440)]
    ```
    """
    p = _check_points(points)
    chosen, kinds = select_trends(p)
    return trends_from_selection(chosen, kinds)


def detect_peaks(points):
    """Spikes and drops of one 36-point profile (``scipy.signal.find_peaks``).

    Args:
        points: array ``(36,)``; NaN marks a missing point.

    Returns:
        list of `StructuralPattern` (``spike``/``drop``, ``start_minute == end_minute``), time
        order.

    Example:

    ```python
    x = np.zeros(36); x[17] = 5.0
    detect_peaks(x)   # [StructuralPattern(kind='spike', start_minute=720, end_minute=720)]
    ```
    """
    p = _check_points(points)
    mean, r, has_data = profile_summary(p)
    if not has_data:
        return []
    valid = ~np.isnan(p)
    filled = impute_over_time(p, axis=-1)
    return peaks_of_series(filled, float(mean), float(r), valid)


def detect_patterns(points):
    """Trends, spikes and drops of one 36-point profile, in time order.

    Example:

    ```python
    detect_patterns(np.zeros(36))   # [] (a flat day has no trend, spike or drop)
    ```
    """
    return merge_patterns(detect_trends(points), detect_peaks(points))


def merge_patterns(trends, peaks):
    """Merge time-ordered trend and peak lists into one time-ordered list."""
    if not peaks:
        return list(trends)
    if not trends:
        return list(peaks)
    return sorted(list(trends) + list(peaks), key=lambda p: (p.start_minute, p.end_minute))


def profile_patterns(points):
    """Trends, spikes and drops of every 36-point profile in ``points`` ``(..., 36)`` (NaN =
    missing point), as nested lists of `StructuralPattern` in time order (the selection is
    vectorised; ``find_peaks`` runs only where `peak_prescreen` allows a spike or a drop).

    Example:

    ```python
    x = np.zeros((2, 36)); x[1, 17] = 5.0
    profile_patterns(x)   # [[], [StructuralPattern(kind='spike', ...)]]
    ```
    """
    points = np.asarray(points, dtype=np.float64)
    chosen, kinds = select_trends(points)
    mean, r, _ = profile_summary(points)
    valid = ~np.isnan(points)
    filled = impute_over_time(points, axis=-1) if not valid.all() else points
    maybe_spike, maybe_drop = peak_prescreen(filled, np.nan_to_num(mean), r)
    out = np.empty(points.shape[:-1], dtype=object)
    for index in np.ndindex(*points.shape[:-1]):
        found = trends_from_selection(chosen[index], kinds[index])
        if maybe_spike[index] or maybe_drop[index]:
            peaks = peaks_of_series(filled[index], float(mean[index]), float(r[index]),
                                    valid[index], bool(maybe_spike[index]),
                                    bool(maybe_drop[index]))
            found = merge_patterns(found, peaks)
        out[index] = found
    return out.tolist()


def structural_caption(categories, patterns, draws, fields=None, templates=None, empty=None):
    """The structural caption: per category one line of its channels' patterns (at most
    `MAX_STATEMENTS_PER_CATEGORY`, a random subset beyond), or a no-structure sentence.

    Args:
        categories: ``[(category key, [channel names])]`` (`select_category_channels`).
        patterns: mapping channel name -> list of `StructuralPattern` (channels without data
            left out).
        draws: the example's random draws (`Draws`).
        fields: function `StructuralPattern` -> dict of the template fields for its times
            (default: the day's minutes, ``start``, ``end``, ``minute``).
        templates: kind -> phrase templates (default `phrases.STRUCTURAL_PHRASES`).
        empty: sentences for no pattern at all (default `phrases.NO_STRUCTURE_PHRASES`).

    Returns:
        the caption text.
    """
    from sensorlm_keras.data.captions import phrases

    templates = phrases.STRUCTURAL_PHRASES if templates is None else templates
    fields = fields or (lambda p: {"start": p.start_minute, "end": p.end_minute,
                                   "minute": p.start_minute})
    lines = []
    for key, names in categories:
        items = [(name, p) for name in names for p in patterns.get(name, ())]
        if not items:
            continue
        if len(items) > MAX_STATEMENTS_PER_CATEGORY:
            items = [items[j] for j in draws.subset(len(items), MAX_STATEMENTS_PER_CATEGORY)]
        sentences = []
        for name, p in items:
            display = phrases.display_name(name)
            template = draws.pick(templates[p.kind])
            sentences.append(template.format(name=display, Name=phrases.capitalize(display),
                                             **fields(p)))
        lines.append(f"{phrases.STRUCTURAL_HEADERS[key]}: " + " ".join(sentences))
    if not lines:
        return draws.pick(phrases.NO_STRUCTURE_PHRASES if empty is None else empty)
    return "\n".join(lines)
