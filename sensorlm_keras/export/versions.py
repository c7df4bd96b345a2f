"""Where an export goes: ``<export_base>/<name>/<version>``, TF Serving's model layout.

TensorFlow Serving watches ``<export_base>/<name>`` and serves the highest integer version
directory in it.
"""

import os
import re

from sensorlm_keras.errors import ConfigError
from sensorlm_keras.export.errors import ExportExistsError
from sensorlm_keras.utils.validation import check_int

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_name(name):
    """``name`` if it is a safe directory name (no path separators, no leading '.' or '-')."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(
            f"name: expected a directory name of letters, digits, '_', '-' or '.' (not starting "
            f"with '.' or '-'), received {name!r}."
        )
    return name


def existing_versions(model_dir):
    """Integer version directories present in ``model_dir`` (sorted)."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(
        int(entry)
        for entry in os.listdir(model_dir)
        if entry.isdigit() and os.path.isdir(os.path.join(model_dir, entry))
    )


def next_version(export_base, name="sensorlm"):
    """The next free version of ``<export_base>/<name>``: highest existing + 1, or 1."""
    versions = existing_versions(os.path.join(os.fspath(export_base), check_name(name)))
    return versions[-1] + 1 if versions else 1


def resolve_target(export_base, name, version, overwrite):
    """-> ``(model_dir, version, final_path)``; raises if the version exists without overwrite."""
    export_base = os.path.abspath(os.fspath(export_base))
    model_dir = os.path.join(export_base, check_name(name))
    if os.path.exists(model_dir) and not os.path.isdir(model_dir):
        raise ConfigError(f"export: {model_dir!r} exists and is not a directory.")
    if version is None:
        version = next_version(export_base, name)
    version = check_int(version, "version", minimum=0)
    final = os.path.join(model_dir, str(version))
    if os.path.exists(final) and not overwrite:
        raise ExportExistsError(
            f"export: {final!r} already exists; choose another version, omit the version to use "
            f"the next free one ({next_version(export_base, name)}), or pass overwrite=True "
            "(--overwrite)."
        )
    return model_dir, version, final
