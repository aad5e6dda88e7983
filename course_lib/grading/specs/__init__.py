"""Trusted question specs: what the grader calls in a submission, and how it judges the values.

Each graded test cell (by its ``grade_id``) has a spec: a function ``cases(g)`` that returns
the calls to make, built with the torch generator ``g`` that the grader seeds with a secret
of its own. The expected values come from the reference (the solution notebook's own
answer, run by the grader outside the sandbox) on the same arguments; a call passes when the
submission's value is close to the reference's, or raised the same type of error. A spec may
instead give a ``judge`` that looks at the submission's values itself (for random outputs).

The specs of the shipped exercises live in this package, one module per assignment; a course
of one's own can put ``NAME.questions.py`` next to ``NAME.ipynb`` in the source folder.
"""

import importlib
import importlib.util
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
