"""An independent check of the engine: a tiny reverse-mode autograd and the models written with it.

Nothing here is shared with ``rnnviz.engine``: the forward passes are the issue's formulas written
out step by step, and every gradient comes from a generic chain rule (micrograd on arrays), not from
hand-written BPTT. Because every h_t, a_t and c_t is a node, their ``.grad`` after ``backward()`` is
the total derivative through all paths, the same quantity as ``trace.dh``, ``trace.da``, ``trace.dcell``.
"""

from __future__ import annotations

import numpy as np


class Tensor:
    """An array with a gradient; each operation records how to pass its output's gradient back."""

    def __init__(self, value, parents=(), backward=None):
        self.value = np.asarray(value, dtype=np.float64)
        self.grad = np.zeros_like(self.value)
        self._parents = parents
        self._backward = backward or (lambda: None)

    def _unary(self, value, local):
        """out = g(self) with ∂out/∂self = local (elementwise)."""
        out = Tensor(value, (self,))

        def backward():
            self.grad += out.grad * local
        out._backward = backward
        return out

    def __add__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)
        out = Tensor(self.value + other.value, (self, other))

        def backward():
            self.grad += _unbroadcast(out.grad, self.value.shape)
            other.grad += _unbroadcast(out.grad, other.value.shape)
        out._backward = backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)
        out = Tensor(self.value * other.value, (self, other))

        def backward():
            self.grad += _unbroadcast(out.grad * other.value, self.value.shape)
            other.grad += _unbroadcast(out.grad * self.value, other.value.shape)
        out._backward = backward
        return out

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other if isinstance(other, Tensor) else Tensor(-np.asarray(other)))

    def __matmul__(self, other):
        out = Tensor(self.value @ other.value, (self, other))

        def backward():
            self.grad += out.grad @ other.value.T
            other.grad += self.value.T @ out.grad
        out._backward = backward
        return out

    def __getitem__(self, index):
        out = Tensor(self.value[index], (self,))

        def backward():
            np.add.at(self.grad, index, out.grad)
        out._backward = backward
        return out

    def tanh(self):
        t = np.tanh(self.value)
        return self._unary(t, 1.0 - t * t)

    def sigmoid(self):
        s = 1.0 / (1.0 + np.exp(-self.value))
        return self._unary(s, s * (1.0 - s))

    def relu(self):
        return self._unary(np.maximum(self.value, 0.0), (self.value > 0).astype(float))

    def exp(self):
        e = np.exp(self.value)
        return self._unary(e, e)

    def log(self):
        return self._unary(np.log(self.value), 1.0 / self.value)

    def sum(self, axis=None):
        out = Tensor(self.value.sum(axis=axis), (self,))

        def backward():
            g = out.grad if axis is None else np.expand_dims(out.grad, axis)
            self.grad += np.broadcast_to(g, self.value.shape)
        out._backward = backward
        return out

    def backward(self):
        """Fill ``.grad`` of every node this scalar depends on (reverse topological order)."""
        order, seen = [], set()

        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for parent in node._parents:
                    visit(parent)
                order.append(node)
        visit(self)
        self.grad = np.ones_like(self.value)
        for node in reversed(order):
            node._backward()


def _unbroadcast(grad, shape):
    """Sum a broadcast gradient back down to ``shape``."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


ACTIVATE = {"tanh": Tensor.tanh, "relu": Tensor.relu, "sigmoid": Tensor.sigmoid, "linear": lambda a: a}


def _loss(y, target, loss):
    """Mean cross-entropy or mean squared error of one (B, O) output, as a scalar Tensor."""
    B, O = y.value.shape
    if loss == "ce":
        shift = Tensor(y.value.max(axis=1, keepdims=True))           # a constant: logsumexp is shift-free
        z = y - shift
        log_norm = z.exp().sum(axis=1).log()                           # (B,)
        picked = z[np.arange(B), np.asarray(target)]                   # z_{n, c_n}
        return (log_norm - picked).sum() * (1.0 / B)
    diff = y - np.asarray(target, dtype=np.float64)
    return (diff * diff).sum() * (1.0 / (B * O))


def reference_pass(arch, params, x, target, *, activation="tanh", skip=None, loss="ce", readout="last",
                   perturb=None):
    """L and the per-step nodes for the issue's equations, one step at a time.

    ``perturb = (t, array)`` adds a constant to h_t after it is computed (for finite differences of
    ∂L/∂h_t). Returns (L, nodes) with nodes["h"][t], nodes["a"][t], nodes["c"][t] for t = 1..T.
    """
    P = {name: Tensor(value) for name, value in params.items()}
    T, B, _ = x.shape
    H = P["W_H"].value.shape[0]
    h = {0: Tensor(np.zeros((B, H)))}
    c = {0: Tensor(np.zeros((B, H)))}
    a = {}
    for t in range(1, T + 1):
        a[t] = Tensor(x[t - 1]) @ P["W_I"] + h[t - 1] @ P["W_H"] + P["b"]
        if arch == "skip" and t - skip >= 1:
            a[t] = a[t] + h[t - skip] @ P["W_S"]
        if arch == "lstm":
            i, f = a[t][:, 0:H].sigmoid(), a[t][:, H:2 * H].sigmoid()
            g, o = a[t][:, 2 * H:3 * H].tanh(), a[t][:, 3 * H:4 * H].sigmoid()
            c[t] = f * c[t - 1] + i * g
            h[t] = o * c[t].tanh()
        else:
            h[t] = ACTIVATE[activation](a[t])
        if perturb is not None and perturb[0] == t:
            h[t] = h[t] + Tensor(perturb[1])
    if readout == "last":
        L = _loss(h[T] @ P["W_O"] + P["b_O"], target, loss)
    else:
        L = None
        for t in range(1, T + 1):
            L_t = _loss(h[t] @ P["W_O"] + P["b_O"], np.asarray(target)[t - 1], loss) * (1.0 / T)
            L = L_t if L is None else L + L_t
    return L, {"params": P, "h": h, "a": a, "c": c}


def reference_gradients(arch, params, x, target, **options):
    """(L, grads, nodes) from the reference autograd."""
    L, nodes = reference_pass(arch, params, x, target, **options)
    L.backward()
    return float(L.value), {name: node.grad for name, node in nodes["params"].items()}, nodes
