"""GUI benchmarks for ``rnnviz bench``: training throughput with the window open, and how fast
play/pause/step/reset respond while training runs at full speed. Functions return dicts of numbers.

Targets (issue 4): throughput ratio GUI/headless ≥ 0.8; p99 response < 50 ms. Issue 15: the unrolled
diagram, animated, draws at ≥ 60 fps while training at T = 100, H = 64, and training with it shown
runs at ≥ 0.8 of headless; play/pause/step/reset p99 ≤ 16 ms (one frame).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from rnnviz.bench.timing import paired_ratio
from rnnviz.settings import Settings

THROUGHPUT_TARGET = 0.8
LATENCY_TARGET_MS = 16.0
DIAGRAM_FPS_TARGET = 60.0
#: What the offscreen platform prints for every top-level window; `_quiet_offscreen` drops exactly it.
OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints()"
#: A command that got no answer within this long counts as this long (and fails the target).
WAIT_TIMEOUT_S = 5.0
#: How often a wait checks its condition (ms).
POLL_MS = 1
#: After the window's first run has arrived, time for it to draw its first frames before anything
#: is measured (s). Without it the first click raced the window's start-up: it was clicked while the
#: run's arrival and the curves' first paint (10-20 ms) were still under way in the GUI thread, and
#: that one click set the quick bench's p99 (10 clicks).
SETTLE_S = 0.3
#: Longest the window's first run may take (s): on a fresh install numba compiles the engine's
#: kernels first, which takes seconds (later launches read them from its cache).
FIRST_RUN_TIMEOUT_S = 120.0


def _app():
    """The running QApplication, or a new one (offscreen when there is no display), in a process
    whose freed large blocks go back to the system, as the app's do (`run_gui`)."""
    from rnnviz.freed_memory import return_large_blocks

    return_large_blocks()
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "rnnviz-bench"])


@contextlib.contextmanager
def _quiet_offscreen():
    """Drop the offscreen plugin's propagateSizeHints() line (nothing else); restore the previous
    Qt message handler afterwards."""
    from PySide6.QtCore import QtMsgType, qFormatLogMessage, qInstallMessageHandler

    previous = None

    def handler(mode, context, message: str) -> None:
        if message.strip() == OFFSCREEN_NOISE:
            return
        if previous is not None:
            previous(mode, context, message)
        elif mode != QtMsgType.QtDebugMsg or os.environ.get("QT_LOGGING_RULES"):
            print(qFormatLogMessage(mode, context, message), file=sys.stderr)

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


