"""The sandboxed half of the judge: run a submission's code, call its functions, report values.

This file runs inside the sandbox as a plain script (``python -I -S runner.py``) and imports
nothing from course_lib, which is not visible there. It reads one request as JSON on stdin::

    {"site": [paths], "cells": [source, ...], "calls": [{"fn", "args", "kwargs", ...}, ...]}

executes the cells in one namespace, calls each requested function on the decoded arguments
and writes ``{"cells": [error or null, ...], "calls": [outcome, ...]}`` as JSON to the file
descriptor named on its command line (not standard output, which only feeds diagnostics). An outcome is ``{"value": encoded}`` or ``{"error": [type names, message]}``.

Nothing here decides a score: the trusted grader compares the values with its reference
outside the sandbox. The submission can rewrite anything in this process, so all it can
forge is values of its own functions, on inputs it only learns when the grader sends them.

The trusted grader imports this module too, for the same encoding and the same factories
(``build``), so that both sides call functions on identical arguments.
"""

import json
import math
import os
import sys

MESSAGE_CHARS = 300
MAX_INT_BITS = 1023  # beyond this an int has no float: the grader could not compare it


class Unsupported(TypeError):
    """A value that is not plain data (a subclass, an unknown type, a foreign object)."""


def encode(value, depth=0):
    """Plain JSON for ``value``; exact base types only, no subclasses."""
    if depth > 20:
        raise Unsupported("value nested too deeply")
    kind = type(value)
    if kind is int and value.bit_length() > MAX_INT_BITS:
        raise Unsupported("an integer too large to be compared")
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if kind in (list, tuple):
        items = [encode(v, depth + 1) for v in value]
        return items if kind is list else {"__tuple__": items}
    if kind is dict:
        return {
            "__dict__": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]
        }
    name = f"{kind.__module__}.{kind.__qualname__}"
    if name == "torch.Tensor":
        return _encode_tensor(value)
    if name == "numpy.ndarray":
        return _encode_array(value)
    if name.startswith("numpy.") and kind.__qualname__ in _NUMPY_SCALARS:
        return encode(value.item(), depth + 1)
    raise Unsupported(f"a value of type {name} is not plain data")


_NUMPY_SCALARS = {"float64", "float32", "float16", "int64", "int32", "int16", "int8", "bool_"}


def _encode_tensor(t):
    import torch

    if type(t) is not torch.Tensor:
        raise Unsupported("a tensor subclass is not plain data")
    t = torch.Tensor.detach(t).cpu()
    if t.is_complex() or t.layout != torch.strided:
        raise Unsupported("complex and sparse tensors are not supported")
    flat = torch.Tensor.tolist(torch.Tensor.reshape(t, -1))
    return {"__tensor__": [str(t.dtype).removeprefix("torch."), list(t.shape), _plain(flat)]}


def _encode_array(a):
    import numpy as np

    if type(a) is not np.ndarray or a.dtype.kind not in "biuf":
        raise Unsupported("only numeric numpy arrays are plain data")
    flat = np.ndarray.tolist(np.ndarray.reshape(a, -1))
    return {"__ndarray__": [str(a.dtype), list(a.shape), _plain(flat)]}


def _plain(flat):
    """The elements of a list from tolist(), checked to be exact base types."""
    out = []
    for v in flat:
        if type(v) is float:
            out.append(v if math.isfinite(v) else {"__float__": repr(v)})
        elif type(v) in (int, bool):
            out.append(v)
        else:
            raise Unsupported("an array element that is not a number")
    return out


