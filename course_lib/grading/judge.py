"""The trusted half of the judge: read the sandbox's report and compare values, outside it.

The report is untrusted bytes. It is parsed with a size limit into plain Python values: JSON
numbers, strings, lists and dicts, and arrays rebuilt here as numpy arrays of float64, int64
or bool. No object that the submission made ever reaches this side, so nothing it defines
(``__eq__``, ``__array__``, ``tolist``) takes part in a comparison.
"""

import json
import math

import numpy as np

MAX_REPORT_BYTES = 64 * 1024 * 1024
MAX_INT_BITS = 1023  # as in runner: a larger int has no float to compare


class BadReport(ValueError):
    """The sandbox's report is missing, too large or not in the expected form."""


_ARRAY_KINDS = {"b": bool, "i": np.int64, "u": np.int64, "f": np.float64}


def _array(dtype: str, shape, flat) -> np.ndarray:
    if not (isinstance(dtype, str) and isinstance(shape, list) and isinstance(flat, list)):
        raise BadReport("malformed array")
    if not all(type(n) is int and n >= 0 for n in shape) or math.prod(shape) != len(flat):
        raise BadReport("an array whose shape does not match its data")
    kind = "b" if dtype == "bool" else "u" if dtype.startswith("uint") else dtype[:1]
    if kind not in _ARRAY_KINDS:
        raise BadReport(f"unsupported array type {dtype[:20]!r}")
    values = [_float(v) if isinstance(v, dict) else v for v in flat]
    if not all(type(v) in (int, float, bool) for v in values):
        raise BadReport("an array element that is not a number")
    try:
        return np.array(values, dtype=_ARRAY_KINDS[kind]).reshape(shape)
    except (OverflowError, ValueError):
        raise BadReport("an array element out of its type's range") from None


def _float(data) -> float:
    text = data.get("__float__")
    if text not in ("nan", "inf", "-inf"):
        raise BadReport("malformed float")
    return float(text)


def plain(data, depth=0):
    """A value of the report as plain Python data (tuples as lists, arrays as numpy)."""
    if depth > 40:
        raise BadReport("value nested too deeply")
    if type(data) is int and data.bit_length() > MAX_INT_BITS:
        raise BadReport("an integer too large to compare")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [plain(v, depth + 1) for v in data]
    if type(data) is not dict or len(data) != 1:
        raise BadReport("malformed value")
    ((key, body),) = data.items()
    if key == "__float__":
        return _float(data)
    if key == "__tuple__" and type(body) is list:
        return [plain(v, depth + 1) for v in body]
    if key == "__dict__" and type(body) is list:
        if not all(type(p) is list and len(p) == 2 for p in body):
            raise BadReport("malformed dict")
        return {_key(plain(k, depth + 1)): plain(v, depth + 1) for k, v in body}
    if key in ("__tensor__", "__ndarray__") and type(body) is list and len(body) == 3:
        return _array(*body)
    raise BadReport("malformed value")


def _key(value):
    """Dict keys: lists (decoded tuples) become tuples so that they can be hashed."""
    if isinstance(value, list):
        return tuple(_key(v) for v in value)
    if isinstance(value, np.ndarray):
        raise BadReport("an array as a dict key")
    return value


def parse_report(raw: bytes, n_cells: int, n_calls: int) -> dict:
    """The report as {"cells": [...], "calls": [...]}, or ``BadReport``."""
    if not raw:
        raise BadReport("the submission's process ended without a report")
    if len(raw) > MAX_REPORT_BYTES:
        raise BadReport("the report is larger than the limit")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadReport("the report is not valid JSON") from None
    if type(data) is not dict or type(data.get("calls")) is not list:
        raise BadReport("the report is not in the expected form")
    if len(data["calls"]) != n_calls:
        raise BadReport("the report has the wrong number of calls")
    return data


def outcome(entry) -> dict:
    """One call's outcome as {"value": plain, "args_after": plain} or {"error": [names, msg]}."""
    if type(entry) is not dict:
        raise BadReport("malformed call outcome")
    if "error" in entry:
        names, message = entry["error"]
        if not (type(names) is list and all(type(n) is str for n in names)):
            raise BadReport("malformed error")
        return {"error": [names[:50], str(message)[:300]]}
    if "value" not in entry:
        raise BadReport("a call outcome without a value")
    result = {"value": plain(entry["value"])}
    if "args_after" in entry:
        result["args_after"] = plain(entry["args_after"])
    return result


def _is_number(v) -> bool:
    return type(v) in (int, float, bool) or (isinstance(v, np.ndarray) and v.ndim == 0)


def close(got, want, rtol: float, atol: float) -> bool:
    """Whether ``got`` matches the reference value ``want`` (both plain data)."""
    if isinstance(want, np.ndarray) and want.ndim > 0 or isinstance(got, np.ndarray) and got.ndim:
        if not (isinstance(got, np.ndarray) and isinstance(want, np.ndarray)):
            return False
        if got.shape != want.shape:
            return False
        if want.dtype.kind in "bi":
            return bool(np.array_equal(got, want))
        return bool(np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True))
    if _is_number(want):
        if not _is_number(got):
            return False
        g, w = float(got), float(want)
        if math.isnan(w) or math.isnan(g):
            return math.isnan(w) and math.isnan(g)
        if type(want) is int or (isinstance(want, np.ndarray) and want.dtype.kind in "bi"):
            return g == w
        return math.isclose(g, w, rel_tol=rtol, abs_tol=atol)
    if isinstance(want, list):
        return (
            isinstance(got, list)
            and len(got) == len(want)
            and all(close(g, w, rtol, atol) for g, w in zip(got, want, strict=True))
        )
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and set(got) == set(want)
            and all(close(got[k], want[k], rtol, atol) for k in want)
        )
    return type(got) is type(want) and got == want


def compare(call, got: dict, want: dict) -> str | None:
    """None when the submission's outcome matches the reference's, else the reason."""
    if "error" in want:
        expected = want["error"][0][0]
        if "error" in got and expected in got["error"][0]:
            return None
        return f"{call.fn} should raise {expected} on this input"
    if "error" in got:
        names, message = got["error"]
        return f"{call.fn} raised {names[0]}: {message}"
    if not close(got["value"], want["value"], call.rtol, call.atol):
        return f"{call.fn} returned a wrong value"
    if call.report_args and not close(got.get("args_after"), want["args_after"], 0.0, 0.0):
        return f"{call.fn} modified its input"
    return None
