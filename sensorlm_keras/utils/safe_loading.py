"""Inspecting untrusted `.keras` files before anything is deserialised.

`inspect_keras_file` is what `sensorlm_keras.runs.load_keras_model_safely` (the only way
`sensorlm_keras` loads a ``.keras`` file: run directories, ``sensorlm eval``, ``sensorlm
export``) runs before Keras sees the file. It deserialises nothing:

- the file must be a zip archive of bounded size whose members are the ones Keras writes
  (``config.json``, ``metadata.json``, ``model.weights.h5``/``.npz``, ``assets/...``); a member
  whose uncompressed size exceeds the bound (zip bomb) is refused before it is read;
- ``config.json`` may not reference a ``Lambda``/``TFOpLambda`` layer, a serialized Python
  function (marshalled bytecode, ``__lambda__``) or any module outside ``keras`` and
  ``sensorlm_keras`` (e.g. ``os``, ``subprocess``, ``builtins.eval``);
- NumPy weight archives may not hold object (pickled) arrays.

The loader then calls ``keras.saving.load_model(..., safe_mode=True)``; a refusal by Keras' own
safe mode is reported as `UnsafeFileError` naming the file, any other failure as `ConfigError`.
"""

import json
import os
import zipfile

from sensorlm_keras.errors import ConfigError, UnsafeFileError

MAX_KERAS_FILE_BYTES = 8 * 2**30
MAX_CONFIG_BYTES = 64 * 2**20
MAX_MEMBER_BYTES = 8 * 2**30
MAX_MEMBERS = 10_000
MAX_CONFIG_DEPTH = 200

_ALLOWED_TOP_MEMBERS = ("config.json", "metadata.json", "model.weights.h5", "model.weights.npz")
_ALLOWED_MODULE_PREFIXES = ("keras", "sensorlm_keras")
_FORBIDDEN_CLASSES = ("Lambda", "TFOpLambda", "SlicingOpLambda", "__lambda__")
_FORBIDDEN_NAMES = ("enable_unsafe_deserialization", "safe_mode")
_FORBIDDEN_KEYS = ("__lambda__", "function_type", "__bytes__", "__pickle__")


def _module_allowed(module):
    return any(module == p or module.startswith(p + ".") for p in _ALLOWED_MODULE_PREFIXES)


def _scan_config(node, path, where, depth=0):
    """Raise `UnsafeFileError` if the config tree references code that is not a model part."""
    if depth > MAX_CONFIG_DEPTH:
        raise UnsafeFileError(
            f"{path}: config.json is nested more than {MAX_CONFIG_DEPTH} levels deep at {where}; "
            "refusing to load it."
        )
    if isinstance(node, dict):
        class_name = node.get("class_name")
        if isinstance(class_name, str) and class_name in _FORBIDDEN_CLASSES:
            raise UnsafeFileError(
                f"{path}: config.json contains a {class_name} layer at {where}; Lambda layers "
                "hold arbitrary Python code and are never loaded (safe mode)."
            )
        for value in node.values():
            if isinstance(value, str) and any(n in value for n in _FORBIDDEN_NAMES):
                raise UnsafeFileError(
                    f"{path}: config.json references {value!r} at {where}; a model file may not "
                    "switch safe mode off."
                )
        for key in _FORBIDDEN_KEYS:
            if key in node:
                raise UnsafeFileError(
                    f"{path}: config.json contains a serialized Python function ({key!r}) at "
                    f"{where}; refusing to load code from a file (safe mode)."
                )
        module = node.get("module")
        if module is not None and "class_name" in node:
            if not isinstance(module, str):
                raise UnsafeFileError(f"{path}: config.json has a non-string module at {where}.")
            builtin_function = module == "builtins" and class_name == "function"
            if not (_module_allowed(module) or builtin_function):
                raise UnsafeFileError(
                    f"{path}: config.json references module {module!r} (class_name "
                    f"{class_name!r}) at {where}; expected only modules under "
                    f"{list(_ALLOWED_MODULE_PREFIXES)} (no arbitrary imports)."
                )
        if class_name == "function" and isinstance(node.get("config"), str):
            name = node["config"]
            if module not in (None, "builtins") and not _module_allowed(module):
                raise UnsafeFileError(f"{path}: config.json references function {name!r}.")
        for key, value in node.items():
            _scan_config(value, path, f"{where}.{key}", depth + 1)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _scan_config(value, path, f"{where}[{i}]", depth + 1)


