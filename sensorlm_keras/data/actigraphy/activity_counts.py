"""What device activity says: steps per minute (a calibration) and rest periods (a heuristic).

Both are approximations for recordings that have neither a step count nor (for ``.AWD``
files) a sleep scoring; neither is a validated algorithm.
"""

import numpy as np

from sensorlm_keras.data.preprocessing.recording_days import runs

# Approximate, monotone calibration of device activity to steps per minute: activity counts are
# scaled per recording (count units differ between Actiwatch models) so that the 95th percentile
# of the moving minutes is brisk walking; runs of >= 4 h of exact zeros count as non-wear.
# Axivity acceleration (mg, ENMO-like) uses a fixed slope (150-300 mg -> ~70-145 steps/min).
STEPS_AT_P95 = 110.0
AXIVITY_MG_PER_STEP = 2.0
MAX_STEPS_PER_MINUTE = 250.0
NON_WEAR_ZERO_MINUTES = 240


def steps_per_minute(minutes, kind):
    """Steps per minute from device activity (NaN where missing or not worn).

    Args:
        minutes: per-minute series of `preprocessing.recording_days.to_minutes` (``activity``
            and optionally ``excluded``).
        kind: ``"counts"`` or ``"mg"``.

    Returns:
        ``(steps, scale)``: the steps and the activity -> steps factor used.
    """
    activity = minutes["activity"]
    missing = ~np.isfinite(activity)
    if "excluded" in minutes:
        missing |= minutes["excluded"]
    if kind == "mg":
        scale = 1.0 / AXIVITY_MG_PER_STEP
        steps = np.maximum(activity - 10.0, 0.0) * scale
    else:
        # Count units differ between device models, so counts are scaled per recording: the
        # 95th percentile of the non-zero minutes (brisk everyday walking) maps to
        # STEPS_AT_P95 steps/min. Without device wear flags, long runs of exact zeros are
        # non-wear.
        if "excluded" not in minutes:
            missing |= _zero_runs(np.where(missing, -1.0, activity), NON_WEAR_ZERO_MINUTES)
        moving = activity[~missing & (activity > 0)]
        p95 = float(np.percentile(moving, 95)) if moving.size >= 60 else 0.0
        scale = STEPS_AT_P95 / p95 if p95 > 0 else 1.0 / 4.0
        steps = activity * scale
    steps = np.clip(steps, 0.0, MAX_STEPS_PER_MINUTE)
    return np.where(missing, np.nan, steps), scale


def _zero_runs(activity, min_length):
    """Minutes inside runs of at least ``min_length`` consecutive exact-zero activity minutes."""
    out = np.zeros(activity.size, dtype=bool)
    for s, e in runs(activity == 0, min_length, max_gap=0):
        out[s:e] = True
    return out


def infer_rest(steps, min_length=180, max_length=16 * 60):
    """Rest periods of an unscored recording: long stretches where the 30-minute centred
    moving average of activity stays very low. A heuristic, not a validated sleep scorer."""
    valid = np.isfinite(steps)
    x = np.where(valid, steps, 0.0)
    k = 31
    kernel = np.ones(k)
    total = np.convolve(x, kernel, mode="same")
    count = np.convolve(valid.astype(np.float64), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        smooth = np.where(count > k // 2, total / np.maximum(count, 1), np.nan)
    daytime = np.nanpercentile(smooth, 75) if np.isfinite(smooth).any() else 0.0
    threshold = max(0.5, 0.1 * daytime)
    return [
        (s, e) for s, e in runs(smooth < threshold, min_length, max_gap=20) if e - s <= max_length
    ]
