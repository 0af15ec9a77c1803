"""Side by side: two runs on the same seed and the same data, their curves overlaid, diagrams next to each other.

`PairSession` trains two `Session`s in lockstep (one iteration of each per step), so at any moment
both have seen exactly the same batches: the task's data stream depends only on the seed, and run
B takes run A's task, length, batch size and seed. It is driven by the app's ordinary
`TrainingWorker` (one thread stepping both), which already does play/pause/step/reset, coalescing
and clean shutdown. A run that diverges stops; the other carries on until it diverges too.

`ComparisonView` (objectName ``comparisonView``) is a standalone widget: choose a pair (vanishing
vs LSTM, exploding vs clipping, …) or any two presets, press Play.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QStyle, QVBoxLayout,
                               QWidget)

from rnnviz.gui.curves import SmoothedLoss, x_range
from rnnviz.gui.plot_style import LogAxis
from rnnviz.gui.theme import LIGHT, OKABE_ITO, Theme
from rnnviz.gui.worker import TrainingWorker
from rnnviz.presets import PresetError, load_preset, preset_names
from rnnviz.settings import Settings
from rnnviz.trainer import PAUSED, PLAYING

#: Suggested comparisons: (label, preset A, preset B).
PAIRS = (
    ("Vanishing (tanh RNN) vs LSTM", "vanishing", "lstm"),
    ("Exploding vs gradient clipping", "exploding", "clipping"),
    ("Vanishing vs ReLU", "vanishing", "relu"),
    ("Vanishing vs identity init", "vanishing", "identity-init"),
    ("Vanishing vs skip connections", "vanishing", "skip"),
)
#: What B takes from A so both see the same data.
SHARED = ("task", "lag", "seq_len", "batch", "seed", "dtype")
COLOURS = (OKABE_ITO["blue"], OKABE_ITO["vermillion"])
CAPACITY = 4000
REDRAW_MS = 33


def same_data(a: Settings, b: Settings) -> Settings:
    """B with A's task, length, batch size, seed and precision: both runs see identical batches."""
    return b.replace(**{k: getattr(a, k) for k in SHARED})


@dataclass(frozen=True)
class PairSnapshot:
    """Both runs after the same number of steps. `diverged` only when both have."""

    a: object
    b: object

    @property
    def run(self) -> int:
        return self.a.run

    @property
    def iteration(self) -> int:
        return max(self.a.iteration, self.b.iteration)

    @property
    def diverged(self) -> bool:
        return self.a.diverged and self.b.diverged

    @property
    def settings(self):
        return self.a.settings

    def with_spectrum(self) -> PairSnapshot:
        """Itself: the comparison shows no spectra, so the worker need not compute them."""
        return self


class PairSession:
    """Two sessions stepped together; the Session interface the worker needs."""

    def __init__(self, a: Settings, b: Settings, cancel=None) -> None:
        from rnnviz.session import Session

        self.a, self.b = Session(a, cancel), Session(same_data(a, b), cancel)

    @property
    def settings(self) -> Settings:
        return self.a.settings

    @property
    def diverged(self) -> bool:
        return self.a.diverged and self.b.diverged

    def snapshot(self) -> PairSnapshot:
        return PairSnapshot(self.a.snapshot(), self.b.snapshot())

    def step(self, cancel=None) -> PairSnapshot:
        """One step of each. Cancelled after A's step, B is one behind until the next reset
        (only a reset or the end of the comparison cancels)."""
        return PairSnapshot(self.a.step(cancel), self.b.step(cancel))  # a diverged session returns its last snapshot

    def reset(self, cancel=None) -> PairSnapshot:
        self.a.reset(cancel)
        self.b.reset(cancel)
        return self.snapshot()

    def apply(self, settings: Settings, cancel=None) -> bool:
        return False  # a comparison changes by building a new pair

    def inspect(self, cancel=None):
        return self.a.inspect(cancel)


class _Track:
    """One run's curves in bounded memory: iteration, loss, smoothed loss, ‖g‖, accuracy."""

    NAMES = ("iteration", "loss", "smoothed", "grad", "accuracy")

    def __init__(self) -> None:
        self.data = {n: [] for n in self.NAMES}
        self.smoothed = SmoothedLoss()
        self.diverged_at: int | None = None
        self.last = None

    def add(self, snap) -> None:
        if self.last is not None and snap.iteration <= self.last.iteration:
            return
        self.last = snap
        if snap.diverged:
            self.diverged_at = snap.diverged_at
        if not (math.isfinite(snap.loss) and math.isfinite(snap.grad_norm)):
            return
        values = (snap.iteration, snap.loss, self.smoothed.add(snap.loss), snap.grad_norm,
                  math.nan if snap.accuracy is None else snap.accuracy)
        for name, value in zip(self.NAMES, values):
            self.data[name].append(value)
        if len(self.data["iteration"]) > CAPACITY:
            half = CAPACITY // 2
            for name in self.NAMES:
                column = self.data[name]
                self.data[name] = column[:half:2] + column[half:]

    def array(self, name: str) -> np.ndarray:
        return np.asarray(self.data[name], dtype=float)


