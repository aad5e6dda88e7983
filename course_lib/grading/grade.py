"""Grade a submitted notebook as an online judge does: untrusted code never decides a score.

For each graded test cell the grader holds a trusted spec (``specs``): which function to
call, on which inputs (drawn from a generator seeded with a secret of the grader's), and how
to compare. The reference values come from the solution notebook's answers, run here.

The sandboxed child (``runner``, see ``sandbox``) receives only the released code of the
assignment with the student's answer cells in it, never a test cell, a hidden test or a
solution, and the list of calls. It returns plain JSON values on a pipe of its own; its exit
status, its standard output and anything it claims about passing count for nothing. The
comparison with the reference happens here, on plain data only.
"""

import csv
import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import judge, runner, sandbox, specs
from .notebooks import (
    ANSWER_STUB,
    STUB,
    grade_info,
    is_manual_cell,
    is_solution_cell,
    is_test_cell,
    read_notebook,
)
from .release import student_version

VERSION = "judge-2"  # part of the resume file's key: results of another grader are not reused
NAME = re.compile(r"[A-Za-z0-9_-]+")
OUTPUT_CAP = 64 * 1024  # bytes of the child's stdout/stderr kept for diagnostics
TMPFS_MB = 64
MAX_PROCESSES = 64


BY_HAND = "to be graded by hand"


@dataclass
class QuestionResult:
    """One question's result. A ``manual`` question (a written answer that the instructor
    grades in nbgrader's formgrader) has no points yet: they count neither as earned nor as
    lost, and ``error`` may hold a note for the grader (a blank answer cell, say)."""

    grade_id: str
    points: float
    max_points: float
    error: str | None = None
    manual: bool = False

    def summary(self) -> str:
        """``3 / 3``, or ``to be graded by hand (3 points)``."""
        if self.manual:
            return f"{BY_HAND} ({self.max_points:g} points)"
        return f"{self.points:g} / {self.max_points:g}"


