"""The memory horizon: how far back a network can remember, as one number (no Qt).

    The memory horizon of a configuration is the largest lag at which it reaches the target
    accuracy on held-out data within the training budget. Each lag of the grid is trained from
    scratch on several seeds; a lag counts as remembered when most seeds reach the target.

`run_one` trains one (settings, lag, seed) run and stops it early once it reaches the target, diverges
or has clearly failed (the rule is in ``resources/horizon.toml``). `Sweep` lets a lag search
(`rnnviz.lag_search`: a bisection on the lag grid, or the exhaustive grid) choose the runs, trains
them in worker processes (`rnnviz.worker_processes`: one BLAS thread each, processes reused across
runs) and yields each `RunResult` as it finishes, so a progress bar or a plot can fill in.
`horizon` turns results into the number. The configuration (``resources/horizon.toml``) is read
on first use by `default_config` and passed on explicitly.
``rnnviz horizon`` (`horizon_command`), the GUI's Horizon panel and ``rnnviz bench`` all use these.
"""

from __future__ import annotations

import functools
import json
import math
import os
import sys
import threading
import time
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rnnviz.errors import UsageError
from rnnviz.interrupts import stop_on_signals
from rnnviz.lag_search import SEARCHES, Bisection, make_search, max_runs
from rnnviz.presets import PresetError, load_preset, preset_with_overrides
from rnnviz.resource_dir import RESOURCES
from rnnviz.settings import LAG_TASKS, Settings, SettingsError
from rnnviz.worker_processes import load_engine, process_context, start_worker

if TYPE_CHECKING:
    import numpy as np

CONFIG_PATH = RESOURCES / "horizon.toml"


#: How a run ended.
REACHED, DIVERGED, PLATEAU, BUDGET, CANCELLED = "reached", "diverged", "plateau", "budget", "cancelled"

#: Seconds the collecting loop waits for a result before it looks at the cancel flag again.
POLL_SECONDS = 0.1


# ----------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class Architecture:
    """One network the Horizon panel compares: a label and the settings it overrides."""

    key: str
    label: str
    overrides: Mapping[str, object]
    preset: str = ""   # the lesson preset whose recipe this is

    def settings(self, base: Settings) -> Settings:
        return base.replace(**self.overrides)

    def describe(self) -> str:
        recipe = ", ".join(f"{k}={v}" for k, v in self.overrides.items())
        origin = f" (the recipe of the '{self.preset}' preset)" if self.preset else ""
        return f"{self.label}: {recipe}{origin}"


@dataclass(frozen=True)
class EarlyStop:
    """When a run has clearly failed (see ``[early_stop]`` in resources/horizon.toml)."""

    min_fraction: float
    patience_fraction: float
    accuracy_margin: float
    loss_margin: float


@dataclass(frozen=True)
class Budget:
    """How one run is trained and judged: at most `steps` iterations, a held-out evaluation of
    `eval_batch` sequences every `eval_every`, success at `target` accuracy, `early_stop` for a run
    that has clearly failed. Between the regular evaluations, `check_streak` training batches in a
    row at `target` accuracy call for a held-out check, at least `check_gap` iterations after the
    previous one (the gap doubles after each check that falls short, up to `eval_every`; 0: no
    checks). A pass within `fast_pass` of the budget is fast: a bisection then probes the longest
    lag next."""

    steps: int
    target: float
    eval_every: int
    eval_batch: int
    early_stop: EarlyStop
    check_gap: int = 0
    check_streak: int = 1
    fast_pass: float = 0.0


@dataclass(frozen=True)
class SweepDefaults:
    lags: tuple[int, ...]
    seeds: int
    steps: int
    target: float
    eval_every: int
    eval_batch: int
    check_gap: int
    check_streak: int
    fast_pass: float
    search: str            # "bisect" or "grid" (rnnviz.lag_search)


