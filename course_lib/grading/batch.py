"""Grade a whole class: every submission in a folder, results kept as they come, and a report.

Each finished grade is appended to ``results.jsonl`` in the report folder at once, so a crash
or an interrupted run loses nothing; running again skips submissions already graded (same
file content). At the end ``scores.csv`` (one row per student and question) and
``report.html`` (totals, per-question score distributions, every lost point's reason) are
written.
"""

import base64
import html
import io
import json
from pathlib import Path

from tqdm.auto import tqdm

from .grade import Result, file_digest, grade_one, write_csv


def collect(paths) -> list[Path]:
    """Notebook files from a mix of files and folders (folders: their *.ipynb, sorted)."""
    found = []
    for p in map(Path, paths):
        found.extend(sorted(p.glob("*.ipynb")) if p.is_dir() else [p])
    return found


def _load_done(results_file: Path) -> dict:
    done = {}
    if results_file.exists():
        for line in results_file.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                done[(record["submission"], record.get("sha256"))] = Result.from_dict(record)
    return done


def grade_batch(
    paths, *, report_dir, source_dir=None, assignment=None, progress=True, **limits
) -> list:
    """Grade every submission; return their Results and write the report."""
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    results_file = report_dir / "results.jsonl"
    done = _load_done(results_file)
    submissions = collect(paths)
    results = []
    for path in tqdm(submissions, desc="grading", disable=not progress):
        digest = file_digest(path)
        key = (str(path), digest)
        if key in done:
            results.append(done[key])
            continue
        result = grade_one(path, source_dir=source_dir, **limits)
        if assignment and result.assignment != assignment and result.error is None:
            result.error = f"this notebook is assignment {result.assignment!r}, not {assignment!r}"
            for q in result.questions:
                q.points, q.error = 0.0, "wrong assignment"
        with results_file.open("a") as f:
            f.write(json.dumps({**result.to_dict(), "sha256": digest}) + "\n")
        results.append(result)
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


def html_report(results) -> str:
    """A self-contained HTML page: scores table, distributions, reasons for lost points."""
    questions = []
    for r in results:
        for q in r.questions:
            if q.grade_id not in questions:
                questions.append(q.grade_id)
    esc = html.escape
    head = "".join(f"<th>{esc(q)}</th>" for q in questions)
    rows = []
    for r in results:
        by_id = {q.grade_id: q for q in r.questions}
        cells = "".join(
            f"<td title='{esc(by_id[q].error or '')}'>{by_id[q].points:g}</td>"
            if q in by_id
            else "<td>-</td>"
            for q in questions
        )
        problem = f"<br><small>{esc(r.error)}</small>" if r.error else ""
        rows.append(
            f"<tr><td>{esc(r.submission)}{problem}</td>{cells}"
            f"<td><b>{r.score:g} / {r.max_score:g}</b></td></tr>"
        )
    plots = []
    for qid in questions:
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
        if q.points < q.max_points
    )
    whole = "".join(f"<li>{esc(r.submission)}: {esc(r.error)}</li>" for r in results if r.error)
    mean = sum(totals) / len(totals) if totals else 0.0
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Grading report</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:center}} td:first-child{{text-align:left}}</style>
</head><body><h1>Grading report</h1>
<p>{len(results)} submissions; mean total {mean:.2f}.</p>
<h2>Scores</h2><table><tr><th>submission</th>{head}<th>total</th></tr>{"".join(rows)}</table>
<h2>Score distributions</h2>{"".join(plots)}
<h2>Problems with whole submissions</h2><ul>{whole or "<li>none</li>"}</ul>
<h2>Every lost point</h2><ul>{lost or "<li>none</li>"}</ul>
</body></html>"""
