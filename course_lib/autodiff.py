"""A tiny scalar reverse-mode automatic differentiation engine.

Every ``Value`` remembers the values it was computed from (its *parents*) and the local partial
derivatives d(self)/d(parent). ``backward()`` visits the graph in reverse topological order and
applies the chain rule,

    dL/d(parent) += dL/d(self) * d(self)/d(parent),

so one backward sweep gives the derivative of the output with respect to every node. That is
all PyTorch's autograd does too, for tensors instead of scalars.
"""

import math


class Value:
    """A scalar that records how it was computed, so that its gradient can be back-propagated.

    ``data`` is the number, ``grad`` is dL/d(this value) after ``L.backward()``.
    """

    def __init__(self, data, parents=(), local_grads=(), op="", label=""):
        if isinstance(data, Value):
            raise TypeError("data must be a number, not a Value (use the Value itself)")
        if not isinstance(data, int | float):
            raise TypeError(f"data must be an int or float, got {type(data).__name__}")
        if len(parents) != len(local_grads):
            raise ValueError("parents and local_grads must have the same length")
        self.data = float(data)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.local_grads = tuple(local_grads)
        self.op = op
        self.label = label

    def __repr__(self):
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.4g}, grad={self.grad:.4g})"

    # ----- building blocks: each returns a new node with its local derivatives -----
    def __add__(self, other):
        other = as_value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        other = as_value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, exponent):
        """x^c with d/dx = c x^(c-1); the derivative of x^0 is 0 everywhere (torch's rule)."""
        if isinstance(exponent, bool) or not isinstance(exponent, int | float):
            raise TypeError("only a constant int/float exponent is supported")
        local = 0.0 if exponent == 0 else exponent * power(self.data, exponent - 1)
        return Value(power(self.data, exponent), (self,), (local,), f"**{exponent}")

    def exp(self):
        out = _exp_or_inf(self.data)
        return Value(out, (self,), (out,), "exp")

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log needs a positive input, got {self.data}")
        return Value(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self):
        s = sigmoid(self.data)
        return Value(s, (self,), (s * (1.0 - s),), "sigmoid")

    def relu(self):
        # the derivative at exactly 0 is taken as 0, the convention PyTorch uses
        return Value(max(self.data, 0.0), (self,), (float(self.data > 0),), "relu")

    # ----- the rest is written in terms of the building blocks -----
    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-as_value(other))

    def __truediv__(self, other):
        return self * as_value(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return as_value(other) - self

    def __rtruediv__(self, other):
        return as_value(other) / self

    # ----- reverse mode -----
    def backward(self):
        """Set ``grad`` of every node that this value depends on to d(self)/d(node)."""
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):  # outputs before inputs
            for parent, local in zip(node.parents, node.local_grads, strict=True):
                parent.grad += local * node.grad


def power(x: float, c: float) -> float:
    """x^c with the floating-point answers torch gives where Python raises:
    0^0 = 1, 0^(negative) = inf, overflow = inf, negative^(fraction) = nan.
    (The sign of a zero base is followed for integer powers only.)"""
    odd = float(c).is_integer() and int(c) % 2 == 1
    try:
        out = x**c
    except ZeroDivisionError:  # 0 to a negative power
        return math.copysign(math.inf, x) if odd else math.inf
    except OverflowError:
        if x < 0 and not float(c).is_integer():
            return math.nan
        return -math.inf if x < 0 and odd else math.inf
    return math.nan if isinstance(out, complex) else float(out)


def sigmoid(x: float) -> float:
    """1 / (1 + e^-x), written so that e^(large) is never formed."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _exp_or_inf(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def as_value(x) -> Value:
    """Wrap a plain number as a constant ``Value``; leave a ``Value`` alone."""
    return x if isinstance(x, Value) else Value(x)


def topological_order(root: Value) -> list:
    """All nodes reachable from ``root``, each listed after every node it was computed from."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:  # iterative depth-first search: deep graphs do not hit the recursion limit
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in node.parents if id(p) not in seen)
    return order


def edges(root: Value) -> list:
    """The (parent, child) pairs of the graph that computed ``root``, for drawing it."""
    return [(p, node) for node in topological_order(root) for p in node.parents]
