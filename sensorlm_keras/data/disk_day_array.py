"""`DiskDayArray`: person-days kept in a file and read a few rows at a time."""

import os
import tempfile
import weakref

import numpy as np

from sensorlm_keras.errors import DataError, describe


class DiskDayArray:
    """A read-only float32 array ``(N, T, C)`` of person-days stored row after row in a file.

    `WearableDays` accepts it as its ``raw``: indexing along the first axis reads only those
    rows from the file (plain reads, no memory map, so what was read is not kept resident), which
    lets a large import be normalised, captioned and written in chunks without ever holding
    every day in memory (`read_minute_tables(..., spill_dir=DIR)`, `sensorlm data build`).
    NumPy functions given the whole array (``np.asarray(days.raw)``) read all of it.

    Build one with `DiskDayArray.appender`: days are appended as they are cut and the file
    becomes the array when finished. An array that owns its file removes it when it is garbage
    collected (or on `close`).

    Args:
        path: the file: ``N * T * C`` native float32 values, row-major.
        shape: ``(N, T, C)``.
        owns_file: remove the file when the array goes away.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.data.disk_day_array import DiskDayArray

    appender = DiskDayArray.appender("/tmp", num_timesteps=1440, num_channels=2)
    appender.append(np.zeros((3, 1440, 2), np.float32))
    raw = appender.finish()        # DiskDayArray of shape (3, 1440, 2)
    raw[[0, 2]].shape              # (2, 1440, 2), read from the file
    raw[1, :, 0].shape             # (1440,)
    ```
    """

    dtype = np.dtype(np.float32)
    ndim = 3

    def __init__(self, path, shape, owns_file=False):
        self.path = os.fspath(path)
        self.shape = tuple(int(s) for s in shape)
        if len(self.shape) != 3 or min(self.shape) < 0:
            raise DataError(f"DiskDayArray.shape: expected (N, T, C), received {shape!r}.")
        expected = int(np.prod(self.shape)) * self.dtype.itemsize
        size = os.path.getsize(self.path) if os.path.exists(self.path) else None
        if size != expected:
            raise DataError(f"DiskDayArray.path: expected a file of {expected} bytes for shape "
                            f"{self.shape}, received {describe(size)} bytes at {self.path!r}.")
        self._finalizer = weakref.finalize(self, _remove, self.path) if owns_file else None

    @classmethod
    def appender(cls, directory, num_timesteps, num_channels):
        """A `_DayAppender` that writes days into a new file in ``directory``; its ``finish()``
        returns the `DiskDayArray` (which owns the file)."""
        return _DayAppender(directory, int(num_timesteps), int(num_channels))

    @property
    def size(self):
        return int(np.prod(self.shape))

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, key):
        """NumPy indexing; only the rows the first index names are read from the file."""
        key = key if isinstance(key, tuple) else (key,)
        if any(k is Ellipsis or k is None for k in key):
            return self._read(np.arange(self.shape[0]))[key]
        first, rest = key[0], key[1:]
        if isinstance(first, slice):
            return self._read(np.arange(self.shape[0])[first])[(slice(None),) + rest]
        rows = np.arange(self.shape[0])[first]  # int, int array or bool mask; NumPy's checks
        if rows.ndim == 0:
            return self._read(rows[None])[(0,) + rest]
        needed, inverse = np.unique(rows, return_inverse=True)
        return self._read(needed)[(inverse.reshape(rows.shape),) + rest]

    def __array__(self, dtype=None, copy=None):
        values = self[:]
        return values if dtype is None else values.astype(dtype, copy=False)

    def _read(self, rows):
        _, steps, channels = self.shape
        per_row = steps * channels
        out = np.empty((rows.size, steps, channels), self.dtype)
        if rows.size == 0:
            return out
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        runs = np.split(np.arange(rows.size), np.flatnonzero(np.diff(ordered) != 1) + 1)
        with open(self.path, "rb") as f:
            for run in runs:  # consecutive rows are one read
                f.seek(int(ordered[run[0]]) * per_row * self.dtype.itemsize)
                block = np.fromfile(f, dtype=self.dtype, count=run.size * per_row)
                out[order[run]] = block.reshape(run.size, steps, channels)
        return out

    def close(self):
        """Remove the file now (an array that owns it); the array cannot be read after."""
        if self._finalizer is not None:
            self._finalizer()

    def __repr__(self):
        return f"DiskDayArray(shape={self.shape}, path={self.path!r})"


class _DayAppender:
    """Writes ``(n, T, C)`` blocks of days into a hidden file; ``finish()`` -> `DiskDayArray`."""

    def __init__(self, directory, num_timesteps, num_channels):
        os.makedirs(directory, exist_ok=True)
        fd, self.path = tempfile.mkstemp(prefix=".days-", suffix=".f32", dir=directory)
        self._file = os.fdopen(fd, "wb")
        self._finalizer = weakref.finalize(self, _close_and_remove, self._file, self.path)
        self.shape = (0, num_timesteps, num_channels)

    def append(self, days):
        days = np.asarray(days, dtype=np.float32)
        if days.ndim == 2:
            days = days[None]
        if days.shape[1:] != self.shape[1:]:
            raise DataError(f"DiskDayArray.append: expected days of shape (n, "
                            f"{self.shape[1]}, {self.shape[2]}), received {describe(days)}.")
        self._file.write(np.ascontiguousarray(days).tobytes())
        self.shape = (self.shape[0] + days.shape[0],) + self.shape[1:]

    def finish(self):
        self._file.close()
        self._finalizer.detach()
        return DiskDayArray(self.path, self.shape, owns_file=True)


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _close_and_remove(file, path):
    file.close()
    _remove(path)
