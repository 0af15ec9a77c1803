"""Backpropagation through time, one frame at a time: what the BPTT stepper shows (no Qt).

From an `Inspection` (one forward and backward pass of a batch) and the index of one example in
it, `BPTTFrames` computes the 2T+1 frames of the lecture's derivation with the real numbers:

    frames 0 .. T-1    forward,  t = 1 .. T:   a_t = x_t W_I + h_{t-1} W_H + b,   h_t = f(a_t)
    frame  T           the loss L
    frames T+1 .. 2T   backward, t = T .. 1:   δ_t = dL/dh_t,
                       J_t = ∂h_t/∂h_{t-1} = diag(f'(a_t)) W_Hᵀ   (row vectors: δ_{t-1} = δ_t J_t),
                       the running product J_T ⋯ J_t (the "product of many terms less than one"),
                       this step's contribution h_{t-1}ᵀ δa_t to dL/dW_H and the running sum.

Which numbers belong to the example and which to the batch:
- Vectors, norms and Jacobians (δ_t, J_t, the product) are the chosen example's: f'(a_t) differs
  between examples, so each example has its own Jacobians.
- The loss is the batch mean, so the trace's δ_t already carries a factor 1/B; the example's
  numbers are its share of the batch gradient, and the examples' shares add up to it.
- The contribution is shown for the example and for the whole batch, Σ_b h_{t-1,b}ᵀ δa_{t,b}; the
  running sum is the batch's, so at the last frame (t = 1) it equals the engine's grads["W_H"].

Architectures:
- skip: a_t also receives h_{t-k} W_S, so δ_{t-1} gets a second term δa_{t+k-1} W_Sᵀ besides δ_t J_t;
  the product follows the W_H chain alone (the path the skip connection short-cuts).
- lstm: the state is (h_t, c_t) and the step-to-step Jacobian is not diag(f') W_Hᵀ. With gates
  i, f, o = σ(·), g = tanh(·) from a_t = x_t W_I + h_{t-1} W_H + b (W_H = [W_i W_f W_g W_o]) and
  c_t = f⊙c_{t-1} + i⊙g, h_t = o⊙tanh(c_t), the row-vector map (δh_{t-1}, δc_{t-1}) = (δh_t, δc_t) J_t is

        J_t = [[diag(k) R + diag(p) W_oᵀ,  diag(k⊙f)],
               [R,                         diag(f)  ]]

  with k = o⊙(1 − tanh²c_t), p = tanh(c_t)⊙o⊙(1 − o) and
  R = diag(g⊙i⊙(1 − i)) W_iᵀ + diag(c_{t-1}⊙f⊙(1 − f)) W_fᵀ + diag(i⊙(1 − g²)) W_gᵀ.
  The cell path ∂c_t/∂c_{t-1} = diag(f) is the LSTM's gradient highway; the frames report its mean.

Products are kept normalised (the norm goes to a running log10), so 500 factors neither underflow
nor overflow. All of it is computed once, in the constructor; `frame(i)` only formats numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

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
class Frame:
    """One frame of the stepper: which step, what happens, and the formula lines with numbers."""

    index: int
    kind: str                 # FORWARD | LOSS | BACKWARD
    step: int                 # t in 1..T (the loss frame: T)
    title: str
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join((self.title, *self.lines))


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _spectral_norm(matrix: np.ndarray) -> float:
    """‖A‖₂ = σ_max(A), how much A can stretch a vector (exact, from the SVD's singular values).

    On a busy two-core machine a multi-threaded BLAS made this 10× slower than with one thread;
    callers off the GUI thread should limit BLAS to one thread (the stepper does)."""
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


def vec(values: np.ndarray, shown: int = 4) -> str:
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
        settings = inspection.settings
        self.inspection = inspection
        self.example = example
        self.T = T
        self.batch = B
        self.arch = settings.arch
        self.activation = "tanh" if self.arch == "lstm" else settings.activation
        self.skip = int(settings.skip) if self.arch == "skip" else None
        labels = getattr(inspection, "example_labels", ())
        labels = labels[example] if len(labels) > example else inspection.step_labels if example == 0 else None
        self.labels = list(labels) if labels else [str(t) for t in range(1, T + 1)]
        W_H = params["W_H"]
        H = W_H.shape[0]
        self.hidden_size = H
        b = example
        hidden = trace.hidden                   # (T+1, B, H), hidden[0] = h_0
        pre = trace.pre                         # (T, B, G)
        da = trace.da                           # (T, B, G)
        dh = trace.dh                           # (T, B, H)
        self._h = hidden[:, b]                  # the example's h_0 .. h_T
        self._a = pre[:, b]
        self._dh = dh[:, b]

        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            self._forward_terms(x[:, b], params)
            self._loss_numbers(trace, inspection.target)
            self._backward(trace, params, hidden, da, dh, progress)

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
        if self.skip is not None:
            k = self.skip
            skip_term = np.zeros_like(recurrent_term)
            if "W_S" in params and self.T > k:
                skip_term[k:] = h[1:self.T - k + 1] @ params["W_S"]     # step t > k reads h_{t-k}
            self.skip_norm = norm(skip_term)
        recomputed = input_term + recurrent_term + params["b"]
        if self.skip_norm is not None:
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
        self.readout = "all" if outputs.ndim == 3 else "last"
        self.loss_kind = "ce" if np.issubdtype(target.dtype, np.integer) else "mse"
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
        """J_t for the example (t = 1..T): δ_{t-1} = δ_t J_t along W_H; the LSTM's on the state (h, c)."""
        return self._jacobian(t, self.inspection.params["W_H"])

    # ------------------------------------------------------------------ backward
    def _jacobian(self, t: int, W_H: np.ndarray) -> np.ndarray:
        """J_t with δ_{t-1} = δ_t J_t (chain part) for the example: diag(f'(a_t)) W_Hᵀ, or the LSTM's."""
        if self.arch != "lstm":
            fp = _DERIVATIVES[self.activation](self._a[t - 1], self._h[t])
            return fp[:, None] * W_H.T
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

    def _backward(self, trace, params, hidden, da, dh, progress=None) -> None:
        T, b, W_H = self.T, self.example, params["W_H"]
        self.delta_norm = np.linalg.norm(self._dh, axis=1)                  # ‖δ_t‖ example
        self.delta_norm_batch = np.sqrt(np.einsum("tbh,tbh->t", dh, dh))    # ‖δ_t‖_F batch
        self.delta_a_norm = np.linalg.norm(da[:, b], axis=1)
        self.delta_c = None
        if self.arch == "lstm":             # δc_t = ∂L/∂c_t through c_{t+1} (h_t held fixed)
            self.delta_c = np.zeros_like(self._dh)
            dc = np.zeros(self.hidden_size, dtype=self._dh.dtype)
            for t in range(T, 0, -1):
                self.delta_c[t - 1] = dc
                total = dc + self._dh[t - 1] * self._gates["o"][t - 1] * (1 - np.tanh(self._c[t]) ** 2)
                dc = total * self._gates["f"][t - 1]
        # the example's share of this step's contribution: ‖h_{t-1} ⊗ δa_t‖_F = ‖h_{t-1}‖ ‖δa_t‖
        self.contribution_norm = np.linalg.norm(self._h[:-1], axis=1) * self.delta_a_norm
        self.contribution_norm_batch = np.empty(T)
        self.running_sum_norm = np.empty(T)
        self.jacobian_norm = np.empty(T)
        self.product_log10 = np.empty(T)          # log10 ‖J_T ⋯ J_t‖₂
        self.chain_norm = np.empty(T)             # ‖δ_t J_t‖: what reaches δ_{t-1} along W_H
        self.skip_path_norm = np.full(T, np.nan) if self.skip is not None else None
        self.cell_path_norm = np.empty(T) if self.arch == "lstm" else None
        total = np.zeros_like(W_H)
        product = None
        log_scale = 0.0
        every = max(1, T // 20)
        for t in range(T, 0, -1):
            if progress is not None and (T - t) % every == 0:
                progress((T - t) / T)
            contribution = hidden[t - 1].T @ da[t - 1]        # Σ_b h_{t-1}ᵀ δa_t, (H, G)
            total += contribution
            self.contribution_norm_batch[t - 1] = np.linalg.norm(contribution)
            self.running_sum_norm[t - 1] = np.linalg.norm(total)
            J = self._jacobian(t, W_H)
            self.jacobian_norm[t - 1] = _spectral_norm(J)
            state = self._dh[t - 1] if self.arch != "lstm" else np.concatenate(
                [self._dh[t - 1], self.delta_c[t - 1]])
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
        denominator = np.linalg.norm(engine)
        self.gradient_error = float(np.linalg.norm(total - engine) / denominator) if denominator > 0 else float(
            np.linalg.norm(total - engine))

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
        """Σ_{s=t}^{T} Σ_b h_{s-1}ᵀ δa_s after backward frame `index` (zeros before the backward pass).

        At the last frame (t = 1) this is the batch's full dL/dW_H, equal to the engine's grads["W_H"]."""
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
            title, lines = self._forward_text(t)
        elif kind == LOSS:
            title, lines = self._loss_text()
        else:
            title, lines = self._backward_text(t)
        return Frame(index=index, kind=kind, step=t, title=title, lines=tuple(lines))

    def label(self, t: int) -> str:
        return self.labels[t - 1] if 0 < t <= len(self.labels) else str(t)

    def _forward_text(self, t: int) -> tuple[str, list[str]]:
        i = t - 1
        title = f"Forward  t = {t} of {self.T}   input “{self.label(t)}”   (example {self.example + 1} of {self.batch})"
        terms = [f"‖x_t W_I‖ = {num(self.input_norm[i])}", f"‖h_(t−1) W_H‖ = {num(self.recurrent_norm[i])}"]
        formula = "a_t = x_t W_I + h_(t−1) W_H + b"
        if self.skip is not None:
            formula = f"a_t = x_t W_I + h_(t−1) W_H + h_(t−{self.skip}) W_S + b"
            terms.append(f"‖h_(t−{self.skip}) W_S‖ = {num(self.skip_norm[i])}"
                         + ("" if t > self.skip else "  (h_(t−k) is h_0 or earlier: zero)"))
        terms.append(f"‖b‖ = {num(self.bias_norm)}")
        lines = [formula, "    " + "   ".join(terms) + f"   →  ‖a_t‖ = {num(self.pre_norm[i])}"]
        if self.arch == "lstm":
            g = self._gates
            lines += ["i, f, o = σ(a_t gates),  g = tanh(a_t candidate)",
                      f"    mean i = {num(g['i'][i].mean())}   mean f = {num(g['f'][i].mean())}   "
                      f"mean g = {num(g['g'][i].mean())}   mean o = {num(g['o'][i].mean())}",
                      "c_t = f ⊙ c_(t−1) + i ⊙ g",
                      f"    c_t = {vec(self._c[t])}   ‖c_t‖ = {num(np.linalg.norm(self._c[t]))}",
                      "h_t = o ⊙ tanh(c_t)"]
        else:
            lines.append(f"h_t = {self.activation}(a_t)")
        lines.append(f"    h_t = {vec(self._h[t])}   ‖h_t‖ = {num(self.hidden_norm[i])}   "
                     f"rms h_t = {num(self.hidden_rms[i])}")
        return title, lines

    def _loss_text(self) -> tuple[str, list[str]]:
        title = f"Loss   (example {self.example + 1} of {self.batch})"
        if self.loss_kind == "ce":
            at = "y_T" if self.readout == "last" else "y_t, averaged over t"
            lines = [f"ℓ = −log softmax({at})[target]",
                     f"    target = {np.atleast_1d(self.target)[-1]}   predicted = {self.prediction}   "
                     f"p(target) = {num(self.target_probability)}   ℓ = {num(self.example_loss)}"]
        else:
            lines = ["ℓ = mean (y − target)²", f"    ℓ = {num(self.example_loss)}"]
        lines += [f"L = mean of ℓ over the batch of {self.batch} = {num(self.loss)}",
                  "δ_T = dL/dh_T = dL/dy_T W_Oᵀ   (dL/dy carries the batch mean's 1/B)",
                  f"    δ_T = {vec(self._dh[-1])}   ‖δ_T‖ = {num(self.delta_norm[-1])}",
                  "Next: the backward pass carries δ from t = T back to t = 1."]
        return title, lines

    def _backward_text(self, t: int) -> tuple[str, list[str]]:
        i, T = t - 1, self.T
        factors = T - t + 1
        title = f"Backward  t = {t} of {T}   input “{self.label(t)}”   (example {self.example + 1} of {self.batch})"
        lines = ["δ_t = dL/dh_t  (all paths)",
                 f"    δ_t = {vec(self._dh[i])}",
                 f"    ‖δ_t‖ = {num(self.delta_norm[i])}   whole batch ‖δ_t‖_F = {num(self.delta_norm_batch[i])}"]
        if self.arch == "lstm":
            lines += [f"    δc_t = ∂L/∂c_t along the cell path (from c_(t+1)): ‖δc_t‖ = "
                      f"{num(np.linalg.norm(self.delta_c[i]))}",
                      "J_t = ∂(h_t, c_t)/∂(h_(t−1), c_(t−1)) from the gates",
                      "    (an LSTM step's Jacobian is not diag(f′) W_Hᵀ: see the cell path)",
                      f"    ‖J_t‖₂ = {num(self.jacobian_norm[i])}   cell path ∂c_t/∂c_(t−1) = diag(f_t), "
                      f"mean f_t = {num(self.forget_mean[i])}",
                      f"    reaches step t−1: ‖δh‖ = {num(self.chain_norm[i])}   ‖δc‖ = {num(self.cell_path_norm[i])}"]
        else:
            fp = _DERIVATIVES[self.activation](self._a[i], self._h[t])
            lines += [f"δa_t = δ_t ⊙ {self.activation}′(a_t)   mean f′(a_t) = {num(fp.mean())}   "
                      f"‖δa_t‖ = {num(self.delta_a_norm[i])}",
                      "J_t = diag(f′(a_t)) W_Hᵀ,   δ_(t−1) ← δ_t J_t",
                      f"    ‖J_t‖₂ = {num(self.jacobian_norm[i])}   ‖δ_t J_t‖ = {num(self.chain_norm[i])}"]
        if self.skip is not None:
            s = self.skip_path_norm[i]
            if math.isfinite(s):
                lines.append(f"    + skip path from step {t - 1 + self.skip}: ‖δa_(t+{self.skip - 1}) W_Sᵀ‖ = {num(s)}")
            else:
                lines.append("    (no skip path into step t−1 from here)")
        lines += [f"running product J_T ⋯ J_t ({factors} factor{'s' if factors > 1 else ''}):   "
                  f"‖·‖₂ = {num(self.product_norm[i])}",
                  "contribution to dL/dW_H:  h_(t−1)ᵀ δa_t",
                  f"    this example ‖·‖_F = {num(self.contribution_norm[i])}   "
                  f"whole batch ‖Σ_b‖_F = {num(self.contribution_norm_batch[i])}"]
        lines += [f"running sum Σ_(s={t}..{T}) h_(s−1)ᵀ δa_s over the whole batch:",
                  f"    ‖·‖_F = {num(self.running_sum_norm[i])}   (the full ‖dL/dW_H‖_F = "
                  f"{num(np.linalg.norm(self.full_gradient))})"]
        if t == 1 and not math.isfinite(self.gradient_error):
            lines.append("= dL/dW_H, the full gradient: it is not finite (inf or NaN), as in the "
                         "engine's grads[\"W_H\"]: the model has diverged.")
        elif t == 1:
            lines.append(f"= dL/dW_H, the full gradient: matches the engine's grads[\"W_H\"] "
                         f"(relative difference {num(self.gradient_error)}).")
        return title, lines
