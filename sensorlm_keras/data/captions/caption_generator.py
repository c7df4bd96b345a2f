"""`CaptionGenerator`: the three-level hierarchical captions of SensorLM and their 8 variants."""

import numpy as np

from sensorlm_keras.data.captions._draws import Draws
from sensorlm_keras.data.captions.semantic import check_events, semantic_captions
from sensorlm_keras.data.captions.statistical import (
    caption_categories,
    caption_names,
    channel_statistics,
    statistical_caption,
)
from sensorlm_keras.data.captions.structural import (
    merge_patterns,
    peak_prescreen,
    peaks_of_series,
    point_means,
    profile_summary,
    select_trends,
    structural_caption,
    trends_from_selection,
)
from sensorlm_keras.utils.array_checks import check_bool_mask
from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.data.event import MINUTES_PER_DAY
from sensorlm_keras.data.preprocessing.imputation import impute_over_time
from sensorlm_keras.errors import ConfigError, DataError, describe
from sensorlm_keras.utils.validation import check_seed

# Caption variant -> token budget used upstream (the tokenizer truncates to it).
CAPTION_VARIANTS = {
    "low": 512,
    "middle": 512,
    "high_summary": 256,
    "high_all": 1024,
    "middle_low": 1024,
    "high_low": 1024,
    "high_middle": 512,
    "high_middle_low": 1024,
}

# Variant -> levels it concatenates (one per line block, in this order). Combined variants use
# the detailed semantic level (high_all).
VARIANT_LEVELS = {
    "low": ("low",),
    "middle": ("middle",),
    "high_summary": ("high_summary",),
    "high_all": ("high_all",),
    "middle_low": ("middle", "low"),
    "high_low": ("high_all", "low"),
    "high_middle": ("high_all", "middle"),
    "high_middle_low": ("high_all", "middle", "low"),
}

_CHUNK_DAYS = 64


def check_variants(variants):
    """Validate caption variant names; ``None`` means all eight. Returns a tuple of names."""
    if variants is None:
        return tuple(CAPTION_VARIANTS)
    if isinstance(variants, str):
        variants = (variants,)
    try:
        names = list(variants)
    except TypeError:
        raise ConfigError(
            f"variants: expected a variant name or a list of names from {list(CAPTION_VARIANTS)}, "
            f"received {describe(variants)}."
        ) from None
    unknown = [v for v in names if v not in CAPTION_VARIANTS]
    if unknown:
        raise ConfigError(
            f"variants: unknown caption variant(s) {unknown}; valid names are "
            f"{list(CAPTION_VARIANTS)}."
        )
    if not names:
        raise ConfigError(
            f"variants: expected at least one of {list(CAPTION_VARIANTS)}, received an empty list."
        )
    return tuple(dict.fromkeys(names))


# Larger |z-scores| are not measurements (heart rate mean + 1000 std is ~10,000 bpm); they are
# refused instead of being written into a caption.
MAX_ABS_Z = 1000.0


