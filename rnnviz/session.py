"""A training session: model, task, optimiser and settings, stepped on demand (no Qt).

Every view of rnnviz (GUI, CLI, tests, recordings) shows what a `Snapshot` says. Snapshots are
immutable: their arrays are fresh, read-only copies, so a snapshot can cross threads safely.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rnnviz.engine import CancelFlag, Cancelled, build_model, clip_gradients, make_optimizer, make_task
from rnnviz.engine.clipping import global_norm
from rnnviz.engine.losses import loss_and_grad
from rnnviz.engine.trace import Trace
from rnnviz.memory_budget import check_memory
from rnnviz.settings import Settings

#: Held-out sequences per forward pass in `Session.evaluate`: an LSTM evaluation of 512 sequences in
#: one pass took about 9x as long as one of 128 (its per-step activations outgrow the CPU cache), so
#: a large held-out batch is evaluated in slices of this size; the scores are the same (each
#: sequence's outputs are, to the bit). Measured at lag 160, H = 32, 512 sequences: LSTM 132 ms in
#: one pass, 43 ms in slices of 128, 32 ms in slices of 64, 30 ms of 32; IRNN 7.4, 4.8, 4.6, 5.1 ms.
EVAL_CHUNK = 64


def _frozen(array: np.ndarray) -> np.ndarray:
    """A read-only copy: safe to hand to another thread or keep in a history."""
    out = np.array(array, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class Spectrum:
    """The spectrum of a recurrent matrix W_H: what the spectrum plot and the live numbers show."""

    eigenvalues: np.ndarray   # complex, largest |λ| first (NaN where W_H is not finite)
    max_singular: float       # σ_max = ‖W_H‖₂

    @classmethod
    def of(cls, matrix: np.ndarray) -> Spectrum:
        if not np.isfinite(matrix).all():
            return cls(_frozen(np.full(matrix.shape[0], np.nan, dtype=complex)), math.nan)
        values = np.linalg.eigvals(matrix)
        return cls(_frozen(values[np.argsort(-np.abs(values))]), float(np.linalg.norm(matrix, 2)))


@dataclass(frozen=True)
class Snapshot:
    """What one training iteration looked like. Nothing in it changes after it is made.

    The spectrum of W_H (eigenvalues, σ_max) costs more than a small training step, so a snapshot
    carries it only when asked: `with_spectrum()` returns a copy that holds it. The app's worker
    asks for it a few times a second, off the GUI thread; views draw only spectra already made."""

    run: int                      # increments each time the model is rebuilt or reset
    iteration: int                # updates applied so far (0 = freshly initialised)
    loss: float
    accuracy: float | None        # on this iteration's training batch, where the task has one
    grad_norm: float              # ‖g‖ before clipping
    grad_norm_clipped: float      # ‖g‖ after clipping
    clipped: bool
    clip_events: int              # iterations clipped so far in this run
    max_grad_norm: float          # largest ‖g‖ before clipping so far in this run
    param_norms: Mapping[str, float]
    contribution_norms: np.ndarray  # (T,) ‖h_{t-1}ᵀ δ_t‖_F: each step's share of dL/dW_H
    dh_norms: np.ndarray            # (T,) ‖dL/dh_t‖_F over the batch
    recurrent: np.ndarray           # (H, H) copy of the matrix carrying h_{t-1} → h_t
    settings: Settings
    diverged_at: int | None = None  # the iteration whose loss, gradient or update went non-finite
    divergence: str | None = None   # the cause, in words
    hidden_rms: np.ndarray | None = None  # (T,) rms of h_t over batch and units (the diagram's node colours)
    initial_loss: float = math.nan  # the loss at iteration 0 of this run: the forward pass of the initial weights
    spectrum: Spectrum | None = None  # of `recurrent`, when made by `with_spectrum()`

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def status(self) -> str:
        return "diverged" if self.diverged else "ok"

    def with_spectrum(self) -> Snapshot:
        """This snapshot with its spectrum computed (itself if it already has one)."""
        if self.spectrum is not None:
            return self
        return dataclasses.replace(self, spectrum=Spectrum.of(self.recurrent))

    @property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of W_H (complex, sorted by magnitude, largest first); computed now if the
        snapshot carries no spectrum."""
        return (self.spectrum or Spectrum.of(self.recurrent)).eigenvalues

    @property
    def spectral_radius(self) -> float:
        """ρ(W_H) = max |λ|: below 1 the powers W_Hᵏ shrink (the typical rate of long products of
        backward factors; not a bound on one step, which is σ_max's)."""
        return float(np.abs(self.eigenvalues[0]))

    @property
    def max_singular(self) -> float:
        """σ_max(W_H) = ‖W_H‖₂ bounds how much one backward step can grow a gradient (times max f')."""
        return (self.spectrum or Spectrum.of(self.recurrent)).max_singular


