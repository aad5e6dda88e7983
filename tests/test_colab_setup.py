"""On a Python without course_lib, as on Colab, a notebook's setup cell installs it and the
notebook runs.

The test builds a wheel of this checkout, makes a fresh virtual environment without
course_lib, and executes chapter 02 in a kernel of that environment with
``COURSE_LIB_SOURCE`` set to the wheel: the setup cell runs its real code path, ``pip install
<source>``. Installing torch and the rest again would take minutes and the network, so the
packages of the test's own environment, minus course_lib, are made visible to the new one by a
``.pth`` line, as Colab's are preinstalled. pip runs with no index and no configuration, so it
can only succeed if every dependency of course_lib is already satisfied: nothing is
downloaded, and afterwards the new environment holds course_lib and nothing else.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbclient
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "02_perceptron.ipynb"
# Files of this environment that belong to course_lib (its editable install) and must not be
# visible to the new one; .pth files are not read from an added folder anyway.
NOT_SHARED = ("course_lib", "__editable__", "__pycache__")


def build_wheel(tmp: Path) -> Path:
    """A wheel of this checkout, built offline from a copy of it (the build writes files)."""
    src = tmp / "src"
    ignore = shutil.ignore_patterns(".venv", "_build", ".git", "__pycache__", "*.egg-info", "build")
    shutil.copytree(ROOT, src, ignore=ignore)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run([*cmd, "--no-index", "-q", "-w", str(tmp / "dist"), str(src)], check=True)
    (wheel,) = (tmp / "dist").glob("course_lib-*.whl")
    return wheel


def bare_environment(tmp: Path) -> Path:
    """A new virtual environment that sees this one's packages but not course_lib; its python."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    shared = tmp / "shared"
    shared.mkdir()
    for kind in ("purelib", "platlib"):  # often one folder
        for entry in Path(sysconfig.get_paths()[kind]).iterdir():
            visible = shared / entry.name
            if not entry.name.startswith(NOT_SHARED) and entry.suffix != ".pth":
                if not visible.is_symlink():
                    visible.symlink_to(entry)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "shared_packages.pth").write_text(f"{shared}\n")
    return python


def kernel_for(python: Path, tmp: Path) -> KernelManager:
    """A kernel manager that starts IPython kernels with ``python``."""
    spec_dir = tmp / "kernels" / "bare"
    spec_dir.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "bare", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(tmp / "kernels")])
    return KernelManager(kernel_name="bare", kernel_spec_manager=specs)


def kernel_env(wheel: Path) -> dict:
    """This environment, with pip unable to download anything and the wheel as the source."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PIP_") and k not in ("PYTHONPATH", "VIRTUAL_ENV", "COURSE_LIB_SOURCE")
    }
    env.update(
        COURSE_LIB_SOURCE=str(wheel),
        PIP_NO_INDEX="1",
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return env


BEFORE = """import importlib.util, sys
assert importlib.util.find_spec("course_lib") is None, "course_lib is importable before setup"
print(sys.prefix)"""
AFTER = """import course_lib
print(course_lib.__file__)"""


def test_setup_cell_installs_course_lib_where_it_is_missing(tmp_path):
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("course_lib/grading/") for n in names)
    assert not [n for n in names if n.startswith("booktools/")], "the wheel ships booktools"

    python = bare_environment(tmp_path)
    site = Path(python).parent.parent / "lib"
    before = {p.name for p in site.glob("python*/site-packages/*")}

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(BEFORE))
    nb.cells.append(nbformat.v4.new_code_cell(AFTER))
    workdir = tmp_path / "work"  # not the repository: its course_lib/ must not be on sys.path
    workdir.mkdir()
    client = nbclient.NotebookClient(
        nb,
        km=kernel_for(python, tmp_path),
        timeout=300,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute(env=kernel_env(wheel))

    prefix = nb.cells[0].outputs[0]["text"].strip()
    assert Path(prefix) == python.parent.parent, "the kernel did not run in the new environment"
    loaded = Path(nb.cells[-1].outputs[0]["text"].strip())
    assert loaded.is_relative_to(python.parent.parent), f"course_lib came from {loaded}"
    added = {p.name for p in site.glob("python*/site-packages/*")} - before
    assert {n for n in added if n != "__pycache__"} == {
        "course_lib",
        f"course_lib-{wheel.name.split('-')[1]}.dist-info",
    }, f"pip installed more than course_lib: {sorted(added)}"
