"""Backpropagation through time, one frame at a time: what the BPTT stepper shows (no Qt).

From an `Inspection` (one forward and backward pass of a batch) and the index of one example in
it, `BPTTFrames` computes the 2T+1 frames of the lecture's derivation with the real numbers, in
the engine's notation (see `rnnviz.engine.rnn`):

    frames 0 .. T-1    forward,  t = 1 .. T:   a_t = x_t W_I + h_{t-1} W_H + b,   h_t = f(a_t)
    frame  T           the loss L
    frames T+1 .. 2T   backward, t = T .. 1:   ∂L/∂h_t (all that reaches h_t),
                       δ_t = ∂L/∂a_t = ∂L/∂h_t ⊙ f'(a_t),   ∂L/∂h_{t-1} += δ_t W_Hᵀ,
                       J_t = ∂h_t/∂h_{t-1} = diag(f'(a_t)) W_Hᵀ   (row vectors: ∂L/∂h_{t-1} = ∂L/∂h_t J_t
                       along W_H), the running product J_T ⋯ J_t (the "product of many terms less
                       than one"), this step's term h_{t-1}ᵀ δ_t of ∂L/∂W_H and the running sum.

Which numbers belong to the example and which to the batch:
- Vectors, norms and Jacobians (δ_t, J_t, the product) are the chosen example's: f'(a_t) differs
  between examples, so each example has its own Jacobians.
- The loss is the batch mean, so the trace's gradients already carry a factor 1/B; the example's
  numbers are its share of the batch gradient, and the examples' shares add up to it.
- The batch's per-step numbers are the trace's own (`Trace.dh_norms`, `Trace.hidden_rms`,
  `Trace.contribution_norms`): the same arrays a training `Snapshot` copies and the animated
  diagram draws, so the stepper and the animation show the same numbers for the same pass.
- The running sum is the batch's, so at the last frame (t = 1) it equals the engine's grads["W_H"].

Architectures:
- skip: a_t also receives h_{t-k} W_S, so ∂L/∂h_{t-1} gets a second term δ_{t-1+k} W_Sᵀ besides δ_t W_Hᵀ;
  the product follows the W_H chain alone (the path the skip connection short-cuts).
- lstm: the state is (h_t, c_t) and the step-to-step Jacobian is not diag(f') W_Hᵀ. With gates
  i, f, o = σ(·), g = tanh(·) from a_t = x_t W_I + h_{t-1} W_H + b (W_H = [W_i W_f W_g W_o]) and
  c_t = f⊙c_{t-1} + i⊙g, h_t = o⊙tanh(c_t), the row-vector map (∂L/∂h_{t-1}, ∂L/∂c_{t-1}) =
  (∂L/∂h_t, ∂L/∂c_t) J_t is

        J_t = [[diag(k) R + diag(p) W_oᵀ,  diag(k⊙f)],
               [R,                         diag(f)  ]]

  with k = o⊙(1 − tanh²c_t), p = tanh(c_t)⊙o⊙(1 − o) and
  R = diag(g⊙i⊙(1 − i)) W_iᵀ + diag(c_{t-1}⊙f⊙(1 − f)) W_fᵀ + diag(i⊙(1 − g²)) W_gᵀ.
  The cell path ∂c_t/∂c_{t-1} = diag(f) is the LSTM's gradient highway; the frames report its mean.

Products are kept normalised (the norm goes to a running log10), so 500 factors neither underflow
nor overflow. All of it is computed once, in the constructor; `frame(i)` only formats numbers.
Whether the loss reads y_T alone or every y_t, and which loss, is the task's (`Task.readout`, `Task.loss`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from rnnviz.formula import plain

FORWARD, LOSS, BACKWARD = "forward", "loss", "backward"

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")

#: f'(a) from a and h = f(a), per activation name (the engine's activations, restated here so the
#: stepper's Jacobians can be checked against the engine's own backward pass in the tests).
_DERIVATIVES = {
    "tanh": lambda a, h: 1.0 - h * h,
    "sigmoid": lambda a, h: h * (1.0 - h),
    "relu": lambda a, h: (a > 0).astype(a.dtype),
    "linear": lambda a, h: np.ones_like(a),
}


def kind_and_step(index: int, T: int) -> tuple[str, int]:
    """Frame index of a pass over T steps → (FORWARD, t) for 0..T-1, (LOSS, T) for T,
    (BACKWARD, t) for T+1..2T."""
    if not 0 <= index <= 2 * T:
        raise IndexError(f"frame {index} is out of range; there are {2 * T + 1} frames (0 .. {2 * T})")
    if index < T:
        return FORWARD, index + 1
    if index == T:
        return LOSS, T
    return BACKWARD, 2 * T + 1 - index


def revealed(index: int, T: int) -> tuple[str, int, np.ndarray, np.ndarray]:
    """What exists at frame `index`: (kind, t, hidden_shown, grad_shown), the masks (bool, (T,)) of
    the steps whose h_t the forward pass and whose ∂L/∂h_t the backward pass have computed so far.
    The stepper and the animated diagram both draw frame i from these masks, so they agree."""
    kind, t = kind_and_step(index, T)
    steps = np.arange(1, T + 1)
    if kind == FORWARD:
        return kind, t, steps <= t, np.zeros(T, bool)
    if kind == LOSS:
        return kind, t, np.ones(T, bool), np.zeros(T, bool)
    return kind, t, np.ones(T, bool), steps >= t


@dataclass(frozen=True)
class Quantity:
    """One number a frame talks about: its symbol (formula markup, see `rnnviz.formula`) and value.

    `key` names it for good (the stepper's label showing it is called ``quantity_<key>``); `value`
    is a number or, for vectors and class ids, text; `note` says whose it is ("example")."""

    key: str
    symbol: str
    value: float | str
    note: str = ""

    @property
    def shown(self) -> str:
        """The value as printed: `num` for numbers."""
        return self.value if isinstance(self.value, str) else num(self.value)

    @property
    def text(self) -> str:
        return f"{plain(self.symbol)} = {self.shown}" + (f" ({self.note})" if self.note else "")


#: How a row reads: plain, the frame's conclusion, or a warning (a number that is not finite).
NORMAL, CONCLUSION, WARNING = "normal", "conclusion", "warning"


@dataclass(frozen=True)
class Row:
    """A formula (markup) and the quantities it produces for this frame."""

    formula: str
    quantities: tuple[Quantity, ...] = ()
    tone: str = NORMAL
    remark: str = ""          # a longer word on the formula (the stepper shows it as its tooltip)

    @property
    def text(self) -> str:
        values = "   ".join(q.text for q in self.quantities)
        remark = f"  ({self.remark})" if self.remark else ""
        return plain(self.formula) + remark + (f"    {values}" if values else "")


@dataclass(frozen=True)
class Frame:
    """One frame of the stepper: which step, what happens, and its formulas with their numbers."""

    index: int
    kind: str                 # FORWARD | LOSS | BACKWARD
    step: int                 # t in 1..T (the loss frame: T)
    title: str
    rows: tuple[Row, ...]

    @property
    def quantities(self) -> tuple[Quantity, ...]:
        return tuple(q for row in self.rows for q in row.quantities)

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(row.text for row in self.rows)

    @property
    def text(self) -> str:
        return "\n".join((self.title, *self.lines))


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _spectral_norm(matrix: np.ndarray) -> float:
    """‖A‖₂ = σ_max(A), how much A can stretch a vector (exact, from the SVD's singular values)."""
    if not np.isfinite(matrix).all():
        return math.nan
    return float(np.linalg.svd(matrix, compute_uv=False)[0])


def num(value: float) -> str:
    """A number as the formula panel prints it: 3 significant digits, exponent when tiny or huge."""
    if value is None:
        return "–"
    value = float(value)
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("∞" if value > 0 else "−∞")
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.3g}".replace("-", "−")
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa.replace('-', '−')}·10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def vec(values: np.ndarray, shown: int = 2) -> str:
    """The first few entries of a vector: [0.12, −0.53, …] (H = 64)."""
    head = ", ".join(num(v) for v in values[:shown])
    return f"[{head}, …]" if values.size > shown else f"[{head}]"