@dataclass(frozen=True)
class HorizonConfig:
    definition: str
    sweep: SweepDefaults
    early_stop: EarlyStop
    base: Mapping[str, object]
    architectures: tuple[Architecture, ...]

    def budget(self, steps: int | None = None, target: float | None = None) -> Budget:
        """The configured budget, with `steps` and `target` replaced where given."""
        return Budget(steps=steps or self.sweep.steps,
                      target=self.sweep.target if target is None else target,
                      eval_every=self.sweep.eval_every, eval_batch=self.sweep.eval_batch,
                      early_stop=self.early_stop, check_gap=self.sweep.check_gap,
                      check_streak=self.sweep.check_streak, fast_pass=self.sweep.fast_pass)

    def base_settings(self, **changes) -> Settings:
        return Settings.from_dict({**self.base, **changes})

    def architecture(self, key: str) -> Architecture:
        for arch in self.architectures:
            if arch.key == key:
                return arch
        raise KeyError(f"unknown architecture {key!r}; known: "
                       f"{', '.join(a.key for a in self.architectures)}")


#: The settings that make up a preset's training recipe; task, lengths, sizes and clipping come from
#: the sweep's base instead.
RECIPE_FIELDS = ("arch", "activation", "init", "init_scale", "skip", "forget_bias", "optimizer", "lr",
                 "momentum")


def preset_recipe(name: str) -> dict[str, object]:
    """The recipe fields of a lesson preset, leaving out those its architecture or optimiser ignores."""
    settings = load_preset(name).settings
    ignored = {"skip"} if settings.arch != "skip" else set()
    ignored |= {"forget_bias"} if settings.arch != "lstm" else {"activation", "init", "init_scale"}
    ignored |= {"momentum"} if settings.optimizer != "sgd" else set()
    return {k: getattr(settings, k) for k in RECIPE_FIELDS if k not in ignored}


