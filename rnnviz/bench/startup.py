"""Start-up benchmark for ``rnnviz bench``: how long after launch the window paints, against a bare
PySide6 + pyqtgraph window launched the same way in the same run, and when the first training
iteration reaches the window.

Each launch is a fresh ``python`` process (imports included, as a user sees it). The child reports
wall-clock times (time.time()) of: its first paint (one event-loop turn after the first paint
event, so the frame has been flushed), and for rnnviz the model's iteration 0 arriving
("model ready") and the first trained iteration arriving, Play having been pressed at the first
paint. Launches alternate bare / rnnviz so that load from other processes affects both alike.
Targets (issue 15): first paint ≤ 0.2 s after the bare window's; first iteration ≤ 1.2 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

FIRST_PAINT_MARGIN_TARGET_S = 0.2
FIRST_ITERATION_TARGET_S = 1.2
#: A launch that has not painted by then counts as failed.
LAUNCH_TIMEOUT_S = 60.0

#: Shared by both children: report the first paint (after it has been flushed) to stdout.
_HOOK = """
import json, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
times = {}
def report(key):
    times.setdefault(key, time.time())
    times.setdefault(key + " cpu", time.process_time())
class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and "paint" not in times and "pending" not in times:
            times["pending"] = 1
            QTimer.singleShot(0, lambda: (report("paint"), on_paint()))
        return False
first_paint = FirstPaint()
def finish():
    times.pop("pending", None)
    print(json.dumps(times), flush=True)
    from PySide6.QtWidgets import QApplication
    QApplication.instance().quit()
"""

_BARE = _HOOK + """
from PySide6.QtWidgets import QApplication, QMainWindow
import pyqtgraph as pg
app = QApplication(sys.argv[:1])
app.installEventFilter(first_paint)
def on_paint():
    finish()
window = QMainWindow()
plot = pg.PlotWidget()
plot.plot([0, 1, 2, 3], [1, 3, 2, 4])
window.setCentralWidget(plot)
window.resize(1280, 720)
window.show()
sys.exit(app.exec())
"""

_RNNVIZ = _HOOK + """
from PySide6.QtWidgets import QApplication
run = QApplication.exec
def hooked_exec(app):
    # The window exists by now (rnnviz builds and shows it, then runs the event loop): hook it
    # without importing rnnviz first, so the app starts exactly as `rnnviz` starts it.
    global window
    from rnnviz.gui.main_window import MainWindow
    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
    app.installEventFilter(first_paint)
    window.worker.restarted.connect(lambda _snap: report("ready"))
    def arrived(snaps):
        if snaps[-1].iteration >= 1:
            report("iteration")
            finish()
    window.worker.snapshots.connect(arrived)
    return run()
QApplication.exec = hooked_exec
def on_paint():
    window.play()
from rnnviz.cli import main
sys.exit(main([]))
"""


def _launch(code: str, env: dict) -> dict:
    """Run `code` in a fresh interpreter; the times it reports, relative to the launch."""
    start = time.time()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=LAUNCH_TIMEOUT_S)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"launch failed ({done.returncode}): {done.stderr.strip()[-300:]}")
    return {key: value if key.endswith(" cpu") else value - start for key, value in json.loads(lines[-1]).items()}


def bench_startup(quick: bool) -> dict:
    rounds = 3 if quick else 7
    bare, app = [], []
    with tempfile.TemporaryDirectory(prefix="rnnviz-bench-") as home:
        env = dict(os.environ, XDG_CONFIG_HOME=home)    # a fresh settings store, not the user's
        if sys.platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
            env.setdefault("QT_QPA_PLATFORM", "offscreen")
        _launch(_BARE, env)          # warm the file cache (and numba's) for both sides alike
        _launch(_RNNVIZ, env)
        for _ in range(rounds):
            bare.append(_launch(_BARE, env))
            app.append(_launch(_RNNVIZ, env))
    margin = np.array([a["paint"] - b["paint"] for a, b in zip(app, bare)])
    paint = np.array([a["paint"] for a in app])
    bare_paint = np.array([b["paint"] for b in bare])
    ready = np.array([a["ready"] for a in app])
    iteration = np.array([a["iteration"] for a in app])
    cpu_margin = np.array([a["paint cpu"] - b["paint cpu"] for a, b in zip(app, bare)])
    span = lambda values: f"{np.min(values):.2f}-{np.max(values):.2f} (median {np.median(values):.2f})"
    return {"bare PySide6 + pyqtgraph window, first paint s": span(bare_paint),
            "rnnviz window, first paint s": span(paint),
            f"first paint after the bare window's s (target <= {FIRST_PAINT_MARGIN_TARGET_S})": span(margin),
            "CPU time to first paint, rnnviz minus bare window s": span(cpu_margin),
            "model ready (iteration 0 shown) s": span(ready),
            f"first training iteration shown s (Play at first paint; target <= {FIRST_ITERATION_TARGET_S})":
                span(iteration),
            "rounds": rounds}
