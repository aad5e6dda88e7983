"""Analysis questions (a number, judged against the spec's reference) and written answers
(graded by hand): how the grader scores and reports them, and how hostile answers fare.

A toy assignment holds one function question, two analysis questions and one written answer;
the checks on the shipped chapters run on their files only, without executing a notebook.
"""

import csv
import json
import math
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_lib.grading import CheckFailed, check_answer, sandbox
from course_lib.grading.batch import grade_batch, html_report
from course_lib.grading.grade import format_table, grade_one
from course_lib.grading.notebooks import (
    BEGIN_SOLUTION,
    END_SOLUTION,
    grade_info,
    is_manual_cell,
    is_test_cell,
)
from course_lib.grading.release import student_version
from course_lib.grading.selfcheck import format_self_check
from course_lib.grading.specs import ANSWERS, Reference, answer, assert_answer, specs_for

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))

LIMITS = {"notebook_timeout": 60, "memory_mb": 8192}
needs_isolation = pytest.mark.skipif(
    not sandbox.available(), reason="bubblewrap (bwrap) cannot isolate submissions here"
)

SPECS = """
from course_lib.grading.specs import Call, answer, question


@question("toyq-double-tests")
def _double(g):
    return [Call("double", (3,)), Call("double", (-1.5,))]


answer("toyq-ratio-tests", "answer_q2", 2 / 3, rtol=1e-3)
answer("toyq-count-tests", "answer_q3", 70400)
"""


def _meta(gid, *, grade, solution, points=None):
    info = {"grade": grade, "grade_id": gid, "locked": grade and not solution,
            "schema_version": 3, "solution": solution, "task": False}  # fmt: skip
    if points:
        info["points"] = points
    return {"nbgrader": info}


def _solution():
    code, md = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        md("A toy with every kind of question."),
        code("import math\n\nfrom course_lib.grading import check, check_answer"),
        code(
            "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            metadata=_meta("toyq-double", grade=False, solution=True),
        ),
        code(
            "assert double(1) == 2",
            metadata=_meta("toyq-double-tests", grade=True, solution=False, points=2),
        ),  # fmt: skip
        md("Question 2: what fraction is two out of three?"),
        code(
            "# Your answer: a number.\n### BEGIN SOLUTION\n# two parts of three\n"
            "answer_q2 = 2 / 3\n### END SOLUTION",
            metadata=_meta("toyq-ratio", grade=False, solution=True),
        ),
        code(
            "check_answer(answer_q2)\n### BEGIN HIDDEN TESTS\n"
            "assert abs(answer_q2 - 2 / 3) <= 1e-3 * 2 / 3\n### END HIDDEN TESTS",
            metadata=_meta("toyq-ratio-tests", grade=True, solution=False, points=2),
        ),
        md("Question 3: how many parameters?"),
        code(
            "### BEGIN SOLUTION\nanswer_q3 = 256 * 64 + 64 * 64 * 9 + 64 * 256 + 768\n"
            "### END SOLUTION",
            metadata=_meta("toyq-count", grade=False, solution=True),
        ),
        code(
            "check_answer(answer_q3)\n### BEGIN HIDDEN TESTS\nassert answer_q3 == 70400\n"
            "### END HIDDEN TESTS",
            metadata=_meta("toyq-count-tests", grade=True, solution=False, points=1),
        ),
        md("Question 4: change something, measure, explain."),
        md(
            "### BEGIN SOLUTION\nA model answer for the grader.\n### END SOLUTION",
            metadata=_meta("toyq-explain", grade=True, solution=True, points=3),
        ),
    ]
    return nb


ANSWER_CELLS = {"toyq-ratio": 5, "toyq-count": 8, "toyq-explain": 11}


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    (root / "solutions").mkdir()
    nbformat.write(_solution(), root / "solutions" / "toyq.ipynb")
    (root / "solutions" / "toyq.questions.py").write_text(SPECS)
    return root


def submit(root, name, ratio=None, count=None, explain=None, prelude=""):
    """A student copy with the given sources in the answer cells (None: left as released)."""
    nb = student_version(_solution(), "toyq.ipynb")
    nb.cells[2].source = "def double(x):\n    return 2 * x"
    for gid, source in [("toyq-ratio", ratio), ("toyq-count", count), ("toyq-explain", explain)]:
        if source is not None:
            nb.cells[ANSWER_CELLS[gid]].source = source
    if prelude:
        nb.cells[2].source = prelude + "\n" + nb.cells[2].source
    path = root / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def _by_id(result):
    return {q.grade_id: q for q in result.questions}