def load_config(path: Path = CONFIG_PATH) -> HorizonConfig:
    """Read the sweep's definition, defaults and architectures; a bad file names itself and the key."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        sweep = data["sweep"]
        defaults = SweepDefaults(lags=tuple(int(v) for v in sweep["lags"]), seeds=int(sweep["seeds"]),
                                 steps=int(sweep["steps"]), target=float(sweep["target"]),
                                 eval_every=int(sweep["eval_every"]),
                                 eval_batch=int(sweep["eval_batch"]),
                                 check_gap=int(sweep["check_gap"]),
                                 check_streak=int(sweep["check_streak"]),
                                 fast_pass=float(sweep["fast_pass"]),
                                 search=str(sweep["search"]))
        if defaults.search not in SEARCHES:
            raise ValueError(f"search must be one of {', '.join(SEARCHES)}, not {defaults.search!r}")
        early = EarlyStop(**{k: float(v) for k, v in data["early_stop"].items()})
        base = dict(data["base"])
        archs = tuple(Architecture(key=a["key"], label=a["label"], overrides=preset_recipe(a["preset"]),
                                   preset=a["preset"]) for a in data["architectures"])
        base_settings = Settings.from_dict(base)
        for arch in archs:
            arch.settings(base_settings)
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, PresetError) as exc:
        raise SettingsError(f"horizon configuration {path}: {type(exc).__name__}: {exc}") from None
    return HorizonConfig(definition=" ".join(data["definition"].split()), sweep=defaults,
                         early_stop=early, base=base, architectures=archs)


def early_stop_text(config: HorizonConfig) -> str:
    """The early-stopping rule in one sentence, with the configured numbers."""
    rule = config.early_stop
    return (f"A run stops early once it reaches the target, when it diverges, or when it has sat "
            f"at chance with a flat loss for {rule.patience_fraction:.0%} of the budget, checked "
            f"only after {rule.min_fraction:.0%} of it (plain RNNs can learn in one late jump).")


@functools.cache
def default_config() -> HorizonConfig:
    """``resources/horizon.toml``, read on first use (never at import) and kept."""
    return load_config(CONFIG_PATH)


# ----------------------------------------------------------------------------- one run
@dataclass(frozen=True)
class RunResult:
    """How one training run at one lag and seed ended.

    `accuracy` and `loss` are from the last held-out evaluation of a finite model (for a run that
    reached the target: the evaluation that reached it). `iterations` is where the run stopped;
    `stopped` says why: reached, diverged, plateau (clearly failed), budget or cancelled.
    """

    arch: str
    lag: int
    seed: int
    accuracy: float
    loss: float
    iterations: int
    reached: bool
    diverged: bool
    stopped: str
    seconds: float          # wall-clock time of the run
    chance: float
    cpu_seconds: float = 0.0  # CPU time of the run (below `seconds` when other work shares the cores)

    def as_dict(self) -> dict:
        from rnnviz.training import json_number

        record = asdict(self)
        record["accuracy"], record["loss"] = json_number(self.accuracy), json_number(self.loss)
        record["seconds"] = round(self.seconds, 3)
        record["cpu_seconds"] = round(self.cpu_seconds, 3)
        return record


def _plateaued(history: list[tuple[int, float, float]], iteration: int, steps: int, chance: float,
               rule: EarlyStop) -> bool:
    """True when the run has clearly failed: past `min_fraction` of the budget, the last
    `patience_fraction` of it stayed near chance accuracy and its loss stopped falling."""
    if iteration < rule.min_fraction * steps:
        return False
    start = iteration - rule.patience_fraction * steps
    before = [loss for it, _, loss in history if it <= start]
    window = [(acc, loss) for it, acc, loss in history if it > start]
    if not before or not window:
        return False
    near_chance = chance + rule.accuracy_margin * (1.0 - chance)
    if any(acc >= near_chance for acc, _ in window):
        return False
    best_before, best_window = min(before), min(loss for _, loss in window)
    return best_window >= best_before * (1.0 - rule.loss_margin)


class _Checks:
    """When training batches at the target call for a held-out check between the regular
    evaluations: the last `streak` batches all at the target, and `gap` iterations since the
    previous check; the gap doubles after each check that falls short, up to `every` (so checks
    cost at most about as much as the regular evaluations they stand in for)."""

    def __init__(self, gap: int, every: int, streak: int) -> None:
        self.gap, self.every, self.streak, self.last, self._run = gap, every, max(streak, 1), 0, 0

    def due(self, iteration: int, batch_accuracy: float | None, target: float) -> bool:
        at_target = batch_accuracy is not None and batch_accuracy >= target
        self._run = self._run + 1 if at_target else 0
        return self.gap > 0 and self._run >= self.streak and iteration - self.last >= self.gap

    def missed(self, iteration: int) -> None:
        self.last, self.gap = iteration, min(2 * self.gap, self.every)


#: Deferred regular evaluations keep a copy of the weights each; past this many bytes they are
#: taken at once instead (a large network's copies would otherwise cost more memory than they save).
DEFER_BYTES = 64 * 2**20


@contextmanager
def _weights(session, weights: Mapping[str, np.ndarray] | None):
    """The session's model with `weights` (None: its own) in place of its own, restored after."""
    if weights is None:
        yield
        return
    params = session.model.params
    own = dict(params)
    params.update(weights)
    try:
        yield
    finally:
        params.update(own)


def _regular_evaluations(session, budget: Budget, chance: float, history: list, due: list):
    """Take the regular evaluations `due` ((iteration, weights or None for the model's own), in
    order): each goes into `history` and is judged as it always was (reached the target? clearly
    failed?). Returns (stopped, iteration, accuracy, loss) of the first that ends the run, else
    None; `due` is emptied."""
    try:
        for iteration, weights in due:
            with _weights(session, weights):
                evaluation = session.evaluate(budget.eval_batch)
            accuracy, loss = evaluation["accuracy"], evaluation["loss"]
            history.append((iteration, accuracy, loss))
            if accuracy is not None and accuracy >= budget.target:
                return REACHED, iteration, accuracy, loss
            if _plateaued(history, iteration, budget.steps, chance, budget.early_stop):
                return PLATEAU, iteration, accuracy, loss
        return None
    finally:
        due.clear()


