"""nbgrader itself checks that our exercises are nbgrader's: nbgrader is a test-only dependency.

``nbgrader generate_assignment`` on a copy of ``solutions/`` must produce the same cells as our
``exercises/``, and ``nbgrader validate`` must pass a solution and fail its untouched exercise.
Validation executes notebooks, so it runs on the toy assignment and one cheap chapter only
(02_perceptron, which has every kind of question: code, an analysis answer judged by the
spec's ``assert_answer``, and a manually graded written answer).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_lib.grading.release import student_version

pytest.importorskip("nbgrader")

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
NBGRADER = Path(sys.executable).with_name("nbgrader")
# nbgrader's own bookkeeping in the cell metadata, which our release step does not write.
NBGRADER_ONLY_KEYS = {"checksum", "cell_type"}


def nbgrader(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(NBGRADER), *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


def _cells(nb) -> list:
    """What a student sees of each cell: its type, its source and its grading metadata."""
    out = []
    for cell in nb.cells:
        meta = dict(cell.metadata.get("nbgrader", {}))
        for key in NBGRADER_ONLY_KEYS:
            meta.pop(key, None)
        out.append((cell.cell_type, cell.source, meta))
    return out


def test_generate_assignment_yields_our_exercises(tmp_path):
    for solution in SOLUTIONS:
        folder = tmp_path / "source" / solution.stem
        folder.mkdir(parents=True)
        shutil.copy(solution, folder / solution.name)
    done = nbgrader(
        "generate_assignment",
        "--no-db",
        "--force",
        "--CourseDirectory.assignment_id=*",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for solution in SOLUTIONS:
        theirs = _cells(nbformat.read(tmp_path / "release" / solution.stem / solution.name, 4))
        ours = _cells(nbformat.read(ROOT / "exercises" / solution.name, 4))
        assert len(theirs) == len(ours), f"{solution.stem}: {len(theirs)} vs {len(ours)} cells"
        for i, (a, b) in enumerate(zip(theirs, ours, strict=True)):
            assert a == b, f"{solution.stem}, cell {i}: nbgrader wrote {a!r}, we wrote {b!r}"


def _toy_pair(folder: Path) -> tuple[Path, Path]:
    from test_grader_hostile import _solution  # the toy assignment of the grader tests

    solution, exercise = folder / "toy_solution.ipynb", folder / "toy.ipynb"
    nbformat.write(_solution(), solution)
    nbformat.write(student_version(_solution(), "toy.ipynb"), exercise)
    return solution, exercise


@pytest.mark.parametrize("assignment", ["toy", "02_perceptron"])
def test_validate_passes_solution_and_fails_untouched_exercise(tmp_path, assignment):
    if assignment == "toy":
        solution, exercise = _toy_pair(tmp_path)
    else:  # copies: validation executes the notebook next to the file it reads
        (tmp_path / "solution").mkdir()
        solution = Path(
            shutil.copy(ROOT / "solutions" / f"{assignment}.ipynb", tmp_path / "solution")
        )
        exercise = Path(shutil.copy(ROOT / "exercises" / f"{assignment}.ipynb", tmp_path))
    passed = nbgrader("validate", str(solution), cwd=tmp_path)
    assert "Success! Your notebook passes all the tests." in passed.stdout, passed.stdout[-3000:]
    failed = nbgrader("validate", str(exercise), cwd=tmp_path)
    assert "VALIDATION FAILED" in failed.stdout, failed.stdout[-3000:]
    assert "NotImplementedError" in failed.stdout
