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
        if is_manual_cell(cell):
            info = grade_info(cell)
            rows.append(
                {
                    "grade_id": info.get("grade_id"),
                    "points": float(info.get("points", 0)),
                    "manual": True,
                    "passed": None,
                    "error": None,
                }
            )
        elif is_test_cell(cell):
            info, error = grade_info(cell), _error_of(cell)
            rows.append(
                {
                    "grade_id": info.get("grade_id"),
                    "points": float(info.get("points", 0)),
                    "manual": False,
                    "passed": error is None and cell.get("execution_count") is not None,
                    "error": error,
                }
            )
    return rows


def format_self_check(path, rows) -> str:
    auto = [r for r in rows if not r.get("manual")]
    got = sum(r["points"] for r in auto if r["passed"])
    total = sum(r["points"] for r in auto)
    by_hand = sum(r["points"] for r in rows if r.get("manual"))
    lines = [f"{Path(path).name}: visible checks (feedback only, not your grade)"]
    for r in rows:
        if r.get("manual"):
            lines.append(f"  ----  {r['grade_id']:<24} {r['points']:g} pt  to be graded by hand")
            continue
        mark = "pass" if r["passed"] else "FAIL"
        lines.append(f"  {mark}  {r['grade_id']:<24} {r['points']:g} pt  {r['error'] or ''}")
    lines.append(f"  {got:g} / {total:g} points on the visible checks")
    if by_hand:
        lines.append(f"  {by_hand:g} points of written answers are to be graded by hand")
    return "\n".join(lines)
