"""Isolate a grading child process (and the kernel it starts) with bubblewrap.

Inside the sandbox the whole file system is read-only, ``/tmp`` is a fresh private tmpfs
(the scratch folder, ``HOME``, the Jupyter runtime folder and every cache live there and
vanish with the sandbox), there is no network but a private loopback (the kernel talks to its
client over 127.0.0.1), and the process tree dies with the grader. The submission and the
solution notebook are bound read-only at their own paths, so the child finds them even when
they live under ``/tmp``.

Where ``bwrap`` is missing or not allowed (macOS, some containers), grading runs without
isolation and says so once, with a warning.
"""

import functools
import glob
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

SANDBOX_HOME = "/tmp/home"

# Where the child's tools keep state; all of it under the private /tmp.
SANDBOX_ENV = {
    "HOME": SANDBOX_HOME,
    "TMPDIR": "/tmp",
    "JUPYTER_RUNTIME_DIR": "/tmp/jupyter-runtime",
    "IPYTHONDIR": "/tmp/ipython",
    "MPLCONFIGDIR": "/tmp/matplotlib",
    "XDG_CACHE_HOME": "/tmp/cache",
    "XDG_CONFIG_HOME": "/tmp/config",
}

_BASE = [
    "--ro-bind", "/", "/",
    "--dev", "/dev",
    "--proc", "/proc",
    "--tmpfs", "/tmp",
    "--dir", SANDBOX_HOME,
    "--unshare-net",
    "--unshare-pid",
    "--die-with-parent",
]  # fmt: skip


class IsolationWarning(RuntimeWarning):
    """Submissions are graded without a sandbox."""


@functools.cache
def available() -> bool:
    """Whether bubblewrap exists here and may create the namespaces we need."""
    if not sys.platform.startswith("linux") or shutil.which("bwrap") is None:
        return False
    try:
        probe = subprocess.run(
            ["bwrap", *_BASE, "true"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


@functools.cache
def warn_unisolated() -> None:
    """Say once per process that grading is not isolated, and why it matters."""
    where = "bwrap is not installed" if shutil.which("bwrap") is None else "bwrap may not run"
    warnings.warn(
        f"grading WITHOUT isolation ({where} here): submissions can use the network and "
        "write files anywhere you can. Install bubblewrap (Debian/Ubuntu: apt-get install "
        "bubblewrap) or grade inside a container or VM without network.",
        IsolationWarning,
        stacklevel=3,
    )


def _read_only_binds(paths) -> list[str]:
    """Bind each path that the private /tmp would hide back in, read-only."""
    binds = []
    for p in paths:
        p = Path(p).resolve()
        if p.exists() and (p == Path("/tmp") or Path("/tmp") in p.parents):
            binds += ["--ro-bind", str(p), str(p)]
    return binds


def _devices() -> list[str]:
    """GPUs stay usable: the fresh /dev would otherwise hide them."""
    found = sorted(glob.glob("/dev/nvidia*")) + (["/dev/dri"] if Path("/dev/dri").exists() else [])
    return [arg for dev in found for arg in ("--dev-bind", dev, dev)]


def wrap(cmd: list[str], readable=()) -> tuple[list[str], dict]:
    """The command and environment that run ``cmd`` in the sandbox.

    ``readable``: files or folders the command must read although they may be under /tmp.
    """
    python_home = [sys.prefix, Path(__file__).resolve().parents[2]]
    prefix = ["bwrap", *_BASE, *_devices(), *_read_only_binds([*python_home, *readable]), "--"]
    return prefix + cmd, {**os.environ, **SANDBOX_ENV}
