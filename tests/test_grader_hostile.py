"""Broken and hostile submissions: each is graded correctly and the run goes on.

Every fixture leaves the files around it as they were: only its scratch copy may change.
"""

import hashlib
import html
import http.server
import json
import threading
import time

import nbformat
import pytest

from course_lib.grading import sandbox
from course_lib.grading.batch import grade_batch
from course_lib.grading.grade import grade_one
from course_lib.grading.release import student_version

needs_isolation = pytest.mark.skipif(
    not sandbox.available(), reason="bubblewrap (bwrap) cannot isolate submissions here"
)

LIMITS = {"cell_timeout": 20, "notebook_timeout": 120, "memory_mb": 8192}


def _solution():
    meta = lambda gid, grade, points=None: {  # noqa: E731
        "nbgrader": {
            "grade": grade,
            "grade_id": gid,
            "solution": not grade,
            "locked": grade,
            "schema_version": 3,
            "task": False,
            **({"points": points} if points else {}),
        }
    }
    nb = nbformat.v4.new_notebook()
    # The hidden tests lean on ==, abs, all and numpy.allclose: the things hostile code attacks.
    nb.cells = [
        nbformat.v4.new_markdown_cell("Write `double` and `square`."),
        nbformat.v4.new_code_cell("import numpy as np"),
        nbformat.v4.new_code_cell(
            "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            metadata=meta("double", False),
        ),
        nbformat.v4.new_code_cell(
            "assert double(1) == 2\n### BEGIN HIDDEN TESTS\nassert double(21) == 42\n"
            "assert abs(double(0.25) - 0.5) < 1e-12\n"
            "assert all(double(v) == 2 * v for v in range(5))\n### END HIDDEN TESTS",
            metadata=meta("double-tests", True, 2),
        ),
        nbformat.v4.new_code_cell(
            "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
            metadata=meta("square", False),
        ),
        nbformat.v4.new_code_cell(
            "assert square(2) == 4\n### BEGIN HIDDEN TESTS\nassert square(9) == 81\n"
            "assert np.allclose(square(np.arange(4.0)), [0.0, 1.0, 4.0, 9.0])\n"
            "np.testing.assert_allclose(square(np.arange(3.0)), [0.0, 1.0, 4.0])\n"
            "### END HIDDEN TESTS",
            metadata=meta("square-tests", True, 3),
        ),
    ]
    return nb


@pytest.fixture(scope="module")
def assignment(tmp_path_factory):
    root = tmp_path_factory.mktemp("assignment")
    (root / "solutions").mkdir()
    nbformat.write(_solution(), root / "solutions" / "toy.ipynb")
    return root


def submit(root, name, double_code, square_code="def square(x):\n    return x * x", edit=None):
    nb = student_version(_solution(), "toy.ipynb")
    nb.cells[2].source = double_code
    nb.cells[4].source = square_code
    if edit:
        edit(nb)
    path = root / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


HARD_CODED = "def double(x):\n    return {1: 2, 21: 42}.get(x, 0)"
HARD_CODED_SQUARE = (
    "def square(x):\n    return {2: 4, 9: 81}.get(x, x) if isinstance(x, int) else x"
)
# numpy's comparisons made to say yes: by attribute, by rewriting code in place, by an alias.
PATCHED_ALLCLOSE = (
    "import numpy\nnumpy.allclose = lambda *a, **k: True\n"
    "numpy.testing.assert_allclose = lambda *a, **k: None\n" + HARD_CODED_SQUARE
)
REWRITTEN_ALLCLOSE = PATCHED_ALLCLOSE.replace(
    "numpy.testing.assert_allclose = lambda *a, **k: None",
    "numpy.testing.assert_allclose.__code__ = (lambda *a, **k: None).__code__",
)
FAKE_NUMPY_ALIAS = (
    "class FakeNumpy:\n    arange = staticmethod(__import__('numpy').arange)\n"
    "    allclose = staticmethod(lambda *a, **k: True)\n"
    "    class testing:\n        assert_allclose = staticmethod(lambda *a, **k: None)\n"
    "np = FakeNumpy()\n" + HARD_CODED_SQUARE
)