@dataclass(frozen=True)
class Inspection:
    """The full forward and backward pass of the current batch, for frame-by-frame viewing."""

    trace: Trace
    params: Mapping[str, np.ndarray]   # copies of the weights the trace was computed with
    x: np.ndarray                      # (T, B, I) the batch's inputs
    target: np.ndarray
    step_labels: list[str]             # a label per time step for example 0
    settings: Settings
    example_labels: tuple[list[str], ...] = ()  # step labels of every example (the stepper follows any one)


class Session:
    """Owns a model, a task and an optimiser; `step()` trains one iteration and returns a snapshot."""

    def __init__(self, settings: Settings | None = None, cancel: CancelFlag | None = None) -> None:
        """A new run of `settings`; `cancel` as in `step` (a cancelled build raises `Cancelled`)."""
        self._settings = settings or Settings()
        self._run = 0
        self._build(cancel)

    # ----------------------------------------------------------------- construction
    def _build(self, cancel: CancelFlag | None = None) -> None:
        """A new run from the settings' seed. All or nothing: if `cancel` stops the first pass
        (`Cancelled`), the session is left exactly as it was."""
        s = self._settings
        check_memory(s)   # refuse, in one line, settings that would exhaust the machine
        task = make_task(s.task, length=s.length, seed=s.seed, dtype=np.dtype(s.dtype))
        model = build_model(
            s.arch, task.input_size, s.hidden, task.output_size,
            activation=s.activation, init=s.init, init_scale=s.init_scale,
            skip=s.skip if s.arch == "skip" else None, forget_bias=s.forget_bias,
            seed=s.seed, dtype=np.dtype(s.dtype))
        batch = task.batch(s.batch)
        trace = _forward_backward(model, task, batch, cancel, keep_steps=False)
        self.task, self.model = task, model
        self.optimizer = make_optimizer(s.optimizer, s.lr, s.momentum)
        self._run += 1
        self._iteration = 0
        self._clip_events = 0
        self._max_grad_norm = 0.0
        self._batch = batch
        self._weights_of_last = None          # None: the current weights computed the latest snapshot
        self._initial_loss = float(trace.loss)
        self._last = self._snapshot(trace, grad_norm=global_norm(trace.grads), clip=None)

    def reset(self, cancel: CancelFlag | None = None) -> Snapshot:
        """Start the run again from the same seed: it replays bit for bit. `cancel` as in `step`:
        a cancelled reset changes nothing."""
        self._build(cancel)
        return self._last

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def iteration(self) -> int:
        return self._iteration

    @property
    def diverged(self) -> bool:
        return self._last.diverged

    def snapshot(self) -> Snapshot:
        """The latest snapshot (iteration 0 right after a build)."""
        return self._last

    def apply(self, settings: Settings, cancel: CancelFlag | None = None) -> bool:
        """Adopt new settings. Live ones (lr, momentum, optimiser, clipping) apply mid-run;
        structural ones rebuild the model and restart. Returns True if the run restarted.
        `cancel` as in `step`: a cancelled rebuild leaves the old run and settings in place."""
        if self._settings.structural_changes(settings):
            check_memory(settings)   # before anything changes: a refused apply keeps the old run
        old, self._settings = self._settings, settings
        if old.structural_changes(settings):
            try:
                self._build(cancel)
            except Cancelled:
                self._settings = old
                raise
            return True
        if settings.optimizer != old.optimizer:
            self.optimizer = make_optimizer(settings.optimizer, settings.lr, settings.momentum)
        self.optimizer.lr = settings.lr
        self.optimizer.momentum = settings.momentum
        self._last = dataclasses.replace(self._last, settings=settings)
        return False

    def update(self, **changes) -> bool:
        """`apply(settings.replace(**changes))`: e.g. ``session.update(lr=0.01)``."""
        return self.apply(self._settings.replace(**changes))

    # ----------------------------------------------------------------- training
    def step(self, cancel: CancelFlag | None = None) -> Snapshot:
        """One iteration: batch → forward/backward (BPTT) → clip → update.

        After a divergence nothing happens until `reset()`: the diverged snapshot is returned again.
        ``cancel`` (e.g. a ``threading.Event``) is checked between time steps of the pass; once set,
        the step raises `rnnviz.engine.Cancelled` and the model, the optimiser, the iteration and the
        latest snapshot stay as they were (the task has drawn one batch more).
        """
        if self._last.diverged:
            return self._last
        s = self._settings
        batch = self.task.batch(s.batch)
        trace = _forward_backward(self.model, self.task, batch, cancel, keep_steps=False)
        self._batch = batch
        clip = clip_gradients(trace.grads, s.clip, s.clip_threshold)
        cause = None
        param_norms = None
        self._weights_of_last = None
        if not math.isfinite(trace.loss):
            cause = f"the loss became {_word(trace.loss)}"
        elif not math.isfinite(clip.norm_before):
            cause = f"the gradient norm became {_word(clip.norm_before)}"
        else:
            # the weights this pass used, for `inspect` (a copy: ~40 KB for an RNN at H = 64)
            self._weights_of_last = {name: w.copy() for name, w in self.model.params.items()}
            with np.errstate(over="ignore", invalid="ignore"):
                self.optimizer.step(self.model.params, trace.grads)
                param_norms = _norms(self.model.params)
            # a finite ‖W‖ means every element is finite; only an infinite one needs a closer look
            bad = [k for k, w in self.model.params.items()
                   if not math.isfinite(param_norms[k]) and not np.isfinite(w).all()]
            if bad:
                cause = f"the weights {', '.join(bad)} became infinite or NaN after the update"
        self._iteration += 1
        self._clip_events += int(clip.clipped)
        if not math.isnan(clip.norm_before):   # a NaN norm is the divergence, not a size
            self._max_grad_norm = max(self._max_grad_norm, clip.norm_before)
        self._last = self._snapshot(trace, grad_norm=clip.norm_before, clip=clip, cause=cause,
                                    param_norms=param_norms)
        return self._last

    def run(self, steps: int):
        """Yield a snapshot per iteration, stopping early if the run diverges."""
        for _ in range(steps):
            snap = self.step()
            yield snap
            if snap.diverged:
                return

    def _snapshot(self, trace: Trace, *, grad_norm: float, clip, cause: str | None = None,
                  param_norms: dict[str, float] | None = None) -> Snapshot:
        """The snapshot of `trace`; `param_norms` are ‖W‖ of the current weights if already known."""
        accuracy = None
        if self.task.chance is not None and np.isfinite(trace.outputs).all():
            accuracy = self.task.accuracy(trace.outputs, self._batch[1])
        with np.errstate(over="ignore", invalid="ignore"):
            if param_norms is None:
                param_norms = _norms(self.model.params)
            contributions = trace.contribution_norms("W_H")
            dh_norms = trace.dh_norms
            hidden_rms = trace.hidden_rms
        return Snapshot(
            run=self._run, iteration=self._iteration, loss=float(trace.loss), accuracy=accuracy,
            grad_norm=float(grad_norm),
            grad_norm_clipped=float(clip.norm_after if clip else grad_norm),
            clipped=bool(clip.clipped) if clip else False,
            clip_events=self._clip_events, max_grad_norm=self._max_grad_norm,
            param_norms=param_norms,
            contribution_norms=_frozen(contributions), dh_norms=_frozen(dh_norms),
            recurrent=_frozen(self.model.recurrent_matrix()), settings=self._settings,
            diverged_at=self._iteration if cause else None, divergence=cause,
            hidden_rms=_frozen(hidden_rms), initial_loss=self._initial_loss)

    # ----------------------------------------------------------------- inspection
    def inspect(self, cancel: CancelFlag | None = None) -> Inspection:
        """The pass the latest snapshot shows, again, with everything the BPTT stepper needs: its
        batch and the weights it used (before that iteration's update), so the stepper and the
        paused diagram show one and the same iteration. Nothing is updated; `cancel` as in `step`."""
        x, target = self._batch
        model = self.model
        if self._weights_of_last is not None:
            model = copy.copy(self.model)          # the same model with the weights before the update
            model.params = self._weights_of_last
        trace = _forward_backward(model, self.task, self._batch, cancel)
        return Inspection(trace=trace,
                          params={k: _frozen(w) for k, w in model.params.items()},
                          x=_frozen(x), target=_frozen(target),
                          step_labels=self.task.step_labels(x, 0), settings=self._settings,
                          example_labels=tuple(self.task.step_labels(x, b) for b in range(x.shape[1])))

    def evaluate(self, batch_size: int = 256, chunk: int | None = EVAL_CHUNK) -> dict[str, float | None]:
        """Loss and accuracy on a fresh held-out batch (the model is not changed). The forward pass
        runs `chunk` sequences at a time (None: all at once); the scores are over the whole batch,
        so chunking changes the cost, never the counts."""
        x, target = self.task.eval_batch(batch_size)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            outputs = _chunked_forward(self.model, x, self.task.readout, chunk)
        accuracy = None
        if self.task.chance is not None and np.isfinite(outputs).all():   # argmax of NaN is no answer
            accuracy = self.task.accuracy(outputs, target)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss, _ = loss_and_grad(outputs, target, self.task.loss, self.task.readout)
        return {"loss": float(loss), "accuracy": accuracy}


