"""Process environment settings that change training speed, applied by the `sensorlm` CLI.

Measured on the project's 2-core CPU machines (README, "Performance"):

- ``GLIBC_TUNABLES=glibc.malloc.hugetlb=1``: glibc's malloc asks the kernel for transparent
  huge pages on the large buffers it maps. XLA (JAX, and TensorFlow's jit-compiled steps)
  allocates fresh multi-GB temporaries every step; with 4 KiB pages the first touch of each
  page is a page fault. The tunable is read when the process starts, so the CLI re-executes
  itself once with it set (``SENSORLM_TUNED=1`` marks the re-executed process).

Nothing is changed when the user has set the variable already, when ``SENSORLM_NO_TUNING=1``,
or outside Linux. Threads are left to the backends (each uses every core by default);
``OMP_NUM_THREADS`` and friends are respected if the user sets them.
"""

import os
import sys

TUNED_MARKER = "SENSORLM_TUNED"
OPT_OUT = "SENSORLM_NO_TUNING"
HUGETLB = "glibc.malloc.hugetlb=1"


def tuned_environment(environ=None):
    """The environment the CLI would run under: ``environ`` plus the settings above.

    Returns a new dict; ``environ`` (default ``os.environ``) is not modified.
    """
    env = dict(os.environ if environ is None else environ)
    if env.get(OPT_OUT) == "1" or not sys.platform.startswith("linux"):
        return env
    tunables = env.get("GLIBC_TUNABLES", "")
    if "glibc.malloc.hugetlb" not in tunables:
        env["GLIBC_TUNABLES"] = f"{tunables}:{HUGETLB}" if tunables else HUGETLB
    return env


def reexec_with_tuned_environment(argv):
    """Re-execute ``python -m sensorlm_keras.cli argv`` under `tuned_environment`, once.

    Returns (does nothing) when the environment is already tuned, when the user opted out, or
    when nothing would change; otherwise it does not return.
    """
    if os.environ.get(TUNED_MARKER) == "1":
        return
    env = tuned_environment()
    if env == dict(os.environ):
        return
    env[TUNED_MARKER] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "sensorlm_keras.cli", *argv], env)
