"""Exception hierarchy of `sensorlm_keras`.

Every error the project raises on purpose derives from `SensorLMError`. Errors about bad input
also derive from `ValueError`, so code written against the standard library keeps working:

    try:
        model.encode_sensor(days)
    except ValueError as e:  # or sensorlm_keras.errors.InputValidationError
        print(e)

Messages name the field, what was expected and what was received.
"""


class SensorLMError(Exception):
    """Base class of every error raised by `sensorlm_keras`."""


class InputValidationError(SensorLMError, ValueError):
    """An input (array, config value, file content) does not satisfy the documented contract."""


class ConfigError(InputValidationError):
    """A configuration value or preset name is invalid."""


class DataError(InputValidationError):
    """Data (a day, an event, a TFRecord) is malformed."""


class UnsafeFileError(SensorLMError, ValueError):
    """A file asked to be loaded would need unsafe deserialisation (code execution)."""


def describe(value):
    """Short description of a received value for error messages."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None:
        return f"{type(value).__name__} with shape {tuple(shape)} and dtype {dtype}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class WorkerLostError(SensorLMError):
    """Another worker/process of a multi-worker run stopped or became unreachable.

    The message names the last backup and how to resume. ``exit_without_shutdown`` tells the
    CLI to exit at once: the backends' own shutdown (JAX waits at a barrier for every process)
    would otherwise wait for the lost worker and abort with a C++ stack trace.
    """

    exit_without_shutdown = True
