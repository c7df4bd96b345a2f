"""Atomic publication of a version directory: a reader never sees a half-written export.

The SavedModel is written into a hidden temporary directory next to its target and renamed
into place (`staged_version`, `install`). The temporary names carry the writer's pid, so a
later export removes what a killed one left (`remove_stale_temporaries`) and never touches a
running one's.

Kept by hand: ``os.replace`` cannot replace a non-empty directory and ``shutil.move`` is not
atomic, and ``tempfile.mkdtemp`` names do not carry the pid the stale-temporary cleanup reads.
"""

import contextlib
import os
import secrets
import shutil

from sensorlm_keras.export.errors import ExportExistsError
from sensorlm_keras.utils.atomic_io import fsync_directory, remove_stale_temporaries


@contextlib.contextmanager
def staged_version(model_dir, version):
    """Yield ``(savedmodel_dir, assets_dir)``: two hidden paths in ``model_dir``.

    ``assets_dir`` exists (files to copy into the SavedModel's ``assets/``); ``savedmodel_dir``
    does not yet. Both are deleted when the block ends, whatever happens; `install` the
    SavedModel before that.
    """
    os.makedirs(model_dir, exist_ok=True)
    remove_stale_temporaries(model_dir)  # left by an export that was killed
    token = f"{version}-{os.getpid()}-{secrets.token_hex(4)}"
    savedmodel_dir = os.path.join(model_dir, f".tmp-export-{token}")
    assets_dir = os.path.join(model_dir, f".tmp-assets-{token}")
    try:
        os.makedirs(assets_dir)
        yield savedmodel_dir, assets_dir
    finally:
        shutil.rmtree(assets_dir, ignore_errors=True)
        shutil.rmtree(savedmodel_dir, ignore_errors=True)


def install(tmp, final, overwrite):
    """Rename the finished directory ``tmp`` to ``final``.

    Without ``overwrite`` an existing ``final`` raises `ExportExistsError` (``tmp`` is left for
    the caller to delete). With ``overwrite`` the old directory is renamed aside, ``tmp`` renamed
    in, and the old one deleted; if the second rename fails the old one is put back.
    """
    parent = os.path.dirname(final)
    if not os.path.exists(final):
        os.rename(tmp, final)
    elif not overwrite:
        raise ExportExistsError(
            f"export: {final!r} appeared while exporting; pass overwrite=True to replace it."
        )
    else:
        aside = os.path.join(parent, f".old-{os.path.basename(final)}-{secrets.token_hex(4)}")
        os.rename(final, aside)
        try:
            os.rename(tmp, final)
        except BaseException:
            os.rename(aside, final)
            raise
        shutil.rmtree(aside, ignore_errors=True)
    fsync_directory(parent)
