"""Run the judge's sandboxed half (``runner.py``) with no privileges and almost nothing visible.

With bubblewrap the child gets new user, pid, network, IPC, UTS and cgroup namespaces, an
unprivileged uid (65534) with every capability dropped, ``no_new_privs``, a new session, and
a file system of only: /usr and the linker cache, the Python installation and environment
(read-only, with course_lib's own folder hidden), the runner, a stand-in ``course_lib`` that
offers only a no-op ``check``, and size-limited tmpfs folders for /tmp and /dev/shm. The
repository, solutions/, home folders, /run, the report folder and other submissions are not
there. The environment is an allow-list. Memory (address space), CPU time, file size, open
files and, where the pids cgroup can be used, the number of processes are limited.

Where ``bwrap`` is missing or not allowed (macOS, some containers), the child runs without
isolation and the grader says so once, with a warning: the judge still decides every score
outside it, but the submission can read and write what the grader can.
"""

import functools
import glob
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import uuid
import warnings
from pathlib import Path

from . import runner

NOBODY = 65534
RUNNER = "/judge/runner.py"
SHIM = "/judge/lib"
SCRATCH = "/tmp"

ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": SCRATCH,
    "TMPDIR": SCRATCH,
    "LANG": "C.UTF-8",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "Agg",
    "MPLCONFIGDIR": f"{SCRATCH}/matplotlib",
}

SHIM_FILES = {
    "course_lib/__init__.py": '"""Only a stand-in: the course library is not available here."""\n',
    "course_lib/grading/__init__.py": (
        '"""A stand-in: while grading, the checks do nothing (and are not here)."""\n\n\n'
        "def check(*args, **kwargs):\n    return None\n\n\n"
        "def check_answer(*args, **kwargs):\n    return None\n"
    ),
}


class IsolationWarning(RuntimeWarning):
    """Submissions are graded without a sandbox."""


@functools.cache
def shim_dir() -> Path:
    """A grader-owned folder with the stand-in course_lib package (made once per process)."""
    root = Path(tempfile.mkdtemp(prefix="course-lib-shim-"))
    for name, text in SHIM_FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    for p in [root, *root.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return root


def site_paths() -> list[str]:
    """Where the child finds torch, numpy and the rest (no .pth files are run)."""
    paths = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    return sorted(p for p in paths if Path(p).is_dir())


def child_python() -> list[str]:
    # -I: ignore PYTHON* variables and the user's site; -S: no site-packages and no .pth hooks.
    return [sys.executable, "-I", "-S"]


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for top in ("/bin", "/lib", "/lib64", "/sbin"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    return args


def _python_binds() -> list[str]:
    """The interpreter, its standard library and the environment, read-only."""
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).absolute()}
    roots |= {Path(sys.executable).resolve().parent.parent}
    args = []
    for root in sorted(roots):
        if not str(root).startswith("/usr"):
            args += ["--ro-bind", str(root), str(root)]
    # The real course_lib (with the references) must not be importable, even if installed.
    real = Path(runner.__file__).resolve().parents[1]
    if any(real.is_relative_to(r) for r in roots):
        args += ["--tmpfs", str(real)]
    return args


def _devices() -> list[str]:
    """GPUs stay usable: the fresh /dev would otherwise hide them."""
    found = sorted(glob.glob("/dev/nvidia*")) + (["/dev/dri"] if Path("/dev/dri").exists() else [])
    return [arg for dev in found for arg in ("--dev-bind", dev, dev)]


