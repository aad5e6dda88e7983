"""Broken and hostile submissions: each is graded correctly and the run goes on.

Every fixture leaves the files around it as they were: only its scratch copy may change.
The grader runs as whatever user runs the tests (root in the usual container).
"""

import hashlib
import html
import http.server
import json
import resource
import sys
import threading
import time

import nbformat
import pytest

from course_lib.grading import batch, sandbox
from course_lib.grading.batch import grade_batch
from course_lib.grading.grade import csv_cell, grade_one, run_child
from course_lib.grading.release import student_version

needs_isolation = pytest.mark.skipif(
    not sandbox.available(), reason="bubblewrap (bwrap) cannot isolate submissions here"
)

LIMITS = {"notebook_timeout": 60, "memory_mb": 8192}

# The trusted specs of the toy assignment: inputs drawn from the grader's generator.
SPECS = """
from course_lib.grading.specs import Call, question


@question("double-tests")
def _double(g):
    import torch

    ints = [int(v) for v in torch.randint(-10**6, 10**6, (3,), generator=g)]
    return [Call("double", (v,)) for v in ints] + [Call("double", (0.25,))]


@question("square-tests")
def _square(g):
    import torch

    return [Call("square", (9,)), Call("square", (torch.randn(4, generator=g).double().numpy(),))]
"""


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
    (root / "solutions" / "toy.questions.py").write_text(SPECS)
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

CORRECT = "def double(x):\n    return 2 * x"
# A report that claims everything passed, written to every descriptor the runner might use.
FORGE = (
    "import os, json\nfake = json.dumps({'cells': [], 'calls': [{'value': 42}] * 6}).encode()\n"
    "for fd in range(1, 20):\n    try:\n        os.write(fd, fake)\n    except OSError:\n        pass\n"
)
# Look for the solution notebook everywhere the old grader left it: the command line of every
# process, course_lib's folder, the working folders; exec its answer if found.
READS_SOLUTION = (
    "import glob, json, os\nfound = []\n"
    "for p in glob.glob('/proc/*/cmdline'):\n    try:\n"
    "        found += [a for a in open(p).read().split('\\0') if a.endswith('toy.ipynb')]\n"
    "    except OSError:\n        pass\n"
    "found += glob.glob('/tmp/**/solutions/toy.ipynb', recursive=True)\n"
    "found += glob.glob('/work/**/solutions/*.ipynb', recursive=True)\n"
    "for f in found:\n    try:\n"
    "        exec(json.load(open(f))['cells'][2]['source'])\n        break\n"
    "    except Exception:\n        pass\n"
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
    "kernel_death": ("import os\nos._exit(1)", 0, 0),  # no report: every question scores 0
    # A forged result channel: a made-up report, on every descriptor, then dying.
    "forges_report_and_exits": (FORGE + "os._exit(0)", 0, 0),
    # Whether the kill lands depends on which process is the parent inside the sandbox (its
    # init ignores it): the run is then lost (0) or graded on its honest square (3); never 42.
    "forges_report_kills_parent": (FORGE + "os.kill(os.getppid(), 9)", 0, (0, 3)),
    "forges_report_at_exit": (
        "import atexit, os\natexit.register(lambda: os.write(1, b'{\"score\": 5}'))\n" + HARD_CODED,
        0,
        3,
    ),
    # Reading the solutions or the reference: none of it is in the sandbox.
    "reads_solution_notebook": (READS_SOLUTION, 0, 3),
    "imports_reference": (
        "from course_lib.models.perceptron import predict\n" + "def double(x):\n    return 2 * x",
        0,
        3,
    ),
    "hidden_tests_in_exception": (
        "def double(x):\n    raise RuntimeError(open('/proc/1/cmdline').read())",
        0,
        3,
    ),
    # Interpreter tampering: it can only change the submission's own values.
    "trace_hook": (
        "import sys\nsys.settrace(lambda *a: None)\nsys.setprofile(lambda *a: None)\n" + HARD_CODED,
        0,
        3,
    ),
    "thread_replaces_builtins": (
        "import builtins, threading, time\n"
        "def _loop():\n    while True:\n        builtins.abs = lambda v: 0.0\n        time.sleep(0.001)\n"
        "threading.Thread(target=_loop, daemon=True).start()\n" + HARD_CODED,
        0,
        3,
    ),
    "import_hook": (
        "import sys\nclass Finder:\n    def find_spec(self, *a, **k):\n        return None\n"
        "sys.meta_path.insert(0, Finder())\n" + HARD_CODED,
        0,
        3,
    ),
    "replaced_builtins_dict": ("__builtins__ = {'abs': lambda v: 0.0}\n" + HARD_CODED, 0, 3),
    "frame_writes": (
        "import sys\nf = sys._getframe()\nwhile f.f_back:\n    f = f.f_back\n"
        "f.f_globals['encode'] = lambda v, depth=0: 42\n" + HARD_CODED,
        0,
        0,  # its writes change only the values it reports: all of them wrong
    ),
    # Values that lie about comparisons through numpy's and torch's protocols.
    "ndarray_subclass_always_equal": (
        CORRECT,
        2,
        0,
        "import numpy as np\nclass Yes(np.ndarray):\n    __eq__ = lambda s, o: True\n"
        "    def __array_ufunc__(self, *a, **k):\n        return True\n"
        "def square(x):\n    return np.zeros(4).view(Yes)",
    ),
    "tensor_subclass_lying_tolist": (
        CORRECT,
        2,
        0,
        "import torch\nclass Liar(torch.Tensor):\n    def tolist(self):\n        return [0.0, 1.0, 4.0, 9.0]\n"
        "def square(x):\n    return torch.zeros(4).as_subclass(Liar) if hasattr(x, 'shape') else x * x",
    ),
    # Floods and exhaustion: the limits stop them, the grader's memory stays flat.
    "output_flood": (
        "import sys\nfor _ in range(50):\n    sys.stdout.write('x' * 2**20)\n" + CORRECT,
        2,
        3,
    ),
    "fills_tmpfs": (
        "for d in ('/tmp', '/dev/shm'):\n    try:\n"
        "        with open(d + '/fill', 'wb') as f:\n            f.write(b'x' * 2**30)\n"
        "    except OSError:\n        pass\n" + CORRECT,
        2,
        3,
    ),
    "fork_bomb": (
        "import os, time\nfor _ in range(500):\n    try:\n        if os.fork() == 0:\n"
        "            time.sleep(20)\n            os._exit(0)\n    except OSError:\n        break\n"
        + CORRECT,
        2,
        3,
    ),
}