def test_release_strips_the_answer_and_keeps_the_cells_nbgrader_cells():
    student = student_version(_solution(), "toyq.ipynb")
    text = json.dumps([c.source for c in student.cells])
    assert "2 / 3" not in text and "70400" not in text and "model answer" not in text
    assert student.cells[5].source == "# Your answer: a number.\n# YOUR CODE HERE\n" + (
        "raise NotImplementedError()"
    )
    assert student.cells[11].source == "YOUR ANSWER HERE"
    assert is_manual_cell(student.cells[11]) and grade_info(student.cells[11])["points"] == 3
    assert not any(is_manual_cell(c) for c in student.cells if c.cell_type == "code")


def test_right_answers_score_full_and_the_written_answer_waits_for_a_person(toy, tmp_path):
    path = submit(tmp_path, "right", "answer_q2 = 0.6667", "answer_q3 = 70400",
                  "Doubling the step made the loss diverge, because ...")  # fmt: skip
    result = grade_one(path, source_dir=toy / "solutions", **LIMITS)
    q = _by_id(result)
    assert [x.grade_id for x in result.questions] == [
        "toyq-double-tests", "toyq-ratio-tests", "toyq-count-tests", "toyq-explain"]  # fmt: skip
    assert q["toyq-ratio-tests"].points == 2 and q["toyq-count-tests"].points == 1
    assert q["toyq-explain"].manual and q["toyq-explain"].error is None
    # neither earned nor lost: outside both the score and the auto-graded maximum
    assert (result.score, result.max_score, result.manual_points) == (5, 5, 3)
    assert result.total_line() == "auto-graded 5 of 5; 3 points to be graded by hand"
    assert "to be graded by hand (3 points)" in format_table([result])
    data = result.to_dict()
    assert data["manual_points"] == 3 and data["questions"][-1]["manual"] is True


@pytest.mark.parametrize(
    ("ratio", "count", "ratio_points", "count_points", "reason"),
    [
        ("answer_q2 = 2 / 3 * (1 + 5e-4)", "answer_q3 = 70400.0", 2, 1, None),  # in tolerance
        ("answer_q2 = 2 / 3 * (1 + 2e-3)", "answer_q3 = 70401", 0, 0, "not the right value"),
        ("answer_q2 = 0.5", "answer_q3 = 70400.5", 0, 0, "not the right value"),
        ("answer_q2 = '0.6667'", "answer_q3 = [70400]", 0, 0, "must be a plain number"),
        ("answer_q2 = None", "answer_q3 = {'n': 70400}", 0, 0, "must be a plain number"),
        ("answer_q2 = float('nan')", "answer_q3 = float('inf')", 0, 0, "finite"),
        ("answer_q2 = True", "answer_q3 = True", 0, 0, "got bool"),
        # the right value, but not as a plain number
        (
            "import torch\nanswer_q2 = torch.tensor(2 / 3)",
            "import numpy as np\nanswer_q3 = np.array(70400)",
            0,
            0,
            "array or tensor",
        ),  # fmt: skip
        ("def answer_q2():\n    return 2 / 3", "answer_q3 = 10**400", 0, 0, "not a plain number"),
    ],
)
def test_wrong_and_malformed_answers_score_zero_with_a_reason(
    toy, tmp_path, ratio, count, ratio_points, count_points, reason
):
    result = grade_one(submit(tmp_path, "s", ratio, count), source_dir=toy / "solutions", **LIMITS)
    q = _by_id(result)
    assert result.error is None and q["toyq-double-tests"].points == 2, result
    assert (q["toyq-ratio-tests"].points, q["toyq-count-tests"].points) == (
        ratio_points, count_points)  # fmt: skip
    for gid in ("toyq-ratio-tests", "toyq-count-tests"):
        if reason is None:
            assert q[gid].error is None
        else:
            assert reason in q[gid].error, q[gid].error
            assert "2 / 3" not in q[gid].error and "70400" not in q[gid].error  # no answer leaks


def test_numpy_scalars_are_plain_numbers(toy, tmp_path):
    code = "import numpy as np\nanswer_q2 = np.float64(2) / 3"
    result = grade_one(submit(tmp_path, "np", code, "answer_q3 = np.int64(70400)"),
                       source_dir=toy / "solutions", **LIMITS)  # fmt: skip
    assert result.score == 5, result


