"""`SpillFile`: arrays put aside while a large input is read, and read back by key."""

import os
import tempfile
import weakref

import numpy as np


class SpillFile:
    """Groups of NumPy arrays put aside and read back later, on disk or in memory.

    With a ``directory`` the arrays go to one hidden file there (``np.save`` one after the
    other; a key is the group's offset), so what an importer keeps of a large input costs disk,
    not memory, until it is read back one person at a time. Without one they stay in a list
    (small inputs, notebooks). The file is removed by `close` or when the object goes away.

    Args:
        directory: where the file goes; ``None`` keeps the arrays in memory.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.data.importers.spill_file import SpillFile

    spill = SpillFile("/tmp")
    key = spill.put(np.arange(3), np.ones((2, 2), np.float32))
    minutes, values = spill.get(key)
    spill.close()
    ```
    """

    def __init__(self, directory=None):
        self.directory = None if directory is None else os.fspath(directory)
        self._items = []
        self._file = None
        self._finalizer = None
        if self.directory is not None:
            os.makedirs(self.directory, exist_ok=True)
            fd, self.path = tempfile.mkstemp(prefix=".spill-", suffix=".npys",
                                             dir=self.directory)
            self._file = os.fdopen(fd, "w+b")
            self._finalizer = weakref.finalize(self, _close_and_remove, self._file, self.path)

    @property
    def on_disk(self):
        return self._file is not None

    def put(self, *arrays):
        """Put ``arrays`` aside; returns the key that `get` takes."""
        if self._file is None:
            self._items.append(arrays)
            return len(self._items) - 1
        self._file.seek(0, os.SEEK_END)
        offset = self._file.tell()
        for array in arrays:
            np.save(self._file, np.asarray(array), allow_pickle=False)
        return offset, len(arrays)

    def get(self, key):
        """The tuple of arrays put aside under ``key``."""
        if self._file is None:
            return self._items[key]
        offset, count = key
        self._file.flush()
        self._file.seek(offset)
        return tuple(np.load(self._file, allow_pickle=False) for _ in range(count))

    def close(self):
        """Remove the file (or drop the arrays kept in memory)."""
        self._items = []
        if self._finalizer is not None:
            self._finalizer()


def _close_and_remove(file, path):
    file.close()
    try:
        os.remove(path)
    except OSError:
        pass