# Without the sandbox a submission can reach the grader (and the test run): these need it.
@needs_isolation
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_submission(assignment, tmp_path, name):
    code, want_double, want_square, *square_code = HOSTILE[name]
    path = submit(tmp_path, name, code, *square_code)
    before = _tree(tmp_path), _tree(assignment)
    result = grade_one(path, source_dir=assignment / "solutions", **LIMITS)
    points = {q.grade_id: q.points for q in result.questions}
    allowed_square = want_square if isinstance(want_square, tuple) else (want_square,)
    assert set(points) == {"double-tests", "square-tests"}, result
    assert points["double-tests"] == want_double, result
    assert points["square-tests"] in allowed_square, result
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


@needs_isolation
def test_batch_of_thirty_mixed_submissions_one_run_complete_report(
    assignment, tmp_path, monkeypatch
):
    """Correct, partial, broken and hostile submissions, graded in one run, then incrementally."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    kinds = sorted(HOSTILE)
    kinds += ["correct", "only_visible_case"] * 6
    expected = {}
    for i, kind in enumerate(kinds):
        code, want_double, want_square, *square_code = HOSTILE[kind]
        path = submit(folder, f"student{i:02d}_{kind}", code, *square_code)
        squares = want_square if isinstance(want_square, tuple) else (want_square,)
        expected[str(path)] = {want_double + s for s in squares}
    (folder / "student99_not_json.ipynb").write_text("not a notebook")
    expected[str(folder / "student99_not_json.ipynb")] = {0}
    assert len(expected) >= 30
    report = tmp_path / "report"
    before = _tree(folder)
    start = time.perf_counter()
    results = grade_batch(
        [folder],
        report_dir=report,
        source_dir=assignment / "solutions",
        progress=False,
        jobs=2,
        **LIMITS,
    )
    seconds = time.perf_counter() - start
    print(
        f"\n{len(results)} submissions graded in {seconds:.1f} s ({seconds / len(results):.2f} s each)"
    )
    scores = {r.submission: r.score for r in results}
    assert set(scores) == set(expected)
    assert all(scores[s] in expected[s] for s in scores), scores
    assert _tree(folder) == before, "grading changed a submission"

    lines = (report / "results.jsonl").read_text().splitlines()
    assert len(lines) == len(expected)
    assert {json.loads(line)["submission"]: json.loads(line)["score"] for line in lines} == scores
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
    def must_not_grade(*args, **kwargs):
        raise AssertionError("a recorded submission was graded again")

    monkeypatch.setattr(batch, "grade_one", must_not_grade)
    again = grade_batch(
        [folder], report_dir=report, source_dir=assignment / "solutions", progress=False, **LIMITS
    )
    assert [r.score for r in again] == [r.score for r in results]
    assert len((report / "results.jsonl").read_text().splitlines()) == len(expected)


def test_scratch_tmpfs_never_hides_the_environment():
    """An environment under /tmp (a clone in /tmp, say) is bound after the scratch tmpfs."""
    args = sandbox.bwrap_args(1)
    scratch = args.index(sandbox.SCRATCH, args.index("--tmpfs"))
    binds = [i for i, a in enumerate(args) if a == "--ro-bind" and args[i + 2] == sandbox.RUNNER]
    assert binds and scratch < binds[0]


def test_unsandboxed_runner_has_a_shell_between_it_and_the_grader():
    cmd, isolated = sandbox.command(isolate=False, memory_mb=None, cpu_s=1, tmpfs_mb=1, fd=3)
    assert not isolated and cmd[cmd.index("/bin/sh") : cmd.index("/bin/sh") + 3] == [
        "/bin/sh",
        "-c",
        '"$@"; exit $?',
    ]


def test_without_bwrap_grading_warns_once_and_never_silently(monkeypatch):
    monkeypatch.setattr(sandbox, "available", lambda: False)
    sandbox.warn_unisolated.cache_clear()
    args = {"memory_mb": None, "cpu_s": 10, "tmpfs_mb": 1, "fd": 3}
    with pytest.warns(sandbox.IsolationWarning, match="WITHOUT isolation") as caught:
        for _ in range(3):
            cmd, isolated = sandbox.command(isolate=None, **args)
            assert "bwrap" not in cmd and not isolated
    assert len(caught) == 1
    with pytest.raises(RuntimeError, match="isolation was requested"):
        sandbox.command(isolate=True, **args)
    sandbox.warn_unisolated.cache_clear()


def test_infinite_loop_hits_the_time_limit(assignment, tmp_path):
    path = submit(tmp_path, "loop", "while True:\n    pass")
    start = time.perf_counter()
    result = grade_one(path, source_dir=assignment / "solutions", notebook_timeout=3)
    assert time.perf_counter() - start < 15
    assert result.score == 0 and "3 s limit" in result.error


# What a submission sees from inside: its privileges, its files, its environment.
PROBE = """
import ctypes, os
def probe():
    status = dict(line.split(':', 1) for line in open('/proc/self/status'))
    libc = ctypes.CDLL(None, use_errno=True)
    remount = libc.mount(b'none', b'/', None, 32 | 1, None)  # MS_REMOUNT | MS_RDONLY cleared
    try:
        netns = libc.setns(os.open('/proc/1/ns/net', os.O_RDONLY), 0)
    except OSError:
        netns = -1
    visible = {p: os.path.exists(p) for p in PATHS}
    visible['/root beyond the Python installation'] = bool(
        os.path.isdir('/root') and set(os.listdir('/root')) - {'.pyenv'})
    try:
        open(RESULTS, 'a').write('forged')
        wrote = True
    except OSError:
        wrote = False
    return {
        'uid': os.getuid(), 'cap_eff': status['CapEff'].strip(),
        'no_new_privs': status['NoNewPrivs'].strip(), 'remount': remount, 'setns': netns,
        'visible': visible, 'env': dict(os.environ), 'wrote_results': wrote,
    }