def test_blank_submission_scores_zero_auto_graded_points(toy, tmp_path):
    result = grade_one(submit(tmp_path, "blank"), source_dir=toy / "solutions", **LIMITS)
    q = _by_id(result)
    assert result.score - q["toyq-double-tests"].points == 0
    for gid in ("toyq-ratio-tests", "toyq-count-tests"):
        assert q[gid].points == 0 and "NameError" in q[gid].error
        assert "NotImplementedError" in q[gid].error  # the stub left in the answer cell
    assert q["toyq-explain"].manual and q["toyq-explain"].error == "the answer cell is blank"
    missing = student_version(_solution(), "toyq.ipynb")
    del missing.cells[11]
    nbformat.write(missing, tmp_path / "missing.ipynb")
    result = grade_one(tmp_path / "missing.ipynb", source_dir=toy / "solutions", **LIMITS)
    assert result.score == 0 and _by_id(result)["toyq-explain"].error == (
        "the answer cell is missing")  # fmt: skip


# Answers that lie about what they are: each equals the reference under == or float().
LIARS = {
    "eq_always_true": "class Yes:\n    __eq__ = lambda s, o: True\n    __float__ = lambda s: 2 / 3\n"
    "    __hash__ = None\nanswer_q2 = Yes()\nanswer_q3 = Yes()",
    "float_subclass": "class F(float):\n    __eq__ = lambda s, o: True\n    __hash__ = float.__hash__\n"
    "answer_q2 = F(0.1)\nclass I(int):\n    __eq__ = lambda s, o: True\n"
    "    __hash__ = int.__hash__\nanswer_q3 = I(1)",
    "fake_numpy_scalar": "class float64:\n    __module__ = 'numpy'\n    def item(self):\n"
    "        return self\nanswer_q2 = float64()\nanswer_q3 = float64()",
    "patched_isclose": "import math\nmath.isclose = lambda *a, **k: True\nanswer_q2 = 0.1\n"
    "answer_q3 = 1",
}


@pytest.mark.parametrize("name", sorted(LIARS))
def test_lying_answers_are_refused(toy, tmp_path, name):
    result = grade_one(submit(tmp_path, name, prelude=LIARS[name], ratio="", count=""),
                       source_dir=toy / "solutions", **LIMITS)  # fmt: skip
    q = _by_id(result)
    assert q["toyq-ratio-tests"].points == 0 and q["toyq-count-tests"].points == 0, result
    assert q["toyq-double-tests"].points == 2  # the rest of the submission is still graded
    if name != "patched_isclose":  # that one is just wrong: the judge's math is its own
        assert "not a plain number" in q["toyq-ratio-tests"].error


# Look for the reference: in the course library's specs, and in every questions file on disk.
READS_REFERENCE = """
import glob
try:
    from course_lib.grading.specs import ANSWERS
    answer_q2 = ANSWERS["toyq-ratio-tests"].value
except Exception:
    pass
for f in glob.glob("/tmp/**/toyq.questions.py", recursive=True):
    text = open(f).read()
    answer_q2 = 2 / 3 if "2 / 3" in text else None
"""


@needs_isolation
def test_the_reference_is_out_of_the_submissions_reach(toy, tmp_path):
    result = grade_one(submit(tmp_path, "reader", READS_REFERENCE, ""),
                       source_dir=toy / "solutions", **LIMITS)  # fmt: skip
    assert _by_id(result)["toyq-ratio-tests"].points == 0, result


