"""Grade submitted notebooks: each in a fresh kernel, in a scratch folder, with time and memory
limits, so that no submission can stop the run, change another's grade or its own file.

The notebook that runs is built from the instructor's solution notebook: its text, given code
and test cells (hidden tests included), with the student's code in the answer cells only
(matched by nbgrader ``grade_id``). Editing or deleting a test cell, or adding cells, changes
nothing. A grader cell records the pristine interpreter state before any submitted code runs,
and every test cell starts by undoing tampering and re-importing ``check`` (see ``guard`` for
what that covers and what it cannot). A test cell earns its points when it runs without an
error, by its outputs and by the kernel's reply. On Linux the child process and its kernel
run in a bubblewrap sandbox without network and with a private /tmp (see ``sandbox``).
"""

import copy
import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbclient
import nbformat

from . import guard, sandbox
from .guard import TRUSTED_MODULES
from .notebooks import (
    STUB,
    bound_names,
    grade_info,
    is_solution_cell,
    is_test_cell,
    read_notebook,
)

GUARD_MODULE = "_course_lib_guard"
SNAPSHOT = (
    "import importlib.util as _u, sys as _s\n"
    f"_spec = _u.spec_from_file_location({GUARD_MODULE!r}, {{path!r}})\n"
    f"_s.modules[{GUARD_MODULE!r}] = _g = _u.module_from_spec(_spec)\n"
    "_spec.loader.exec_module(_g)\n"
    "_g.snapshot({modules!r})\n"
    "del _u, _s, _spec, _g\n"
)
# Re-executing the guard's file first undoes any patching of the guard's own functions.
GUARD = (
    "import sys as _sys\n"
    f"_g = _sys.modules[{GUARD_MODULE!r}]\n"
    "_g.__spec__.loader.exec_module(_g)\n"
    "{assign}_g.restore(\n"
    "    globals(), answers={answers!r}, aliases={aliases!r}, keep={keep!r},\n"
    "    with_check={with_check!r})\n"
    "del _sys, _g\n"
)
STATUS_KEY = "course_lib_reply"  # cell metadata: the kernel's reply status for the cell


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
    error: str | None = None  # a problem with the whole submission (unreadable, killed, ...)

    @property
    def score(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def max_score(self) -> float:
        return sum(q.max_points for q in self.questions)

    def to_dict(self) -> dict:
        return {**asdict(self), "score": self.score, "max_score": self.max_score}

    @classmethod
    def from_dict(cls, data: dict) -> "Result":
        questions = [QuestionResult(**q) for q in data.get("questions", [])]
        return cls(data["submission"], data["assignment"], questions, data.get("error"))


def assignment_name(nb, path: Path) -> str:
    """The assignment a notebook belongs to: its metadata, else its file name."""
    return nb.metadata.get("course_lib", {}).get("assignment") or path.stem


def _guards(template):
    """The grader's first cell and the prelude of each test cell, for this assignment."""
    code = [c for c in template.cells if c.cell_type == "code"]
    answers, _ = bound_names(c.source for c in code if is_solution_cell(c))
    given, aliases = bound_names(
        c.source for c in code if not is_solution_cell(c) and not is_test_cell(c)
    )
    modules = sorted({m.split(".")[0] for m in aliases.values()} & TRUSTED_MODULES)
    path = str(Path(guard.__file__).resolve())
    first = nbformat.v4.new_code_cell(SNAPSHOT.format(path=path, modules=modules))

    def prelude(cell_source: str) -> str:
        # Only a cell that calls check needs it (and the course library it imports).
        uses_check = "check" in cell_source
        return GUARD.format(
            assign="check = " if uses_check else "",
            answers=sorted(answers),
            aliases=aliases,
            keep=sorted(given),
            with_check=uses_check,
        )

    return first, prelude


def _guarded(cell, prelude):
    cell = copy.deepcopy(cell)
    cell.source = prelude(cell.source) + cell.source
    return cell


def grading_notebook(submission, source=None):
    """The notebook to execute.

    With ``source`` (the solution notebook): the source's cells, where each answer cell holds
    the student's answer cell with the same grade_id (or the stub, if it is missing). Without
    it (a student's self-check): the submission as it is. Either way a grader cell runs
    first and every test cell is guarded.
    """
    template = source if source is not None else submission
    first, prelude = _guards(template)
    answers = {grade_info(c).get("grade_id"): c for c in submission.cells if is_solution_cell(c)}
    nb = copy.deepcopy(template)
    cells = [first]
    for cell in nb.cells:
        if source is not None and is_solution_cell(cell):
            answer = answers.get(grade_info(cell).get("grade_id"))
            cell.source = answer.source if answer is not None else STUB
        elif is_test_cell(cell):
            cell = _guarded(cell, prelude)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    return nb


def _error_text(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}"[:300]
    return None


def _record_reply(cell, cell_index, execute_reply):
    """Keep the kernel's own verdict: it sees an error even if the outputs were silenced."""
    cell.metadata[STATUS_KEY] = execute_reply.get("content", {}).get("status")


def execute(nb, workdir: Path, *, cell_timeout: int, kernel_name: str = "python3"):
    """Execute ``nb`` in ``workdir``; errors are recorded in the outputs, not raised.

    Returns None, or a sentence saying why execution stopped early.
    """
    client = nbclient.NotebookClient(
        nb,
        timeout=cell_timeout,
        kernel_name=kernel_name,
        allow_errors=True,
        resources={"metadata": {"path": str(workdir)}},
        on_cell_executed=_record_reply,
    )
    try:
        client.execute(env={**os.environ, "HOME": str(workdir), "TMPDIR": str(workdir)})
        return None
    except nbclient.exceptions.CellTimeoutError:
        return f"a cell ran past the {cell_timeout} s time limit"
    except nbclient.exceptions.DeadKernelError:
        return "the kernel died (the notebook exited the process or ran out of memory)"


def score(nb, name: str, submission: str, stop_reason: str | None) -> Result:
    result = Result(submission, name, error=stop_reason)
    for cell in nb.cells:
        if not is_test_cell(cell):
            continue
        info = grade_info(cell)
        ran = cell.get("execution_count") is not None or cell.get("outputs")
        err = _error_text(cell) or (None if ran else f"not run ({stop_reason or 'stopped'})")
        status = cell.metadata.get(STATUS_KEY)
        if err is None and status not in (None, "ok"):
            err = f"the test cell failed (kernel reply: {status}) but its error was hidden"
        max_points = float(info.get("points", 0))
        result.questions.append(
            QuestionResult(info["grade_id"], 0.0 if err else max_points, max_points, err)
        )
    if not result.questions and result.error is None:
        result.error = "the notebook has no graded test cells"
    return result


def _limit_memory(megabytes: int) -> None:
    """Cap this process's address space; the kernel it starts inherits the cap."""
    import resource

    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def grade_in_this_process(path, *, source_dir=None, cell_timeout=120, memory_mb=None) -> Result:
    """Grade one submission here (``grade_one`` runs this in a child process)."""
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
    if not any(is_test_cell(c) for c in nb.cells):
        return Result(str(path), name, error="the notebook has no graded test cells")
    if memory_mb:
        _limit_memory(memory_mb)
    scratch = Path(tempfile.mkdtemp(prefix="grade-"))
    try:
        stop_reason = execute(nb, scratch, cell_timeout=cell_timeout)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return score(nb, name, str(path), stop_reason)


def grade_one(
    path,
    *,
    source_dir=None,
    cell_timeout: int = 120,
    notebook_timeout: int = 600,
    memory_mb: int | None = 8192,
    isolate: bool | None = None,
) -> Result:
    """Grade one submission in a child process with a time limit for the whole notebook.

    The submitted file is only read, never written. If the child (or its kernel) outlives
    ``notebook_timeout`` seconds, the whole process group is killed and the submission gets
    the points of no question. ``isolate``: run the child in the bubblewrap sandbox (no
    network, no writes outside its private /tmp); None uses it where it works and warns
    where it does not, True insists on it, False turns it off.
    """
    path = Path(path)
    args = {
        # Absolute paths: the sandboxed child may not start in the same working folder.
        "path": str(path.absolute()),
        "source_dir": str(Path(source_dir).absolute()) if source_dir else None,
        "cell_timeout": cell_timeout,
        "memory_mb": memory_mb,
    }
    cmd, env = _child_command(args, isolate, readable=[path, source_dir or path])
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        text=True,
        env=env,
    )
    try:
        out, _ = proc.communicate(timeout=notebook_timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Result(
            str(path),
            path.stem,
            error=f"the notebook ran past the {notebook_timeout} s limit for a whole notebook",
        )
    finally:
        _kill_group(proc.pid)
    try:
        result = Result.from_dict(json.loads(out.strip().splitlines()[-1]))
    except (json.JSONDecodeError, IndexError, KeyError):
        return Result(
            str(path), path.stem, error=f"the grader crashed on this file (exit {proc.returncode})"
        )
    result.submission = str(path)  # as the caller named it, for the report
    return result


# The child imports only the grading package: a stand-in for the top-level course_lib package
# skips its __init__, which imports torch (seconds per submission). The kernel, where
# submitted code runs, imports the real package as usual.
CHILD = (
    "import sys, types\n"
    "package = types.ModuleType('course_lib')\n"
    "package.__path__ = [{root!r}]\n"
    "sys.modules['course_lib'] = package\n"
    "from course_lib.grading.grade import child_main\n"
    "child_main()\n"
)


def _child_command(args: dict, isolate: bool | None, readable) -> tuple[list[str], dict]:
    root = str(Path(__file__).resolve().parents[1])
    cmd = [sys.executable, "-c", CHILD.format(root=root), json.dumps(args)]
    if isolate is False:
        return cmd, dict(os.environ)
    if sandbox.available():
        return sandbox.wrap(cmd, readable)
    if isolate:
        raise RuntimeError("isolation was requested but bubblewrap (bwrap) cannot run here")
    sandbox.warn_unisolated()
    return cmd, dict(os.environ)


def _kill_group(pid: int) -> None:
    """Kill whatever the grading child left behind (a kernel, its children)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def format_table(results) -> str:
    """A plain-text table: one row per submission and question, and a total per submission."""
    lines = []
    for r in results:
        lines.append(f"{r.submission}  [{r.assignment}]")
        if r.error:
            lines.append(f"  problem: {r.error}")
        for q in r.questions:
            note = f"  ({q.error})" if q.error else ""
            lines.append(f"  {q.grade_id:<32} {q.points:>5g} / {q.max_points:<5g}{note}")
        lines.append(f"  {'total':<32} {r.score:>5g} / {r.max_score:<5g}")
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


def child_main() -> None:
    """The child process of ``grade_one``: grade, then print the result as one JSON line."""
    options = json.loads(sys.argv[-1])
    graded = grade_in_this_process(options.pop("path"), **options)
    print(json.dumps(graded.to_dict()))


if __name__ == "__main__":
    child_main()