class BPTTFrames:
    """The 2T+1 frames of one example's forward and backward pass, computed once."""

    def __init__(self, inspection, example: int = 0, progress: Callable[[float], None] | None = None) -> None:
        """`progress(fraction)` is called now and then during the backward pass (it may raise to cancel)."""
        trace, params = inspection.trace, inspection.params
        x = np.asarray(inspection.x)
        T, B = x.shape[0], x.shape[1]
        if not 0 <= example < B:
            raise ValueError(f"example = {example} is out of range; example must be in [0, {B - 1}]")
        from rnnviz.engine.tasks import TASKS  # the engine (numba) loads in the worker, not before the window's first paint

        settings = inspection.settings
        task = TASKS[settings.task]
        self.inspection = inspection
        self.example = example
        self.T = T
        self.batch = B
        self.arch = settings.arch
        self.readout = task.readout             # "last": only y_T is scored; "all": every y_t
        self.loss_kind = task.loss              # "ce" or "mse"
        self.activation = "tanh" if self.arch == "lstm" else settings.activation
        self.skip = int(settings.skip) if self.arch == "skip" else None
        labels = inspection.example_labels
        labels = labels[example] if len(labels) > example else inspection.step_labels if example == 0 else None
        self.labels = list(labels) if labels else [str(t) for t in range(1, T + 1)]
        self.hidden_size = params["W_H"].shape[0]
        b = example
        self._h = trace.hidden[:, b]            # the example's h_0 .. h_T
        self._a = trace.pre[:, b]               # its a_t (LSTM: the four gates' pre-activations)
        self._dh = trace.dh[:, b]               # its ∂L/∂h_t, all paths
        # The batch's per-step sizes: the trace's own, the very arrays snapshots and the diagram use.
        self.hidden_rms_batch = trace.hidden_rms             # rms h_t over batch and units
        self.dh_norm_batch = trace.dh_norms                  # ‖∂L/∂h_t‖_F over the batch
        self.contribution_norm_batch = trace.contribution_norms("W_H")   # ‖Σ_b h_{t-1}ᵀ δ_t‖_F

        # BLAS on one thread: on two busy cores a multi-threaded BLAS made the Jacobians' SVDs up to
        # 50× slower (LSTM, T = 40: 0.2-0.3 s on one thread, 16-30 s on all of them).
        with threadpool_limits(limits=1), np.errstate(over="ignore", invalid="ignore", divide="ignore",
                                                      under="ignore"):
            self._forward_terms(x[:, b], params)
            self._loss_numbers(trace, inspection.target)
            self._backward(trace, params, progress)

    # ------------------------------------------------------------------ forward
    def _forward_terms(self, x: np.ndarray, params) -> None:
        """Norms of each term of a_t = x_t W_I + h_{t-1} W_H [+ h_{t-k} W_S] + b for the example."""
        h = self._h
        input_term = x @ params["W_I"]                  # (T, G)
        recurrent_term = h[:-1] @ params["W_H"]         # (T, G)
        norm = lambda m: np.linalg.norm(m, axis=-1)
        self.input_norm = norm(input_term)
        self.recurrent_norm = norm(recurrent_term)
        self.bias_norm = float(np.linalg.norm(params["b"]))
        self.skip_norm = None
        recomputed = input_term + recurrent_term + params["b"]
        if self.skip is not None:
            k = self.skip
            skip_term = np.zeros_like(recurrent_term)
            if "W_S" in params and self.T > k:
                skip_term[k:] = h[1:self.T - k + 1] @ params["W_S"]     # step t > k reads h_{t-k}
            self.skip_norm = norm(skip_term)
            recomputed = recomputed + skip_term
        scale = np.abs(self._a).max()
        #: max |recomputed a_t − engine's a_t| / max |a_t|: the frames' formula is the engine's
        self.forward_error = float(np.abs(recomputed - self._a).max() / scale) if scale > 0 else 0.0
        self.pre_norm = norm(self._a)
        self.hidden_norm = norm(h[1:])
        self.hidden_rms = self.hidden_norm / math.sqrt(self.hidden_size)
        if self.arch == "lstm":
            H = self.hidden_size
            gates = self._a
            self._gates = {"i": _sigmoid(gates[:, :H]), "f": _sigmoid(gates[:, H:2 * H]),
                           "g": np.tanh(gates[:, 2 * H:3 * H]), "o": _sigmoid(gates[:, 3 * H:])}
            self._c = self.inspection.trace.cell[:, self.example]
            self.forget_mean = self._gates["f"].mean(axis=1)

    def _loss_numbers(self, trace, target) -> None:
        """The batch loss and the example's own loss ℓ (its term in the batch mean)."""
        self.loss = float(trace.loss)
        outputs = np.asarray(trace.outputs)
        target = np.asarray(target)
        b = self.example
        y = outputs[:, b] if self.readout == "all" else outputs[b]
        z = target[:, b] if self.readout == "all" else target[b]
        self.output = y
        self.target = z
        if self.loss_kind == "ce":
            logits = np.atleast_2d(y)
            logits = logits - logits.max(axis=-1, keepdims=True)
            log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
            picked = log_p[np.arange(log_p.shape[0]), np.atleast_1d(z)]
            self.example_loss = float(-picked.mean())
            self.target_probability = float(np.exp(picked[-1]))
            self.prediction = int(np.argmax(logits[-1]))
        else:
            self.example_loss = float(np.mean((np.asarray(y) - z) ** 2))
            self.target_probability = None
            self.prediction = None

    def h(self, t: int) -> np.ndarray:
        """The example's h_t (t = 0..T)."""
        return self._h[t]

    def a(self, t: int) -> np.ndarray:
        """The example's a_t (t = 1..T); the LSTM's four gate pre-activations i, f, g, o."""
        return self._a[t - 1]

    def jacobian(self, t: int) -> np.ndarray:
        """J_t for the example (t = 1..T): ∂L/∂h_{t-1} = ∂L/∂h_t J_t along W_H; the LSTM's on the state (h, c)."""
        return self._jacobian(t, self.inspection.params["W_H"])

    # ------------------------------------------------------------------ backward
    def _fprime(self, t: int) -> np.ndarray:
        """f'(a_t) of the example (RNN and skip)."""
        return _DERIVATIVES[self.activation](self._a[t - 1], self._h[t])

    def _jacobian(self, t: int, W_H: np.ndarray) -> np.ndarray:
        """J_t with ∂L/∂h_{t-1} = ∂L/∂h_t J_t (chain part) for the example: diag(f'(a_t)) W_Hᵀ, or the LSTM's."""
        if self.arch != "lstm":
            return self._fprime(t)[:, None] * W_H.T
        H = self.hidden_size
        gate = {name: value[t - 1] for name, value in self._gates.items()}
        i, f, g, o = gate["i"], gate["f"], gate["g"], gate["o"]
        tanh_c = np.tanh(self._c[t])
        k = o * (1.0 - tanh_c ** 2)
        p = tanh_c * o * (1.0 - o)
        W_i, W_f, W_g, W_o = (W_H[:, n * H:(n + 1) * H] for n in range(4))
        R = ((g * i * (1 - i))[:, None] * W_i.T + (self._c[t - 1] * f * (1 - f))[:, None] * W_f.T
             + (i * (1 - g * g))[:, None] * W_g.T)
        J = np.empty((2 * H, 2 * H), dtype=W_H.dtype)
        J[:H, :H] = k[:, None] * R + p[:, None] * W_o.T
        J[:H, H:] = np.diag(k * f)
        J[H:, :H] = R
        J[H:, H:] = np.diag(f)
        return J

    def _backward(self, trace, params, progress=None) -> None:
        T, b, W_H = self.T, self.example, params["W_H"]
        hidden, da = trace.hidden, trace.da
        self.dh_norm = np.linalg.norm(self._dh, axis=1)                     # ‖∂L/∂h_t‖, the example
        self.delta_norm = np.linalg.norm(da[:, b], axis=1)                  # ‖δ_t‖ = ‖∂L/∂a_t‖, the example
        self.dc_cell = None
        if self.arch == "lstm":             # ∂L/∂c_t through c_{t+1} only (h_t held fixed)
            self.dc_cell = np.zeros_like(self._dh)
            dc = np.zeros(self.hidden_size, dtype=self._dh.dtype)
            for t in range(T, 0, -1):
                self.dc_cell[t - 1] = dc
                total = dc + self._dh[t - 1] * self._gates["o"][t - 1] * (1 - np.tanh(self._c[t]) ** 2)
                dc = total * self._gates["f"][t - 1]
        # the example's share of this step's term: ‖h_{t-1}ᵀ δ_t‖_F = ‖h_{t-1}‖ ‖δ_t‖ (an outer product)
        self.contribution_norm = np.linalg.norm(self._h[:-1], axis=1) * self.delta_norm
        self.running_sum_norm = np.empty(T)
        self.jacobian_norm = np.empty(T)
        self.product_log10 = np.empty(T)          # log10 ‖J_T ⋯ J_t‖₂
        self.chain_norm = np.empty(T)             # ‖∂L/∂h_t J_t‖: what reaches ∂L/∂h_{t-1} along W_H
        self.skip_path_norm = np.full(T, np.nan) if self.skip is not None else None
        self.cell_path_norm = np.empty(T) if self.arch == "lstm" else None
        total = np.zeros_like(W_H)
        product = None
        log_scale = 0.0
        every = max(1, T // 20)
        for t in range(T, 0, -1):
            if progress is not None and (T - t) % every == 0:
                progress((T - t) / T)
            total += hidden[t - 1].T @ da[t - 1]              # Σ_b h_{t-1}ᵀ δ_t, (H, G)
            self.running_sum_norm[t - 1] = np.linalg.norm(total)
            J = self._jacobian(t, W_H)
            self.jacobian_norm[t - 1] = _spectral_norm(J)
            state = self._dh[t - 1] if self.arch != "lstm" else np.concatenate(
                [self._dh[t - 1], self.dc_cell[t - 1]])
            reached = state @ J
            self.chain_norm[t - 1] = np.linalg.norm(reached if self.arch != "lstm" else reached[:self.hidden_size])
            if self.arch == "lstm":
                self.cell_path_norm[t - 1] = np.linalg.norm(reached[self.hidden_size:])
            if self.skip is not None and "W_S" in params and t - 1 >= 1 and t - 1 + self.skip <= T:
                self.skip_path_norm[t - 1] = np.linalg.norm(da[t - 2 + self.skip, b] @ params["W_S"].T)
            product = J.copy() if product is None else product @ J
            scale = _spectral_norm(product)
            if scale > 0 and math.isfinite(scale):
                log_scale += math.log10(scale)
                product /= scale
                self.product_log10[t - 1] = log_scale
            else:
                self.product_log10[t - 1] = -math.inf if scale == 0 else math.nan
                product = np.zeros_like(J) if scale == 0 else np.full_like(J, np.nan)
        self.full_gradient = total
        self.product_norm = 10.0 ** self.product_log10
        engine = trace.grads["W_H"]
        #: False when ∂L/∂W_H has an inf or NaN (a diverged pass): there is nothing to compare then
        self.gradient_finite = bool(np.isfinite(total).all() and np.isfinite(engine).all())
        denominator = np.linalg.norm(engine)
        difference = np.linalg.norm(total - engine)
        self.gradient_error = (float(difference / denominator) if denominator > 0 else float(difference)
                               ) if self.gradient_finite else math.nan

    # ------------------------------------------------------------------ frames
    @property
    def n_frames(self) -> int:
        return 2 * self.T + 1

    def __len__(self) -> int:
        return self.n_frames

    def kind_and_step(self, index: int) -> tuple[str, int]:
        """Frame index → (FORWARD, t) for 0..T-1, (LOSS, T) for T, (BACKWARD, t) for T+1..2T."""
        return kind_and_step(index, self.T)

    def running_sum(self, index: int) -> np.ndarray:
        """Σ_{s=t}^{T} Σ_b h_{s-1}ᵀ δ_s after backward frame `index` (zeros before the backward pass).

        At the last frame (t = 1) this is the batch's full ∂L/∂W_H, equal to the engine's grads["W_H"]."""
        kind, t = self.kind_and_step(index)
        if kind != BACKWARD:
            return np.zeros_like(self.full_gradient)
        if t == 1:
            return self.full_gradient.copy()
        trace = self.inspection.trace
        total = np.zeros_like(self.full_gradient)
        for s in range(self.T, t - 1, -1):
            total += trace.hidden[s - 1].T @ trace.da[s - 1]
        return total

    def frame(self, index: int) -> Frame:
        kind, t = self.kind_and_step(index)
        if kind == FORWARD:
            rows = self._forward_rows(t)
        elif kind == LOSS:
            rows = self._loss_rows()
        else:
            rows = self._backward_rows(t)
        return Frame(index=index, kind=kind, step=t, title=self._title(index, kind, t), rows=tuple(rows))

    def label(self, t: int) -> str:
        return self.labels[t - 1] if 0 < t <= len(self.labels) else str(t)

    def _title(self, index: int, kind: str, t: int) -> str:
        where = "the loss" if kind == LOSS else f"{kind}, t = {t} · input “{self.label(t)}”"
        return f"Frame {index + 1} of {self.n_frames} · {where}"

    def _forward_rows(self, t: int) -> list[Row]:
        i, k = t - 1, self.skip
        Q = Quantity
        terms = [Q("input_term", "‖x_t W_I‖", self.input_norm[i]),
                 Q("recurrent_term", "‖h_{t−1} W_H‖", self.recurrent_norm[i])]
        formula = "a_t = x_t W_I + h_{t−1} W_H + b"
        if k is not None:
            formula = f"a_t = x_t W_I + h_{{t−1}} W_H + h_{{t−{k}}} W_S + b"
            terms.append(Q("skip_term", f"‖h_{{t−{k}}} W_S‖", self.skip_norm[i],
                           "" if t > k else f"h_{t - k} is before the start: zero"))
        terms += [Q("bias", "‖b‖", self.bias_norm), Q("pre_activation", "‖a_t‖", self.pre_norm[i])]
        rows = [Row(formula, tuple(terms))]
        hidden = (Q("hidden", "h_t", vec(self._h[t])), Q("hidden_norm", "‖h_t‖", self.hidden_norm[i]),
                  Q("hidden_rms", "rms h_t", self.hidden_rms[i], "example"),
                  Q("hidden_rms_batch", "rms h_t", self.hidden_rms_batch[i], "batch"))
        if self.arch == "lstm":
            g = {name: value[i].mean() for name, value in self._gates.items()}
            rows += [Row("i, f, o = σ(a_t^{i,f,o}),   g = tanh(a_t^g)",
                         (Q("gates", "mean i, f, g, o",
                            ", ".join(num(g[name]) for name in "ifgo")),)),
                     Row("c_t = f ⊙ c_{t−1} + i ⊙ g",
                         (Q("cell", "c_t", vec(self._c[t])), Q("cell_norm", "‖c_t‖", np.linalg.norm(self._c[t])))),
                     Row("h_t = o ⊙ tanh(c_t)", hidden)]
        else:
            rows.append(Row(f"h_t = {self.activation}(a_t)", hidden))
        return rows

    def _loss_rows(self) -> list[Row]:
        Q = Quantity
        if self.loss_kind == "ce":
            formula = ("ℓ = −log softmax(y_T)[target]" if self.readout == "last"
                       else "ℓ = mean over t of −log softmax(y_t)[target_t]")
            rows = [Row(formula, (Q("target", "target", str(np.atleast_1d(self.target)[-1])),
                                  Q("prediction", "predicted", str(self.prediction)),
                                  Q("target_probability", "p(target)", self.target_probability),
                                  Q("example_loss", "ℓ", self.example_loss, "example")))]
        else:
            formula = "ℓ = (y_T − target)^2" if self.readout == "last" else "ℓ = mean over t of (y_t − target_t)^2"
            rows = [Row(formula, (Q("example_loss", "ℓ", self.example_loss, "example"),))]
        rows += [Row(f"L = mean of ℓ over the batch of {self.batch}", (Q("loss", "L", self.loss, "batch"),)),
                 Row("∂L/∂h_T = ∂L/∂y_T W_O^T   (∂L/∂y carries the mean's 1/B)",
                     (Q("dh", "∂L/∂h_T", vec(self._dh[-1])),
                      Q("dh_norm", "‖∂L/∂h_T‖", self.dh_norm[-1], "example"),
                      Q("dh_norm_batch", "‖∂L/∂h_T‖_F", self.dh_norm_batch[-1], "batch"))),
                 Row("Next: the backward pass carries the gradient from t = T back to t = 1.")]
        return rows

    def _backward_rows(self, t: int) -> list[Row]:
        i, T, k, Q = t - 1, self.T, self.skip, Quantity
        arriving = "∂L/∂h_t = ∂L/∂y_t W_O^T + δ_{t+1} W_H^T" if self.readout == "all" else "∂L/∂h_t = δ_{t+1} W_H^T"
        if t == T:
            arriving = "∂L/∂h_T = ∂L/∂y_T W_O^T"
        elif k is not None and t + k <= T:
            arriving += f" + δ_{{t+{k}}} W_S^T"
        if self.arch == "lstm":
            arriving = "∂L/∂h_t: all paths into h_t"
        rows = [Row(arriving, (Q("dh", "∂L/∂h_t", vec(self._dh[i])),
                               Q("dh_norm", "‖∂L/∂h_t‖", self.dh_norm[i], "example"),
                               Q("dh_norm_batch", "‖∂L/∂h_t‖_F", self.dh_norm_batch[i], "batch")))]
        if self.arch == "lstm":
            rows += [Row("∂L/∂c_t via the cell path, from c_{t+1}",
                         (Q("dc_cell", "‖∂L/∂c_t‖", np.linalg.norm(self.dc_cell[i])),)),
                     Row("J_t = ∂(h_t, c_t)/∂(h_{t−1}, c_{t−1})",
                         (Q("jacobian", "‖J_t‖₂", self.jacobian_norm[i]),),
                         remark="through the gates: an LSTM step's Jacobian is not diag(f′) W_Hᵀ, its state is "
                                "(h_t, c_t) and every gate depends on h_{t−1}; the cell path is the next line"),
                     Row("cell path ∂c_t/∂c_{t−1} = diag(f_t)", (Q("forget", "mean f_t", self.forget_mean[i]),)),
                     Row("(∂L/∂h_{t−1}, ∂L/∂c_{t−1}) ← (∂L/∂h_t, ∂L/∂c_t) J_t",
                         (Q("chain", "‖∂L/∂h_{t−1}‖", self.chain_norm[i], "via J_t"),
                          Q("cell_path", "‖∂L/∂c_{t−1}‖", self.cell_path_norm[i], "via J_t")))]
        else:
            f = self.activation
            rows += [Row(f"δ_t = ∂L/∂h_t ⊙ {f}′(a_t)",
                         (Q("fprime", f"mean {f}′(a_t)", self._fprime(t).mean()),
                          Q("delta", "‖δ_t‖", self.delta_norm[i], "example"))),
                     Row("J_t = ∂h_t/∂h_{t−1} = diag(f′(a_t)) W_H^T", (Q("jacobian", "‖J_t‖₂", self.jacobian_norm[i]),)),
                     Row("∂L/∂h_{t−1} ← δ_t W_H^T = ∂L/∂h_t J_t", (Q("chain", "‖δ_t W_H^T‖", self.chain_norm[i]),))]
        if k is not None:
            if 1 <= t - 1 and t - 1 + k <= T:         # step t−1+k reads h_{t−1} through W_S
                rows.append(Row(f"skip path into h_{{t−1}}: + δ_{{t−1+{k}}} W_S^T",
                                (Q("skip_path", f"‖δ_{{{t - 1 + k}}} W_S^T‖", self.skip_path_norm[i]),)))
            else:
                rows.append(Row("no skip path into h_{t−1} from here"))
        factors = T - t + 1
        rows += [Row(f"J_{{{T}}} ⋯ J_{{{t}}}   ({factors} factor{'s' if factors > 1 else ''})",
                     (Q("product", "‖J_T ⋯ J_t‖₂", self.product_norm[i]),)),
                 Row("term of ∂L/∂W_H: h_{t−1}^T δ_t",
                     (Q("contribution", "‖h_{t−1}^T δ_t‖_F", self.contribution_norm[i], "example"),
                      Q("contribution_batch", "‖Σ_b h_{t−1}^T δ_t‖_F", self.contribution_norm_batch[i],
                        "batch"))),
                 Row(f"running sum Σ_{{s={t}}}^{{{T}}} h_{{s−1}}^T δ_s",
                     (Q("running_sum", "‖Σ‖_F", self.running_sum_norm[i], "batch"),
                      Q("full_gradient", "‖∂L/∂W_H‖_F", np.linalg.norm(self.full_gradient), "batch")))]
        if t == 1:
            if self.gradient_finite:
                rows.append(Row("= ∂L/∂W_H, the full gradient, as the engine's",
                                (Q("gradient_error", "relative difference", self.gradient_error),), CONCLUSION))
            else:
                rows.append(Row("∂L/∂W_H is not finite: the gradient overflowed to inf or NaN (the run "
                                "diverged), so there is no full gradient to compare", (), WARNING))
        return rows