def _check_npz(archive, info, path):
    """Refuse object (pickle) arrays inside a NumPy weights archive, without unpickling."""
    import io

    import numpy as np

    with archive.open(info) as raw:
        inner = zipfile.ZipFile(io.BytesIO(raw.read()))
    for member in inner.infolist():
        if member.file_size > MAX_MEMBER_BYTES:
            raise UnsafeFileError(
                f"{path}: {info.filename}/{member.filename} claims {member.file_size} bytes, more "
                f"than the {MAX_MEMBER_BYTES}-byte limit."
            )
        with inner.open(member) as f:
            try:
                version = np.lib.format.read_magic(f)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                header = read_header(f, max_header_size=10_000)
            except (ValueError, SyntaxError) as error:
                raise UnsafeFileError(
                    f"{path}: {info.filename}/{member.filename} is not a plain .npy array "
                    f"({error})."
                ) from None
        if header[2].hasobject:
            raise UnsafeFileError(
                f"{path}: {info.filename}/{member.filename} holds an object array (dtype "
                f"{header[2]}), which would be unpickled; refusing to load it."
            )


def inspect_keras_file(path):
    """Check a ``.keras`` archive without deserialising it; returns its parsed config dict.

    Raises:
        ConfigError: the file does not exist or is not a ``.keras`` archive.
        UnsafeFileError: the archive would need unsafe deserialisation or unbounded memory.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ConfigError(f"model file: expected an existing .keras file, received {path!r}.")
    size = os.path.getsize(path)
    if size > MAX_KERAS_FILE_BYTES:
        raise UnsafeFileError(
            f"{path}: {size} bytes, more than the {MAX_KERAS_FILE_BYTES}-byte limit for a "
            ".keras file."
        )
    if not zipfile.is_zipfile(path):
        raise ConfigError(f"{path}: expected a .keras (zip) archive, the file is not a zip file.")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise ConfigError(f"{path}: not a readable .keras archive ({error}).") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise UnsafeFileError(
                f"{path}: {len(infos)} archive members, more than the {MAX_MEMBERS} limit."
            )
        names = set()
        for info in infos:
            name = info.filename
            names.add(name)
            if name.startswith("/") or ".." in name.split("/"):
                raise UnsafeFileError(f"{path}: archive member {name!r} escapes the archive.")
            if not (name in _ALLOWED_TOP_MEMBERS or name.startswith("assets/")):
                raise UnsafeFileError(
                    f"{path}: unexpected archive member {name!r}; a .keras file holds only "
                    f"{list(_ALLOWED_TOP_MEMBERS)} and assets/ (pickles and other payloads are "
                    "refused)."
                )
            limit = MAX_CONFIG_BYTES if name.endswith(".json") else MAX_MEMBER_BYTES
            if info.file_size > limit:
                raise UnsafeFileError(
                    f"{path}: member {name!r} claims {info.file_size} uncompressed bytes, more "
                    f"than the {limit}-byte limit (refused before decompressing)."
                )
        if "config.json" not in names:
            raise ConfigError(f"{path}: not a .keras archive (config.json is missing).")
        try:
            config = json.loads(archive.read("config.json").decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            raise ConfigError(f"{path}: config.json is not valid JSON ({error}).") from None
        _scan_config(config, path, "config")
        if "model.weights.npz" in names:
            _check_npz(archive, archive.getinfo("model.weights.npz"), path)
    return config