def bwrap_args(tmpfs_mb: int) -> list[str]:
    env = [a for k, v in ENV.items() for a in ("--setenv", k, v)]
    size = str(tmpfs_mb * 1024 * 1024)
    return [
        "bwrap",
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--uid", str(NOBODY),
        "--gid", str(NOBODY),
        "--cap-drop", "ALL",
        "--new-session",
        "--die-with-parent",
        "--clearenv", *env,
        *_system_binds(),
        "--proc", "/proc",
        "--dev", "/dev",
        *_devices(),
        # The scratch folders first: an environment or shim that lives under /tmp is bound on
        # top of them afterwards, instead of being hidden by them.
        "--size", size, "--tmpfs", SCRATCH,
        "--size", size, "--tmpfs", "/dev/shm",
        *_python_binds(),
        "--ro-bind", str(Path(runner.__file__).resolve()), RUNNER,
        "--ro-bind", str(shim_dir()), SHIM,
        "--chdir", SCRATCH,
    ]  # fmt: skip


@functools.cache
def available() -> bool:
    """Whether bubblewrap exists here and may create the namespaces we need."""
    if not sys.platform.startswith("linux") or shutil.which("bwrap") is None:
        return False
    try:
        probe = subprocess.run(
            [*bwrap_args(1), *child_python(), "-c", "pass"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


@functools.cache
def warn_unisolated() -> None:
    """Say once per process that grading is not isolated, and why it matters."""
    where = "bwrap is not installed" if shutil.which("bwrap") is None else "bwrap may not run"
    warnings.warn(
        f"grading WITHOUT isolation ({where} here): submissions can read your files (the "
        "solutions included), write files anywhere you can and use the network; scores are "
        "still decided outside the submission's process. Install bubblewrap (Debian/Ubuntu: "
        "apt-get install bubblewrap) or grade inside a container or VM without network.",
        IsolationWarning,
        stacklevel=3,
    )


def limits(memory_mb: int | None, cpu_s: int) -> list[str]:
    """A ``prlimit`` prefix: address space, CPU seconds, file size, open files, no core dumps."""
    if shutil.which("prlimit") is None:
        return []
    args = ["prlimit", f"--cpu={cpu_s}", f"--fsize={64 * 1024 * 1024}", "--nofile=256", "--core=0"]
    if memory_mb:
        args.append(f"--as={memory_mb * 1024 * 1024}")
    return [*args, "--"]


class ProcessLimit:
    """A pids cgroup that caps the processes of one submission, where the grader may make one."""

    ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")

    def __init__(self, max_processes: int):
        self.path = None
        for root in self.ROOTS:
            if os.access(root, os.W_OK) and Path(root, "cgroup.procs").exists():
                path = Path(root, f"course-lib-grade-{uuid.uuid4().hex}")
                try:
                    path.mkdir()
                    (path / "pids.max").write_text(str(max_processes))
                except OSError:
                    shutil.rmtree(path, ignore_errors=True)
                    continue
                self.path = path
                break

    def prefix(self) -> list[str]:
        """A shell that joins the cgroup and then becomes the command (so no process escapes)."""
        if self.path is None:
            return []
        return ["/bin/sh", "-c", f'echo $$ > {self.path}/cgroup.procs && exec "$@"', "sh"]

    def remove(self) -> None:
        if self.path is not None:
            try:
                self.path.rmdir()
            except OSError:
                pass  # still busy for a moment; an empty cgroup costs nothing


def command(*, isolate: bool | None, memory_mb, cpu_s: int, tmpfs_mb: int, fd: int):
    """The command line that runs the runner, isolated where possible."""
    tail = [*child_python(), RUNNER, str(fd)]
    if isolate is not False and available():
        return [*limits(memory_mb, cpu_s), *bwrap_args(tmpfs_mb), *tail], True
    if isolate:
        raise RuntimeError("isolation was requested but bubblewrap (bwrap) cannot run here")
    if isolate is None:
        warn_unisolated()
    local = [*child_python(), str(Path(runner.__file__).resolve()), str(fd)]
    # A shell stays between the grader and the runner, so that a submission that kills its
    # parent ends its own run, not the grader. (Without the sandbox nothing else is defended.)
    buffer = ["/bin/sh", "-c", '"$@"; exit $?', "sh"]
    return [*limits(memory_mb, cpu_s), *buffer, *local], False