def run_one(settings: Settings, budget: Budget, *, label: str | None = None,
            should_stop: Callable[[], bool] | None = None) -> RunResult:
    """Train one run for at most `budget.steps` iterations, evaluating on held-out data every
    `budget.eval_every`, and in between whenever training batches reach the target (`_Checks`).

    Stops early when a held-out accuracy reaches `budget.target` (reached), when the run diverges,
    or when `_plateaued` says it has clearly failed (judged on the regular evaluations only, as
    before the checks existed); `should_stop()` (checked every iteration) cancels.

    While checks are on (``budget.check_gap`` > 0), the regular evaluations are deferred until the
    failure rule can first apply (``early_stop.min_fraction`` of the budget), the run diverges or
    the budget ends: the weights are kept, then evaluated in order, as if each had been evaluated
    when it was kept (same judgement; the same held-out batches unless a check drew one in
    between). A deferred evaluation that reached the target stops the run at its own iteration,
    which the result reports with its scores. A run that a check finds successful before then
    never pays for them: it reports the check's iteration and scores, even where a deferred
    evaluation would have reached the target sooner. Reading them there cost 8-18% more CPU per
    successful run at lag 160 (IRNN, skip RNN and LSTM, seeds 0-2, measured) for an iteration that
    changes no verdict, only (rarely) whether the pass counts as fast, which steers a bisection's
    jump (see `rnnviz.lag_search`: the cost of the search, not its answer).
    """
    from rnnviz.session import Session

    if settings.task not in LAG_TASKS:
        raise SettingsError(f"task {settings.task!r} has no lag; the memory horizon needs one of "
                            f"{', '.join(LAG_TASKS)}")
    steps, target, eval_every = budget.steps, budget.target, budget.eval_every
    start, cpu_start = time.perf_counter(), time.process_time()
    if should_stop is not None and should_stop():
        return RunResult(arch=label or describe(settings), lag=settings.lag, seed=settings.seed,
                         accuracy=math.nan, loss=math.nan, iterations=0, reached=False,
                         diverged=False, stopped=CANCELLED, seconds=0.0, chance=math.nan)
    session = Session(settings)
    chance = session.task.chance
    history: list[tuple[int, float, float]] = []
    deferred: list[tuple[int, dict[str, np.ndarray] | None]] = []
    defer_until = budget.early_stop.min_fraction * steps
    checks = _Checks(budget.check_gap, eval_every, budget.check_streak)
    accuracy, loss, stopped, stopped_at = chance, math.log(1.0 / chance), BUDGET, None
    for iteration in range(1, steps + 1):
        if should_stop is not None and should_stop():
            stopped = CANCELLED
            break
        snapshot = session.step()
        if snapshot.diverged:
            ended = _regular_evaluations(session, budget, chance, history, deferred)
            stopped, stopped_at = (ended[0], ended[1]) if ended else (DIVERGED, None)
            if ended or history:
                accuracy, loss = history[-1][1], history[-1][2]
            break
        regular = iteration % eval_every == 0 or iteration == steps
        if regular and checks.gap and iteration < defer_until and iteration != steps:
            kept = sum(w.nbytes for _, ws in deferred for w in ws.values())
            if kept + sum(w.nbytes for w in session.model.params.values()) <= DEFER_BYTES:
                deferred.append((iteration, {k: w.copy() for k, w in session.model.params.items()}))
                regular = False
        if not regular:
            if checks.due(iteration, snapshot.accuracy, target):
                evaluation = session.evaluate(budget.eval_batch)
                if evaluation["accuracy"] is not None and evaluation["accuracy"] >= target:
                    accuracy, loss, stopped = evaluation["accuracy"], evaluation["loss"], REACHED
                    break
                checks.missed(iteration)
            continue
        checks.due(iteration, snapshot.accuracy, target)     # counts the streak; evaluated below
        checks.last = iteration
        deferred.append((iteration, None))
        ended = _regular_evaluations(session, budget, chance, history, deferred)
        accuracy, loss = history[-1][1], history[-1][2]
        if ended:
            stopped, stopped_at = ended[0], ended[1]
            break
    return RunResult(arch=label or describe(settings), lag=settings.lag, seed=settings.seed,
                     accuracy=float(accuracy), loss=float(loss),
                     iterations=stopped_at or session.iteration,
                     reached=stopped == REACHED, diverged=stopped == DIVERGED, stopped=stopped,
                     seconds=time.perf_counter() - start, chance=float(chance),
                     cpu_seconds=time.process_time() - cpu_start)


def step_cost(settings: Settings, lag: int) -> int:
    """A training step's relative cost at `lag`: time steps × recurrent matrix products per step
    (an LSTM has four gates, a skip RNN a second recurrent path) × their size."""
    products = {"lstm": 4, "skip": 2}.get(settings.arch, 1)
    return lag * products * settings.hidden ** 2


