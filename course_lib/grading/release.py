"""Write the student copies in ``exercises/`` from the solution notebooks in ``solutions/``.

Solution code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes the nbgrader stub
``# YOUR CODE HERE`` / ``raise NotImplementedError()`` (indentation kept); hidden tests between
``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` are removed; outputs are cleared.
"""

import copy
from pathlib import Path

import nbformat

from .notebooks import (
    ANSWER_STUB,
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    STUB,
    read_notebook,
)


class MarkerError(ValueError):
    """A solution notebook has unbalanced BEGIN/END markers."""


def _strip_region(source: str, begin: str, end: str, replacement: str | None, where: str) -> str:
    out, inside, indent = [], False, ""
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == begin:
            if inside:
                raise MarkerError(f"{where}: nested '{begin}'")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            if replacement is not None:
                out.extend(indent + r for r in replacement.splitlines())
        elif stripped == end:
            if not inside:
                raise MarkerError(f"{where}: '{end}' without '{begin}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: '{begin}' is never closed by '{end}'")
    return "\n".join(out)


def student_version(nb, name: str = "notebook") -> nbformat.NotebookNode:
    """Return the student copy of a solution notebook (the input is not modified)."""
    nb = copy.deepcopy(nb)
    for i, cell in enumerate(nb.cells):
        where = f"{name}, cell {i}"
        stub = STUB if cell.cell_type == "code" else ANSWER_STUB
        cell.source = _strip_region(cell.source, BEGIN_SOLUTION, END_SOLUTION, stub, where)
        cell.source = _strip_region(cell.source, BEGIN_HIDDEN, END_HIDDEN, None, where)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("jupytext", None)
    # The grader finds the right solution notebook even if the student renames the file.
    nb.metadata["course_lib"] = {"assignment": Path(name).stem}
    return nb


def _dumps(nb) -> str:
    return nbformat.writes(nb, version=4) + "\n"


def release(solutions_dir="solutions", exercises_dir="exercises", *, check_only=False) -> list:
    """Write (or, with ``check_only``, compare) every exercise notebook.

    Returns the list of exercise paths that were stale (with ``check_only``) or written.
    """
    solutions_dir, exercises_dir = Path(solutions_dir), Path(exercises_dir)
    sources = sorted(solutions_dir.glob("*.ipynb"))
    if not sources:
        raise FileNotFoundError(f"no solution notebooks (*.ipynb) in {solutions_dir}")
    changed = []
    for src in sources:
        target = exercises_dir / src.name
        text = _dumps(student_version(read_notebook(src), src.name))
        if target.exists() and target.read_text() == text:
            continue
        changed.append(target)
        if not check_only:
            exercises_dir.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    return changed
