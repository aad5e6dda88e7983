"""Feedback for a student on their own notebook: which visible checks pass.

``python -m course_lib.grading grade --visible-only exercises/NN_topic.ipynb`` runs the notebook
as it is, in a fresh kernel on the student's own machine, and reports each graded test cell
that ran without an error, with its points. It is feedback, not a grade: the instructor's
grader (``grade.py``) never runs the tests inside the submission's process, and uses hidden
inputs the student never sees.
"""

from pathlib import Path

import nbclient

from .notebooks import grade_info, is_manual_cell, is_test_cell, read_notebook


def _error_of(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}"[:200]
    return None


def self_check(path, *, timeout: int = 600) -> list[dict]:
    """Execute ``path`` (never modified) and return, per graded test cell, its grade id,
    points and whether its visible checks passed."""
    path = Path(path)
    nb = read_notebook(path)
    client = nbclient.NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    rows = []
    for cell in nb.cells:
        if not (is_manual_cell(cell) or is_test_cell(cell)):
            continue
        info = grade_info(cell)
        row = {"grade_id": info.get("grade_id"), "points": float(info.get("points", 0))}
        if is_manual_cell(cell):
            row.update(kind="manual", passed=None, error=None)
        else:
            error = _error_of(cell)
            answer = cell.source.lstrip().startswith("check_answer(")
            row.update(
                kind="answer" if answer else "code",
                passed=error is None and cell.get("execution_count") is not None,
                error=error,
            )
        rows.append(row)
    return rows


def format_self_check(path, rows) -> str:
    """The rows as text. Only code checks count towards the visible total: an analysis
    answer's check says only that the grader can read it, and a written answer is graded
    by hand."""
    code = [r for r in rows if r["kind"] == "code"]
    got = sum(r["points"] for r in code if r["passed"])
    total = sum(r["points"] for r in code)
    lines = [f"{Path(path).name}: visible checks (feedback only, not your grade)"]
    for r in rows:
        if r["kind"] == "manual":
            mark, note = "----", "to be graded by hand"
        elif r["kind"] == "answer":
            mark = "read" if r["passed"] else "FAIL"
            note = r["error"] or "a number: whether it is right is decided when graded"
        else:
            mark, note = ("pass" if r["passed"] else "FAIL"), r["error"] or ""
        lines.append(f"  {mark}  {r['grade_id']:<40} {r['points']:g} pt  {note}".rstrip())
    lines.append(f"  {got:g} / {total:g} points on the visible checks")
    for kind, what in [
        ("answer", "analysis answers are marked when the notebook is graded"),
        ("manual", "written answers are to be graded by hand"),
    ]:
        points = sum(r["points"] for r in rows if r["kind"] == kind)
        if points:
            lines.append(f"  {points:g} points of {what}")
    return "\n".join(lines)
