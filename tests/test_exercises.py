"""The exercise pipeline: generated student copies, checks, and the grader.

Each solution notebook is executed here by the grader (that is its one execution in a test
run): it must score full marks, its untouched exercise must score zero with every lost point
due to a stub, and neither file may change.
"""

import hashlib
import json
from pathlib import Path

import nbformat
import pytest

from course_lib.grading import CheckFailed, case, check
from course_lib.grading.__main__ import main as grading_cli
from course_lib.grading.grade import grade_one
from course_lib.grading.notebooks import BEGIN_HIDDEN, BEGIN_SOLUTION, is_manual_cell, is_test_cell
from course_lib.grading.release import MarkerError, release, student_version

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_full_marks_exercise_zero(solution):
    exercise = ROOT / "exercises" / solution.name
    before = {p: _digest(p) for p in (solution, exercise)}

    solved = grade_one(solution, source_dir=ROOT / "solutions")
    assert solved.error is None, solved.error
    auto = [q for q in solved.questions if not q.manual]
    assert len(auto) >= 4, "each chapter needs at least four auto-graded questions"
    lost = [(q.grade_id, q.error) for q in auto if q.points < q.max_points]
    assert not lost, f"the solution loses points: {lost}"
    assert solved.score == solved.max_score > 0
    # written answers are never scored by the grader, not even the model answer
    hand = [q for q in solved.questions if q.manual]
    assert hand and all(q.points == 0 and q.error is None for q in hand)
    assert solved.manual_points == sum(q.max_points for q in hand) > 0

    untouched = grade_one(exercise, source_dir=ROOT / "solutions")
    assert untouched.error is None, untouched.error
    assert untouched.score == 0 and untouched.max_score == solved.max_score
    assert untouched.manual_points == solved.manual_points
    assert all(
        "NotImplementedError" in (q.error or "") for q in untouched.questions if not q.manual
    ), [(q.grade_id, q.error) for q in untouched.questions]
    assert all(q.error == "the answer cell is blank" for q in untouched.questions if q.manual)

    assert {p: _digest(p) for p in before} == before, "grading modified a notebook"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_exercise_keeps_no_solution_or_hidden_test(solution):
    source = nbformat.read(solution, as_version=4)
    exercise = nbformat.read(ROOT / "exercises" / solution.name, as_version=4)
    text = json.dumps([c.source for c in exercise.cells])
    assert BEGIN_SOLUTION not in text and BEGIN_HIDDEN not in text
    for cell in source.cells:
        for region in _regions(cell.source):
            assert region not in text, f"solution or hidden-test code leaked: {region[:60]!r}"
    assert exercise.metadata["course_lib"]["assignment"] == solution.stem


def _regions(source: str):
    """The code between BEGIN/END markers, as blocks of at least one meaningful line."""
    inside, block = False, []
    for line in source.splitlines():
        if line.strip() in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
            inside, block = True, []
        elif line.strip() in ("### END SOLUTION", "### END HIDDEN TESTS"):
            inside = False
            body = "\n".join(block).strip()
            if len(body) > 20:
                yield body
        elif inside:
            block.append(line)


def test_exercises_are_fresh(tmp_path):
    assert release(ROOT / "solutions", ROOT / "exercises", check_only=True) == [], (
        "exercises/ is stale: run `make exercises`"
    )


TOY_SPECS = """
from course_lib.grading.specs import Call, question


@question("f-tests")
def _f(g):
    return [Call("f", (5,)), Call("f", (-3,))]
"""


def _toy_solution():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            metadata={"nbgrader": {"grade": False, "grade_id": "f", "solution": True}},
        ),
        nbformat.v4.new_code_cell(
            "assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(5) == 10\n### END HIDDEN TESTS",
            metadata={
                "nbgrader": {"grade": True, "grade_id": "f-tests", "points": 1, "solution": False}
            },
        ),
    ]
    return nb


def test_student_version_stubs_keep_indentation_and_drop_hidden_tests():
    student = student_version(_toy_solution(), "toy.ipynb")
    assert (
        student.cells[0].source
        == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    )
    assert student.cells[1].source == "assert f(1) == 2"