def describe(settings: Settings) -> str:
    """A short label for a configuration, e.g. ``rnn/tanh xavier×0.5``."""
    if settings.arch == "lstm":
        return f"lstm forget_bias={settings.forget_bias:g}"
    label = f"{settings.arch}/{settings.activation} {settings.init}×{settings.init_scale:g}"
    return label + (f" k={settings.skip}" if settings.arch == "skip" else "")


# ----------------------------------------------------------------------------- the sweep
_stop_event = None    # the sweep's cancel flag, inside a worker process
_unneeded = None      # one flag per run of the sweep: set once its vote no longer needs it


def _init_worker(stop_event, unneeded, sweep_pid: int) -> None:
    """Worker process start: `start_worker` (Ctrl+C left to the sweep's process, which cancels
    the sweep; SIGTERM and SIGHUP ending the worker; an end when the sweep's process is gone), one
    BLAS thread (the processes already use every core), the shared cancel flag and the per-run
    flags."""
    global _stop_event, _unneeded
    from threadpoolctl import threadpool_limits

    start_worker(sweep_pid, end_on_hangup=True)
    threadpool_limits(1)
    _stop_event, _unneeded = stop_event, unneeded


def _run_job(settings: Settings, budget: Budget, label: str, slot: int) -> RunResult:
    """One run in a worker process; an engine that cannot load here is an `EngineError`."""
    load_engine()
    stop, unneeded = _stop_event, _unneeded
    should_stop = None if stop is None else (lambda: stop.is_set() or unneeded[slot])
    return run_one(settings, budget, label=label, should_stop=should_stop)


