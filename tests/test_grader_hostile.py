"""Broken and hostile submissions: each is graded correctly and the run goes on."""

import hashlib
import json

import nbformat
import pytest

from course_lib.grading.batch import grade_batch
from course_lib.grading.grade import grade_one
from course_lib.grading.release import student_version

LIMITS = {"cell_timeout": 20, "notebook_timeout": 120, "memory_mb": 8192}


def _solution():
    meta = lambda gid, grade, points=None: {  # noqa: E731
        "nbgrader": {
            "grade": grade,
            "grade_id": gid,
            "solution": not grade,
            "locked": grade,
            **({"points": points} if points else {}),
        }
    }
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("Write `double` and `square`."),
        nbformat.v4.new_code_cell(
            "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            metadata=meta("double", False),
        ),
        nbformat.v4.new_code_cell(
            "assert double(1) == 2\n### BEGIN HIDDEN TESTS\nassert double(21) == 42\n"
            "### END HIDDEN TESTS",
            metadata=meta("double-tests", True, 2),
        ),
        nbformat.v4.new_code_cell(
            "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
            metadata=meta("square", False),
        ),
        nbformat.v4.new_code_cell(
            "assert square(2) == 4\n### BEGIN HIDDEN TESTS\nassert square(9) == 81\n"
            "### END HIDDEN TESTS",
            metadata=meta("square-tests", True, 3),
        ),
    ]
    return nb


@pytest.fixture(scope="module")
def assignment(tmp_path_factory):
    root = tmp_path_factory.mktemp("assignment")
    (root / "solutions").mkdir()
    nbformat.write(_solution(), root / "solutions" / "toy.ipynb")
    return root


def submit(root, name, double_code, square_code="def square(x):\n    return x * x", edit=None):
    nb = student_version(_solution(), "toy.ipynb")
    nb.cells[1].source = double_code
    nb.cells[3].source = square_code
    if edit:
        edit(nb)
    path = root / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


HOSTILE = {
    # name: (code for double, expected points for double, expected points for square)
    "correct": ("def double(x):\n    return 2 * x", 2, 3),
    "only_visible_case": ("def double(x):\n    return 2", 0, 3),
    "exception_at_import": ("import no_such_module\ndef double(x):\n    return 2 * x", 0, 3),
    "sys_exit": ("import sys\nsys.exit(3)", 0, 3),
    "renamed_function": ("def twice(x):\n    return 2 * x", 0, 3),
    "huge_output": ("print('x' * 5_000_000)\ndef double(x):\n    return 2 * x", 2, 3),
    "huge_memory": ("block = bytearray(64 * 1024**3)\ndef double(x):\n    return 2 * x", 0, 3),
    "redefines_check_and_assert_helpers": (
        "import course_lib.grading.checks as c\nc.check = lambda *a, **k: None\n"
        "check = lambda *a, **k: None\ndef double(x):\n    return 0",
        0,
        3,
    ),
    "infinite_loop": ("while True:\n    pass", 0, 0),  # the time limit stops the notebook
    "kernel_death": ("import os\nos._exit(1)", 0, 0),  # so does a dead kernel
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_submission(assignment, tmp_path, name):
    code, want_double, want_square = HOSTILE[name]
    path = submit(tmp_path, name, code)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    result = grade_one(path, source_dir=assignment / "solutions", **LIMITS)
    points = {q.grade_id: q.points for q in result.questions}
    assert points == {"double-tests": want_double, "square-tests": want_square}, result
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, "the submission was modified"


def test_edited_tests_and_extra_cells_change_nothing(assignment, tmp_path):
    def cheat(nb):
        nb.cells[2].source = "pass"  # 'edit' the visible test away
        nb.cells.insert(0, nbformat.v4.new_code_cell("def check(*a, **k):\n    return None"))

    path = submit(tmp_path, "cheat", "def double(x):\n    return 2", edit=cheat)
    result = grade_one(path, source_dir=assignment / "solutions", **LIMITS)
    assert result.score == 3


def test_not_json_is_reported_not_fatal(assignment, tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{ not json")
    result = grade_one(path, source_dir=assignment / "solutions", **LIMITS)
    assert result.score == 0 and "not a valid notebook" in result.error


def test_batch_report_is_complete_and_incremental(assignment, tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    kinds = ["correct", "only_visible_case", "exception_at_import", "renamed_function"]
    for i in range(8):
        submit(folder, f"student{i:02d}", HOSTILE[kinds[i % 4]][0])
    (folder / "student99.ipynb").write_text("not a notebook")
    report = tmp_path / "report"
    results = grade_batch(
        [folder], report_dir=report, source_dir=assignment / "solutions", progress=False, **LIMITS
    )
    assert len(results) == 9
    assert [r.score for r in results[:4]] == [5, 3, 3, 3]
    lines = (report / "results.jsonl").read_text().splitlines()
    assert len(lines) == 9 and json.loads(lines[0])["score"] == 5
    csv_rows = (report / "scores.csv").read_text().splitlines()
    assert len(csv_rows) == 1 + 8 * 2 + 1  # header, two questions each, one broken file
    page = (report / "report.html").read_text()
    assert "student00" in page and "score distribution for double-tests" in page
    assert "NameError" in page and "not a valid notebook" in page
    # A second run finds every grade already recorded and grades nothing again.
    again = grade_batch(
        [folder], report_dir=report, source_dir=assignment / "solutions", progress=False, **LIMITS
    )
    assert [r.score for r in again] == [r.score for r in results]
    assert len((report / "results.jsonl").read_text().splitlines()) == 9
