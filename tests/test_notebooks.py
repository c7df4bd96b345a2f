"""The teaching notebooks in ``notebooks/``.

Fast checks: the seven notebooks exist, start with a markdown cell that says what they show and
how long they take, and are committed with their outputs stripped (no outputs, execution count
null). Slow checks (one per notebook): each runs top to bottom with nbclient in a fresh
``python3`` kernel started from this interpreter (``sys.executable``, through a kernel spec
written to a temporary directory, so no kernel spec is installed anywhere), with the repository
root as working directory; running it leaves the repository copy untouched, still stripped.
"""

import json
import pathlib
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
EXPECTED = (
    "01_quickstart.ipynb",
    "02_captions.ipynb",
    "03_zero_shot_and_retrieval.ipynb",
    "04_few_shot.ipynb",
    "05_export_and_serve.ipynb",
    "06_backends_and_devices.ipynb",
    "07_captioning.ipynb",
)
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 600  # per cell; a whole notebook takes well under two minutes on 2 cores


def _ids(path):
    return path.stem


def test_the_seven_notebooks_are_there():
    assert set(EXPECTED) <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_is_committed_stripped(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = notebook["cells"]
    assert cells and cells[0]["cell_type"] == "markdown", "must open with a markdown cell"
    intro = "".join(cells[0]["source"]).lower()
    assert "runtime" in intro, "the opening cell must say how long the notebook takes"
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"cell {index} has outputs"
            assert cell.get("execution_count") is None, f"cell {index} has an execution count"
        assert "attachments" not in cell or not cell["attachments"], f"cell {index}"


def _kernel_manager(spec_root):
    """A KernelManager for a ``python3`` kernel that runs this interpreter's ipykernel."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec_dir = spec_root / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (sensorlm_keras tests)",
        "language": "python",
    }))
    specs = KernelSpecManager(kernel_dirs=[str(spec_root)], ensure_native_kernel=False)
    return KernelManager(kernel_name="python3", kernel_spec_manager=specs)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    committed = path.read_bytes()
    notebook = nbformat.reads(committed.decode("utf-8"), as_version=4)
    client = NotebookClient(
        notebook,
        km=_kernel_manager(tmp_path / "kernels"),
        timeout=CELL_TIMEOUT_S,
        allow_errors=False,
        resources={"metadata": {"path": str(ROOT)}},
    )
    start = time.monotonic()
    client.execute()  # raises CellExecutionError naming the failing cell
    seconds = time.monotonic() - start
    errors = [
        output for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.outputs if output.get("output_type") == "error"
    ]
    assert not errors, errors
    ran = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in ran)
    assert path.read_bytes() == committed, "executing must not write into the repository copy"
    print(f"{path.name}: {seconds:.1f} s")
