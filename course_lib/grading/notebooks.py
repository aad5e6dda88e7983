"""Reading notebooks and their nbgrader cell metadata."""

import ast
import json
from pathlib import Path

import nbformat

STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
ANSWER_STUB = "YOUR ANSWER HERE"
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


class NotebookError(ValueError):
    """A file that should be a notebook is missing or is not one."""


def read_notebook(path) -> nbformat.NotebookNode:
    """Read a notebook, turning every way it can be broken into one clear ``NotebookError``."""
    path = Path(path)
    if not path.is_file():
        raise NotebookError(f"{path}: no such file (expected a .ipynb notebook)")
    try:
        nb = nbformat.read(path, as_version=4)
    except (json.JSONDecodeError, UnicodeDecodeError, nbformat.reader.NotJSONError) as err:
        raise NotebookError(f"{path}: not a valid notebook (not JSON): {err}") from None
    except Exception as err:  # nbformat raises several kinds for malformed notebooks
        raise NotebookError(f"{path}: not a valid notebook: {err}") from None
    return nb


def grade_info(cell) -> dict:
    """The cell's nbgrader metadata, or {} if it has none."""
    return dict(cell.get("metadata", {}).get("nbgrader", {}))


def is_test_cell(cell) -> bool:
    info = grade_info(cell)
    return cell.cell_type == "code" and bool(info.get("grade")) and not info.get("solution")


def is_solution_cell(cell) -> bool:
    return bool(grade_info(cell).get("solution"))


def is_manual_cell(cell) -> bool:
    """A manually graded answer (nbgrader: solution and grade) or task: graded by hand."""
    info = grade_info(cell)
    return bool(info.get("task") or (info.get("grade") and info.get("solution")))


def manual_cells(nb) -> dict:
    """Map grade_id -> cell for every cell that an instructor grades by hand."""
    return {grade_info(c)["grade_id"]: c for c in nb.cells if is_manual_cell(c)}


def test_cells(nb) -> dict:
    """Map grade_id -> cell for every graded test cell of ``nb``."""
    return {grade_info(c)["grade_id"]: c for c in nb.cells if is_test_cell(c)}


def bound_names(sources) -> tuple[set, dict]:
    """Top-level names the code binds, and {alias: module} for its imports.

    Cells that do not parse as Python (IPython magics) are skipped.
    """
    names, aliases = set(), {}
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                for a in node.names:
                    alias = a.asname or a.name.split(".")[0]
                    aliases[alias] = a.name if a.asname else alias
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    names.add(a.asname or a.name)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
    names.update(aliases)
    return names, aliases
