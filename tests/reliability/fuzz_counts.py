"""pytest plugin of the reliability suite: fuzz case counters printed at the end of the run.

Registered from ``tests/conftest.py`` (``pytest_plugins``) so that the summary hook also runs in
the pytest-xdist controller, which collects the workers' counts.

Each fuzz test records how many generated cases it tried and how each ended (``ok`` with its
invariant checked, or rejected with a named project error). `pytest_terminal_summary` prints one
line per test in the normal pytest output (no ``-s`` needed), e.g.::

    fuzz preprocessing (arrays): 300 cases, 212 ok, 88 rejected with DataError

The counts are also written to ``$SENSORLM_FUZZ_COUNTS`` (JSON) when that variable is set.
"""

import collections
import json
import os

import pytest

_COUNTS = collections.OrderedDict()


class CaseCounter:
    """Counts the outcomes of the cases of one fuzz test."""

    def __init__(self, name):
        self.name = name
        self.outcomes = collections.Counter()

    def ok(self):
        self.outcomes["ok"] += 1

    def rejected(self, error):
        self.outcomes[f"rejected with {type(error).__name__}"] += 1

    @property
    def total(self):
        return sum(self.outcomes.values())

    def line(self):
        parts = [f"{self.outcomes['ok']} ok"] + [
            f"{n} {k}" for k, n in sorted(self.outcomes.items()) if k != "ok"
        ]
        return f"{self.name}: {self.total} cases, " + ", ".join(parts)


@pytest.fixture
def case_counter(request):
    """A `CaseCounter` named after the test's ``fuzz_name`` marker (or the test name)."""
    marker = request.node.get_closest_marker("fuzz_name")
    name = marker.args[0] if marker else request.node.name
    counter = _COUNTS.setdefault(name, CaseCounter(name))
    yield counter


def pytest_configure(config):
    config.addinivalue_line("markers", "fuzz_name(name): label of a fuzz test in the case summary")


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the counts to the controller
        workeroutput["sensorlm_fuzz_counts"] = json.dumps(
            {k: dict(v.outcomes) for k, v in _COUNTS.items()}
        )


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    raw = getattr(node, "workeroutput", {}).get("sensorlm_fuzz_counts")
    if not raw:
        return
    for name, outcomes in json.loads(raw).items():
        counter = _COUNTS.setdefault(name, CaseCounter(name))
        counter.outcomes.update(outcomes)


def pytest_terminal_summary(terminalreporter):
    if not _COUNTS:
        return
    terminalreporter.section("reliability: fuzz cases tried")
    total = 0
    for counter in _COUNTS.values():
        terminalreporter.write_line(counter.line())
        total += counter.total
    terminalreporter.write_line(f"all fuzz tests: {total} cases")
    path = os.environ.get("SENSORLM_FUZZ_COUNTS")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({k: dict(v.outcomes) for k, v in _COUNTS.items()}, f, indent=2)
