"""Sub-commands of the ``sensorlm`` CLI, one module each.

A command module exposes ``add_parser(subparsers)``, which adds its parser (with ``help`` and
``description``) and sets ``func`` (a callable taking the parsed ``argparse.Namespace`` and
returning an exit code) with ``parser.set_defaults(func=...)``. Modules are discovered
automatically; names starting with ``_`` are helpers, not commands.
"""

import importlib
import pkgutil


def command_modules():
    """The command modules of this package, sorted by name."""
    modules = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if callable(getattr(module, "add_parser", None)):
            modules.append(module)
    return modules
