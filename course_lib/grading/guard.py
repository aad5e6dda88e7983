"""Keep a submission's code from changing the verdict of the instructor's test cells.

The grader loads this file as the stand-alone module ``_course_lib_guard`` (it imports only
the standard library, so a kernel that needs no torch starts none), runs ``snapshot()`` in a
cell of its own before any submitted code, and, at the top of every test cell, re-executes
the file (so patching this module's functions is undone) and calls ``restore()``. Between the two, submitted code may have
tampered with what the tests rely on; ``restore`` undoes the tampering this module knows of:

- builtins (``len``, ``abs``, ``all``, ``isinstance``, ``AssertionError``, ...) replaced in
  the ``builtins`` module, or shadowed by globals of the same name, are put back;
- the library functions tests compare with (``torch.allclose``, ``numpy.allclose``,
  ``math.isclose``, the methods of ``torch.Tensor`` ...) are put back, code objects included,
  and so are the modules in ``sys.modules`` and the module aliases of the given code
  (``torch``, ``np``, ``F``, ...);
- IPython's error reporting (``showtraceback``, custom exception handlers) is reset, so an
  error in a test cell is always seen;
- ``check`` and the question modules are re-imported from disk (``pristine_check``);
- every answer function (the names the solution's answer cells define) is wrapped so that
  what it returns is screened: a value whose type lets the submission decide comparisons,
  arithmetic, truth, conversion or iteration (an object whose ``__eq__`` always returns
  True, a tensor subclass with ``__torch_function__``) makes the test fail with a
  ``TypeError``. Built-in types and classes importable under their own name from installed
  modules (torch, numpy, the course library) pass, and so do classes the solution itself
  asks for by name. Non-callable answers that lie are removed, so tests using them fail.

Limits, honestly: all of this runs in the submission's own Python process, and nothing in
one process can be fully protected from code that runs in it. Code that goes after the
grader itself -- editing this module's saved state, patching the import machinery or
``sys.modules`` entries the prelude uses, IPython's input transformers (which can rewrite a
test cell before it runs), ``gc``/``ctypes``/frame tricks, or a class that forges its
``__module__`` and plants itself in a trusted module -- is not stopped. Only values that
answer functions return are screened, not what a returned closure returns later; a
student class that the solution asks for by name is trusted; and a submission's global
that shadows a builtin (a variable named ``sum``) is dropped before each test cell unless
the solution binds the same name, which can cost an honest student who used such a name. The grader also
takes the kernel's own reply status for each test cell, which catches silenced errors that
slip past the reset. Against such attacks rely on review of suspicious scores (the report
lists every cell's outcome) and on the sandbox, which at least keeps the damage inside the
submission's scratch folder.
"""

import builtins
import importlib
import os
import sys
import types

