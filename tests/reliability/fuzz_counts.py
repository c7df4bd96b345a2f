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


def counter(name):
    """The `CaseCounter` of a fuzz test (created on first use)."""
    return _COUNTS.setdefault(name, CaseCounter(name))


def run_case(name, call, expected_errors, check, fields=()):
    """Run one fuzz case: ``check(result)`` on success, or the error must be one of
    ``expected_errors`` and name one of ``fields``. Any other exception propagates (a bug)."""
    case = counter(name)
    try:
        result = call()
    except expected_errors as error:
        message = str(error)
        assert message, f"{type(error).__name__} without a message"
        if fields:
            assert any(f in message for f in fields), f"message names no field: {message}"
        case.rejected(error)
        return None
    check(result)
    case.ok()
    return result


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
