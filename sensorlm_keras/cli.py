"""`sensorlm` command line: ``sensorlm <command> [<sub-command>] [options]``.

Sub-commands live in `sensorlm_keras.commands`, one module each, registered automatically
(every module there that exposes ``add_parser(subparsers)``): ``data``, ``tokenizer``,
``train``, ``eval``, ``export`` and ``caption``. Heavy libraries are imported only by the
command that runs. Errors print one line ``sensorlm: error: ...`` and exit with code 2
(bad input, a stopped run) or 1 (anything unexpected, named by its type); set
``SENSORLM_DEBUG=1`` to get the traceback instead.
"""

import argparse
import os
import sys

from sensorlm_keras.errors import SensorLMError


class CommandParser(argparse.ArgumentParser):
    """``ArgumentParser`` whose usage errors are one line on stderr and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    """The full argument parser with every registered sub-command."""
    from sensorlm_keras import commands

    parser = CommandParser(
        prog="sensorlm",
        description="SensorLM (Keras 3): sensor-language models for wearable data. Generate "
        "and caption days, train a tokenizer, train (resumable, several devices), evaluate "
        "(zero-shot, retrieval, few-shot) and export for TF Serving. The backend is chosen by "
        "KERAS_BACKEND (tensorflow, jax, torch).",
        epilog="quick start:  sensorlm train --smoke && sensorlm export --run runs/smoke",
    )
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for module in commands.command_modules():
        module.add_parser(subparsers)
    return parser


def _version():
    from sensorlm_keras import __version__

    return f"sensorlm_keras {__version__}"


HEAVY_COMMANDS = ("train", "eval", "export", "caption")


MAX_MESSAGE_CHARS = 400


def short_message(error, limit=MAX_MESSAGE_CHARS):
    """One line of at most about ``limit`` characters for an error.

    Our own errors are short already; an error raised inside a backend can quote whole tensors
    (a ``PerReplica`` batch is 100 kB of numbers), so a longer message keeps its beginning,
    which names what failed, and says how to see the rest.
    """
    message = " ".join(str(error).split()) or type(error).__name__
    if len(message) <= limit:
        return message
    return (f"{message[:limit].rstrip()} ... ({len(message) - limit} more characters; "
            "set SENSORLM_DEBUG=1 for the full error)")


def main(argv=None):
    """Entry point of the ``sensorlm`` console script; returns the exit code.

    From the console (``argv`` None), the heavy commands (train, eval, export, caption) run
    under the tuned process environment of `sensorlm_keras.utils.runtime` (set
    ``SENSORLM_NO_TUNING=1`` to opt out).
    """
    if argv is None and len(sys.argv) > 1 and sys.argv[1] in HEAVY_COMMANDS:
        from sensorlm_keras.utils.runtime import reexec_with_tuned_environment

        reexec_with_tuned_environment(sys.argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("sensorlm: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if os.environ.get("SENSORLM_DEBUG"):
            raise
        expected = isinstance(error, (SensorLMError, ValueError, OSError))
        # A bad input or a stopped run is ours to explain; anything else is named by its
        # type (a bug or a backend failure) and still kept to one short line.
        text = short_message(error) if expected else (
            f"{type(error).__name__}: {short_message(error)}")
        if not expected and "SENSORLM_DEBUG" not in text:
            text += " (set SENSORLM_DEBUG=1 for the traceback)"
        print(f"sensorlm: error: {text}", file=sys.stderr)
        code = 2 if expected else 1
        if getattr(error, "exit_without_shutdown", False):
            # Another worker is gone: the backend's shutdown would wait for it (JAX: a
            # barrier, then an abort with a C++ stack trace), so leave at once.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        return code


if __name__ == "__main__":
    sys.exit(main())