class CaptionGenerator:
    """Generate SensorLM's hierarchical captions (statistical, structural, semantic).

    One pass over a day produces every variant of `CAPTION_VARIANTS`:

    - ``low``: statistical level (see `statistical`), one line per category;
    - ``middle``: structural level (see `structural`): per category, the trends, spikes and drops
      of the described channels, at most 7 statements (a random subset, kept in order: channel
      order, then time order); minute intervals such as "from minute 520 to minute 960";
    - ``high_all``: semantic level (see `semantic`): every selected activity, sleep period and
      mood log with clock times and minute intervals; ``high_summary``: its short version;
    - combined variants join levels with a newline, high (``high_all``) first, then middle, then
      low (`VARIANT_LEVELS`).

    The heavy maths (de-normalisation, statistics, 36-point profiles, trend regressions for all
    days x channels x windows, peak pre-screening) is vectorised over days in NumPy; only the
    text assembly and the ``find_peaks`` calls that can succeed run per day. Randomness (extra
    channels, phrasing, statement subsets) comes only from ``numpy.random.default_rng(seed)`` of
    the day, so the same inputs and seed give the same captions, and
    ``generate(day, seed=s) == generate_batch(day[None], seeds=[s])[0]``.

    Args:
        schema: `ChannelSchema` of the input columns (or a channel-set name such as
            ``"paper26"``); default the 34 SensorLM channels.
        seed: default seed (non-negative int); `generate` uses it when ``seed`` is None and
            `generate_batch` uses ``seed + i`` for day ``i`` when ``seeds`` is None.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.data import CaptionGenerator, Event

    generator = CaptionGenerator(seed=0)
    day = np.random.default_rng(0).normal(size=(1440, 34)).astype("float32")
    events = [Event("activity", "run", 420, 464), Event("sleep", "sleep", 1380, 390)]
    captions = generator.generate(day, events=events)
    captions["high_summary"]
    # e.g. 'Logged activities: run (45 minutes). The user slept 7 hours 31 minutes in total, ...'
    ```
    """

    def __init__(self, schema=None, seed=0):
        schema = ChannelSchema.resolve(schema)
        self.schema = schema
        self.seed = check_seed(seed)
        self._names = caption_names(schema)
        self._core_categories = caption_categories(schema)
        self._columns = np.array([schema.index(n) for n in self._names])
        self._col_of = {n: k for k, n in enumerate(self._names)}
        self._means = schema.means[self._columns]
        self._stds = schema.stds[self._columns]
        self._non_negative = schema.non_negative[self._columns]

    # ------------------------------------------------------------------ public API
    def generate(self, sensor_z, mask=None, events=(), seed=None, variants=None):
        """Captions of one day.

        Args:
            sensor_z: z-scores ``(1440, C)`` (finite; impute first, e.g. with
                `preprocess_days`).
            mask: optional boolean ``(1440, C)``, ``True`` = missing minute (ignored in the
                statistics and profiles).
            events: sequence of `Event` (or event dicts) of the day; ``None``/empty for none.
            seed: non-negative int; default the generator's seed.
            variants: a variant name or list of names; default all of `CAPTION_VARIANTS`.

        Returns:
            dict variant name -> caption string.
        """
        z = self._check_sensor(sensor_z, "sensor_z", rank=2)
        m = None if mask is None else check_bool_mask(mask, z.shape, "mask", "True = missing")
        seed = self.seed if seed is None else check_seed(seed)
        day_events = check_events(events, "events")
        variants = check_variants(variants)
        return self._run(z[None], None if m is None else m[None], [day_events], [seed], variants)[0]

    def generate_batch(self, sensor_z, masks=None, events_list=None, seeds=None, variants=None):
        """Captions of a batch of days (vectorised maths across days).

        Args:
            sensor_z: z-scores ``(N, 1440, C)``, finite.
            masks: optional boolean ``(N, 1440, C)``, ``True`` = missing.
            events_list: optional list of N event sequences (``None`` entries allowed).
            seeds: optional list of N non-negative ints; default ``self.seed + i``.
            variants: a variant name or list of names; default all eight.

        Returns:
            list of N dicts variant name -> caption string.
        """
        z = self._check_sensor(sensor_z, "sensor_z", rank=3)
        n = z.shape[0]
        m = None if masks is None else check_bool_mask(masks, z.shape, "masks", "True = missing")
        if events_list is None:
            events_list = [()] * n
        else:
            if isinstance(events_list, (str, bytes, dict)) or not hasattr(events_list, "__len__"):
                raise DataError(
                    f"events_list: expected a list of {n} event sequences, received "
                    f"{describe(events_list)}."
                )
            if len(events_list) != n:
                raise DataError(
                    f"events_list: expected {n} event sequences (one per day), received "
                    f"{len(events_list)}."
                )
            events_list = [check_events(e, f"events_list[{i}]") for i, e in enumerate(events_list)]
        if seeds is None:
            seeds = [self.seed + i for i in range(n)]
        else:
            if not hasattr(seeds, "__len__") or len(seeds) != n:
                raise ConfigError(
                    f"seeds: expected {n} non-negative integers (one per day), received "
                    f"{describe(seeds)}."
                )
            seeds = [check_seed(s, f"seeds[{i}]") for i, s in enumerate(seeds)]
        variants = check_variants(variants)
        return self._run(z, m, events_list, seeds, variants)

    # ------------------------------------------------------------------ validation
    def _check_sensor(self, sensor_z, field, rank):
        z = np.asarray(sensor_z)
        if z.dtype.kind not in "iuf":
            raise DataError(f"{field}: expected a numeric array, received dtype {z.dtype}.")
        expected = "(1440, C)" if rank == 2 else "(N, 1440, C)"
        if z.ndim != rank:
            raise DataError(
                f"{field}: expected rank {rank} {expected}, received shape {tuple(z.shape)}."
            )
        if z.shape[-2] != MINUTES_PER_DAY:
            raise DataError(
                f"{field}: expected {MINUTES_PER_DAY} minutes on axis {rank - 2}, received shape "
                f"{tuple(z.shape)}."
            )
        if z.shape[-1] != self.schema.num_channels:
            raise DataError(
                f"{field}: expected {self.schema.num_channels} channels (the schema's), received "
                f"shape {tuple(z.shape)}."
            )
        finite = np.isfinite(z)
        if not finite.all():
            bad = np.argwhere(~finite)
            first = tuple(int(v) for v in bad[0])
            raise DataError(
                f"{field}: expected finite z-scores (impute missing values first, e.g. with "
                f"preprocess_days, and pass the mask), received {len(bad)} NaN/Inf value(s), "
                f"first at index {first} (channel {self.schema.names[first[-1]]!r})."
            )
        if z.size:
            peak = np.abs(z).max(axis=tuple(range(z.ndim - 1)))
            worst = int(np.argmax(peak))
            if peak[worst] > MAX_ABS_Z:
                raise DataError(
                    f"{field}: expected z-scores with |z| <= {MAX_ABS_Z:g} (preprocess_days clips "
                    f"at 5), received |z| = {float(peak[worst]):.4g} in channel "
                    f"{self.schema.names[worst]!r}; such values would be captioned as physically "
                    "impossible numbers."
                )
        return z

    # ------------------------------------------------------------------ computation
    def _features(self, z, m):
        """Vectorised statistics, profiles and trend selection for a chunk of days."""
        cols = self._columns
        x = z[:, :, cols].astype(np.float64)
        x *= self._stds
        x += self._means
        if self._non_negative.any():
            x[:, :, self._non_negative] = np.maximum(x[:, :, self._non_negative], 0.0)
        valid = None if m is None else ~m[:, :, cols]
        if valid is not None and valid.all():
            valid = None
        stats = channel_statistics(x, valid)
        points = np.ascontiguousarray(np.moveaxis(point_means(x, valid), 1, 2))  # (n, k, 36)
        chosen, kinds = select_trends(points)
        p_mean, p_range, _ = profile_summary(points)
        point_valid = ~np.isnan(points)
        has_gaps = not point_valid.all()
        filled = impute_over_time(points, axis=-1) if has_gaps else points
        maybe_spike, maybe_drop = peak_prescreen(filled, np.nan_to_num(p_mean), p_range)
        stat_rows = np.stack(
            [stats["mean"], stats["max"], stats["min"], stats["std"], stats["count"]], -1
        ).tolist()  # (n, k, 5) nested lists
        return {
            "stats": stat_rows,
            "chosen": chosen,
            "any_chosen": chosen.any(-1).tolist(),
            "kinds": kinds,
            "filled": filled,
            "point_valid": point_valid if has_gaps else None,
            "p_mean": p_mean.tolist(),
            "p_range": p_range.tolist(),
            "maybe_spike": maybe_spike.tolist(),
            "maybe_drop": maybe_drop.tolist(),
        }

    def _patterns(self, f, i, k):
        patterns = []
        if f["any_chosen"][i][k]:
            patterns = trends_from_selection(f["chosen"][i, k], f["kinds"][i, k])
        spike, drop = f["maybe_spike"][i][k], f["maybe_drop"][i][k]
        if spike or drop:
            valid = None if f["point_valid"] is None else f["point_valid"][i, k]
            peaks = peaks_of_series(
                f["filled"][i, k], f["p_mean"][i][k], f["p_range"][i][k], valid, spike, drop
            )
            patterns = merge_patterns(patterns, peaks)
        return patterns

    def _structural_caption(self, f, i, categories, draws):
        patterns = {name: self._patterns(f, i, self._col_of[name])
                    for _, names in categories for name in names
                    if f["stats"][i][self._col_of[name]][4] > 0}
        return structural_caption(categories, patterns, draws)

    def _day(self, f, i, events, seed, variants):
        draws = Draws(seed)
        categories = caption_categories(self.schema, draws)
        row = f["stats"][i]
        stats = {name: row[self._col_of[name]] for _, names in categories for name in names}
        levels = {"low": statistical_caption(categories, stats, draws)}
        levels["middle"] = self._structural_caption(f, i, self._core_categories, draws)
        levels["high_all"], levels["high_summary"] = semantic_captions(events, draws)
        return {v: "\n".join(levels[level] for level in VARIANT_LEVELS[v]) for v in variants}

    def _run(self, z, m, events_list, seeds, variants):
        out = []
        for start in range(0, z.shape[0], _CHUNK_DAYS):
            stop = min(start + _CHUNK_DAYS, z.shape[0])
            f = self._features(z[start:stop], None if m is None else m[start:stop])
            for i in range(stop - start):
                out.append(self._day(f, i, events_list[start + i], seeds[start + i], variants))
        return out
