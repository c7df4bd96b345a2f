"""Atomic file writes: nothing half-written ever carries its final name.

Every file the package writes (datasets, tokenizers, run directories, reports, exports) goes
through these helpers: the content is written to a hidden temporary file in the destination directory, flushed
and ``fsync``-ed, then moved over the final name with ``os.replace`` (atomic on POSIX and
Windows when both names are on the same file system); the directory entry is synced too. If
anything fails, the temporary file is removed and the final name is left untouched.
"""

import contextlib
import os
import re
import secrets


def _temporary_name(path):
    directory, name = os.path.split(os.path.abspath(path))
    return os.path.join(directory, f".{name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


def fsync_path(path):
    """``fsync`` an existing file (its data and metadata) by name."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_directory(directory):
    """``fsync`` a directory so a rename inside it survives a crash (no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; on success it is synced and renamed to ``path``.

    Use it with writers that open files by name themselves (e.g. ``tf.io.TFRecordWriter``):
    the writer must be closed before the ``with`` block ends.

    Args:
        path: the final file name.

    Example:

    ```python
    with atomic_path("out/shard-00000.tfrecord") as tmp:
        with tf.io.TFRecordWriter(tmp) as w:
            w.write(record)
    ```
    """
    final = os.path.abspath(path)
    os.makedirs(os.path.dirname(final), exist_ok=True)
    tmp = _temporary_name(final)
    try:
        yield tmp
        if not os.path.exists(tmp):
            raise FileNotFoundError(
                f"atomic_path: nothing was written to the temporary file {tmp}."
            )
        fsync_path(tmp)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    fsync_directory(os.path.dirname(final))


@contextlib.contextmanager
def atomic_open(path, mode="wb", encoding=None):
    """Open a temporary file for writing; it becomes ``path`` only if the block succeeds.

    Args:
        path: the final file name.
        mode: ``"wb"`` or ``"w"``.
        encoding: text encoding for ``"w"`` (default UTF-8).

    Example:

    ```python
    with atomic_open("manifest.json", "w") as f:
        json.dump(manifest, f)
    ```
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open: mode must be 'w' or 'wb', received {mode!r}.")
    if mode == "w" and encoding is None:
        encoding = "utf-8"
    with atomic_path(path) as tmp:
        with open(tmp, mode, encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


def atomic_write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` atomically."""
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_write_text(path, text):
    """Write ``text`` (str, UTF-8) to ``path`` atomically."""
    with atomic_open(path, "w") as f:
        f.write(text)


_STALE_RE = re.compile(r"\.tmp-(?:(?:export|assets)-\d+-)?(\d+)-[0-9a-f]+$")


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temporaries(directory):
    """Delete hidden temporary files/directories left in ``directory`` by killed processes.

    Only names written by this package's atomic writers (``.<name>.tmp-<pid>-<hex>``,
    ``.tmp-export-<version>-<pid>-<hex>``) whose process no longer exists are removed; a writer
    still running (even in another process) is never touched. Returns the removed names.
    """
    import shutil

    removed = []
    if not os.path.isdir(directory):
        return removed
    for name in os.listdir(directory):
        match = _STALE_RE.search(name) if name.startswith(".") else None
        if match is None or _pid_alive(int(match.group(1))):
            continue
        path = os.path.join(directory, name)
        with contextlib.suppress(OSError):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
            removed.append(name)
    return removed
