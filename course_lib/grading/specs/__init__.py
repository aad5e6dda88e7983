"""Trusted question specs: what the grader calls in a submission, and how it judges the values.

Each graded test cell (by its ``grade_id``) has a spec: a function ``cases(g)`` that returns
the calls to make, built with the torch generator ``g`` that the grader seeds with a secret
of its own. The expected values come from the reference (the solution notebook's own
answer, run by the grader outside the sandbox) on the same arguments; a call passes when the
submission's value is close to the reference's, or raised the same type of error. A spec may
instead give a ``judge`` that looks at the submission's values itself (for random outputs).

An analysis question (a number the student derives, ``answer_q5 = ...``) is registered with
``answer(grade_id, name, value, rtol=..., atol=...)``: the reference value and its tolerance
live in the spec, and the sandbox only reports the value of that name.

The specs of the shipped exercises live in this package, one module per assignment; a course
of one's own can put ``NAME.questions.py`` next to ``NAME.ipynb`` in the source folder.
"""

import importlib
import importlib.util
import math
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Make:
    """An argument the sandbox builds from plain data (a model, a callable, a generator)."""

    recipe: str
    kw: dict


@dataclass
class Call:
    """One call ``fn(*args, **kwargs)`` of a submitted function."""

    fn: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    rtol: float = 1e-5
    atol: float = 1e-6
    probe: str | None = None  # a name in runner.PROBES, for a returned object
    report_args: bool = False  # also judge the arguments after the call (modified in place?)
    read: bool = False  # ``fn`` names a value (an answer variable), which is read, not called


@dataclass
class Question:
    grade_id: str
    cases: Callable  # g -> list[Call]
    judge: Callable | None = None  # (calls, outcomes, expected) -> reason or None


REGISTRY: dict[str, Question] = {}


def question(grade_id: str, judge: Callable | None = None):
    """Register the decorated ``cases(g)`` as the spec of the test cell ``grade_id``."""

    def register(cases):
        REGISTRY[grade_id] = Question(grade_id, cases, judge)
        return cases

    return register


def answer(grade_id: str, name: str, value, *, rtol: float = 0.0, atol: float = 0.0) -> None:
    """Register an analysis question: the submission sets ``name`` to a number.

    ``value`` is the trusted reference; it lives here, never in the student's copy. The
    answer is right when it is a plain finite ``int`` or ``float`` within ``rtol``/``atol``
    of ``value`` (both 0: it must equal ``value`` exactly, as for a count).
    """
    if type(value) not in (int, float) or not math.isfinite(value):
        raise ValueError(f"{grade_id}: the reference must be a finite int or float, got {value!r}")
    if not (rtol >= 0 and atol >= 0):
        raise ValueError(f"{grade_id}: rtol and atol must be >= 0, got {rtol!r} and {atol!r}")
    reference = Reference(name, value, rtol, atol)

    def cases(g):
        return [Call(name, read=True)]

    def judge(calls, got, expected):
        return reference.reason(got[0])

    REGISTRY[grade_id] = Question(grade_id, cases, judge)
    ANSWERS[grade_id] = reference


@dataclass(frozen=True)
class Reference:
    """The right answer to an analysis question and how close a submitted number must be."""

    name: str
    value: float
    rtol: float
    atol: float

    def reason(self, outcome: dict) -> str | None:
        """None when the outcome (plain data from the sandbox) is the right number."""
        if "error" in outcome:
            names, message = outcome["error"]
            if "NameError" in names:
                return f"no answer: {self.name} is not set (NameError)"
            return f"{self.name} is not a plain number (int or float): {message}"
        return self.judge_value(outcome["value"])

    def judge_value(self, value) -> str | None:
        """None when ``value`` is a plain finite int or float close enough to the reference."""
        if type(value) not in (int, float):
            kind = "None" if value is None else type(value).__name__
            if kind in ("ndarray", "Tensor"):
                kind = "an array or tensor (write float(...) around it)"
            return f"{self.name} must be a plain number (int or float), got {kind}"
        if not math.isfinite(value):
            return f"{self.name} must be a finite number, got {value!r}"
        exact = self.rtol == 0 and self.atol == 0  # a count: equal, not just close
        if exact and value != self.value:
            return f"{self.name} is not the right value"
        if not math.isclose(value, self.value, rel_tol=self.rtol, abs_tol=self.atol):
            return f"{self.name} is not the right value"
        return None


ANSWERS: dict[str, Reference] = {}


def assert_answer(grade_id: str, value) -> None:
    """The hidden test of an analysis question, for nbgrader's own autograder.

    Raises ``AssertionError`` with the reason unless ``value`` is right; the reference and
    its tolerance are those of the grader's spec.
    """
    from ..checks import as_sent

    _load_builtin()
    if grade_id not in ANSWERS:
        raise KeyError(f"no analysis question {grade_id!r} is registered with answer(...)")
    reason = ANSWERS[grade_id].reason(as_sent(value))
    if reason:
        raise AssertionError(reason)


def _load_builtin() -> None:
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


def load_file(path: Path) -> None:
    """Load an instructor's own ``NAME.questions.py`` (trusted code, like the solutions)."""
    spec = importlib.util.spec_from_file_location(f"_questions_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


def specs_for(grade_ids, source_file: Path) -> dict:
    """{grade_id: Question or None} for the test cells of the solution ``source_file``."""
    _load_builtin()
    extra = source_file.with_name(source_file.stem + ".questions.py")
    if extra.is_file():
        load_file(extra)
    return {gid: REGISTRY.get(gid) for gid in grade_ids}
