"""Grade a whole class: every submission in a folder, in parallel, results kept as they come.

Each finished grade is appended to ``results.jsonl`` in the report folder at once, so a crash
or an interrupted run loses nothing; running again skips submissions already graded (same
path, same file content, same grader version and same solution and specs). The report
folder also keeps the secret that seeds the hidden inputs, so a resumed run judges the rest
of the class on the same inputs. No submission can reach this folder: it is not visible in
the sandbox. At the end ``scores.csv`` (one row per student and question) and
``report.html`` (totals, per-question score distributions, every lost point's reason) are
written.
"""

import base64
import html
import io
import json
import os
import secrets
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm.auto import tqdm

from .grade import (
    BY_HAND,
    AssignmentError,
    Result,
    assignment_name,
    file_digest,
    grade_one,
    prepare,
    solution_path,
    write_csv,
)
from .notebooks import read_notebook


def collect(paths) -> list[Path]:
    """Notebook files from a mix of files and folders (folders: their *.ipynb, sorted)."""
    found = []
    for p in map(Path, paths):
        found.extend(sorted(p.glob("*.ipynb")) if p.is_dir() else [p])
    return found


def _secret(report_dir: Path) -> int:
    path = report_dir / "secret"
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        value = secrets.randbits(62)
        path.write_text(str(value))
        path.chmod(0o600)
        return value


def _load_done(results_file: Path) -> dict:
    """The recorded grades, by (path, file digest, grader key); bad lines are skipped."""
    done = {}
    if not results_file.exists():
        return done
    for number, line in enumerate(results_file.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            key = (record["submission"], record["sha256"], record["grader"])
            done[key] = Result.from_dict(record)
        except (ValueError, KeyError, TypeError):
            print(f"{results_file}:{number}: not a valid result line, skipped", file=sys.stderr)
    return done


def _grader_key(path: Path, source_dir, assignment, secret) -> str:
    """Which solution and specs a submission is judged by (a digest), or '' if none."""
    try:
        name = assignment or assignment_name(read_notebook(path), path)
        return prepare(solution_path(source_dir, name), secret).digest
    except (ValueError, AssignmentError):
        return ""


def grade_batch(
    paths,
    *,
    report_dir,
    source_dir=None,
    assignment=None,
    progress=True,
    jobs: int | None = None,
    **limits,
) -> list:
    """Grade every submission, ``jobs`` at a time; return their Results and write the report.

    The results are the same, in the same order, whatever ``jobs`` is.
    """
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    results_file = report_dir / "results.jsonl"
    secret = _secret(report_dir)
    done = _load_done(results_file)
    submissions = collect(paths)
    keys = [
        (str(p), file_digest(p), _grader_key(p, source_dir, assignment, secret))
        for p in submissions
    ]

    lock = threading.Lock()

    def grade(item):
        path, key = item
        if key in done:
            return done[key]
        result = grade_one(
            path, source_dir=source_dir, assignment=assignment, secret=secret, **limits
        )
        record = {**result.to_dict(), "sha256": key[1], "grader": key[2]}
        with lock, results_file.open("a") as f:
            f.write(json.dumps(record) + "\n")
        return result

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        results = list(
            tqdm(
                pool.map(grade, zip(submissions, keys, strict=True)),
                total=len(submissions),
                desc="grading",
                disable=not progress,
            )
        )
    write_csv(results, report_dir / "scores.csv")
    (report_dir / "report.html").write_text(html_report(results))
    return results


def _histogram_png(values, maximum, title) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.2, 2.2))
    ax.hist(
        values,
        bins=min(10, max(1, int(maximum) + 1)),
        range=(0, maximum or 1),
        color="C0",
        edgecolor="white",
    )
    ax.set(title=title, xlabel="points", ylabel="students")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _score_row(r, questions) -> str:
    """One submission's row of the score table; a written answer shows as 'by hand'."""
    esc = html.escape
    by_id = {q.grade_id: q for q in r.questions}
    cells = []
    for qid in questions:
        q = by_id.get(qid)
        if q is None:
            cells.append("<td>-</td>")
        elif q.manual:
            note = esc(q.error or BY_HAND)
            cells.append(f"<td title='{note}'><i>by hand</i> ({q.max_points:g})</td>")
        else:
            cells.append(f"<td title='{esc(q.error or '')}'>{q.points:g}</td>")
    problem = f"<br><small>{esc(r.error)}</small>" if r.error else ""
    return (
        f"<tr><td>{esc(r.submission)}{problem}</td>{''.join(cells)}"
        f"<td><b>{esc(r.total_line())}</b></td></tr>"
    )


def html_report(results) -> str:
    """A self-contained HTML page: scores table, distributions, reasons for lost points."""
    questions, by_hand = [], set()
    for r in results:
        for q in r.questions:
            if q.grade_id not in questions:
                questions.append(q.grade_id)
            if q.manual:
                by_hand.add(q.grade_id)
    esc = html.escape
    head = "".join(
        f"<th>{esc(q)}{'<br><small>by hand</small>' if q in by_hand else ''}</th>"
        for q in questions
    )
    rows = [_score_row(r, questions) for r in results]
    plots = []
    for qid in questions:
        if qid in by_hand:  # no points yet: a histogram of zeros would mislead
            continue
        points = [q.points for r in results for q in r.questions if q.grade_id == qid]
        maximum = max(
            (q.max_points for r in results for q in r.questions if q.grade_id == qid), default=1
        )
        png = _histogram_png(points, maximum, qid)
        plots.append(
            f"<img alt='score distribution for {esc(qid)}' src='data:image/png;base64,{png}'>"
        )
    totals = [r.score for r in results]
    lost = "".join(
        f"<li>{esc(r.submission)}: {esc(q.grade_id)}: {esc(q.error or 'no reason recorded')}</li>"
        for r in results
        for q in r.questions
        if q.points < q.max_points and not q.manual
    )
    whole = "".join(f"<li>{esc(r.submission)}: {esc(r.error)}</li>" for r in results if r.error)
    mean = sum(totals) / len(totals) if totals else 0.0
    hand = max((r.manual_points for r in results), default=0)
    auto = max((r.max_score for r in results), default=0)
    split = (
        f" Auto-graded points: {auto:g} per submission; {hand:g} more points are"
        f" {esc(BY_HAND)} (written answers: grade them in nbgrader's formgrader; they are not"
        " in these totals)."
        if hand
        else ""
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Grading report</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:center}} td:first-child{{text-align:left}}</style>
</head><body><h1>Grading report</h1>
<p>{len(results)} submissions; mean auto-graded total {mean:.2f}.{split}</p>
<h2>Scores</h2><table><tr><th>submission</th>{head}<th>total</th></tr>{"".join(rows)}</table>
<h2>Score distributions</h2>{"".join(plots)}
<h2>Problems with whole submissions</h2><ul>{whole or "<li>none</li>"}</ul>
<h2>Every lost point</h2><ul>{lost or "<li>none</li>"}</ul>
</body></html>"""
