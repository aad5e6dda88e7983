"""In-notebook feedback: ``check("perceptron.predict", my_function)``.

Each question has a list of named cases registered with ``@case``. A case calls the student's
function on a small input and raises ``AssertionError`` with a message that says what was
wrong, never what the right answer is. The cases of question ``topic.name`` live in the module
``course_lib.grading.questions.topic``, imported on first use.
"""

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass


class CheckFailed(AssertionError):
    """Raised by ``check`` when at least one case fails, so a test cell fails too."""


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable
    hint: str


_REGISTRY: dict[str, list[Case]] = {}


def case(question: str, hint: str = ""):
    """Register the decorated function ``f(candidate)`` as one case of ``question``."""

    def register(fn):
        _REGISTRY.setdefault(question, []).append(Case(fn.__name__.replace("_", " "), fn, hint))
        return fn

    return register


def cases(question: str) -> list[Case]:
    """The registered cases of ``question`` (importing its topic module if needed)."""
    topic, _, rest = question.partition(".")
    if not rest:
        raise ValueError(f"question ids look like 'topic.name', got {question!r}")
    if question not in _REGISTRY:
        try:
            importlib.import_module(f"course_lib.grading.questions.{topic}")
        except ModuleNotFoundError:
            raise ValueError(
                f"no checks exist for topic {topic!r} (question {question!r})"
            ) from None
    if question not in _REGISTRY:
        known = sorted(q for q in _REGISTRY if q.startswith(topic + "."))
        raise ValueError(f"unknown question {question!r}; topic {topic!r} has {known}")
    return _REGISTRY[question]


def check(question: str, candidate, *, verbose: bool = True) -> int:
    """Run every case of ``question`` on ``candidate``; print a line per case.

    Returns the number of cases passed when all pass, and raises ``CheckFailed`` otherwise.
    A stub that raises ``NotImplementedError`` is reported as such and the error propagates.
    """
    results = []
    for c in cases(question):
        try:
            c.run(candidate)
        except NotImplementedError:
            print(f"{question}: not implemented yet -- replace the `raise NotImplementedError()`.")
            raise
        except AssertionError as err:
            results.append((c, f"{err}"))
        except Exception as err:  # the student's code crashed: say how, keep going
            results.append((c, f"raised {type(err).__name__}: {err}"))
        else:
            results.append((c, None))
    failed = [(c, msg) for c, msg in results if msg is not None]
    if verbose:
        for c, msg in results:
            if msg is None:
                print(f"  pass  {c.name}")
            else:
                print(f"  FAIL  {c.name}: {msg}")
                if c.hint:
                    print(f"        hint: {c.hint}")
    if failed:
        raise CheckFailed(f"{question}: {len(failed)} of {len(results)} checks failed")
    print(f"{question}: all {len(results)} checks passed.")
    return len(results)


def pristine_check():
    """Return ``check`` from freshly re-executed grading modules.

    The grader calls this at the top of every test cell, so a submission that redefines
    ``check``, patches this module or edits the registered cases cannot change a verdict.
    """
    import sys

    for name in [m for m in sys.modules if m.startswith("course_lib.grading.questions.")]:
        del sys.modules[name]
    sys.modules.pop(__name__, None)
    fresh = importlib.import_module(__name__)
    return fresh.check


def as_sent(value) -> dict:
    """``value`` as the grader receives it from the sandbox: {"value": plain} or {"error"}."""
    import json

    from . import judge, runner

    try:
        return judge.outcome(json.loads(json.dumps({"value": runner.encode(value)})))
    except runner.Unsupported as err:
        return {"error": runner.error_of(err)}


def check_answer(value) -> None:
    """The visible check of an analysis question: is the answer a number the grader can read?

    It says nothing about whether the number is right: that is decided when the notebook is
    graded. Raises ``CheckFailed`` with the reason when the grader would refuse the value.
    """
    got = as_sent(value)
    number = got.get("value")
    if "error" in got:
        reason = f"not plain data: {got['error'][1]}"
    elif type(number) not in (int, float):
        reason = f"got {type(value).__name__}, not a number"
    elif not math.isfinite(number):
        reason = f"{number!r} is not a finite number"
    else:
        print(f"answer recorded: {number!r} (it is marked when the notebook is graded)")
        return
    raise CheckFailed(f"the answer must be a plain int or float: {reason}")
