"""The `served` export fixture shared by the tests in this folder (see `served_export`)."""

import json
import types

import numpy as np
import pytest

from tests.export.served_export import prepare
from tests.run_fixtures import build_once


@pytest.fixture(scope="session")
def worker_id(request):
    # pytest-xdist provides this fixture; without xdist it is "master".
    return getattr(request.config, "workerinput", {}).get("workerid", "master")


@pytest.fixture(scope="session")
def served(tmp_path_factory, worker_id):
    """The tiny run, its export, the client's inputs, outputs and report (built once per test
    run, shared by every xdist worker)."""
    base = tmp_path_factory.getbasetemp()
    root = build_once((base if worker_id == "master" else base.parent) / "export_served", prepare)
    from sensorlm_keras.runs.run_artifacts import load_run

    import sensorlm_keras.models.sensorlm  # noqa: F401  (registers the classes for loading)

    return types.SimpleNamespace(
        root=root,
        run=load_run(root / "run"),
        result=json.loads((root / "result.json").read_text()),
        inputs=dict(np.load(root / "inputs.npz")),
        outputs=dict(np.load(root / "outputs.npz")),
        report=json.loads((root / "report.json").read_text()),
    )
