"""Test-suite plumbing.

Notebooks run once per test session, under nbval. This file keeps what that run produced: after
each notebook whose cells all passed, its outputs are written to ``_build/executed/<path>`` so
the book is built from the very run that was tested, instead of executing every notebook again.
The saved copy records a hash of the notebook and of ``course_lib``; ``make book`` re-executes
only notebooks whose hash changed, so a change in the library never leaves stale outputs.
"""

from pathlib import Path

import pytest

from booktools.book import ROOT, is_fresh, write_executed

_RUNS: dict = {}  # notebook path -> {"cells": {cell_num: outputs}, "failed": bool}


def pytest_addoption(parser):
    parser.addoption(
        "--reuse-fresh",
        action="store_true",
        help="skip notebooks whose executed copy in _build/executed is up to date",
    )
    parser.addoption(
        "--no-executed-copy",
        action="store_true",
        help="do not save executed copies (a run under another seed or thread count)",
    )


def pytest_ignore_collect(collection_path, config):
    path = Path(collection_path)
    if path.suffix != ".ipynb":
        return None
    if ".ipynb_checkpoints" in path.parts or path.is_relative_to(ROOT / "_build"):
        return True
    # Exercises and solutions are executed by the grader tests (tests/test_exercises.py).
    if path.parent.name in ("exercises", "solutions"):
        return True
    if config.getoption("--reuse-fresh") and is_fresh(path):
        return True
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if not hasattr(item, "cell_num") or call.when != "call":
        return
    report = outcome.get_result()
    run = _RUNS.setdefault(Path(str(item.parent.fspath)), {"cells": {}, "failed": False})
    run["cells"][item.cell_num] = item.test_outputs or []
    run["failed"] |= report.failed
    run["seconds"] = run.get("seconds", 0.0) + report.duration


def pytest_sessionfinish(session, exitstatus):
    # `make book` after `make test` (or twice) finds every executed copy current: nothing to
    # run is success, not pytest's "no tests collected" failure.
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and session.config.getoption(
        "--reuse-fresh"
    ):
        print("\nevery notebook's executed copy is current: nothing to run")
        session.exitstatus = pytest.ExitCode.OK
    if session.config.getoption("--no-executed-copy"):
        return
    for path, run in _RUNS.items():
        if not run["failed"]:
            write_executed(path, run["cells"], seconds=run.get("seconds"))