class Sweep:
    """Measure the memory horizon of each configuration: a lag search (`rnnviz.lag_search`) picks
    the (lag, seed) runs, worker processes train them, and `results()` yields each `RunResult` as it
    finishes. ``search="bisect"`` trains only the lags and seeds a bisection on the lag grid needs;
    ``search="grid"`` trains every lag on every seed (the exhaustive sweep). At most `max_workers`
    runs are in flight, the longest lags first, so the search can choose the next runs from the
    verdicts so far; a worker that would idle races a seed the search holds back (`spare`), and
    a run whose vote is settled without it stops within an iteration (kept in `discarded`, not
    yielded). `cancel()` (from any thread) stops running runs within an iteration and starts no
    more; `results()` then returns promptly.

    ``fork=True`` forks the workers from this process when `results()` starts them, if it then
    runs no other thread and its BLAS forks safely (else the worker server starts them, see
    `rnnviz.worker_processes.process_context`): for a caller that runs nothing else, like the command line. A process
    with threads must never fork (the copy could inherit a lock another thread holds)."""

    def __init__(self, configs: Mapping[str, Settings] | Iterable[tuple[str, Settings]],
                 lags: Sequence[int], seeds: int | Sequence[int], budget: Budget, *, search: str,
                 max_workers: int | None = None, fork: bool = False) -> None:
        pairs = list(configs.items() if isinstance(configs, Mapping) else configs)
        seeds = list(range(seeds) if isinstance(seeds, int) else seeds)
        for label, settings in pairs:
            if settings.task not in LAG_TASKS:
                raise SettingsError(f"{label}: task {settings.task!r} has no lag; the memory "
                                    f"horizon needs one of {', '.join(LAG_TASKS)}")
        self.configs = dict(pairs)
        self.search = search
        self.searches = ({label: make_search(search, lags, seeds) for label in self.configs}
                         if lags and seeds else {})
        self.budget = budget
        self._max_runs = len(self.searches) * max_runs(search, len(lags), len(seeds))
        self.max_workers = max(1, min(max_workers or os.cpu_count() or 1, self._max_runs or 1))
        self._cancelled = threading.Event()
        self._fork = fork
        self._slots = max(len(pairs) * len(lags) * len(seeds), 1)
        self._stop = None        # the workers' cancel flag, and ...
        self._unneeded = None    # ... a flag per run: made with the workers (`_start_workers`)
        self._running: dict[Future, tuple[str, int, int, int]] = {}
        self._lock = threading.Lock()
        self.discarded: list[RunResult] = []   # runs stopped because their vote was settled

    def __len__(self) -> int:
        """The most runs this sweep can train (all of them for the grid search)."""
        return self._max_runs

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()
        self._halt()

    def request_stop(self) -> None:
        """Safe from a signal handler (takes none of the locks the sweep loop holds): `results()`
        sees the flag at its next poll, stops the workers and returns."""
        self._cancelled.set()

    def horizons(self) -> dict[str, int | None]:
        """Each configuration's horizon as its search has found it so far."""
        return {label: search.horizon for label, search in self.searches.items()}

    def inferred(self, label: str) -> dict[int, bool]:
        """The verdicts a bisection assumed for the lags of `label` it did not train (none for grid)."""
        search = self.searches.get(label)
        return search.inferred() if isinstance(search, Bisection) else {}

    def _halt(self) -> None:
        """Tell running runs to stop and drop the pending ones."""
        with self._lock:
            if self._stop is not None:
                self._stop.set()
            for future in self._running:
                future.cancel()

    def _next_runs(self, count: int) -> list[tuple[str, int, int]]:
        """Up to `count` runs the searches want now, the costliest first (fewer idle workers at
        the end, and the slowest configuration's search is not held up behind cheap runs); then,
        for workers that would idle, spare runs that may settle a vote sooner."""
        def costliest(runs):
            return sorted(runs, key=lambda run: -step_cost(self.configs[run[0]], run[1]))

        runs = costliest([(label, lag, seed) for label, search in self.searches.items()
                          for lag, seed in search.wanted()])[:count]
        spare = [(label, lag, seed) for label, search in self.searches.items()
                 for lag, seed in search.spare() if (label, lag, seed) not in runs]
        return runs + costliest(spare)[:count - len(runs)]

    def _drop_unneeded(self, label: str) -> None:
        """Stop the runs of `label` whose lag's vote is settled without them."""
        search = self.searches[label]
        with self._lock:
            for future, (other, lag, _, slot) in self._running.items():
                if other == label and not search.needed(lag):
                    self._unneeded[slot] = 1
                    future.cancel()

    def _start_workers(self) -> ProcessPoolExecutor:
        """The worker pool and the flags it shares (in the context `process_context` picks; a
        forked pool starts its processes at the first submit, before it starts its own thread).
        Forked workers start with the kernels of the architectures this sweep trains."""
        context = process_context(self._fork, {settings.arch for settings in self.configs.values()})
        with self._lock:
            self._stop = context.Event()
            if self.cancelled:
                self._stop.set()
            self._unneeded = context.Array("b", self._slots, lock=False)
        return ProcessPoolExecutor(max_workers=self.max_workers, mp_context=context,
                                   initializer=_init_worker,
                                   initargs=(self._stop, self._unneeded, os.getpid()))

    def results(self) -> Iterator[RunResult]:
        if not self.searches or self.cancelled:
            return
        pool = self._start_workers()
        order: dict[Future, int] = {}
        try:
            while not self.cancelled:
                for label, lag, seed in self._next_runs(self.max_workers - len(self._running)):
                    self.searches[label].started(lag, seed)
                    settings = self.configs[label].replace(lag=lag, seed=seed)
                    with self._lock:
                        future = pool.submit(_run_job, settings, self.budget, label, len(order))
                        self._running[future] = (label, lag, seed, len(order))
                        order[future] = len(order)
                if not self._running:
                    return
                done, _ = wait(list(self._running), timeout=POLL_SECONDS,
                               return_when=FIRST_COMPLETED)
                for future in sorted(done, key=order.__getitem__):
                    with self._lock:
                        label, lag, seed, _ = self._running.pop(future)
                    if future.cancelled():
                        continue
                    result = future.result()
                    if self.cancelled:
                        continue
                    if result.stopped == CANCELLED:
                        self.discarded.append(result)
                        continue
                    self.searches[label].record(lag, seed, passed(result, self.budget.target),
                                                fast=fast(result, self.budget))
                    self._drop_unneeded(label)
                    yield result
        finally:
            self._halt()
            pool.shutdown(wait=True, cancel_futures=True)