class ComparisonView(QWidget):
    """Two runs, same seed and data: loss, gradient norm and accuracy overlaid; diagrams side by side.

    Its run answers the same commands as the main window's (`toggle_play`, `step`, `reset`,
    `set_speed`) and reports its `state` through `state_changed`, so the window's keys and tool bar
    act on the comparison while this page shows.
    """

    state_changed = Signal(str)      # "playing" | "paused" | "diverged"

    def __init__(self, parent: QWidget | None = None, *, theme: Theme = LIGHT,
                 pair: tuple[str, str] = ("vanishing", "lstm")) -> None:
        super().__init__(parent)
        self.setObjectName("comparisonView")
        self.theme = theme
        self.worker: TrainingWorker | None = None
        self.tracks = (_Track(), _Track())
        self.names = pair
        self._run: int | None = None
        self._dirty = False
        self._playing = False
        self.state = PAUSED
        self._speed: float | None = None     # the worker's own default until `set_speed`
        self._x_bounds: tuple[float, float] | None = None

        self.pair_combo = QComboBox(objectName="comparePairCombo")
        self.pair_combo.setToolTip("A suggested comparison; or choose the two presets on the right")
        for label, a, b in PAIRS:
            self.pair_combo.addItem(label, (a, b))
        self.pair_combo.activated.connect(lambda i: self.set_pair(*self.pair_combo.itemData(i)))
        # Long labels must not set the window's minimum width (it has to fit 1280 px, e.g. a projector).
        self.pair_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.pair_combo.setMinimumContentsLength(6)
        self.combo_a = QComboBox(objectName="comparePresetA")
        self.combo_b = QComboBox(objectName="comparePresetB")
        for combo in (self.combo_a, self.combo_b):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(5)
            for name in preset_names():
                combo.addItem(name, name)
            combo.activated.connect(lambda _i: self.set_pair(self.combo_a.currentData(), self.combo_b.currentData()))
        style = self.style()
        self.play_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Play",
                                       objectName="comparePlayButton")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._play_toggled)
        self.step_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward), "Step",
                                       objectName="compareStepButton")
        self.step_button.clicked.connect(self.step)
        self.reset_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload), "Reset",
                                        objectName="compareResetButton")
        self.reset_button.clicked.connect(self.reset)
        self.iteration_label = QLabel("Iteration 0", objectName="compareIterationLabel")
        self.note = QLabel(objectName="compareNote")
        self.note.setWordWrap(True)
        self.status = (QLabel(objectName="compareStatusA"), QLabel(objectName="compareStatusB"))

        # Two rows: in one, the choosers and buttons set the window's minimum width (too wide for
        # 1280 px in presentation type).
        choose = QHBoxLayout()
        choose.addWidget(self.pair_combo, 2)
        choose.addSpacing(12)
        choose.addWidget(QLabel("A:"))
        choose.addWidget(self.combo_a, 1)
        choose.addWidget(QLabel("B:"))
        choose.addWidget(self.combo_b, 1)
        commands = QHBoxLayout()
        for button in (self.play_button, self.step_button, self.reset_button):
            commands.addWidget(button)
        commands.addSpacing(12)
        commands.addWidget(self.iteration_label)
        commands.addStretch(1)
        status = QHBoxLayout()
        for label in self.status:
            label.setWordWrap(True)
            status.addWidget(label, 1)

        self.loss_plot = pg.PlotWidget(objectName="compareLossPlot", axisItems={"left": LogAxis("left")})
        self.grad_plot = pg.PlotWidget(objectName="compareGradPlot", axisItems={"left": LogAxis("left")})
        self.acc_plot = pg.PlotWidget(objectName="compareAccuracyPlot")
        self.curves = {}
        for plot, title, key in ((self.loss_plot, "Smoothed loss", "smoothed"),
                                 (self.grad_plot, "Gradient ‖g‖", "grad"),
                                 (self.acc_plot, "Accuracy", "accuracy")):
            item = plot.getPlotItem()
            item.setTitle(title)
            item.showGrid(x=True, y=True, alpha=0.25)
            item.setMenuEnabled(False)
            item.hideButtons()
            item.setLabel("bottom", "iteration")
            item.getAxis("bottom").enableAutoSIPrefix(False)
            # No legend over the curves: the status lines above name A and B with their line colours.
            self.curves[key] = [item.plot(skipFiniteCheck=True), item.plot(skipFiniteCheck=True)]
        self.grad_plot.getPlotItem().setLogMode(y=True)
        self.loss_plot.getPlotItem().setLogMode(y=True)   # an exploded loss (1e100) and 0.01 on one axis
        for plot in (self.grad_plot, self.loss_plot):
            plot.getAxis("left").enableAutoSIPrefix(False)   # no "×1e+27" on a log axis
        self.acc_plot.getPlotItem().setYRange(0, 1.02, padding=0)
        self._follow_x(0)
        self.chance_line = pg.InfiniteLine(angle=0, movable=False, label="chance",
                                           labelOpts={"position": 0.98, "anchors": [(1, 1), (1, 1)]})
        self.acc_plot.addItem(self.chance_line)
        self.chance_line.setVisible(False)
        plots = QSplitter(Qt.Orientation.Horizontal)
        for plot in (self.loss_plot, self.grad_plot, self.acc_plot):
            plots.addWidget(plot)

        self.diagrams = self._make_diagrams()
        lower = QSplitter(Qt.Orientation.Horizontal)
        for diagram in self.diagrams:
            # The pair's iteration shows once, above: side by side, each diagram's own label made
            # the page too wide for 1280 px in presentation type (the two headers overlapped).
            diagram.iteration_label.hide()
            lower.addWidget(diagram)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(plots)
        if self.diagrams:
            body.addWidget(lower)
            body.setStretchFactor(0, 3)
            body.setStretchFactor(1, 2)
        body.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(choose)
        layout.addLayout(commands)
        layout.addWidget(self.note)
        layout.addLayout(status)
        layout.addWidget(body, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()
        self.apply_theme(theme)
        self._show_names()

    @staticmethod
    def _make_diagrams() -> list:
        try:
            from rnnviz.gui.unrolled_view import UnrolledView
        except ImportError:
            return []
        return [UnrolledView(object_name="compareDiagramA"), UnrolledView(object_name="compareDiagramB")]

    # ----------------------------------------------------------------- the pair
    @property
    def run_id(self) -> int | None:
        """The id of the pair's run the view shows (None until its first snapshot arrives)."""
        return self._run

    def settings_pair(self) -> tuple[Settings, Settings]:
        a, b = (load_preset(name).settings for name in self.names)
        return a, same_data(a, b)

    def set_pair(self, a: str, b: str) -> None:
        """Compare presets `a` and `b` (a new pair of runs, paused)."""
        if (a, b) == self.names and self.worker is not None:
            return
        self.names = (a, b)
        self._show_names()
        if self.worker is not None:
            self._stop_worker()
            self._start_worker()

    def _show_names(self) -> None:
        a, b = self.names
        for combo, name in ((self.combo_a, a), (self.combo_b, b)):
            combo.setCurrentIndex(max(0, combo.findData(name)))
        index = next((i for i, (_, x, y) in enumerate(PAIRS) if (x, y) == (a, b)), -1)
        self.pair_combo.setCurrentIndex(index)
        try:
            sa, sb = self.settings_pair()
        except PresetError as exc:
            self.note.setText(str(exc))
            return
        self.note.setText(f"Same data for both: task {sa.task}, "
                          f"{'lag' if sa.task in ('recall', 'sentence') else 'length'} {sa.length}, "
                          f"batch {sa.batch}, seed {sa.seed}; one iteration of each per step.")

    def _worker(self) -> TrainingWorker:
        if self.worker is None:
            self._start_worker()
        return self.worker

    def _start_worker(self) -> None:
        a, b = self.settings_pair()
        self.worker = TrainingWorker(a, session_factory=lambda _settings, cancel: PairSession(a, b, cancel))
        self.worker.snapshots.connect(self.show_snapshots)
        self.worker.restarted.connect(self.restart)
        self.worker.state_changed.connect(self._state)
        self.worker.error.connect(lambda error: self.note.setText(str(error)))
        self.worker.start()
        if self._speed is not None:
            self.worker.set_speed(self._speed)
        if self._playing:
            self.worker.play()

    def _stop_worker(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            for signal in (worker.snapshots, worker.restarted, worker.state_changed, worker.error):
                signal.disconnect()
            worker.stop()

    def play(self) -> None:
        self._playing = True
        self._worker().play()

    def pause(self) -> None:
        self._playing = False
        if self.worker is not None:
            self.worker.pause()

    def toggle_play(self) -> None:
        self.pause() if self.state == PLAYING else self.play()

    def step(self) -> None:
        """One iteration of each run, then pause."""
        self._worker().step()

    def reset(self) -> None:
        """Both runs again from the same seed."""
        self._worker().reset()

    def set_speed(self, iterations_per_second: float) -> None:
        """Steps (an iteration of each run) per second; 0 = as fast as possible."""
        self._speed = iterations_per_second
        if self.worker is not None:
            self.worker.set_speed(iterations_per_second)

    def shutdown(self) -> None:
        """Stop the worker thread (call before the widget goes away; closeEvent does)."""
        self._timer.stop()
        self._stop_worker()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._timer.isActive():
            self._timer.start()
        if self.worker is None:
            self._start_worker()   # builds both runs so their iteration-0 state is shown

    # ----------------------------------------------------------------- worker → view
    def restart(self, pair: PairSnapshot) -> None:
        self._run = pair.run
        self.tracks = (_Track(), _Track())
        for track, snap in zip(self.tracks, (pair.a, pair.b)):
            track.add(snap)
        for diagram, snap in zip(self.diagrams, (pair.a, pair.b)):
            diagram.restart(snap)
        chance = pair.a.accuracy
        self.chance_line.setVisible(chance is not None)
        if chance is not None:
            self.chance_line.setPos(_chance(pair.a.settings))
        self._dirty = True
        self.redraw()

    def show_snapshots(self, pairs: tuple) -> None:
        try:
            pairs = [p for p in pairs if p.run == self._run]
            if not pairs:
                return
            for p in pairs:
                self.tracks[0].add(p.a)
                self.tracks[1].add(p.b)
            for diagram, snap in zip(self.diagrams, (pairs[-1].a, pairs[-1].b)):
                diagram.show_snapshots((snap,))
            self._dirty = True
        finally:
            if self.worker is not None:
                self.worker.ack()

    def _state(self, state: str) -> None:
        self.state = state
        playing = state == PLAYING
        self.play_button.blockSignals(True)
        self.play_button.setChecked(playing)
        self.play_button.blockSignals(False)
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play")
        if not playing:
            self._playing = False
        self.state_changed.emit(state)

    def _play_toggled(self, on: bool) -> None:
        self.play() if on else self.pause()

    def redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        for i, track in enumerate(self.tracks):
            x = track.array("iteration")
            for key in ("smoothed", "grad", "accuracy"):
                y = track.array(key)
                mask = np.isfinite(y) & ((y > 0) if key != "accuracy" else True)
                self.curves[key][i].setData(x[mask], y[mask])
        iterations = [t.last.iteration for t in self.tracks if t.last is not None]
        if iterations:
            self.iteration_label.setText(f"Iteration {max(iterations)}")
        self._follow_x(max(iterations, default=0))
        for i, (track, label) in enumerate(zip(self.tracks, self.status)):
            label.setText(self._status_text(i, track))

    def _follow_x(self, last_iteration: int) -> None:
        """x axes from 0 to a round number past the newest iteration, as the main curves do."""
        bounds = x_range(last_iteration)
        if bounds != self._x_bounds:
            self._x_bounds = bounds
            for plot in (self.loss_plot, self.grad_plot, self.acc_plot):
                plot.getPlotItem().setXRange(*bounds, padding=0)

    def _status_text(self, i: int, track: _Track) -> str:
        colour = COLOURS[i]
        name = self.names[i]
        snap = track.last
        head = f"<span style='color:{colour}; font-weight:900'>━━</span> <b>{'AB'[i]}: {name}</b>"
        if snap is None:
            return head
        s = snap.settings
        desc = {"rnn": f"{s.activation} RNN", "skip": f"{s.activation} RNN + skip {s.skip}", "lstm": "LSTM"}[s.arch]
        parts = [desc, f"clip {s.clip}" if s.clip != "none" else "no clipping"]
        if track.diverged_at is not None:
            parts.append(f"<span style='color:{OKABE_ITO['vermillion']}'><b>diverged at iteration "
                         f"{track.diverged_at}</b></span>")
        else:
            parts.append(f"loss {snap.loss:.3g}")
            if snap.accuracy is not None:
                parts.append(f"accuracy {snap.accuracy:.2f}")
            parts.append(f"‖g‖ {snap.grad_norm:.3g}")
        return head + " — " + " · ".join(parts)

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        for plot in (self.loss_plot, self.grad_plot, self.acc_plot):
            plot.setBackground(theme.base)
            item = plot.getPlotItem()
            for name in ("left", "bottom"):
                item.getAxis(name).setPen(theme.muted)
                item.getAxis(name).setTextPen(theme.text)
            item.titleLabel.setText(item.titleLabel.text, color=theme.text)
        for key, (a, b) in self.curves.items():
            a.setPen(pg.mkPen(COLOURS[0], width=2))
            b.setPen(pg.mkPen(COLOURS[1], width=2))
        self.chance_line.setPen(pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DashLine))
        for diagram in self.diagrams:
            diagram.apply_theme(theme)


def _chance(settings: Settings) -> float:
    try:
        from rnnviz.engine import make_task

        return make_task(settings.task, length=min(settings.length, 5), seed=0).chance or 0.0
    except Exception:
        return 0.25
