"""Reading notebooks and their nbgrader cell metadata."""

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


def test_cells(nb) -> dict:
    """Map grade_id -> cell for every graded test cell of ``nb``."""
    return {grade_info(c)["grade_id"]: c for c in nb.cells if is_test_cell(c)}
