"""The setup cell at the top of every notebook: where course_lib is missing, it installs it.

Colab (the site's launch button) opens a notebook with PyTorch but without course_lib. So every
chapter, solution and exercise notebook starts with one short cell, made from ``TEMPLATE``,
that pip-installs the book's own release of course_lib when it cannot be imported and does
nothing where it can (``make lab``, the tests, the grader, the robustness sweep).

The install source is pinned: ``course_lib @ git+<repository.url of _config.yml>@v<version of
pyproject.toml>``, the release tag of this version. pip installs course_lib's own dependency
ranges, never requirements.lock, so Colab keeps its own PyTorch. ``COURSE_LIB_SOURCE`` in the
environment replaces the source (a wheel, a folder), which is how the tests run the same cell.

    python -m booktools.setup_cell            # write the cell into every notebook (make setup-cells)
    python -m booktools.setup_cell --check    # list the notebooks whose first cell is not it

The cell carries the tag ``remove-cell``: the rendered book leaves it out of its pages.
"""

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TAG = "remove-cell"
# Paired notebooks: the generator edits the .md and syncs its .ipynb. exercises/ is written
# from solutions/ by the release step, which keeps the cell.
PAIRED_DIRS = ("notebooks", "solutions")
ALL_DIRS = (*PAIRED_DIRS, "exercises")
REGENERATE = "run `make setup-cells` (python -m booktools.setup_cell, then make exercises)"

TEMPLATE = """\
# Setup for Colab: installs course_lib, this book's helper library, if it is missing.
# Where course_lib is installed (make lab, the tests), this cell does nothing.
import importlib.util, os, subprocess, sys

if importlib.util.find_spec("course_lib") is None:
    release = "git+{url}@{ref}"
    source = os.environ.get("COURSE_LIB_SOURCE", f"course_lib @ {{release}}")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], check=True)
    importlib.invalidate_caches()"""


def repository_url(config: Path | None = None) -> str:
    """``repository.url`` of the Jupyter Book config: the repository Colab opens and installs."""
    config = config or ROOT / "_config.yml"
    url = (yaml.safe_load(config.read_text()).get("repository") or {}).get("url")
    if not isinstance(url, str) or not re.fullmatch(r"https://[^\s@\"']+", url):
        raise ValueError(
            f"{config}: repository.url must be an https:// address with no spaces, quotes or @, "
            f"got {url!r}"
        )
    return url.rstrip("/")


def release_ref(pyproject: Path | None = None) -> str:
    """The git tag of this release of course_lib: ``v`` + pyproject's version (``v0.1.0``)."""
    pyproject = pyproject or ROOT / "pyproject.toml"
    found = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(), flags=re.M)
    if not found:
        raise ValueError(f'{pyproject}: no `version = "..."` line in [project]')
    return f"v{found.group(1)}"


def setup_source(root: Path | None = None) -> str:
    """The setup cell's code for the repository and version of the project at ``root``."""
    root = root or ROOT
    url, ref = repository_url(root / "_config.yml"), release_ref(root / "pyproject.toml")
    return TEMPLATE.format(url=url, ref=ref)


def is_setup_cell(cell, source: str | None = None) -> bool:
    """Whether ``cell`` (a dict or NotebookNode) is the generated setup cell, unedited: a code
    cell tagged ``remove-cell`` whose source is exactly ``source`` (default: today's)."""
    if cell.get("cell_type") != "code" or TAG not in cell.get("metadata", {}).get("tags", []):
        return False
    text = cell.get("source", "")
    text = "".join(text) if isinstance(text, list) else text
    return text == (source if source is not None else setup_source())


def looks_like_setup_cell(cell) -> bool:
    """Whether ``cell`` is a setup cell of some version (to be replaced, not kept beside)."""
    text = cell.get("source", "")
    text = "".join(text) if isinstance(text, list) else text
    first_line = TEMPLATE.splitlines()[0]
    return cell.get("cell_type") == "code" and text.startswith(first_line)


def problem(path: Path, source: str) -> str | None:
    """What is wrong with the first cell of the notebook at ``path``, or None."""
    import jupytext

    nb = jupytext.read(path)
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    if not nb.cells:
        return f"{name}: the notebook is empty: {REGENERATE}"
    if not is_setup_cell(nb.cells[0], source):
        return (
            f"{name}: the first cell is not the generated setup cell "
            f"(code cell tagged {TAG!r}, source from booktools/setup_cell.py): {REGENERATE}"
        )
    return None


def write_cell(md: Path, source: str) -> bool:
    """Put the setup cell first in the paired notebook ``md`` (replacing an older one) and sync
    its .ipynb. Returns whether the file changed."""
    import jupytext
    import nbformat
    from jupytext.cli import jupytext as jupytext_cli

    nb = jupytext.read(md)
    if nb.cells and is_setup_cell(nb.cells[0], source):
        return False
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [TAG]})
    if nb.cells and looks_like_setup_cell(nb.cells[0]):
        nb.cells[0] = cell
    else:
        nb.cells.insert(0, cell)
    jupytext.write(nb, md, fmt="md:myst")
    jupytext_cli(["--sync", "--quiet", str(md)])
    return True


def notebooks(dirs=ALL_DIRS, suffix=".ipynb") -> list[Path]:
    return [p for d in dirs for p in sorted((ROOT / d).glob(f"*{suffix}"))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m booktools.setup_cell", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report, change nothing")
    args = parser.parse_args(argv)
    source = setup_source()
    if args.check:
        problems = [p for nb in notebooks() if (p := problem(nb, source))]
        print("\n".join(problems) or "every notebook starts with the setup cell")
        return 1 if problems else 0
    changed = [md for md in notebooks(PAIRED_DIRS, ".md") if write_cell(md, source)]
    for md in changed:
        print(f"setup cell written: {md.relative_to(ROOT)}")
    print(f"{len(changed)} notebooks changed; now run `make exercises` for exercises/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
