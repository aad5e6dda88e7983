"""Asserting a result, showing it, and recording it: one call per claim a chapter makes.

``claim("LSTM accuracy at lag 60", acc, at_least=0.95)`` checks the bound, prints the line the
reader sees, and, when the environment variable ``COURSE_CLAIMS_FILE`` names a file, appends
the value to it as one JSON line. The robustness sweep (``benchmarks/robustness.py``) reads
those lines to report each claim's spread over seeds and thread counts against its bound.
"""

import json
import math
import os


def _bound_text(at_least, at_most) -> str:
    if at_least is not None and at_most is not None:
        return f"{at_least:g} ≤ value ≤ {at_most:g}"
    return f"≥ {at_least:g}" if at_least is not None else f"≤ {at_most:g}"


def _record(name: str, value: float, at_least, at_most) -> None:
    path = os.environ.get("COURSE_CLAIMS_FILE")
    if not path:
        return
    line = {"name": name, "value": value, "at_least": at_least, "at_most": at_most}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


def claim(name: str, value, *, at_least=None, at_most=None) -> float:
    """Assert ``at_least <= value <= at_most`` (either bound may be left out) and print it.

    ``value`` is anything ``float()`` accepts (a number, a one-element tensor or array).
    Returns the value as a float. Raises ``AssertionError`` naming the claim when the bound
    fails, after recording the value, so that the sweep sees failing runs too.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if at_least is None and at_most is None:
        raise ValueError(f"claim {name!r} needs a bound: give at_least, at_most or both")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"claim {name!r}: value must be a number, got {type(value).__name__}"
        ) from None
    _record(name, value, at_least, at_most)
    bound = _bound_text(at_least, at_most)
    ok = not math.isnan(value)
    ok = ok and (at_least is None or value >= at_least) and (at_most is None or value <= at_most)
    if not ok:
        raise AssertionError(f"claim failed: {name} = {value:.4g}, expected {bound}")
    print(f"claim: {name} = {value:.4g}  (asserted {bound})")
    return value
