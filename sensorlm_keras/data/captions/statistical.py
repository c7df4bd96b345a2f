"""Statistical (low) caption level: per-channel daily mean, max, min and standard deviation.

Statistics are computed on de-normalised values (``z * std + mean``, then the non-negative clamp
of ``steps`` and ``sleep_coefficient``, as `ChannelSchema.denormalize`), in float64, over the
observed minutes only when a missing mask is given; the standard deviation is the population one
(ddof 0). Numbers are written with one decimal.

Channels are described per category, one line per category, in the order Heart, Activity, Sleep,
EDA/temperature (`CATEGORIES`): the core channels of the category, then randomly chosen extras.
Channels absent from the schema are skipped; a schema with none of these channels is described
in one "Signals" line listing all its channels, and channels outside the 34-channel schema
(custom channels of imported data) follow on that line (`caption_categories`). A channel
without any observed minute in the day is skipped.
"""

import numpy as np

from sensorlm_keras.data.captions import phrases
from sensorlm_keras.data.channel import CUSTOM_FAMILY

# (category key, core channel names, pool of extra channels, number of random extras).
CATEGORIES = (
    (
        "heart",
        ("HR", "rr_med", "ShEnRR", "sdnn0595"),
        ("rmssd0595", "pnn20", "coherence", "LF", "HF", "LF_HF", "VLF", "spectralEn"),
        2,
    ),
    (
        "activity",
        ("steps", "jerk_auto", "log_energy", "kurtosis"),
        (
            "covariance",
            "log_energy_ratio",
            "zero_crossing_std",
            "zero_crossing_avg",
            "axis_mean",
            "altim_std",
        ),
        1,
    ),
    ("sleep", ("sleep_coefficient",), (), 0),
    ("eda", ("eda_level_real", "wrist_temperatures"), ("leads_contact_counts",), 1),
)


def caption_channel_names(names):
    """Names of ``names`` (a schema's channels) that can appear in a caption, in schema order."""
    wanted = set()
    for _, core, extras, _ in CATEGORIES:
        wanted.update(core)
        wanted.update(extras)
    present = [n for n in names if n in wanted]
    return present if present else list(names)


def caption_categories(schema, draws=None):
    """Channels a caption of a day or window describes, per category: the categories of the
    schema's own channels (`select_category_channels`), then every custom channel (family
    `CUSTOM_FAMILY`, a channel outside the 34-channel schema) on the ``Signals`` line.

    Args:
        schema: `ChannelSchema` of the data.
        draws: the caption's random draws (`Draws`), or ``None`` for the core channels alone
            (the structural level's).

    Returns:
        list of ``(category key, [channel names])``; a schema without custom channels gets
        exactly `select_category_channels` of `caption_channel_names`.
    """
    custom = [c.name for c in schema.channels if c.family == CUSTOM_FAMILY]
    known = caption_channel_names([n for n in schema.names if n not in custom])
    categories = select_category_channels(known, draws) if known else []
    if not custom:
        return categories
    if categories and categories[-1][0] == "other":  # no known channel has a category
        return [("other", categories[-1][1] + custom)]
    return categories + [("other", custom)]


def caption_names(schema):
    """Every channel `caption_categories` can name, in schema order."""
    custom = {c.name for c in schema.channels if c.family == CUSTOM_FAMILY}
    known = set(caption_channel_names([n for n in schema.names if n not in custom]))
    return [n for n in schema.names if n in known or n in custom]


def select_category_channels(names, draws=None):
    """Channels described for one day, per category.

    Args:
        names: channel names available (a schema's names).
        draws: the day's random draws (`Draws`), used only to pick the extras; ``None`` gives
            the fixed core channels alone (what the structural level describes, as the
            reference does: random extras there would push core statements out under the
            7-statement cap).

    Returns:
        list of ``(category key, [channel names])``, categories in order, empty ones omitted.
    """
    available = set(names)
    out = []
    for key, core, extras, n_extra in CATEGORIES:
        chosen = [n for n in core if n in available]
        pool = [n for n in extras if n in available]
        if pool and n_extra and draws is not None:
            chosen += [pool[i] for i in draws.subset(len(pool), n_extra)]
        if chosen:
            out.append((key, chosen))
    if not out:
        out.append(("other", list(names)))
    return out


def channel_statistics(x, valid=None):
    """Mean, max, min, population std and observed count over time (axis -2), float64.

    Args:
        x: de-normalised values ``(..., T, C)``.
        valid: optional boolean ``(..., T, C)``, ``True`` = observed.

    Returns:
        dict of arrays ``(..., C)``: ``mean``, ``max``, ``min``, ``std``, ``count``; NaN
        statistics where ``count == 0``.

    Example:

    ```python
    channel_statistics(np.array([[1.0], [3.0]]))["std"]   # array([1.])
    ```
    """
    x = np.asarray(x, dtype=np.float64)
    if valid is None:
        mean = x.mean(-2)
        return {
            "mean": mean,
            "max": x.max(-2),
            "min": x.min(-2),
            "std": x.std(-2),
            "count": np.full(mean.shape, x.shape[-2], dtype=np.int64),
        }
    # The same as np.nanmean / nanmax / nanmin / nanstd of ``np.where(valid, x, nan)`` (equal
    # bits, checked), which take twice as long on a 64-day chunk.
    count = valid.sum(-2)
    safe = np.maximum(count, 1)
    with np.errstate(invalid="ignore"):
        mean = np.where(valid, x, 0.0).sum(-2) / safe
        dev = np.where(valid, x - mean[..., None, :], 0.0)
        std = np.sqrt(np.square(dev).sum(-2) / safe)
        hi = np.where(valid, x, -np.inf).max(-2)
        lo = np.where(valid, x, np.inf).min(-2)
    empty = count == 0
    return {
        "mean": np.where(empty, np.nan, mean),
        "max": np.where(empty, np.nan, hi),
        "min": np.where(empty, np.nan, lo),
        "std": np.where(empty, np.nan, std),
        "count": count,
    }


def format_number(value):
    """One decimal, never ``-0.0``."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def statistical_sentence(name, mean, maximum, minimum, std, draws):
    """One channel's statistics sentence from the phrase bank."""
    display = phrases.display_name(name)
    return draws.pick(phrases.STATISTICAL_PHRASES).format(
        name=display,
        Name=phrases.capitalize(display),
        mean=format_number(mean),
        max=format_number(maximum),
        min=format_number(minimum),
        std=format_number(std),
    )


def statistical_caption(categories, stats, draws):
    """The low-level caption of one day.

    Args:
        categories: output of `select_category_channels`.
        stats: mapping channel name -> ``(mean, max, min, std, count)`` for the day.
        draws: the day's random draws.

    Returns:
        One line per category (``"Heart: ..."``) joined by newlines.
    """
    lines = []
    for key, names in categories:
        sentences = []
        for name in names:
            mean, hi, lo, std, count = stats[name]
            if count == 0:
                continue
            sentences.append(statistical_sentence(name, mean, hi, lo, std, draws))
        if sentences:
            lines.append(f"{phrases.CATEGORY_HEADERS[key]}: " + " ".join(sentences))
    if not lines:
        return draws.pick(phrases.NO_STATISTICS_PHRASES)
    return "\n".join(lines)