"""


@needs_isolation
def test_sandbox_has_no_privileges_even_as_root(assignment, tmp_path, monkeypatch):
    import course_lib

    monkeypatch.setenv("COURSE_SECRET_TOKEN", "do-not-leak")
    results = tmp_path / "report" / "results.jsonl"
    results.parent.mkdir()
    results.write_text("")
    repo = str(sandbox.Path(course_lib.__file__).resolve().parents[1])
    # The environment may live inside the repository (.venv), so the repository's folder can
    # exist in the sandbox as the mount point of the read-only environment; none of its
    # sources, solutions or tests may.
    paths = [
        *(str(sandbox.Path(repo, name)) for name in ("course_lib", "solutions", "tests", ".git")),
        str(assignment),
        str(tmp_path),
        "/home",
        "/run",
        str(sandbox.Path(sys.prefix).parent / "solutions"),
    ]
    code = f"PATHS = {paths!r}\nRESULTS = {str(results)!r}\n" + PROBE
    request = {
        "site": [sandbox.SHIM, *sandbox.site_paths()],
        "cells": [code],
        "calls": [{"fn": "probe", "args": [], "kwargs": {"__dict__": []}}],
    }
    raw, stderr, stopped = run_child(request, notebook_timeout=60, memory_mb=8192, isolate=True)
    assert stopped is None, stderr
    seen = json.loads(raw)["calls"][0]
    assert "value" in seen, seen
    pairs = {k: v for k, v in seen["value"]["__dict__"]}
    assert pairs["uid"] == 65534 and pairs["cap_eff"] == "0000000000000000"
    assert pairs["no_new_privs"] == "1"
    assert pairs["remount"] == -1 and pairs["setns"] == -1, "remount or setns succeeded"
    assert not any(v for _k, v in pairs["visible"]["__dict__"]), pairs["visible"]
    env = dict(pairs["env"]["__dict__"])
    assert "COURSE_SECRET_TOKEN" not in env and set(env) <= set(sandbox.ENV) | {"PWD"}
    assert not pairs["wrote_results"] and results.read_text() == ""


@pytest.mark.parametrize(
    "claim", ["/etc/toy", "../solutions/toy", "toy/../toy", "other", "toy\n", ""]
)
def test_assignment_names_are_validated(assignment, tmp_path, claim):
    def relabel(nb):
        nb.metadata["course_lib"] = {"assignment": claim}

    path = submit(tmp_path, "claims", CORRECT, edit=relabel)
    result = grade_one(path, source_dir=assignment / "solutions", assignment="toy", **LIMITS)
    if claim == "":  # no claim: the expected assignment
        assert result.score == 5, result
        return
    assert result.score == 0 and result.error and len(result.questions) == 2, result
    result = grade_one(path, source_dir=assignment / "solutions", **LIMITS)
    assert result.score == 0 and result.error, result


def test_grader_memory_stays_flat_under_an_output_flood(assignment, tmp_path):
    flood = "import sys\nfor _ in range(200):\n    sys.stdout.write('x' * 2**20)\n" + CORRECT
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = grade_one(submit(tmp_path, "flood", flood), source_dir=assignment / "solutions")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.score == 5 and grown_mb < 50, grown_mb


def test_reports_are_safe_to_open(assignment, tmp_path):
    code = "def double(x):\n    raise ValueError('<script>alert(1)</script>')"
    folder = tmp_path / "subs"
    folder.mkdir()
    submit(folder, "=HYPERLINK(1)", code)
    report = tmp_path / "report"
    grade_batch([folder], report_dir=report, source_dir=assignment / "solutions", progress=False)
    assert "<script>" not in (report / "report.html").read_text()
    for cell in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]:
        assert csv_cell(cell).startswith("'")
    assert csv_cell("plain") == "plain"


def test_resume_file_is_checked(assignment, tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    good = submit(folder, "good", CORRECT)
    report = tmp_path / "report"
    report.mkdir()
    forged = {"submission": str(good), "assignment": "toy", "sha256": "x", "grader": "x",
              "questions": [{"grade_id": "double-tests", "points": 99, "max_points": 2}]}  # fmt: skip
    (report / "results.jsonl").write_text("{ broken\n" + json.dumps(forged) + "\n")
    results = grade_batch([folder], report_dir=report, source_dir=assignment / "solutions",
                          progress=False)  # fmt: skip
    assert [r.score for r in results] == [5]


def test_parallel_equals_sequential(assignment, tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    for name in ["correct", "only_visible_case", "patches_builtins", "kernel_death"]:
        code, _d, _s, *square = HOSTILE[name]
        submit(folder, name, code, *square)
    runs = [
        grade_batch(
            [folder],
            report_dir=tmp_path / f"r{jobs}",
            source_dir=assignment / "solutions",
            progress=False,
            jobs=jobs,
            **LIMITS,
        )  # fmt: skip
        for jobs in (1, 3)
    ]
    assert [r.to_dict() for r in runs[0]] == [r.to_dict() for r in runs[1]]