def _wait(condition, timeout: float = WAIT_TIMEOUT_S) -> bool:
    """Run the event loop until `condition()` holds (checked every millisecond) or `timeout` passes.

    The loop blocks in Qt between checks, like `app.exec()`, so it does not compete for the GIL.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    if condition():
        return True
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(POLL_MS)
    poll.timeout.connect(lambda: condition() and loop.quit())
    QTimer.singleShot(int(timeout * 1000), loop.quit)
    poll.start()
    loop.exec()
    poll.stop()
    return bool(condition())


def _idle(seconds: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def _recorder_class():
    from PySide6.QtCore import QObject, Slot

    class Recorder(QObject):
        """Timestamps worker signals as the GUI thread receives them (a QObject living in the GUI
        thread gets them queued, like the window; a plain function would run in the worker thread).

        A batch of snapshots is recorded as its last iteration, not kept: the window lets go of a
        batch once its views have drawn it, and a run of the latency bench made ~40 000 snapshots.
        Kept here, they were objects the app itself never holds, which the window's process's
        cyclic collector scanned at every full collection and, the newest few thousand, at every
        middle one, each landing on whatever click was under way: in one 80-click run, 12 middle
        collections (47.5 ms in all, up to 8.4 ms) and a full one of 68.6 ms."""

        def __init__(self) -> None:
            super().__init__()
            self.events: list[tuple[str, float, object]] = []

        @Slot(object)
        def snapshots(self, snaps) -> None:
            self.events.append(("snapshots", time.perf_counter(), snaps[-1].iteration))

        @Slot(object)
        def restarted(self, snap) -> None:
            self.events.append(("restarted", time.perf_counter(), snap))

        @Slot(str)
        def state(self, state: str) -> None:
            self.events.append(("state", time.perf_counter(), state))

    return Recorder


def _Recorder():
    return _recorder_class()()


class _Window:
    """A MainWindow with a throw-away settings store that holds `settings` and full speed (so its
    first run is the one measured: no restart that could land inside a measurement), shown at the
    target size with that run drawn, closed on exit."""

    def __init__(self, settings: Settings, size=(1280, 720), page: str = "curves", record: bool = True) -> None:
        from PySide6.QtCore import QSettings

        from rnnviz.gui.main_window import KEY_SETTINGS, KEY_SPEED, MainWindow

        _app()
        self._dir = tempfile.TemporaryDirectory(prefix="rnnviz-bench-")
        store = QSettings(str(Path(self._dir.name) / "bench.ini"), QSettings.Format.IniFormat)
        store.setValue(KEY_SETTINGS, json.dumps(settings.as_dict()))
        store.setValue(KEY_SPEED, 0)
        self.window = MainWindow(settings_store=store)
        self._recorder = _Recorder()
        self.events = self._recorder.events
        w = self.window.worker            # its training starts once the window has painted
        if record:      # each batch's arrival and last iteration (a memory measurement leaves them out)
            w.snapshots.connect(self._recorder.snapshots)
        w.restarted.connect(self._recorder.restarted)
        w.state_changed.connect(self._recorder.state)
        self.window.resize(*size)
        self.window.show()
        self.window.show_page(page)
        if not _wait(lambda: self.window._latest is not None and self.window._latest.settings == settings,
                     FIRST_RUN_TIMEOUT_S):
            raise RuntimeError(f"the window's first run ({settings}) did not arrive within {FIRST_RUN_TIMEOUT_S} s")
        _idle(SETTLE_S)                  # and drawn

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.window.close()
        self.window.deleteLater()
        _idle(0.05)
        self._dir.cleanup()


def _headless_rate(session, seconds: float) -> float:
    """Iterations per second of `session.step()` in this thread."""
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        session.step()
        count += 1
        if session.diverged:
            session.reset()
    return count / (time.perf_counter() - start)


def _gui_rate(bench: "_Window", seconds: float, warmup: float) -> float:
    """Iterations per second while the window trains at full speed and draws."""
    window = bench.window
    if window._latest is not None and window._latest.diverged:
        window.reset()
    window.play()
    _idle(warmup)
    first = len(bench.events)
    _idle(seconds)
    window.pause()
    _wait(lambda: window._state != "playing")
    batches = [(t, iteration) for kind, t, iteration in bench.events[first:] if kind == "snapshots"]
    if len(batches) < 2:
        return 0.0
    (t0, i0), (t1, i1) = batches[0], batches[-1]
    return (i1 - i0) / (t1 - t0)


def throughput(settings: Settings | None = None, seconds: float = 6.0, rounds: int = 6, page: str = "curves") -> dict:
    """Training rate with the window open against headless `Session.step()` at the same settings.

    Headless runs in this thread with one BLAS thread (as the worker does) while the window is
    paused; the two alternate in `rounds` short rounds so that load from other processes on the
    machine affects both alike. Ratio = the median over rounds of GUI rate / headless rate of the
    same round (target ≥ 0.8): on a machine whose speed drifts, a round's two rates, measured
    seconds apart, compare like with like. `page`: the page showing while the window trains
    ("diagram": the animated unrolled network).
    """
    from threadpoolctl import threadpool_limits

    from rnnviz.session import Session

    settings = settings or Settings()
    per_round = seconds / rounds
    gui, headless = [], []
    with _Window(settings, page=page) as bench:
        session = Session(settings)
        for _ in range(rounds):
            gui.append(_gui_rate(bench, per_round, warmup=min(0.3, per_round / 2)))
            with threadpool_limits(limits=1):
                headless.append(_headless_rate(session, per_round))
    gui_rate, headless_rate = float(np.median(gui)), float(np.median(headless))
    return {"headless_it_per_s": headless_rate, "gui_it_per_s": gui_rate,
            "ratio": paired_ratio(np.array(gui), np.array(headless)), "target_ratio": THROUGHPUT_TARGET,
            "rounds": rounds, "hidden": settings.hidden, "length": settings.length, "arch": settings.arch,
            "page": page}


def _latency_of(bench: _Window, act, answered) -> float:
    """Seconds from `act()` to the first event after it that `answered(kind, payload)` accepts."""
    start_index = len(bench.events)
    start = time.perf_counter()
    act()

    def done() -> bool:
        return any(answered(kind, payload) for kind, _t, payload in bench.events[start_index:])

    if not _wait(done):
        return WAIT_TIMEOUT_S
    t = next(t for kind, t, payload in bench.events[start_index:] if answered(kind, payload))
    return t - start


def latency(settings: Settings | None = None, repeats: int = 30, playing_for: float = 0.15) -> dict:
    """p50/p99/max response in ms of play, pause, step and reset (clicked while training at full speed)."""
    from PySide6.QtWidgets import QPushButton

    settings = settings or Settings()
    samples: dict[str, list[float]] = {"play": [], "pause": [], "step": [], "reset": []}
    with _Window(settings) as bench:
        w = bench.window
        play = w.findChild(QPushButton, "playButton")
        step = w.findChild(QPushButton, "stepButton")
        reset = w.findChild(QPushButton, "resetButton")
        for _ in range(repeats):
            samples["play"].append(_latency_of(
                bench, play.click, lambda k, p: k == "state" and p == "playing"))
            _idle(playing_for)
            samples["pause"].append(_latency_of(
                bench, play.click, lambda k, p: k == "state" and p in ("paused", "diverged")))
            target = w._latest.iteration + 1 if w._latest is not None else 1
            samples["step"].append(_latency_of(
                bench, step.click,
                lambda k, p, target=target: k == "snapshots" and p >= target))
            play.click()
            _idle(playing_for)
            samples["reset"].append(_latency_of(bench, reset.click, lambda k, p: k == "restarted"))
            _wait(lambda: not play.isChecked())  # the "paused" that follows a reset has arrived
    result: dict = {"target_p99_ms": LATENCY_TARGET_MS, "repeats": repeats}
    for name, values in samples.items():
        ms = np.array(values) * 1000.0
        result[name] = {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
                        "max_ms": float(ms.max())}
    result["worst_p99_ms"] = max(result[name]["p99_ms"] for name in samples)
    return result


class _FrameMeter:
    """Counts the frames a view's painted widget (`canvas`) paints and times its paint events and
    data updates (`update` names the view method that takes new data)."""

    def __init__(self, view, canvas, update: str) -> None:
        self.frames, self.paint_s, self.update_s, self.paint_cpu_s = 0, 0.0, 0.0, 0.0
        graphics, owner = canvas, view
        paint, set_values = graphics.paintEvent, getattr(view, update)

        def timed_paint(event):
            start, cpu = time.perf_counter(), time.thread_time()
            paint(event)
            self.paint_s += time.perf_counter() - start
            self.paint_cpu_s += time.thread_time() - cpu
            self.frames += 1

        def timed_update(*args, **kwargs):
            start = time.perf_counter()
            set_values(*args, **kwargs)
            self.update_s += time.perf_counter() - start

        graphics.paintEvent = timed_paint
        setattr(owner, update, timed_update)

    def reset(self) -> None:
        self.frames, self.paint_s, self.update_s, self.paint_cpu_s = 0, 0.0, 0.0, 0.0


def diagram_rate(settings: Settings | None = None, seconds: float = 4.0, warmup: float = 0.5) -> dict:
    """Frames per second the 'Unrolled network' tab's animation shows while the worker trains at
    full speed (T = 100, H = 64 by default), and what one repaint costs (data update + paint).

    `fps`: the animation's frames shown per second (`UnrolledView.frames_played`: a tick of its
    frame timer, every 15 ms while an iteration plays, that set the canvas's frame; what changed
    is repainted before the next tick is served; while training runs iterations follow each other).
    A late tick is a frame fewer. A frame repaints what it changes and nothing when it shows what
    is already on screen (the loss and the finished iteration are held for 10 and 30 frames of each
    140), so `repaints_per_s` counts paint events: the frames whose picture changed (at T = 100
    about 3 in 4), among them a whole canvas at each new iteration. Until repaints of unchanged
    frames were dropped, `fps` counted paint events, which then were one per frame.
    `fps_possible` = 1 / (update + paint per repaint) is the repaints drawing alone would allow.
    Target: fps ≥ 60."""
    settings = settings or Settings(lag=98, hidden=64)
    with _Window(settings, page="diagram") as bench:
        w = bench.window
        view = w.diagram
        _idle(0.1)
        meter = _FrameMeter(view, view.diagram, "set_values")
        w.play()
        _idle(warmup)
        meter.reset()
        first, start, played = len(bench.events), time.perf_counter(), view.frames_played
        _idle(seconds)
        elapsed = time.perf_counter() - start
        shown = view.frames_played - played
        frames, paint_s, update_s = meter.frames, meter.paint_s, meter.update_s
        paint_cpu_s = meter.paint_cpu_s
        w.pause()
        _wait(lambda: w._state != "playing")
        batches = [(t, iteration) for kind, t, iteration in bench.events[first:] if kind == "snapshots"]
    per_frame = (paint_s + update_s) / frames if frames else float("inf")
    rate = ((batches[-1][1] - batches[0][1]) / (batches[-1][0] - batches[0][0])
            if len(batches) >= 2 and batches[-1][0] > batches[0][0] else 0.0)
    return {"fps": shown / elapsed, "repaints_per_s": frames / elapsed,
            "fps_possible": 1.0 / per_frame if frames else 0.0,
            "ms_per_frame": per_frame * 1000.0, "paint_ms": paint_s * 1000.0 / max(frames, 1),
            "paint_cpu_ms": paint_cpu_s * 1000.0 / max(frames, 1),
            "update_ms": update_s * 1000.0 / max(frames, 1), "batches_per_s": len(batches) / elapsed,
            "train_it_per_s": rate, "target_fps": DIAGRAM_FPS_TARGET,
            "hidden": settings.hidden, "length": settings.length}


def _memory_mb(window=None) -> float:
    """Memory of this process and, given the app's `window`, of the process it trains in, MB:
    their proportional set sizes (Linux: /proc/PID/smaps_rollup), so that the libraries both map
    count once; resident set sizes (/proc/PID/statm) where the system has no PSS."""
    pids = ["self"] + ([window.worker.training_pid] if window is not None and window.worker.training_pid else [])
    return sum(_process_mb(pid) for pid in pids)


def _process_mb(pid) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1e3
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:      # a training process that has ended
        return 0.0


def memory(settings: Settings | None = None, seconds: float = 180.0, warmup: float = 10.0) -> dict:
    """Memory of the app (`_memory_mb`: its training process included) training flat out on the
    Training page for `seconds` (after a `warmup`), sampled every second: its growth over the run
    and over the second half (MB per minute; flat memory means ~0 once the histories are full)."""
    settings = settings or Settings()
    with _Window(settings, record=False) as bench:
        w = bench.window
        w.play()
        _idle(warmup)
        samples, start, first = [], time.perf_counter(), w._latest.iteration
        while time.perf_counter() - start < seconds:
            samples.append((time.perf_counter() - start, _memory_mb(w)))
            _idle(1.0)
        iterations = w._latest.iteration - first
        w.pause()
        _wait(lambda: w._state != "playing")
    t, mb = np.array(samples).T
    half = t >= t[-1] / 2
    slope = np.polyfit(t[half], mb[half], 1)[0] * 60.0 if half.sum() >= 2 else math.nan
    return {"seconds": float(t[-1]), "iterations": iterations, "start_mb": float(mb[0]),
            "growth_mb": float(mb[-1] - mb[0]), "second_half_mb_per_min": float(slope)}


def run(quick: bool = False) -> dict:
    """Everything measured, nested: throughput (Training page, and the diagram's page) and latency at
    the default settings and at T=100, H=64."""
    seconds, rounds = (2.4, 4) if quick else (12.0, 16)
    repeats = 10 if quick else 40
    default = Settings()
    large = Settings(lag=98, hidden=64)  # T = lag + 2 = 100, H = 64, as in the engine benchmark
    _app()
    with _quiet_offscreen():
        return {
            "throughput_default": throughput(default, seconds, rounds),
            "throughput_T100_H64": throughput(large, seconds, rounds),
            "throughput_default_diagram": throughput(default, seconds, rounds, page="diagram"),
            "throughput_T100_H64_diagram": throughput(large, seconds, rounds, page="diagram"),
            "latency_default": latency(default, repeats),
            "latency_T100_H64": latency(large, repeats),
            "diagram_T100_H64": diagram_rate(large, 2.0 if quick else 4.0),
            "memory": memory(default, 30.0 if quick else 180.0),
        }


def bench_gui(quick: bool = False) -> dict:
    """Flat name → number pairs for ``rnnviz bench`` (see `run` for the nested form)."""
    results = run(quick)
    flat: dict = {}
    for case in ("default", "T100_H64"):
        t = results[f"throughput_{case}"]
        flat[f"{case}: headless it/s"] = t["headless_it_per_s"]
        flat[f"{case}: GUI it/s"] = t["gui_it_per_s"]
        flat[f"{case}: GUI/headless (target >= {THROUGHPUT_TARGET})"] = t["ratio"]
        lat = results[f"latency_{case}"]
        for command in ("play", "pause", "step", "reset"):
            flat[f"{case}: {command} p99 ms (target <= {LATENCY_TARGET_MS:g})"] = lat[command]["p99_ms"]
    for case in ("default", "T100_H64"):
        t = results[f"throughput_{case}_diagram"]
        flat[f"{case}, diagram shown: GUI it/s"] = t["gui_it_per_s"]
        flat[f"{case}, diagram shown: GUI/headless (target >= {THROUGHPUT_TARGET})"] = t["ratio"]
    d = results["diagram_T100_H64"]
    flat[f"T100_H64: unrolled diagram fps while training (target >= {DIAGRAM_FPS_TARGET:g})"] = d["fps"]
    flat["T100_H64: unrolled diagram repaints per second (frames whose picture changed)"] = d["repaints_per_s"]
    flat["T100_H64: unrolled diagram ms per repaint (update + paint)"] = d["ms_per_frame"]
    flat["T100_H64: unrolled diagram repaints per second drawing alone would allow"] = d["fps_possible"]
    flat["T100_H64: unrolled diagram paint CPU ms per repaint"] = d["paint_cpu_ms"]
    flat["T100_H64: GUI it/s with the diagram shown"] = d["train_it_per_s"]
    m = results["memory"]
    flat[f"memory (PSS, window + training process): growth MB over {m['seconds']:.0f} s training flat out "
         f"({m['iterations']} iterations)"] = m["growth_mb"]
    flat["memory (PSS): growth over the second half, MB per minute (flat: ~0)"] = m["second_half_mb_per_min"]
    from rnnviz.bench.startup import bench_startup

    flat.update({f"start-up: {key}": value for key, value in bench_startup(quick).items()})
    return flat
