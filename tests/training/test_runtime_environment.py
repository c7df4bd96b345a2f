"""The CLI's tuned process environment (sensorlm_keras.utils.runtime)."""

import os
import sys

from sensorlm_keras.utils import runtime


def test_tuned_environment_adds_hugetlb_and_keeps_user_settings():
    env = runtime.tuned_environment({"PATH": "/bin"})
    assert env["GLIBC_TUNABLES"] == "glibc.malloc.hugetlb=1"
    kept = runtime.tuned_environment({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"})
    assert kept["GLIBC_TUNABLES"] == "glibc.malloc.hugetlb=0"  # the user's choice wins
    other = runtime.tuned_environment({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"})
    assert other["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"
    assert "GLIBC_TUNABLES" not in runtime.tuned_environment({"SENSORLM_NO_TUNING": "1"})


def test_cli_reexecutes_heavy_commands_once_with_the_tuned_environment(monkeypatch):
    from sensorlm_keras import cli

    calls = []

    def fake_execve(path, args, env):
        calls.append((path, args, env))
        raise SystemExit(0)

    monkeypatch.setattr(os, "execve", fake_execve)
    for name in ("SENSORLM_TUNED", "GLIBC_TUNABLES", "SENSORLM_NO_TUNING"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "argv", ["sensorlm", "train", "--smoke"])
    try:
        cli.main()
    except SystemExit:
        pass
    assert len(calls) == 1
    path, args, env = calls[0]
    assert path == sys.executable
    assert args == [sys.executable, "-m", "sensorlm_keras.cli", "train", "--smoke"]
    assert env["GLIBC_TUNABLES"] == "glibc.malloc.hugetlb=1" and env["SENSORLM_TUNED"] == "1"

    # The re-executed process (marker set) and light commands do not re-execute.
    calls.clear()
    monkeypatch.setenv("SENSORLM_TUNED", "1")
    runtime.reexec_with_tuned_environment(["train"])
    monkeypatch.delenv("SENSORLM_TUNED")
    monkeypatch.setattr(sys, "argv", ["sensorlm", "data", "--help"])
    try:
        cli.main()
    except SystemExit:
        pass
    assert calls == []
