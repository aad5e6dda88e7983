"""Grade submitted notebooks: run each in a fresh kernel, in a scratch copy, with time limits.

The graded test cells (nbgrader ``grade: true``) of the instructor's solution notebook, hidden
tests included, replace whatever the submission has in their place, so editing or deleting a
test cell changes nothing. A test cell earns its points when it runs without an error.
"""

import copy
import csv
import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbclient

from .notebooks import grade_info, is_test_cell, read_notebook, test_cells


@dataclass
class QuestionResult:
    grade_id: str
    points: float
    max_points: float
    error: str | None = None


@dataclass
class Result:
    submission: str
    assignment: str
    questions: list = field(default_factory=list)
    error: str | None = None  # a problem with the whole submission (unreadable, kernel died, ...)

    @property
    def score(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def max_score(self) -> float:
        return sum(q.max_points for q in self.questions)


def assignment_name(nb, path: Path) -> str:
    """The assignment a notebook belongs to: its metadata, else its file name."""
    return nb.metadata.get("course_lib", {}).get("assignment") or path.stem


def grading_notebook(submission, source=None):
    """The notebook to execute: the submission with its test cells taken from ``source``.

    Test cells the student deleted are appended at the end, in the source's order.
    """
    nb = copy.deepcopy(submission)
    if source is None:
        return nb
    official = test_cells(source)
    placed = set()
    for cell in nb.cells:
        gid = grade_info(cell).get("grade_id")
        if gid in official:
            cell.cell_type = "code"
            cell.source = official[gid].source
            cell.metadata = copy.deepcopy(official[gid].metadata)
            placed.add(gid)
    for gid, cell in official.items():
        if gid not in placed:
            nb.cells.append(copy.deepcopy(cell))
    return nb


def _error_text(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}"[:300]
    return None


def execute(nb, workdir: Path, *, cell_timeout: int, kernel_name: str = "python3"):
    """Execute ``nb`` in ``workdir``; errors are recorded in the outputs, not raised."""
    client = nbclient.NotebookClient(
        nb,
        timeout=cell_timeout,
        kernel_name=kernel_name,
        allow_errors=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    try:
        client.execute()
        return None
    except nbclient.exceptions.CellTimeoutError as err:
        return f"a cell ran past the {cell_timeout} s time limit: {str(err)[:200]}"
    except nbclient.exceptions.DeadKernelError as err:
        return f"the kernel died: {str(err)[:200]}"


def grade_one(path, *, source_dir=None, cell_timeout: int = 120) -> Result:
    """Grade one submission; the submitted file is only read, never written."""
    path = Path(path)
    try:
        submission = read_notebook(path)
    except ValueError as err:
        return Result(str(path), path.stem, error=str(err))
    name = assignment_name(submission, path)
    source = None
    if source_dir is not None:
        source_path = Path(source_dir) / f"{name}.ipynb"
        if not source_path.is_file():
            return Result(
                str(path), name, error=f"no solution notebook {source_path} to grade against"
            )
        source = read_notebook(source_path)
    nb = grading_notebook(submission, source)
    graded = [c for c in nb.cells if is_test_cell(c)]
    result = Result(str(path), name)
    if not graded:
        result.error = "the notebook has no graded test cells"
        return result
    scratch = Path(tempfile.mkdtemp(prefix="grade-"))
    try:
        result.error = execute(nb, scratch, cell_timeout=cell_timeout)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for cell in graded:
        info = grade_info(cell)
        ran = cell.get("execution_count") is not None or cell.get("outputs")
        err = _error_text(cell) or (
            None if ran else "not run (an earlier problem stopped the kernel)"
        )
        max_points = float(info.get("points", 0))
        result.questions.append(
            QuestionResult(info["grade_id"], 0.0 if err else max_points, max_points, err)
        )
    return result


def format_table(results) -> str:
    """A plain-text table: one row per submission and question, and a total per submission."""
    lines = []
    for r in results:
        lines.append(f"{r.submission}  [{r.assignment}]")
        if r.error:
            lines.append(f"  problem: {r.error}")
        for q in r.questions:
            note = f"  ({q.error})" if q.error else ""
            lines.append(f"  {q.grade_id:<28} {q.points:>5g} / {q.max_points:<5g}{note}")
        lines.append(f"  {'total':<28} {r.score:>5g} / {r.max_score:<5g}")
    return "\n".join(lines)


def write_csv(results, path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", "assignment", "question", "points", "max_points", "error"])
        for r in results:
            for q in r.questions:
                writer.writerow(
                    [r.submission, r.assignment, q.grade_id, q.points, q.max_points, q.error or ""]
                )
            if r.error:
                writer.writerow([r.submission, r.assignment, "", "", "", r.error])


def write_json(results, path) -> None:
    data = [{**asdict(r), "score": r.score, "max_score": r.max_score} for r in results]
    Path(path).write_text(json.dumps(data, indent=2))


def default_source_dir() -> Path | None:
    """The repository's solutions/ folder when the grader runs from a course checkout."""
    candidate = Path(__file__).resolve().parents[2] / "solutions"
    return candidate if candidate.is_dir() else None


def main_grade(
    paths, *, source_dir=None, visible_only=False, cell_timeout=120, csv_path=None, json_path=None
) -> list:
    if not visible_only and source_dir is None:
        source_dir = default_source_dir()
    results = [
        grade_one(p, source_dir=None if visible_only else source_dir, cell_timeout=cell_timeout)
        for p in paths
    ]
    print(format_table(results))
    if csv_path:
        write_csv(results, csv_path)
    if json_path:
        write_json(results, json_path)
    return results