HOSTILE = {
    # name: (code for double, expected points for double, expected points for square)
    "correct": ("def double(x):\n    return 2 * x", 2, 3),
    "only_visible_case": ("def double(x):\n    return 2", 0, 3),
    "exception_at_import": ("import no_such_module\ndef double(x):\n    return 2 * x", 0, 3),
    "sys_exit": ("import sys\nsys.exit(3)", 0, 3),
    "renamed_function": ("def twice(x):\n    return 2 * x", 0, 3),
    "huge_output": ("print('x' * 5_000_000)\ndef double(x):\n    return 2 * x", 2, 3),
    "huge_memory": ("block = bytearray(64 * 1024**3)\ndef double(x):\n    return 2 * x", 0, 3),
    "redefines_check_and_assert_helpers": (
        "import course_lib.grading.checks as c\nc.check = lambda *a, **k: None\n"
        "check = lambda *a, **k: None\ndef double(x):\n    return 0",
        0,
        3,
    ),
    # Hard-coded answers that pass only because the submission lies to the hidden tests:
    # each of these would earn the points without the guard.
    "returns_always_equal": (
        "class Yes:\n    __eq__ = lambda self, other: True\n    __sub__ = lambda self, o: self\n"
        "    __abs__ = lambda self: 0.0\n    __hash__ = None\n"
        "def double(x):\n    return Yes()",
        0,
        3,
    ),
    "returns_always_equal_int": (
        "class Yes(int):\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = int.__hash__\n"
        "def double(x):\n    return Yes(2 * x) if isinstance(x, int) else 2 * x",
        0,
        3,
    ),
    "patches_builtins": (
        "import builtins\nbuiltins.abs = lambda v: 0.0\nbuiltins.all = lambda it: True\n"
        "builtins.AssertionError = type('Ignored', (Exception,), {})\n" + HARD_CODED,
        0,
        3,
    ),
    "shadows_builtins": ("abs = lambda v: 0.0\nall = lambda it: True\n" + HARD_CODED, 0, 3),
    "patches_grading_helpers": (
        "import builtins, sys, course_lib.grading.checks as c\n"
        "sys.modules['_course_lib_guard'].restore = lambda *a, **k: c.check\n"
        "c.pristine_check = lambda: c.check\n"
        "builtins.abs = lambda v: 0.0\nbuiltins.all = lambda it: True\n" + HARD_CODED,
        0,
        3,
    ),
    "silences_errors": (
        "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\n"
        "ip.set_custom_exc((Exception,), lambda *a, **k: None)\ndef double(x):\n    return 0",
        0,
        3,
    ),
    "patches_numpy_allclose": ("def double(x):\n    return 2 * x", 2, 0, PATCHED_ALLCLOSE),
    "rewrites_numpy_code": ("def double(x):\n    return 2 * x", 2, 0, REWRITTEN_ALLCLOSE),
    "replaces_numpy_alias": ("def double(x):\n    return 2 * x", 2, 0, FAKE_NUMPY_ALIAS),
    "infinite_loop": ("while True:\n    pass", 0, 0),  # the time limit stops the notebook
    "kernel_death": ("import os\nos._exit(1)", 0, 0),  # so does a dead kernel
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_submission(assignment, tmp_path, name):
    code, want_double, want_square, *square_code = HOSTILE[name]
    path = submit(tmp_path, name, code, *square_code)
    before = _tree(tmp_path), _tree(assignment)
    result = grade_one(path, source_dir=assignment / "solutions", **LIMITS)
    points = {q.grade_id: q.points for q in result.questions}
    assert points == {"double-tests": want_double, "square-tests": want_square}, result
    assert (_tree(tmp_path), _tree(assignment)) == before, "grading changed files around it"


def _tree(folder):
    """Every file under ``folder`` with a digest of its content."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@needs_isolation
def test_no_network_not_even_the_hosts_loopback(assignment, tmp_path):
    """A server on the host's 127.0.0.1 that holds the answer is out of the submission's reach."""
    hits = []

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"2")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/factor"
        # The factor comes from the server: only a submission that reaches it doubles.
        code = (
            "import urllib.request\n"
            f"FACTOR = int(urllib.request.urlopen({url!r}, timeout=5).read())\n"
            "def double(x):\n    return FACTOR * x"
        )
        result = grade_one(
            submit(tmp_path, "online", code), source_dir=assignment / "solutions", **LIMITS
        )
    finally:
        server.shutdown()
    points = {q.grade_id: q.points for q in result.questions}
    assert points == {"double-tests": 0, "square-tests": 3}, result
    assert "NameError" in result.questions[0].error  # FACTOR was never set
    assert hits == [], "the submission reached the host's network"


@needs_isolation
def test_no_writes_or_deletions_outside_the_scratch_folder(assignment, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "sentinel.txt").write_text("keep me")
    targets = [outside / "new.txt", tmp_path / "next_to_submission.txt"]
    code = (
        "import os, pathlib\n"
        f"for target in {[str(t) for t in targets]!r}:\n"
        "    try:\n        pathlib.Path(target).write_text('written by a submission')\n"
        "    except OSError as err:\n        print('blocked:', err)\n"
        f"try:\n    os.remove({str(outside / 'sentinel.txt')!r})\n"
        "except OSError as err:\n    print('blocked:', err)\n"
        "def double(x):\n    return 2 * x"
    )
    path = submit(tmp_path, "vandal", code)
    before = _tree(tmp_path)
    result = grade_one(path, source_dir=assignment / "solutions", **LIMITS)
    assert result.score == 5, result  # the submission runs on; its writes just fail
    assert (outside / "sentinel.txt").read_text() == "keep me"
    assert _tree(tmp_path) == before, "a file outside the scratch folder was written"


def test_edited_tests_and_extra_cells_change_nothing(assignment, tmp_path):
    def cheat(nb):
        nb.cells[3].source = "pass"  # 'edit' the visible test away
        nb.cells.insert(0, nbformat.v4.new_code_cell("def check(*a, **k):\n    return None"))

    path = submit(tmp_path, "cheat", "def double(x):\n    return 2", edit=cheat)
    result = grade_one(path, source_dir=assignment / "solutions", **LIMITS)
    assert result.score == 3


def test_not_json_is_reported_not_fatal(assignment, tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{ not json")
    result = grade_one(path, source_dir=assignment / "solutions", **LIMITS)
    assert result.score == 0 and "not a valid notebook" in result.error


def test_batch_of_thirty_mixed_submissions_one_run_complete_report(assignment, tmp_path):
    """Correct, partial, broken and hostile submissions, graded in one run, then incrementally."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    kinds = [k for k in sorted(HOSTILE) if k != "infinite_loop"]  # its 20 s are tested above
    kinds += ["correct", "only_visible_case"] * 6
    expected = {}
    for i, kind in enumerate(kinds):
        code, want_double, want_square, *square_code = HOSTILE[kind]
        path = submit(folder, f"student{i:02d}_{kind}", code, *square_code)
        expected[str(path)] = want_double + want_square
    (folder / "student99_not_json.ipynb").write_text("not a notebook")
    expected[str(folder / "student99_not_json.ipynb")] = 0
    assert len(expected) >= 30
    report = tmp_path / "report"
    before = _tree(folder)
    start = time.perf_counter()
    results = grade_batch(
        [folder], report_dir=report, source_dir=assignment / "solutions", progress=False, **LIMITS
    )
    seconds = time.perf_counter() - start
    print(
        f"\n{len(results)} submissions graded in {seconds:.1f} s ({seconds / len(results):.2f} s each)"
    )
    assert {r.submission: r.score for r in results} == expected
    assert _tree(folder) == before, "grading changed a submission"

    lines = (report / "results.jsonl").read_text().splitlines()
    assert len(lines) == len(expected)
    assert {json.loads(line)["submission"]: json.loads(line)["score"] for line in lines} == expected
    csv_rows = (report / "scores.csv").read_text().splitlines()
    # A header, a row per question, and one per problem with a whole submission.
    assert len(csv_rows) == 1 + sum(len(r.questions) + bool(r.error) for r in results)
    assert sum(len(r.questions) == 2 for r in results) == len(expected) - 1  # all but not-JSON
    page = (report / "report.html").read_text()
    assert "score distribution for double-tests" in page and "not a valid notebook" in page
    for r in results:
        assert html.escape(r.submission) in page
        for q in r.questions:
            if q.points < q.max_points:  # every lost point has its reason, in CSV and HTML
                assert q.error, (r.submission, q.grade_id)
                assert html.escape(f"{r.submission}: {q.grade_id}: {q.error}") in page
                assert any(q.grade_id in row and r.submission in row for row in csv_rows)

    # A second run finds every grade already recorded and grades nothing again.
    start = time.perf_counter()
    again = grade_batch(
        [folder], report_dir=report, source_dir=assignment / "solutions", progress=False, **LIMITS
    )
    assert time.perf_counter() - start < seconds / 4
    assert [r.score for r in again] == [r.score for r in results]
    assert len((report / "results.jsonl").read_text().splitlines()) == len(expected)


def test_without_bwrap_grading_warns_once_and_never_silently(monkeypatch):
    from course_lib.grading import grade

    monkeypatch.setattr(sandbox, "available", lambda: False)
    sandbox.warn_unisolated.cache_clear()
    with pytest.warns(sandbox.IsolationWarning, match="WITHOUT isolation") as caught:
        for _ in range(3):
            cmd, _env = grade._child_command({}, None, readable=[])
            assert cmd[0] != "bwrap"
    assert len(caught) == 1
    with pytest.raises(RuntimeError, match="isolation was requested"):
        grade._child_command({}, True, readable=[])
    sandbox.warn_unisolated.cache_clear()


@needs_isolation
def test_the_sandbox_wraps_the_grading_child():
    from course_lib.grading import grade

    cmd, env = grade._child_command({}, None, readable=[])
    assert cmd[0] == "bwrap" and "--unshare-net" in cmd and env["HOME"].startswith("/tmp/")