def sweep(configs, lags: Sequence[int], seeds: int | Sequence[int], budget: Budget, *,
          search: str, **options) -> Iterator[RunResult]:
    """`Sweep(...).results()`: every run's result as it finishes (see `Sweep`)."""
    yield from Sweep(configs, lags, seeds, budget, search=search, **options).results()


# ----------------------------------------------------------------------------- the number
def passed(result: RunResult, target: float) -> bool:
    """A run's vote: it reached `target` held-out accuracy and did not diverge."""
    return not result.diverged and result.accuracy >= target


def fast(result: RunResult, budget: Budget) -> bool:
    """Whether a run reached the target within `budget.fast_pass` of its budget."""
    return result.reached and result.iterations <= budget.fast_pass * budget.steps


def remembered(results: Iterable[RunResult], target: float) -> dict[int, bool]:
    """Per lag: did most seeds reach `target` (strict majority of the runs at that lag)?"""
    votes: dict[int, list[bool]] = defaultdict(list)
    for r in results:
        votes[r.lag].append(passed(r, target))
    return {lag: 2 * sum(v) > len(v) for lag, v in sorted(votes.items())}


def horizon(results: Iterable[RunResult], target: float) -> int | None:
    """The largest remembered lag of one configuration's results, or None if none is."""
    lags = [lag for lag, ok in remembered(results, target).items() if ok]
    return max(lags) if lags else None


def horizons(results: Iterable[RunResult], target: float) -> dict[str, int | None]:
    """`horizon` per configuration label, in order of first appearance."""
    groups: dict[str, list[RunResult]] = defaultdict(list)
    for r in results:
        groups[r.arch].append(r)
    return {label: horizon(rs, target) for label, rs in groups.items()}


def gaps(results: Iterable[RunResult], target: float) -> list[int]:
    """Lags not remembered although a longer one is: seed noise or a budget too tight to trust."""
    votes = remembered(results, target)
    best = horizon(results, target)
    return [lag for lag, ok in votes.items() if not ok and best is not None and lag < best]


# ----------------------------------------------------------------------------- command line
def parse_lags(text: str) -> list[int]:
    """``"5,10,20"`` → [5, 10, 20]; every lag a positive integer, each at most once."""
    from rnnviz.settings import FIELDS

    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in parts):
        raise UsageError(f"--lags must be a comma-separated list of integers, e.g. 5,10,20; got {text!r}")
    low, high = int(FIELDS["lag"].low), int(FIELDS["lag"].high)
    lags = []
    for part in parts:
        try:
            lag = int(part)
        except ValueError:
            raise UsageError(f"--lags: {part!r} is not an integer (e.g. --lags 5,10,20)") from None
        if not low <= lag <= high:
            raise UsageError(f"--lags: lag {lag} is out of range; each lag must be in [{low}, {high}]")
        if lag in lags:
            raise UsageError(f"--lags: lag {lag} is listed twice")
        lags.append(lag)
    return sorted(lags)