def decode(data):
    """The Python value of ``encode``'s output (tensors as tensors, recipes as objects)."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "__float__" in data:
        return float(data["__float__"])
    if "__tuple__" in data:
        return tuple(decode(v) for v in data["__tuple__"])
    if "__dict__" in data:
        return {decode(k): decode(v) for k, v in data["__dict__"]}
    if "__tensor__" in data:
        import torch

        dtype, shape, flat = data["__tensor__"]
        return torch.tensor(decode(flat), dtype=getattr(torch, dtype)).reshape(shape)
    if "__ndarray__" in data:
        import numpy as np

        dtype, shape, flat = data["__ndarray__"]
        return np.array(decode(flat), dtype=dtype).reshape(shape)
    if "__make__" in data:
        return build(data["__make__"], decode(data["kw"]))
    raise ValueError(f"unknown encoded value {sorted(data)}")


# Objects the grader passes to a function (models, callables, generators), built on each side
# from a recipe of plain data.
def build(recipe: str, kw: dict):
    return _FACTORIES[recipe](**kw)


def _generator(seed):
    import torch

    return torch.Generator().manual_seed(seed)


def _loss(kind):
    if kind == "squared":
        return lambda p, t: (p - t) ** 2
    return lambda p, t: (p - t).abs()


def _linear_predict(w):
    return lambda X: X @ w


def _load(module, state):
    import torch

    with torch.no_grad():
        for name, value in state.items():
            module.get_parameter(name).copy_(value)
    return module


def _small_cnn(state):
    from torch import nn

    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 10)
    )
    return _load(net, state).eval()


def _conv2d(c_in, c_out, k, stride, padding, state):
    from torch import nn

    return _load(nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, bias=False), state)


def _batchnorm2d(channels, state, mean, var, training):
    import torch
    from torch import nn

    bn = _load(nn.BatchNorm2d(channels), state)
    with torch.no_grad():
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
    return bn.train(training)


def _transfer_net(state):
    from torch import nn

    class TransferNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU())
            self.head = nn.Linear(16, 5)

        def forward(self, x):
            return self.head(self.backbone(x))

    return _load(TransferNet(), state)


_FACTORIES = {
    "generator": _generator,
    "loss": _loss,
    "linear_predict": _linear_predict,
    "small_cnn": _small_cnn,
    "conv2d": _conv2d,
    "batchnorm2d": _batchnorm2d,
    "transfer_net": _transfer_net,
}


# Probes turn a returned object that is not plain data (a model) into plain data.
def _transfer_summary(model):
    import torch

    trainable = sorted(
        [name, list(p.shape)] for name, p in model.named_parameters() if p.requires_grad
    )
    out = model(torch.zeros(4, 1, 8, 8))
    return {"trainable": trainable, "output_shape": list(out.shape)}


PROBES = {"transfer_summary": _transfer_summary}


def _encode_or_none(value):
    try:
        return encode(value)
    except Unsupported:  # a model or a generator: not compared
        return None


def error_of(err: BaseException) -> list:
    """[the names of the exception's classes, its message, truncated]."""
    names = [c.__name__ for c in type(err).__mro__]
    try:
        message = str(err)[:MESSAGE_CHARS]
    except Exception:  # a message that raises is still an error of that type
        message = "<unprintable message>"
    return [names, message]


def call(namespace: dict, request: dict) -> dict:
    """Call one requested function; its value (and the arguments after it), or its error.

    A request with ``"read": true`` asks for the value of a name (an answer such as
    ``answer_q5 = 0.5``) instead of a call.
    """
    try:
        if request.get("read"):  # an answer variable: its value, never called
            if request["fn"] not in namespace:
                raise NameError(f"name {request['fn']!r} is not defined")
            return {"value": encode(namespace[request["fn"]])}
        fn = namespace.get(request["fn"])
        if fn is None:
            raise NameError(f"name {request['fn']!r} is not defined")
        args, kwargs = decode(request["args"]), decode(request.get("kwargs", {}))
        value = fn(*args, **kwargs)
        probe = request.get("probe")
        outcome = {"value": encode(PROBES[probe](value) if probe else value)}
        if request.get("report_args"):
            outcome["args_after"] = [_encode_or_none(a) for a in args]
        return outcome
    except BaseException as err:  # SystemExit and KeyboardInterrupt included
        return {"error": error_of(err)}


def run_cells(namespace: dict, cells) -> list:
    errors = []
    for source in cells:
        # IPython magics and shell escapes do not run in plain Python; skip those lines.
        lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        try:
            exec(compile("\n".join(lines), "<answer cell>", "exec"), namespace)
            errors.append(None)
        except BaseException as err:
            errors.append(error_of(err))
    return errors


def main() -> None:
    request = json.loads(sys.stdin.read())
    sys.path[:0] = request["site"]
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    cells = run_cells(namespace, request["cells"])
    calls = [call(namespace, c) for c in request["calls"]]
    data = json.dumps({"cells": cells, "calls": calls}).encode()
    with os.fdopen(int(sys.argv[1]), "wb") as out:
        out.write(data)
    os._exit(0)


if __name__ == "__main__":
    main()