def _chunked_forward(model, x: np.ndarray, readout: str, chunk: int | None) -> np.ndarray:
    """The model's outputs on x (T, B, I), computed `chunk` sequences at a time and joined on the
    batch axis: y_T (B, O) or y_1..y_T (T, B, O), as one `model.forward` would give them."""
    if chunk is None or x.shape[1] <= chunk:
        return model.forward(x, readout=readout)[0]
    parts = [model.forward(x[:, start:start + chunk], readout=readout)[0]
             for start in range(0, x.shape[1], chunk)]
    return np.concatenate(parts, axis=parts[0].ndim - 2)


def _forward_backward(model, task, batch, cancel: CancelFlag | None, keep_steps: bool = True) -> Trace:
    """One forward and backward pass (BPTT) of `model` on `batch`; overflow is a lesson, not a warning.
    A training step passes ``keep_steps=False``: its snapshot reads no a_t, δ_t or ∂L/∂c_t (see
    ``forward_backward``), and `inspect` runs the pass again with everything kept."""
    x, target = batch
    return model.forward_backward(x, target, loss=task.loss, readout=task.readout, cancel=cancel,
                                  keep_steps=keep_steps)    # (silent about overflow: a lesson)


def _norms(params: Mapping[str, np.ndarray]) -> dict[str, float]:
    """‖W‖_F of every parameter (inf or NaN where an element is, or where ‖W‖ overflows).

    √(w·w) over the flattened array, as ``np.linalg.norm(w)`` computes it (the same numbers)
    without its checks, which cost more than the sum at these sizes: this runs every step."""
    norms = {}
    for k, w in params.items():
        flat = w.ravel(order="K")
        norms[k] = float(np.sqrt(flat.dot(flat)))
    return norms


def _word(value: float) -> str:
    return "NaN" if math.isnan(value) else "infinite"

