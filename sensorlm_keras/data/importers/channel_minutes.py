"""`ChannelMinutes`: an export's samples, put aside by block of time, kept as minute sums."""

import numpy as np

from sensorlm_keras.data.importers.spill_file import SpillFile
from sensorlm_keras.data.preprocessing.plausible_ranges import range_bounds
from sensorlm_keras.errors import DataError

BLOCK_MINUTES = 28 * 1440
"""Real minutes per block: what is in memory at once is one block of one channel's samples."""


class ChannelMinutes:
    """The samples of one wearer's export (Apple Health, Fitbit), channel by channel, in
    bounded memory: each chunk of samples goes to a `SpillFile` split by block of real time
    (`add`); then, one block of one channel at a time (`blocks`), the importer applies its
    rules (one source per minute, one sample per time) and hands the samples it keeps to
    `keep`, which drops the implausible ones and sums the rest per wall-clock minute. Memory
    then holds one block of samples and the minute sums of the whole export (what
    `days_of_samples` needs), not the samples of the export.

    Args:
        schema: `ChannelSchema` of the channels the samples may belong to.
        spill: `SpillFile` the blocks go to (default: one in memory).
        fraction: the most fraction of a channel's kept values outside its plausible range
            (`PLAUSIBLE_RANGES`) before the import is refused (units that cannot be right).
        block_minutes: real minutes per block (default `BLOCK_MINUTES`).

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.data import ChannelSchema
    from sensorlm_keras.data.importers.channel_minutes import ChannelMinutes

    schema = ChannelSchema.default().select(["HR"])
    minutes = ChannelMinutes(schema, fraction=0.01)
    t = np.array([28_575_780, 28_575_780, 28_575_781])        # real minutes
    minutes.add("HR", t, wall=t, value=np.array([60.0, 62.0, 70.0]), line=np.arange(3))
    for block in minutes.blocks("HR"):
        minutes.keep("HR", block["wall"], block["value"], block["line"],
                     lambda i: f"export.xml line {block['line'][i]}")
    (wall, sums, counts), dropped = minutes.samples(schema)
    ```
    """

    def __init__(self, schema, spill=None, fraction=0.01, block_minutes=None):
        self.schema = schema
        self._low, self._high = range_bounds(schema)
        self.spill = SpillFile() if spill is None else spill
        self.fraction = fraction
        self.block_minutes = int(BLOCK_MINUTES if block_minutes is None else block_minutes)
        self._blocks = {}  # channel -> {block -> [spill keys]}
        self._fields = {}  # channel -> names of the arrays of its samples
        self._minutes = {}  # channel -> [(wall, sums, counts)] of the kept samples
        self._checked = {}  # channel -> [bad, seen, (order, where, value, low, high) of the
        #                     first value out of range]

    def has(self, channel):
        """Whether any sample of ``channel`` was added."""
        return bool(self._blocks.get(channel))

    def add(self, channel, block_minute, **arrays):
        """Put samples of ``channel`` aside: ``block_minute`` (their real minutes) picks the
        block; ``arrays`` (same length) come back from `blocks` under their names."""
        minute = np.asarray(block_minute, dtype=np.int64)
        if minute.size == 0:
            return
        self._fields[channel] = tuple(arrays)
        blocks = self._blocks.setdefault(channel, {})
        block = minute // self.block_minutes
        order = np.argsort(block, kind="stable")
        cuts = np.flatnonzero(np.diff(block[order])) + 1
        for rows in np.split(order, cuts):
            key = self.spill.put(*[np.asarray(arrays[k])[rows] for k in arrays])
            blocks.setdefault(int(block[rows[0]]), []).append(key)

    def blocks(self, channel):
        """The samples of ``channel``, a block at a time in time order: dicts of the arrays
        given to `add`, in the order they were added."""
        names = self._fields.get(channel, ())
        for block in sorted(self._blocks.get(channel, {})):
            parts = [self.spill.get(key) for key in self._blocks[channel][block]]
            yield {name: np.concatenate([p[k] for p in parts]) for k, name in enumerate(names)}

    def keep(self, channel, wall, value, order, where):
        """Keep samples of ``channel``: values outside its plausible range are dropped and
        counted (``order`` ranks the samples, e.g. their lines, so that the first one out of
        range is named by ``where(i)``), the others summed per wall-clock minute ``wall``."""
        j = self.schema.index(channel)
        low, high = self._low[j], self._high[j]
        value = np.asarray(value, dtype=np.float64)
        finite = np.isfinite(value)
        out = finite & ((value < low) | (value > high))
        checked = self._checked.setdefault(channel, [0, 0, None])
        checked[0] += int(out.sum())
        checked[1] += int(finite.sum())
        if out.any():
            bad = np.flatnonzero(out)
            i = int(bad[np.argmin(np.asarray(order)[bad])])
            if checked[2] is None or order[i] < checked[2][0]:
                checked[2] = (order[i], where(i), float(value[i]), low, high)
        ok = finite & ~out
        minutes, inverse = np.unique(np.asarray(wall, dtype=np.int64)[ok], return_inverse=True)
        sums = np.bincount(inverse, weights=value[ok], minlength=minutes.size)
        counts = np.bincount(inverse, minlength=minutes.size).astype(np.int32)
        self._minutes.setdefault(channel, []).append((minutes, sums, counts))

    def samples(self, schema):
        """``((wall, sums, counts), dropped)``: every kept minute of the channels of
        ``schema`` as `days_of_samples` takes them (``sums`` and ``counts`` ``(n, C)``) and
        ``channel -> values dropped as implausible``.

        Raises:
            DataError: more than ``fraction`` of a channel's values out of range.
        """
        dropped = {}
        for channel, (bad, seen, first) in self._checked.items():
            if bad > self.fraction * seen:
                _, where, value, low, high = first
                raise DataError(f"{where}: {bad} of {seen} {channel} values are outside its "
                                f"plausible range [{low:g}, {high:g}] (first {value:g}); the "
                                "units cannot be right.")
            if bad:
                dropped[channel] = bad
        walls, sums, counts = [], [], []
        for j, channel in enumerate(schema.names):
            for minutes, total, count in self._minutes.get(channel, ()):
                s = np.zeros((minutes.size, len(schema)), np.float64)
                c = np.zeros((minutes.size, len(schema)), np.int32)
                s[:, j], c[:, j] = total, count
                walls.append(minutes)
                sums.append(s)
                counts.append(c)
        if not walls:
            empty = np.zeros((0, len(schema)))
            return (np.zeros(0, np.int64), empty, empty.astype(np.int32)), dropped
        return (np.concatenate(walls), np.concatenate(sums), np.concatenate(counts)), dropped