def test_reports_say_to_be_graded_by_hand(toy, tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    submit(folder, "ada", "answer_q2 = 2 / 3", "answer_q3 = 1", "My experiment ...")
    submit(folder, "bob")
    report = tmp_path / "report"
    results = grade_batch([folder], report_dir=report, source_dir=toy / "solutions",
                          progress=False, jobs=1, **LIMITS)  # fmt: skip
    assert [r.score for r in results] == [4, 2] and all(r.manual_points == 3 for r in results)
    with open(report / "scores.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    by_hand = [r for r in rows if r["question"] == "toyq-explain"]
    assert len(by_hand) == 2
    assert all(r["graded"] == "to be graded by hand" and r["points"] == "" for r in by_hand)
    assert all(r["max_points"] == "3.0" for r in by_hand)
    assert {r["graded"] for r in rows if r["question"] != "toyq-explain"} == {"auto"}
    page = (report / "report.html").read_text()
    assert "auto-graded 4 of 5; 3 points to be graded by hand" in page
    assert "by hand</i> (3)" in page and "score distribution for toyq-explain" not in page
    lost = page.split("Every lost point", 1)[1]
    assert "toyq-explain" not in lost and "toyq-count-tests" in lost
    assert page == html_report(results)


def test_visible_checks_say_what_the_grader_will_read(capsys):
    for value in (0.5, 3, np.float64(0.25), -7):
        check_answer(value)
    assert capsys.readouterr().out.count("answer recorded") == 4
    for value in ("0.5", True, float("nan"), [1], None, 10**400):
        with pytest.raises(CheckFailed, match="plain int or float"):
            check_answer(value)


def test_self_check_lists_analysis_and_written_answers_apart():
    rows = [
        {"grade_id": "a-tests", "points": 2.0, "kind": "code", "passed": True, "error": None},
        {"grade_id": "b-answer-tests", "points": 2.0, "kind": "answer", "passed": True,
         "error": None},
        {"grade_id": "c-answer-tests", "points": 1.0, "kind": "answer", "passed": False,
         "error": "NameError: name 'answer_q3' is not defined"},
        {"grade_id": "d-open", "points": 3.0, "kind": "manual", "passed": None, "error": None},
    ]  # fmt: skip
    text = format_self_check("x.ipynb", rows)
    assert "2 / 2 points on the visible checks" in text  # an answer that can be read is no pass
    assert "read  b-answer-tests" in text and "FAIL  c-answer-tests" in text
    assert "3 points of analysis answers are marked when the notebook is graded" in text
    assert "d-open" in text and "3 points of written answers are to be graded by hand" in text


def test_specs_refuse_a_bad_reference():
    with pytest.raises(ValueError, match="finite int or float"):
        answer("bad-tests", "answer_q1", "0.5")
    with pytest.raises(ValueError, match="rtol and atol"):
        answer("bad-tests", "answer_q1", 0.5, rtol=-1)
    exact = Reference("answer_q1", 2**60 + 1, 0.0, 0.0)
    assert exact.judge_value(2**60 + 1) is None and exact.judge_value(2**60) is not None


# The shipped chapters: every one has both new kinds of question, set up consistently.


def _cells(solution):
    return nbformat.read(solution, as_version=4).cells


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_every_chapter_has_an_analysis_and_an_experiment_question(solution):
    cells = _cells(solution)
    tests = [grade_info(c)["grade_id"] for c in cells if is_test_cell(c)]
    analysis = [gid for gid, spec in specs_for(tests, solution).items() if gid in ANSWERS]
    manual = [c for c in cells if is_manual_cell(c)]
    assert analysis, f"{solution.name}: no analysis question"
    assert manual and all(grade_info(c).get("points", 0) > 0 for c in manual), solution.name
    assert all(c.cell_type == "markdown" for c in manual)
    exercise = nbformat.read(ROOT / "exercises" / solution.name, as_version=4)
    released = {grade_info(c).get("grade_id"): c.source for c in exercise.cells}
    for cell in manual:
        assert BEGIN_SOLUTION in cell.source and END_SOLUTION in cell.source
        assert released[grade_info(cell)["grade_id"]] == "YOUR ANSWER HERE"


def _answer_cells(solution):
    """(test grade_id, answer name, answer cell source, test cell source) per analysis question."""
    cells = _cells(solution)
    for i, cell in enumerate(cells):
        gid = grade_info(cell).get("grade_id") if is_test_cell(cell) else None
        if gid in ANSWERS:
            yield gid, ANSWERS[gid].name, cells[i - 1].source, cell.source


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_hidden_tests_agree_with_the_specs(solution):
    """The nbgrader route (hidden test) and our grader (spec) accept the same answers."""
    specs_for([], solution)  # loads the specs
    found = list(_answer_cells(solution))
    assert found, solution.name
    for gid, name, answer_source, test_source in found:
        namespace = {"math": math}
        exec(answer_source, namespace)  # the solution's answer: a line of arithmetic
        right = namespace[name]
        assert ANSWERS[gid].judge_value(right) is None, gid
        for value, passes in [(right, True), (right * 1.01 + 1, False), ("x", False)]:
            test_ns = {name: value, "check_answer": lambda v: None}
            try:
                exec(test_source, test_ns)
                passed = True
            except AssertionError:
                passed = False
            assert passed is passes, (gid, value)
        assert_answer(gid, right)
