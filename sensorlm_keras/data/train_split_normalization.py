"""`train_split_schema`: normalisation constants of channels outside the 34-channel schema,
computed on the train split only."""

import numpy as np

from sensorlm_keras.data.channel import CUSTOM_FAMILY, Channel
from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.errors import DataError


def train_split_schema(raw, schema, train_rows, where="data"):
    """``schema`` with every custom channel (family `CUSTOM_FAMILY`, a placeholder) given the
    mean and population standard deviation of its observed values in ``raw[train_rows]``.

    Nothing of the validation or test rows enters the constants. A constant channel gets
    standard deviation 1 (centred, not scaled). Schema channels keep their constants.

    Args:
        raw: physical values ``(N, T, C)``, NaN = missing.
        schema: `ChannelSchema` of the ``C`` channels.
        train_rows: indices of the train split's rows.
        where: the data's name for errors.

    Returns:
        ``(schema, normalization)``: the completed schema and a JSON-able dict channel ->
        ``{"mean", "std", "source"}`` (``"schema"`` or ``"train split"``).

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.data import Channel, ChannelSchema
    from sensorlm_keras.data.channel import CUSTOM_FAMILY
    from sensorlm_keras.data.train_split_normalization import train_split_schema

    schema = ChannelSchema([Channel("baro", 0.0, 1.0, CUSTOM_FAMILY)])
    raw = np.random.default_rng(0).normal(1013.0, 4.0, (10, 60, 1))
    fitted, normalization = train_split_schema(raw, schema, np.arange(8))
    normalization["baro"]["source"]   # 'train split'
    ```
    """
    channels, normalization = [], {}
    count, mean_of, m2 = _moments(raw, np.asarray(train_rows, dtype=np.int64),
                                  [c.family == CUSTOM_FAMILY for c in schema.channels])
    for k, channel in enumerate(schema.channels):
        if channel.family != CUSTOM_FAMILY:
            channels.append(channel)
            normalization[channel.name] = {"mean": channel.mean, "std": channel.std,
                                           "source": "schema"}
            continue
        if count[k] == 0:
            raise DataError(
                f"{where}: channel {channel.name!r} has no observed value in the train split; "
                "its normalisation cannot be computed."
            )
        mean, std = float(mean_of[k]), float(np.sqrt(m2[k] / count[k]))
        if not std > 1e-6 * max(1.0, abs(mean)):
            std = 1.0  # a constant channel: centred, not scaled
        channels.append(Channel(channel.name, mean, std, CUSTOM_FAMILY))
        normalization[channel.name] = {"mean": mean, "std": std, "source": "train split"}
    return ChannelSchema(channels), normalization


def _moments(raw, rows, wanted, block=64):
    """Count, mean and sum of squared deviations of each wanted channel's finite values in
    ``raw[rows]``, read ``block`` rows at a time (``raw`` may be a `DiskDayArray`) and merged
    with Chan et al.'s pairwise update (float64)."""
    size = len(wanted)
    count, mean, m2 = np.zeros(size), np.zeros(size), np.zeros(size)
    columns = np.flatnonzero(wanted)
    for begin in range(0, rows.size if columns.size else 0, block):
        values = np.asarray(raw[rows[begin:begin + block]], dtype=np.float64)
        for k in columns:
            x = values[..., k]
            x = x[np.isfinite(x)]
            if x.size == 0:
                continue
            n, m = float(x.size), float(x.mean())
            delta, total = m - mean[k], count[k] + n
            m2[k] += float(((x - m) ** 2).sum()) + delta * delta * count[k] * n / total
            mean[k] += delta * n / total
            count[k] = total
    return count, mean, m2


def with_custom_channels(names, schema=None):
    """A schema of ``names``: schema channels keep their constants, any other name is a custom
    placeholder (mean 0, std 1, family `CUSTOM_FAMILY`) for `train_split_schema` to fill."""
    schema = ChannelSchema.resolve(schema)
    return ChannelSchema([schema.channels[schema.index(n)] if n in schema
                          else Channel(n, 0.0, 1.0, CUSTOM_FAMILY) for n in names])