_COURSE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Kept when the grader re-executes this file at each test cell (which undoes any patching of
# these functions themselves); filled by snapshot().
_SAVED: dict = globals().get("_SAVED", {})

# Functions, by module, that hidden tests commonly trust.
TRUSTED_FUNCTIONS = {
    "math": ["isclose", "isfinite", "isnan", "fabs"],
    "numpy": ["allclose", "isclose", "array_equal", "asarray", "array", "abs", "all", "any"],
    "numpy.testing": ["assert_allclose", "assert_array_equal", "assert_equal"],
    "torch": ["allclose", "isclose", "equal", "isfinite", "tensor", "as_tensor", "all", "any"],
    "torch.testing": ["assert_close"],
}
TRUSTED_MODULES = frozenset({"torch", "numpy"})  # snapshot() imports these when a solution does
# Classes whose methods a test calls on the values it compares; their __dict__ is restored.
TRUSTED_CLASSES = {"torch": ["Tensor"], "torch.nn": ["Module"], "numpy": ["ndarray"]}

# Methods through which a value can lie to a test about what it is.
PROTOCOL = frozenset(
    "__eq__ __ne__ __lt__ __le__ __gt__ __ge__ __bool__ __len__ __hash__ __abs__ __neg__ "
    "__pos__ __add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ "
    "__floordiv__ __mod__ __pow__ __matmul__ __rmatmul__ __float__ __int__ __index__ "
    "__complex__ __round__ __iter__ __next__ __getitem__ __contains__ __getattr__ "
    "__getattribute__ __array__ __array_ufunc__ __array_function__ __torch_function__ "
    "__torch_dispatch__ __instancecheck__ __subclasscheck__ __class__".split()
)
_SCREENED = "__course_lib_screened__"


def _function_state(fn):
    if isinstance(fn, types.FunctionType):
        return (fn.__code__, fn.__defaults__, fn.__kwdefaults__)
    return None


def snapshot(modules=()) -> None:
    """Record the pristine state; the grader runs this once, before any submitted code.

    ``modules``: the trusted modules the solution uses (imported here, so that their pristine
    state is the one recorded).
    """
    wanted = [m for m in [*TRUSTED_FUNCTIONS, *TRUSTED_CLASSES] if m.split(".")[0] in modules]
    for name in [*modules, *wanted]:  # submodules too: numpy.testing loads lazily
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    _SAVED["builtins"] = dict(vars(builtins))
    _SAVED["modules"] = dict(sys.modules)
    functions = []
    for mod_name, names in TRUSTED_FUNCTIONS.items():
        mod = sys.modules.get(mod_name)
        for name in names if mod is not None else ():
            if hasattr(mod, name):
                obj = getattr(mod, name)
                functions.append((mod, name, obj, _function_state(obj)))
    _SAVED["functions"] = functions
    classes = []
    for mod_name, names in TRUSTED_CLASSES.items():
        mod = sys.modules.get(mod_name)
        for name in names if mod is not None else ():
            cls = getattr(mod, name, None)
            if isinstance(cls, type):
                classes.append((cls, dict(vars(cls))))
    _SAVED["classes"] = classes
    shell = _shell()
    _SAVED["shell"] = (
        {k: getattr(shell, k) for k in ("CustomTB", "custom_exceptions")} if shell else {}
    )


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _restore_builtins(namespace: dict, keep: frozenset) -> None:
    saved = _SAVED["builtins"]
    live = vars(builtins)
    for name, value in saved.items():
        if live.get(name) is not value:
            live[name] = value
    for name in [n for n in live if n not in saved and not n.startswith("_")]:
        del live[name]
    # A global named like a builtin hides it from the test cell: drop the impostor.
    for name in [n for n in namespace if n in saved and n not in keep and n[0] != "_"]:
        if namespace[name] is not saved[name]:
            del namespace[name]


def _restore_libraries() -> None:
    for name, module in _SAVED["modules"].items():
        if sys.modules.get(name) is not module:
            sys.modules[name] = module
    for mod, name, obj, state in _SAVED["functions"]:
        setattr(mod, name, obj)
        if state is not None:
            obj.__code__, obj.__defaults__, obj.__kwdefaults__ = state
    for cls, saved in _SAVED["classes"]:
        # Only lying-capable methods added since are removed: libraries may add others.
        for name in [n for n in vars(cls) if n not in saved and n in PROTOCOL]:
            try:
                delattr(cls, name)
            except (AttributeError, TypeError):
                pass
        for name, value in saved.items():
            if vars(cls).get(name) is not value:
                try:
                    setattr(cls, name, value)
                except (AttributeError, TypeError):  # read-only slots of C types
                    pass


def _restore_shell() -> None:
    shell = _shell()
    if shell is None:
        return
    for name, value in _SAVED["shell"].items():
        setattr(shell, name, value)
    # Instance attributes that shadow the class's error reporting (e.g. a no-op showtraceback).
    for name in ("showtraceback", "_showtraceback", "showsyntaxerror", "run_code"):
        vars(shell).pop(name, None)


def _installed(module) -> bool:
    """A module loaded from a file of the Python installation or the course library."""
    path = getattr(module, "__file__", None)
    if not isinstance(module, types.ModuleType) or not isinstance(path, str):
        return False
    roots = {sys.prefix, sys.base_prefix, _COURSE_ROOT}
    path = os.path.realpath(path)
    return any(path.startswith(os.path.realpath(r) + os.sep) for r in roots)


def _trusted_type(cls, allowed: frozenset) -> bool:
    """Built in C, or importable under its own name from an installed module."""
    if not cls.__flags__ & (1 << 9):  # Py_TPFLAGS_HEAPTYPE: not a class made by Python code
        return True
    if cls.__module__ == "__main__":
        return cls.__name__ in allowed  # a class the solution asks for by name
    module = sys.modules.get(cls.__module__)
    if not _installed(module):
        return False
    obj = module
    for part in cls.__qualname__.split("."):
        obj = getattr(obj, part, None)
    return obj is cls


def _untrusted_protocol(cls, allowed: frozenset) -> str | None:
    """The first lying-capable method ``cls`` gets from an untrusted class, if any."""
    for klass in type.__getattribute__(cls, "__mro__"):
        own = type.__getattribute__(klass, "__dict__")
        if PROTOCOL.intersection(own) and not _trusted_type(klass, allowed):
            return f"{klass.__qualname__}.{sorted(PROTOCOL.intersection(own))[0]}"
    return None


def screen(value, allowed: frozenset = frozenset(), _depth: int = 0):
    """Return ``value`` if no part of it can lie to a comparison; raise ``TypeError`` if not."""
    cls = type(value)  # type() asks the interpreter, not the object
    culprit = _untrusted_protocol(cls, allowed)
    if culprit is not None:
        raise TypeError(
            f"the answer returned a {cls.__qualname__} that defines its own {culprit}; "
            "return plain values (numbers, tensors, arrays, tuples, lists, dicts)"
        )
    if _depth < 3 and cls in (tuple, list, set, frozenset):
        for item in list(value)[:1000]:
            screen(item, allowed, _depth + 1)
    elif _depth < 3 and cls is dict:
        for key, item in list(value.items())[:1000]:
            screen(key, allowed, _depth + 1)
            screen(item, allowed, _depth + 1)
    return value


def _screened(fn, allowed: frozenset):
    def answer(*args, **kwargs):
        return screen(fn(*args, **kwargs), allowed)

    setattr(answer, _SCREENED, fn)
    answer.__name__ = getattr(fn, "__name__", "answer")
    answer.__doc__ = getattr(fn, "__doc__", None)
    return answer


def _unwrapped(fn):
    """The submitted function behind our own wrapper (never wrap twice)."""
    inner = vars(fn).get(_SCREENED) if isinstance(fn, types.FunctionType) else None
    return inner if inner is not None else fn


def _wrap_answers(namespace: dict, answers) -> None:
    allowed = frozenset(answers)
    for name in answers:
        value = namespace.get(name)
        if value is None or isinstance(value, type):
            continue  # classes are the answer itself; they are tested through their methods
        if callable(value):
            namespace[name] = _screened(_unwrapped(value), allowed)
            continue
        try:
            screen(value, allowed)
        except TypeError:
            del namespace[name]  # a lying value answers nothing: tests using it fail


def restore(namespace: dict, answers=(), aliases=None, keep=(), with_check=True):
    """Undo known tampering, screen the answers, and return a pristine ``check``.

    ``answers``: names the solution's answer cells define. ``aliases``: {name: module} that
    the solution's given code imports (``{"np": "numpy"}``), rebound in ``namespace``.
    ``keep``: names the solution itself binds, kept even if they shadow a builtin.
    ``with_check``: re-import ``check`` (which imports the course library) and return it.
    """
    if not _SAVED:
        raise RuntimeError("guard.snapshot() must run before any submitted code")
    _restore_builtins(namespace, frozenset(keep) | frozenset(answers))
    _restore_libraries()
    _restore_shell()
    for alias, module in (aliases or {}).items():
        if module in sys.modules:
            namespace[alias] = sys.modules[module]
    _wrap_answers(namespace, answers)
    if with_check:
        return importlib.import_module("course_lib.grading.checks").pristine_check()
    return None