def horizon_command(args) -> int:
    from tqdm import tqdm

    class _QuietBar(tqdm):
        monitor_interval = 0    # no monitor thread: the sweep forks its workers from this process

    preset, settings = preset_with_overrides(args.preset, args.overrides)
    if settings.task not in LAG_TASKS:
        raise UsageError(f"the memory horizon needs a task with a lag ({' or '.join(LAG_TASKS)}); "
                         f"preset {preset.name!r} uses task {settings.task!r} "
                         f"(try --set task=recall)")
    config = default_config()   # the defaults of --lags, --seeds, --steps, --target and --search
    lags = parse_lags(args.lags) if args.lags is not None else list(config.sweep.lags)
    target = config.sweep.target if args.target is None else args.target
    if not 0.0 < target <= 1.0:
        raise UsageError(f"--target must be an accuracy in (0, 1], got {target:g}")
    seeds = [settings.seed + i for i in range(args.seeds or config.sweep.seeds)]
    budget = config.budget(steps=args.steps, target=target)
    steps = budget.steps
    search = getattr(args, "search", None) or config.sweep.search
    run = Sweep({preset.name: settings}, lags, seeds, budget, search=search, fork=True)
    start = time.perf_counter()
    results: list[RunResult] = []
    bar = _QuietBar(total=len(run), unit="run", disable=not sys.stderr.isatty(), file=sys.stderr,
               desc=f"horizon {preset.name}", leave=False)
    with bar, stop_on_signals(on_stop=run.request_stop) as stop:
        for result in run.results():
            results.append(result)
            bar.update(1)
            bar.set_postfix(lag=result.lag, acc=f"{result.accuracy:.2f}", refresh=False)
        stop.check()   # Interrupted: the CLI prints one line and exits with 128 + signum
    seconds = time.perf_counter() - start
    results.sort(key=lambda r: (r.lag, r.seed))
    report = {
        "preset": preset.name, "task": settings.task, "config": describe(settings),
        "target": target, "steps": steps, "lags": lags, "seeds": seeds,
        "runs": [r.as_dict() for r in results],
        "remembered": {str(lag): ok for lag, ok in remembered(results, target).items()},
        "horizon": horizon(results, target), "gaps": gaps(results, target),
        "search": search, "inferred": {str(lag): ok for lag, ok in run.inferred(preset.name).items()},
        "chance": results[0].chance if results else None,
        "seconds": round(seconds, 3), "workers": run.max_workers, "definition": config.definition,
        "early_stop": early_stop_text(config),
        "settings": settings.as_dict(),
    }
    print(json.dumps(report) if args.json else horizon_table(report), flush=True)
    return 0


def horizon_table(report: dict) -> str:
    """The sweep as text: a row per lag, the held-out accuracy of each seed (✓ = reached the target,
    ✗ = diverged; the iteration where the run stopped in brackets), then the horizon."""
    seeds, target = report["seeds"], report["target"]
    cells = {(r["lag"], r["seed"]): r for r in report["runs"]}
    lines = [f"memory horizon of preset {report['preset']} ({report['config']}, task {report['task']}): "
             f"target {target:g} held-out accuracy, budget {report['steps']} iterations, "
             f"{len(seeds)} seed{'s' * (len(seeds) != 1)}, chance {report['chance']:.3g}",
             f"{'lag':>6}" + "".join(f"{'seed ' + str(s):>18}" for s in seeds) + "  remembered"]
    for lag in report["lags"]:
        row = f"{lag:>6}"
        for seed in seeds:
            r = cells.get((lag, seed))
            if r is None:
                row += f"{'-':>18}"
                continue
            mark = "✓" if r["reached"] else ("✗" if r["diverged"] else " ")
            accuracy = r["accuracy"] if isinstance(r["accuracy"], float) else math.nan
            row += f"{accuracy:>8.3f}{mark} ({r['iterations']:>5})"
        inferred = report.get("inferred", {}).get(str(lag))
        if inferred is not None:
            row += "  " + ("(yes)" if inferred else "(no)")
        else:
            row += "  " + ("yes" if report["remembered"].get(str(lag)) else "no")
        lines.append(row)
    value = report["horizon"]
    majority = f"the largest lag at which most seeds reach {target:g} held-out accuracy"
    lines.append(f"horizon: {value} ({majority})" if value is not None
                 else f"horizon: none (not remembered even at lag {report['lags'][0]})")
    if report["gaps"]:
        lines.append(f"  note: not remembered at lag {', '.join(map(str, report['gaps']))} although "
                     "a longer lag is (seed noise, or a budget too tight to trust)")
    if report.get("search") == "bisect":
        lines.append("  -: not trained, the other seeds had settled the majority; (yes)/(no): lag not "
                     "trained, bisection infers it from the lags around it since accuracy falls with "
                     "lag (--search grid trains every lag on every seed)")
    lines.append(f"{len(report['runs'])} runs in {report['seconds']:.1f} s on {report['workers']} "
                 f"worker process{'es' * (report['workers'] != 1)}")
    return "\n".join(lines)


def default_configs(config: HorizonConfig, task: str = "recall", base: Settings | None = None,
                    keys: Iterable[str] | None = None) -> dict[str, Settings]:
    """The panel's architectures as {label: settings} on a base (default: the config's)."""
    base = (base or config.base_settings()).replace(task=task)
    chosen = [config.architecture(k) for k in keys] if keys is not None else config.architectures
    return {arch.label: arch.settings(base) for arch in chosen}