def test_unbalanced_markers_are_reported():
    nb = _toy_solution()
    nb.cells[0].source = "### BEGIN SOLUTION\nx = 1"
    with pytest.raises(MarkerError, match="never closed"):
        student_version(nb, "toy.ipynb")


def test_grader_restores_edited_and_deleted_test_cells(tmp_path):
    source_dir = tmp_path / "solutions"
    source_dir.mkdir()
    nbformat.write(_toy_solution(), source_dir / "toy.ipynb")
    (source_dir / "toy.questions.py").write_text(TOY_SPECS)
    cheat = student_version(_toy_solution(), "toy.ipynb")
    cheat.cells[0].source = "def f(x):\n    return 2 if x == 1 else 0"  # passes the visible test
    cheat.cells[1].source = "pass"  # and the student 'edits' the test away
    path = tmp_path / "cheat.ipynb"
    nbformat.write(cheat, path)
    result = grade_one(path, source_dir=source_dir)
    assert result.score == 0, "the hidden test must still run"

    deleted = student_version(_toy_solution(), "toy.ipynb")
    deleted.cells[0].source = "def f(x):\n    return 2 * x"
    deleted.cells = deleted.cells[:1]
    nbformat.write(deleted, path)
    result = grade_one(path, source_dir=source_dir)
    assert result.score == 1 and [q.grade_id for q in result.questions] == ["f-tests"]


def test_grader_reports_unreadable_notebook(tmp_path, capsys):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{ this is not json")
    assert grading_cli(["grade", str(bad), str(tmp_path / "nope.ipynb")]) == 0
    out = capsys.readouterr().out
    assert "not a valid notebook" in out and "no such file" in out


def test_check_reports_failures_without_the_answer(capsys):
    @case("selftest.double", hint="multiply by two")
    def doubles_three(fn):
        if fn(3) != 6:
            raise AssertionError("wrong value for a small positive input")

    assert check("selftest.double", lambda x: 2 * x) == 1
    with pytest.raises(CheckFailed):
        check("selftest.double", lambda x: x + 1)
    out = capsys.readouterr().out
    assert "FAIL  doubles three" in out and "hint: multiply by two" in out and "6" not in out
    with pytest.raises(NotImplementedError):
        check("selftest.double", lambda x: (_ for _ in ()).throw(NotImplementedError()))
    with pytest.raises(ValueError, match="no checks exist"):
        check("nosuchtopic.q", len)


def test_every_graded_cell_has_a_trusted_spec():
    from course_lib.grading import specs

    for solution in SOLUTIONS:
        ids = [c.metadata["nbgrader"]["grade_id"] for c in nbformat.read(solution, 4).cells
               if is_test_cell(c)]  # fmt: skip
        missing = [gid for gid, spec in specs.specs_for(ids, solution).items() if spec is None]
        assert not missing, f"{solution.name}: graded cells without a trusted spec: {missing}"


def test_test_cells_have_points():
    for solution in SOLUTIONS:
        nb = nbformat.read(solution, as_version=4)
        for cell in nb.cells:
            if is_test_cell(cell) or is_manual_cell(cell):
                assert cell.metadata["nbgrader"]["points"] > 0, solution.name


def test_visible_only_is_feedback_on_the_students_own_notebook(tmp_path, capsys):
    solved = tmp_path / "02_perceptron.ipynb"
    solved.write_bytes((ROOT / "solutions" / "02_perceptron.ipynb").read_bytes())
    before = solved.read_bytes()
    assert (
        grading_cli(["grade", "--visible-only", str(ROOT / "exercises" / "02_perceptron.ipynb")])
        == 0
    )
    out = capsys.readouterr().out
    assert "0 / 10 points on the visible checks" in out
    assert "2 points of analysis answers are marked when the notebook is graded" in out
    assert "3 points of written answers are to be graded by hand" in out
    assert grading_cli(["grade", "--visible-only", str(solved)]) == 0
    out = capsys.readouterr().out
    assert "10 / 10 points on the visible checks" in out and "not your grade" in out
    assert "read  perceptron-boolean-count-answer-tests" in out
    assert solved.read_bytes() == before
