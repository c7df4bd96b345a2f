"""The package's dependencies point one way, and backend-specific code stays in its rooms.

Independent reference: the import statements of every module, read with `ast` (no import
runs). README "Code map" states the same rules for readers.
"""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "sensorlm_keras"

# Higher imports lower; packages of one rank do not import each other.
RANKS = {
    "cli": 7,
    "commands": 6,
    "training": 5,
    "evaluation": 5,
    "export": 5,
    "runs": 4,
    "models": 3,
    "data": 3,
    "tokenizers": 3,
    "layers": 2,
    "losses": 2,
    "distribute": 2,
    "backend": 1,
    "utils": 0,
    "errors": -1,
}
# The Keras backends; a module may import one only inside a room named for it.
BACKEND_LIBRARIES = {"jax": "jax", "torch": "torch"}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts == ("__init__",):
            continue  # the package's lazy public names
        yield path, parts


def _imports(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "sensorlm_keras":  # from sensorlm_keras import backend
                for alias in node.names:
                    yield f"sensorlm_keras.{alias.name}", node.lineno
            else:
                yield node.module, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno


def test_every_package_has_a_rank():
    packages = {parts[0] for _, parts in _modules()}
    assert packages == set(RANKS), sorted(packages ^ set(RANKS))


def test_dependencies_point_one_way():
    wrong = []
    for path, parts in _modules():
        source = parts[0]
        for module, line in _imports(path):
            names = module.split(".")
            if names[0] != "sensorlm_keras" or len(names) < 2 or names[1] == source:
                continue
            target = names[1]
            if target in RANKS and RANKS[target] >= RANKS[source]:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} {source} -> {target}")
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


@pytest.mark.parametrize("library", sorted(BACKEND_LIBRARIES))
def test_backend_libraries_are_imported_only_in_their_rooms(library):
    """JAX and PyTorch code lives in `backend/jax/`, `backend/torch/` (or a module named for
    the backend); TensorFlow is also the data, tokenizer and export library, so it is not
    restricted this way."""
    wrong = []
    for path, parts in _modules():
        room = library in parts or any(part.endswith(f"_{library}") or
                                       part.startswith(f"{library}_") for part in parts)
        for module, line in _imports(path):
            if module.split(".")[0] == library and not room:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_the_backend_is_read_only_at_the_dispatch_point():
    """`keras.backend.backend()` decides behaviour only in `sensorlm_keras/backend/__init__.py`
    (other modules may record or print its name, listed here)."""
    allowed = {
        ("backend", "__init__"),  # the dispatch point
        ("distribute", "distribution_plan"),  # names it in its messages and describe()
        ("export", "saved_model"),  # exports run under TensorFlow (a subprocess otherwise)
        ("export", "_worker"),  # checks that the subprocess really runs TensorFlow
        ("export", "serving_module"),  # refuses to build outside TensorFlow
        ("runs", "run_artifacts"),  # records the backend in run_config.json
        ("training", "trainer"),  # prints it
        ("evaluation", "report"),  # records it in report.json
    }
    found = []
    for path, parts in _modules():
        text = path.read_text(encoding="utf-8")
        if "backend.backend()" in text and tuple(parts) not in allowed:
            found.append(str(path.relative_to(PACKAGE)))
    assert not found, found
