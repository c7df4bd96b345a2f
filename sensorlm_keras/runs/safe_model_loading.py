"""`load_keras_model_safely`: the one way `sensorlm_keras` loads a ``.keras`` file.

The file is first inspected without deserialising anything (`sensorlm_keras.utils.safe_loading`:
bounded zip archive, no Lambda layers, no serialized functions, no modules outside ``keras`` and
``sensorlm_keras``, no pickled arrays), then loaded by Keras in safe mode with every
`sensorlm_keras` class registered.
"""

import os
import zipfile
import zlib

from sensorlm_keras.errors import ConfigError, UnsafeFileError
from sensorlm_keras.utils import safe_loading


def load_keras_model_safely(path, compile=False, custom_objects=None):
    """Load a ``.keras`` file in safe mode only.

    Args:
        path: the ``.keras`` file.
        compile: passed to ``keras.saving.load_model``.
        custom_objects: passed to ``keras.saving.load_model``.

    Raises:
        UnsafeFileError: the file holds code or pickles (Lambda layers, function bytecode,
            modules outside keras/sensorlm_keras, object arrays) or exceeds the size bounds.
        ConfigError: the file is missing or is not a loadable model.

    Example:

    ```python
    from sensorlm_keras.runs import load_keras_model_safely

    model = load_keras_model_safely("runs/smoke/model.keras")
    ```
    """
    import keras

    import sensorlm_keras.models  # noqa: F401  (registers the classes for deserialisation)

    path = os.fspath(path)
    safe_loading.inspect_keras_file(path)
    try:
        return keras.saving.load_model(
            path, compile=compile, safe_mode=True, custom_objects=custom_objects
        )
    except (ValueError, TypeError, OSError, KeyError, AttributeError, ImportError, EOFError,
            RuntimeError, zipfile.BadZipFile, zlib.error) as error:
        message = " ".join(str(error).split())[:500]
        lowered = message.lower()
        if "safe_mode" in lowered or "lambda" in lowered or "unsafe" in lowered:
            raise UnsafeFileError(
                f"{path}: refused by Keras safe mode (the file would execute code): {message}"
            ) from error
        raise ConfigError(f"{path}: cannot load the model: {message}") from error
