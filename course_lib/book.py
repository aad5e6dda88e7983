"""Building the book from the notebooks that the test run executed.

``python -m course_lib.book build`` assembles ``_build/site-src`` (the Jupyter Book config, the
``book/`` pages and the *executed* notebooks) and runs Jupyter Book on it with warnings as
errors. Executed notebooks come from ``_build/executed``, written by the nbval run
(``conftest.py``); each records a hash of its source and of ``course_lib``, so an executed
copy made before a change to either is never used.
"""

import argparse
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
EXECUTED_DIR = ROOT / "_build" / "executed"
SITE_SRC = ROOT / "_build" / "site-src"
# Widget views need a live kernel (or a CDN) to draw anything: the static book leaves them out.
DROPPED_MIME = "application/vnd.jupyter.widget-view+json"


def source_hash(notebook: Path) -> str:
    """sha256 over the notebook file and every course_lib source file."""
    h = hashlib.sha256(Path(notebook).read_bytes())
    for path in sorted((ROOT / "course_lib").rglob("*.py")):
        h.update(path.relative_to(ROOT).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def executed_path(notebook: Path) -> Path:
    return EXECUTED_DIR / Path(notebook).resolve().relative_to(ROOT)


def is_fresh(notebook: Path) -> bool:
    target = executed_path(notebook)
    if not target.is_file():
        return False
    meta = nbformat.read(target, as_version=4).metadata.get("course_lib", {})
    return meta.get("source_hash") == source_hash(notebook)


def _clean_outputs(outputs) -> list:
    """Merge consecutive stream outputs (keeping only what a terminal would show after \\r)
    and drop widget views."""
    cleaned = []
    for out in outputs:
        out = nbformat.from_dict(dict(out))
        if out.output_type in ("display_data", "execute_result"):
            out.data = {k: v for k, v in out.data.items() if k != DROPPED_MIME}
            if not out.data or set(out.data) == {"text/plain"} and "Box(" in out.data["text/plain"]:
                continue
            out.setdefault("metadata", {})
        if (
            out.output_type == "stream"
            and cleaned
            and cleaned[-1].output_type == "stream"
            and cleaned[-1].name == out.name
        ):
            cleaned[-1].text += out.text
            continue
        cleaned.append(out)
    for out in cleaned:
        if out.output_type == "stream":
            out.text = "\n".join(line.rsplit("\r", 1)[-1] for line in out.text.split("\n"))
    return cleaned


def write_executed(notebook: Path, cell_outputs: dict) -> Path:
    """Save ``notebook`` with the outputs nbval collected, keyed by code-cell number."""
    nb = nbformat.read(notebook, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=0):
        cell.outputs = _clean_outputs(cell_outputs.get(number, []))
        cell.execution_count = number + 1 if number in cell_outputs else None
        for out in cell.outputs:
            if out.output_type == "execute_result":
                out.execution_count = cell.execution_count
    nb.metadata["course_lib"] = {"source_hash": source_hash(notebook)}
    target = executed_path(notebook)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def toc_notebooks() -> list[Path]:
    """The notebooks listed in _toc.yml (files under notebooks/)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc)
    return [ROOT / f"{f}.ipynb" for f in files if f.startswith("notebooks/")]


def stage() -> Path:
    """Assemble _build/site-src; fail if any notebook lacks a fresh executed copy."""
    stale = [nb for nb in toc_notebooks() if not is_fresh(nb)]
    if stale:
        names = ", ".join(p.name for p in stale)
        raise SystemExit(
            f"no up-to-date executed copy of: {names}. Run `make book` (it executes "
            "them) or `make test`."
        )
    if SITE_SRC.exists():
        shutil.rmtree(SITE_SRC)
    SITE_SRC.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, SITE_SRC / name)
    shutil.copytree(ROOT / "book", SITE_SRC / "book")
    for nb in toc_notebooks():
        target = SITE_SRC / nb.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(executed_path(nb), target)
    return SITE_SRC


def build() -> Path:
    """Stage the sources and build the HTML site into _build/html (warnings are errors)."""
    src = stage()
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(src),
        "--path-output",
        str(ROOT),
        "--warningiserror",
        "--nitpick",
        "--keep-going",
    ]
    subprocess.run(cmd, check=True, cwd=ROOT)
    index = ROOT / "_build" / "html" / "index.html"
    print(f"\nThe book is built. Open {index}")
    return index


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.book")
    parser.add_argument("command", choices=["stage", "build"])
    args = parser.parse_args(argv)
    (stage if args.command == "stage" else build)()
    return 0


if __name__ == "__main__":
    sys.exit(main())