@dataclass
class Result:
    submission: str
    assignment: str
    questions: list = field(default_factory=list)
    error: str | None = None  # a problem with the whole submission (unreadable, killed, ...)

    @property
    def score(self) -> float:
        """The auto-graded points earned."""
        return sum(q.points for q in self.questions if not q.manual)

    @property
    def max_score(self) -> float:
        """The auto-graded points there are."""
        return sum(q.max_points for q in self.questions if not q.manual)

    @property
    def manual_points(self) -> float:
        """The points of the written answers, which the instructor grades by hand."""
        return sum(q.max_points for q in self.questions if q.manual)

    def total_line(self) -> str:
        """``auto-graded 7 of 10; 3 points to be graded by hand`` (or just ``7 / 10``)."""
        if not self.manual_points:
            return f"{self.score:g} / {self.max_score:g}"
        return (
            f"auto-graded {self.score:g} of {self.max_score:g}; "
            f"{self.manual_points:g} points {BY_HAND}"
        )

    def to_dict(self) -> dict:
        return {
            **asdict(self),
            "score": self.score,
            "max_score": self.max_score,
            "manual_points": self.manual_points,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Result":
        questions = [QuestionResult(**q) for q in data.get("questions", [])]
        return cls(data["submission"], data["assignment"], questions, data.get("error"))


class AssignmentError(ValueError):
    """An assignment name that is not allowed or has no solution notebook."""


def claimed_assignment(nb) -> str | None:
    """The assignment a notebook's metadata claims, if any."""
    meta = nb.metadata.get("course_lib", {})
    name = meta.get("assignment") if isinstance(meta, dict) else None
    return name if isinstance(name, str) and name else None


def assignment_name(nb, path: Path) -> str:
    """The assignment a notebook belongs to: its metadata, else its file name."""
    return claimed_assignment(nb) or path.stem


def solution_path(source_dir, name: str) -> Path:
    """The solution notebook of assignment ``name``, which must lie inside ``source_dir``."""
    if source_dir is None:
        raise AssignmentError("no folder of solution notebooks to grade against (use --source)")
    if not NAME.fullmatch(name):
        raise AssignmentError(
            f"assignment name {name[:80]!r} is not allowed (letters, digits, _ and - only)"
        )
    root = Path(source_dir).resolve()
    path = (root / f"{name}.ipynb").resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise AssignmentError(f"no solution notebook for assignment {name!r} in {root}")
    return path


# The trusted side: specs, calls and reference values of one assignment.


@dataclass
class Prepared:
    name: str
    cells: list  # the released notebook's code cells, answer cells as (grade_id, stub)
    questions: list  # (grade_id, points, spec or None, calls, expected outcomes)
    digest: str  # identifies the solution and its specs, for the resume file
    manual: list = field(default_factory=list)  # (grade_id, points): graded by hand
    order: list = field(default_factory=list)  # every grade_id, in the notebook's order


def _encode_arg(value):
    if isinstance(value, specs.Make):
        return {"__make__": value.recipe, "kw": _encode_arg(value.kw)}
    if isinstance(value, (list, tuple)):
        items = [_encode_arg(v) for v in value]
        return items if isinstance(value, list) else {"__tuple__": items}
    if isinstance(value, dict):
        return {"__dict__": [[_encode_arg(k), _encode_arg(v)] for k, v in value.items()]}
    return runner.encode(value)


def _request(call) -> dict:
    return {
        "fn": call.fn,
        "args": _encode_arg(tuple(call.args))["__tuple__"],
        "kwargs": _encode_arg(call.kwargs),
        "probe": call.probe,
        "report_args": call.report_args,
        "read": call.read,
    }


def _seed(secret: int, grade_id: str) -> int:
    digest = hashlib.sha256(f"{secret}:{grade_id}".encode()).digest()
    return int.from_bytes(digest[:7], "big")


def _released_cells(solution) -> list:
    cells = []
    released = student_version(solution)
    for cell in released.cells:
        if cell.cell_type != "code" or is_test_cell(cell):
            continue
        gid = grade_info(cell).get("grade_id") if is_solution_cell(cell) else None
        cells.append((gid, cell.source))
    return cells


def _reference_namespace(solution) -> dict:
    """The solution notebook's given and answer cells, run here: instructor code, trusted."""
    namespace = {"__name__": "__main__"}
    sources = [c.source for c in solution.cells if c.cell_type == "code" and not is_test_cell(c)]
    errors = runner.run_cells(namespace, sources)
    failed = [e for e in errors if e is not None]
    if failed:
        raise AssignmentError(f"the solution notebook's code fails: {failed[0][0][0]}")
    return namespace


def _expected(namespace, requests) -> list:
    # Through JSON and back, exactly as a submission's outcomes travel.
    return [judge.outcome(json.loads(json.dumps(runner.call(namespace, r)))) for r in requests]


_PREPARED: dict = {}
_LOCK = threading.Lock()


def prepare(source_file: Path, secret: int) -> Prepared:
    """Specs, calls and reference outcomes of an assignment (cached per solution and secret)."""
    import torch

    key = (str(source_file), secret)
    with _LOCK:
        if key in _PREPARED:
            return _PREPARED[key]
        solution = read_notebook(source_file)
        tests = [c for c in solution.cells if is_test_cell(c)]
        found = specs.specs_for([grade_info(c)["grade_id"] for c in tests], source_file)
        namespace = _reference_namespace(solution)
        questions, digest = [], hashlib.sha256(source_file.read_bytes())
        for cell in tests:
            gid, points = grade_info(cell)["grade_id"], float(grade_info(cell).get("points", 0))
            spec = found[gid]
            calls, expected = [], []
            if spec is not None:
                calls = spec.cases(torch.Generator().manual_seed(_seed(secret, gid)))
                requests = [_request(c) for c in calls]
                expected = _expected(namespace, requests)
                digest.update(json.dumps([gid, requests]).encode())
            questions.append((gid, points, spec, calls, expected))
        manual = [
            (grade_info(c)["grade_id"], float(grade_info(c).get("points", 0)))
            for c in solution.cells
            if is_manual_cell(c)
        ]
        order = [
            grade_info(c)["grade_id"]
            for c in solution.cells
            if is_test_cell(c) or is_manual_cell(c)
        ]
        prepared = Prepared(
            source_file.stem, _released_cells(solution), questions, "", manual, order
        )
        prepared.digest = f"{VERSION}:{digest.hexdigest()}"
        _PREPARED[key] = prepared
        return prepared


# The untrusted side: one sandboxed run per submission.


def _drain(stream, cap: int, keep: list) -> None:
    """Read ``stream`` to its end, keeping at most ``cap`` bytes: a flood costs no memory."""
    size = 0
    while chunk := stream.read(65536):
        if size < cap:
            keep.append(chunk[: cap - size])
        size += len(chunk)
    stream.close()


def run_child(request: dict, *, notebook_timeout, memory_mb, isolate) -> tuple:
    """Run the runner on ``request``; (raw report bytes, stderr tail, why it stopped or None)."""
    read_end, write_end = os.pipe()
    cmd, _isolated = sandbox.command(
        isolate=isolate,
        memory_mb=memory_mb,
        cpu_s=notebook_timeout,
        tmpfs_mb=TMPFS_MB,
        fd=write_end,
    )
    limit = sandbox.ProcessLimit(MAX_PROCESSES)
    env = dict(sandbox.ENV) if not _isolated else {"PATH": "/usr/bin:/bin"}
    try:
        proc = subprocess.Popen(
            [*limit.prefix(), *cmd],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(write_end,),
            start_new_session=True,
            env=env,
            cwd="/",
        )
    finally:
        os.close(write_end)
    report, out, err = [], [], []
    with os.fdopen(read_end, "rb") as result_pipe:
        readers = [
            threading.Thread(target=_drain, args=(result_pipe, judge.MAX_REPORT_BYTES + 1, report)),
            threading.Thread(target=_drain, args=(proc.stdout, OUTPUT_CAP, out)),
            threading.Thread(target=_drain, args=(proc.stderr, OUTPUT_CAP, err)),
        ]
        for t in readers:
            t.daemon = True
            t.start()
        stopped = _feed_and_wait(proc, request, notebook_timeout)
        for t in readers:
            t.join(timeout=10)
    limit.remove()
    return b"".join(report), b"".join(err)[-2000:].decode(errors="replace"), stopped


def _feed_and_wait(proc, request: dict, timeout: int) -> str | None:
    try:
        proc.stdin.write(json.dumps(request).encode())
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    try:
        proc.wait(timeout=timeout)
        return None
    except subprocess.TimeoutExpired:
        return f"the submission ran past the {timeout} s limit"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()


def _cells_for(prepared: Prepared, submission) -> list[str]:
    answers = {}
    for cell in submission.cells:
        if cell.cell_type == "code" and is_solution_cell(cell):
            answers.setdefault(grade_info(cell).get("grade_id"), cell.source)
    return [source if gid is None else answers.get(gid, STUB) for gid, source in prepared.cells]


def _zero(prepared: Prepared, reason: str) -> list:
    return [QuestionResult(gid, 0.0, points, reason) for gid, points, *_ in prepared.questions]


def _blank(source: str) -> bool:
    text = source.strip()
    return text in ("", ANSWER_STUB, STUB)


def with_manual(prepared: Prepared, results: list, submission=None) -> list:
    """``results`` and the manually graded questions, in the notebook's order.

    A written answer is never scored here: it is reported as to be graded by hand, with a
    note when its cell is blank or missing (``submission`` None: the notebook is unreadable).
    """
    answers = {}
    for cell in submission.cells if submission is not None else []:
        if is_manual_cell(cell):
            answers.setdefault(grade_info(cell).get("grade_id"), cell.source)
    manual = []
    for gid, points in prepared.manual:
        source = answers.get(gid)
        note = (
            "the answer cell is missing"
            if source is None
            else "the answer cell is blank"
            if _blank(source)
            else None
        )
        manual.append(QuestionResult(gid, 0.0, points, note, manual=True))
    position = {gid: i for i, gid in enumerate(prepared.order)}
    return sorted(results + manual, key=lambda q: position.get(q.grade_id, len(position)))


def _cell_note(cell_errors) -> str:
    for e in cell_errors or []:
        if e is not None:
            return f" (an answer cell raised {e[0][0]}: {e[1][:120]})"
    return ""


def score(prepared: Prepared, report: dict) -> list:
    """Judge every question from the child's report, here, against the reference."""
    calls_out = iter(report["calls"])
    note = _cell_note(report.get("cells"))
    results = []
    for gid, points, spec, calls, expected in prepared.questions:
        got = [judge.outcome(next(calls_out)) for _ in calls]
        if spec is None:
            reason = f"the grader has no trusted spec for {gid}"
        elif spec.judge is not None:
            reason = spec.judge(calls, got, expected)
        else:
            reason = next(
                (
                    r
                    for c, g, w in zip(calls, got, expected, strict=True)
                    if (r := judge.compare(c, g, w))
                ),
                None,
            )
        if reason and "NameError" in reason:
            reason += note
        results.append(QuestionResult(gid, 0.0 if reason else points, points, reason))
    return results


def grade_one(
    path,
    *,
    source_dir=None,
    assignment: str | None = None,
    secret: int | None = None,
    notebook_timeout: int = 600,
    memory_mb: int | None = 8192,
    isolate: bool | None = None,
) -> Result:
    """Grade one submission; every failure becomes this submission's row, never an exception.

    The submitted file is only read. ``assignment``: the expected assignment (a notebook
    that claims another scores 0). ``secret`` seeds the hidden inputs (random if None).
    ``isolate``: True insists on the sandbox, False turns it off, None uses it where it works.
    """
    path = Path(path)
    source_dir = Path(source_dir) if source_dir else default_source_dir()
    secret = secrets.randbits(62) if secret is None else secret
    try:
        submission = read_notebook(path)
        claimed = claimed_assignment(submission) or assignment or path.stem
    except ValueError as err:
        if assignment is None:
            return Result(str(path), path.stem, error=str(err))
        submission, claimed, note = None, assignment, str(err)
    else:
        note = None
    name = assignment or claimed
    try:
        prepared = prepare(solution_path(source_dir, name), secret)
    except AssignmentError as err:
        return Result(str(path), name[:80], error=str(err))
    if note is None and claimed != name:
        note = f"this notebook claims assignment {claimed[:80]!r}, not {name!r}"
    if note is not None:
        return Result(
            str(path), name, with_manual(prepared, _zero(prepared, note), submission), note
        )
    request = {
        "site": [sandbox.SHIM if sandbox_isolated(isolate) else str(sandbox.shim_dir())]
        + sandbox.site_paths(),
        "cells": _cells_for(prepared, submission),
        "calls": [_request(c) for *_, calls, _ in prepared.questions for c in calls],
    }
    raw, stderr, stopped = run_child(
        request, notebook_timeout=notebook_timeout, memory_mb=memory_mb, isolate=isolate
    )
    try:
        report = judge.parse_report(raw, len(request["cells"]), len(request["calls"]))
        results = score(prepared, report)
    except judge.BadReport as err:
        why = stopped or _last_line(stderr) or str(err)
        reason = f"no valid result from the submission: {why}"
        return Result(
            str(path), name, with_manual(prepared, _zero(prepared, reason), submission), reason
        )
    return Result(str(path), name, with_manual(prepared, results, submission))


def sandbox_isolated(isolate) -> bool:
    return isolate is not False and sandbox.available()


def _last_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


def format_table(results) -> str:
    """A plain-text table: one row per submission and question, and a total per submission."""
    lines = []
    for r in results:
        lines.append(f"{r.submission}  [{r.assignment}]")
        if r.error:
            lines.append(f"  problem: {r.error}")
        for q in r.questions:
            note = f"  ({q.error})" if q.error else ""
            lines.append(f"  {q.grade_id:<40} {q.summary()}{note}")
        lines.append(f"  {'total':<40} {r.total_line()}")
    return "\n".join(lines)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(results, path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["submission", "assignment", "question", "points", "max_points", "error", "graded"]
        )
        for r in results:
            rows = [
                [q.grade_id, "", q.max_points, q.error or "", BY_HAND]
                if q.manual
                else [q.grade_id, q.points, q.max_points, q.error or "", "auto"]
                for q in r.questions
            ]
            if r.error:
                rows.append(["", "", "", r.error, ""])
            for row in rows:
                writer.writerow([csv_cell(v) for v in [r.submission, r.assignment, *row]])


def write_json(results, path) -> None:
    Path(path).write_text(json.dumps([r.to_dict() for r in results], indent=2))


def default_source_dir() -> Path | None:
    """The repository's solutions/ folder when the grader runs from a course checkout."""
    candidate = Path(__file__).resolve().parents[2] / "solutions"
    return candidate if candidate.is_dir() else None


def file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""
