"""The BPTT stepper: pause training, take one example of the batch, and walk through BPTT frame by frame.

2T+1 frames: the forward pass one step at a time, the loss, then the backward pass from t = T down
to 1 (see `rnnviz.bptt_frames`). Each frame highlights its step in the stepper's own unrolled
diagram, prints the formulas with the real numbers, and adds its point to a log plot of ‖δ_t‖,
the running product ‖J_T ⋯ J_t‖ and each step's contribution to dL/dW_H.

Talking to the main window (which owns the worker):
    inspect_requested  → the window pauses training and calls worker.inspect();
                         it connects worker.inspected to `load(inspection)`.
    finished           → the user left the stepper; the window resumes training if it was playing.
The frames are computed once per inspection, off the GUI thread by a `Background` job (`loaded` is
emitted when ready); moving to another frame only formats numbers and recolours (a few milliseconds).
"""

from __future__ import annotations

import logging

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QSlider, QSpinBox, QSplitter, QStyle, QVBoxLayout, QWidget)

from rnnviz.bptt_frames import BACKWARD, BPTTFrames, revealed
from rnnviz.formula import rich
from rnnviz.gui.background import Background
from rnnviz.gui.elided_label import ElidedLabel
from rnnviz.gui.formula_panel import FormulaPanel
from rnnviz.gui.theme import LIGHT, OKABE_ITO, Theme
from rnnviz.gui.unrolled_view import UnrolledView

log = logging.getLogger(__name__)

#: Keys the stepper answers wherever the focus is inside it (they win over window shortcuts).
KEYS = {Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_Space}

INTRO = ("Pause training and step through BPTT on the current batch: forward, loss, backward, "
         "with the real numbers (keys ← → Home End Space).")


#: Seconds `shutdown` waits for a computation to notice it was cancelled.
STOP_TIMEOUT = 10.0


def _compute_frames(inspection, example: int, job: Background) -> BPTTFrames:
    """The frames of one example, off the GUI thread; progress goes to the stepper as it comes,
    and a newer inspection (or the window closing) cancels the computation."""
    def progress(fraction: float) -> None:
        job.check()
        job.emit(fraction)

    return BPTTFrames(inspection, example, progress=progress)


class BPTTStepper(QWidget):
    """Frame-by-frame backpropagation through time for one example of the current batch."""

    inspect_requested = Signal()     # please pause training and send worker.inspect() → load()
    finished = Signal()              # the user left: resume the normal training view
    loaded = Signal()                # frames for a new inspection (or example) are ready
    frame_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self.setObjectName("bpttStepper")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.theme = theme
        self.frames: BPTTFrames | None = None
        self.inspection = None
        self.index = 0
        self._job: Background | None = None       # the computation whose frames are wanted
        self._jobs: set[Background] = set()       # every computation still running (kept alive)
        self._n_computing = 0
        self._play = QTimer(self)
        self._play.timeout.connect(self._advance)
        self._refit = QTimer(self, singleShot=True, interval=60)
        self._refit.timeout.connect(self.fit_formulas)
        self._plot_folded = False      # True: `fit_formulas` gave the plot's width to the formulas

        self._build_widgets()
        self._set_enabled(False)
        self.apply_theme(theme)
        for widget in [self, *self.findChildren(QWidget)]:
            widget.installEventFilter(self)

    # ------------------------------------------------------------------ widgets
    def _button(self, name: str, text: str, tip: str, slot, icon=None) -> QPushButton:
        button = QPushButton(text, objectName=name)
        button.setToolTip(tip)
        if icon is not None:
            button.setIcon(self.style().standardIcon(icon))
        button.clicked.connect(slot)
        return button

    def _build_widgets(self) -> None:
        sp = QStyle.StandardPixmap
        self.inspect_button = self._button(
            "inspectButton", "Step through BPTT", "Pause training and step through the forward and backward "
            "pass of the current batch", self.inspect_requested.emit)
        self.example_spin = QSpinBox(objectName="exampleSpin")
        self.example_spin.setRange(1, 1)
        self.example_spin.setPrefix("example ")
        self.example_spin.setToolTip("Which sequence of the batch to follow (the running sum is the whole batch's)")
        self.example_spin.valueChanged.connect(self._example_changed)
        self.leave_button = self._button("leaveStepperButton", "Back to training",
                                         "Leave the stepper and resume training", self.leave)
        self.status = QLabel("", objectName="stepperStatus")      # "Computing 81 frames… 40 %"
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.hide()

        self.diagram = UnrolledView(theme=self.theme, object_name="stepperDiagram", live=False)

        self.first_button = self._button("firstFrameButton", "", "First frame (Home)", self.first, sp.SP_MediaSkipBackward)
        self.prev_button = self._button("prevFrameButton", "", "Previous frame (←)", self.previous, sp.SP_MediaSeekBackward)
        self.play_button = self._button("playFramesButton", "", "Play / pause the frames (Space)", self.toggle_play,
                                        sp.SP_MediaPlay)
        self.play_button.setCheckable(True)
        self.next_button = self._button("nextFrameButton", "", "Next frame (→)", self.next, sp.SP_MediaSeekForward)
        self.last_button = self._button("lastFrameButton", "", "Last frame (End)", self.last, sp.SP_MediaSkipForward)
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="frameSlider")
        self.slider.setToolTip("Frames 1..T forward, the loss, then T..1 backward")
        self.slider.valueChanged.connect(self.go_to)
        self.speed_spin = QDoubleSpinBox(objectName="frameSpeedSpin")
        self.speed_spin.setRange(0.5, 60.0)
        self.speed_spin.setValue(6.0)
        self.speed_spin.setSuffix(" frames/s")
        self.speed_spin.setDecimals(1)
        self.speed_spin.setToolTip("Playback speed")
        self.speed_spin.valueChanged.connect(self._speed_changed)

        self.formula = FormulaPanel(theme=self.theme)
        self.formula.setMinimumHeight(10 * self.fontMetrics().height())

        self.plot_widget = pg.PlotWidget(objectName="stepperPlot")
        plot = self.plot_widget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setLogMode(x=False, y=True)
        plot.getAxis("left").enableAutoSIPrefix(False)   # "×1e+27" on a log axis misleads
        plot.setLabel("bottom", "time step t")
        plot.setLabel("left", "norm (log)")
        # no grid: the axes would then span the plot and be repainted with every frame
        self.delta_curve = plot.plot([], [], pen=pg.mkPen(OKABE_ITO["blue"], width=2),
                                     symbol="o", symbolSize=4, symbolBrush=OKABE_ITO["blue"], symbolPen=None)
        self.product_curve = plot.plot([], [], pen=pg.mkPen(OKABE_ITO["vermillion"], width=2))
        self.contribution_curve = plot.plot([], [], pen=pg.mkPen(OKABE_ITO["green"], width=2,
                                                                  style=Qt.PenStyle.DashLine))
        self.plot_legend = QLabel(objectName="stepperPlotLegend")
        self.plot_legend.setWordWrap(True)
        self.plot_legend.setText(
            f"<span style='color:{OKABE_ITO['blue']}'>●━</span> {rich('‖∂L/∂h_t‖')} example &nbsp; "
            f"<span style='color:{OKABE_ITO['vermillion']}'>━━</span> {rich('‖J_T ⋯ J_t‖₂')} &nbsp; "
            f"<span style='color:{OKABE_ITO['green']}'>╍╍</span> {rich('‖Σ_b h_{t−1}^T δ_t‖_F')} batch")
        self.plot_legend.setToolTip("‖∂L/∂h_t‖ of the example followed; the running product of its "
                                    "Jacobians J_T ⋯ J_t (spectral norm); each step's term of ∂L/∂W_H "
                                    "over the whole batch (Frobenius norm)")
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen(OKABE_ITO["orange"], width=1.5))
        plot.addItem(self.cursor)

        # One bar: closed, the button and a line of help (or the progress of the computation);
        # open, the example, the transport, the slider and the way back (the frame's own title
        # says which frame it is, so the diagram and the formulas get the height).
        header = QHBoxLayout()
        header.addWidget(self.inspect_button)
        header.addWidget(self.status, 1)
        header.addWidget(self.example_spin)
        self._transport = (self.first_button, self.prev_button, self.play_button, self.next_button,
                           self.last_button, self.slider, self.speed_spin)
        for widget in self._transport:
            header.addWidget(widget, 1 if widget is self.slider else 0)
        header.addWidget(self.leave_button)
        lower = self.lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.formula)
        plot_box = QWidget()
        box = QVBoxLayout(plot_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.plot_legend)
        box.addWidget(self.plot_widget, 1)
        lower.addWidget(plot_box)
        lower.setStretchFactor(0, 2)
        lower.setStretchFactor(1, 1)
        lower.setSizes([640, 320])             # kept in proportion when the window resizes
        self.body = QSplitter(Qt.Orientation.Vertical)
        self.body.addWidget(self.diagram)
        self.body.addWidget(lower)
        self.body.setStretchFactor(0, 1)
        self.body.setStretchFactor(1, 1)
        self.body.setSizes([500, 500])
        self.intro = ElidedLabel(INTRO, objectName="stepperIntro")   # full text in its tooltip
        self.panel = QWidget(objectName="stepperPanel")       # shown while frames are loaded
        inner = QVBoxLayout(self.panel)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(self.body, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        header.insertWidget(1, self.intro, 1)
        layout.addLayout(header)
        layout.addWidget(self.panel, 1)
        self._header = header
        self._hidden_siblings: list[QWidget] = []
        self._set_open(False)

    def _set_open(self, open_: bool) -> None:
        """Collapsed to one bar until frames are loaded. Open, it has the tab to itself: the other
        views sharing its splitter (the live diagram, paused meanwhile) hide until it closes."""
        self.panel.setVisible(open_)
        self.intro.setVisible(not open_ and self.status.isHidden())
        self.inspect_button.setVisible(not open_)
        for widget in (self.leave_button, self.example_spin, *self._transport):
            widget.setVisible(open_)
        if open_:
            self._set_status("")
        margins = self.layout().contentsMargins()
        bar = self._header.sizeHint().height() + margins.top() + margins.bottom()
        self.setMaximumHeight(16_777_215 if open_ else bar)      # closed: just the bar
        splitter = self.parentWidget()
        if not isinstance(splitter, QSplitter):
            return
        if open_ and not self._hidden_siblings:
            self._hidden_siblings = [w for i in range(splitter.count())
                                     if (w := splitter.widget(i)) is not self and w.isVisibleTo(splitter)]
            for widget in self._hidden_siblings:
                widget.hide()
        elif not open_:
            for widget in self._hidden_siblings:
                widget.show()
            self._hidden_siblings = []

    def _set_status(self, text: str) -> None:
        """A line in the bar while frames are computed (or could not be); "" hides it."""
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self.intro.setVisible(not self.panel.isVisibleTo(self) and not text)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.first_button, self.prev_button, self.play_button, self.next_button,
                       self.last_button, self.slider, self.example_spin, self.leave_button, self.body):
            widget.setEnabled(enabled)

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.diagram.apply_theme(theme)
        self.plot_widget.setBackground(theme.base)
        for name in ("left", "bottom"):
            axis = self.plot_widget.getPlotItem().getAxis(name)
            axis.setPen(theme.muted)
            axis.setTextPen(theme.text)
        self.formula.apply_theme(theme)

    # ------------------------------------------------------------------ view contract
    def show_snapshots(self, snapshots: tuple) -> None:
        """Training snapshots do not change the frames (they show the inspected batch)."""

    def redraw(self) -> None:
        """Each frame is drawn when it is chosen: nothing waits for a timer."""

    def restart(self, snapshot) -> None:
        """A new run: the inspected model no longer exists, so drop its frames."""
        self.stop_playing()
        self._cancel_job()
        self.frames = self.inspection = None
        self._set_enabled(False)
        self._set_open(False)
        self._set_status("")
        self.formula.clear()
        self.diagram.highlight(None)
        for curve in (self.delta_curve, self.product_curve, self.contribution_curve):
            curve.setData([], [])

    # ------------------------------------------------------------------ loading
    def load(self, inspection, example: int = 0) -> None:
        """Compute the frames of `inspection` for one example (off the GUI thread); `loaded` follows."""
        self.stop_playing()
        self.inspection = inspection
        batch = inspection.x.shape[1]
        self.example_spin.blockSignals(True)
        self.example_spin.setRange(1, batch)
        self.example_spin.setSuffix(f" of {batch}")
        self.example_spin.setValue(min(example, batch - 1) + 1)
        self.example_spin.blockSignals(False)
        self._n_computing = 2 * inspection.x.shape[0] + 1
        self._set_status(f"Computing {self._n_computing} frames…")
        self._cancel_job()
        example = min(example, batch - 1)
        job = self._job = Background(lambda job: _compute_frames(inspection, example, job), name="bpttFrames")
        job.yielded.connect(self._progress)
        job.returned.connect(self._computed)
        job.errored.connect(self._failed)
        job.finished.connect(lambda: self._jobs.discard(job))
        self._jobs.add(job)
        job.start()

    def _cancel_job(self) -> None:
        """The computation under way is no longer wanted: it stops at its next progress report."""
        if self._job is not None:
            self._job.request_cancel()
            self._job = None

    def _progress(self, fraction: float) -> None:
        if self.sender() is self._job:
            self._set_status(f"Computing {self._n_computing} frames… {100 * fraction:.0f} %")

    def _computed(self, frames: BPTTFrames) -> None:
        if self.sender() is self._job:
            self._job = None
            self.set_frames(frames)

    def _failed(self, error: Exception) -> None:
        """E.g. a diverged batch: say so, never a traceback."""
        if self.sender() is self._job:
            self._job = None
            message = f"The BPTT frames could not be computed for this batch: {error}"
            self._set_status(message)
            self.status.setToolTip(message)
            self.formula.show_message(message)

    def shutdown(self) -> None:
        """Stop every computation and wait for it (the window calls this as it closes)."""
        self.stop_playing()
        self._cancel_job()
        for job in list(self._jobs):
            job.stop(STOP_TIMEOUT)

    def set_frames(self, frames: BPTTFrames, index: int = 0) -> None:
        """Show precomputed frames (`load` calls this when they are ready)."""
        self.frames = frames
        T = frames.T
        self.diagram.set_structure(T, frames.arch, frames.skip, frames.readout, frames.labels)
        self.diagram.fix_levels(frames.hidden_rms_batch)
        self.slider.blockSignals(True)
        self.slider.setRange(0, frames.n_frames - 1)
        self.slider.setPageStep(max(1, T // 10))
        self.slider.blockSignals(False)
        plot = self.plot_widget.getPlotItem()
        plot.setXRange(0.5, T + 0.5, padding=0.02)
        finite = np.concatenate([frames.dh_norm, frames.product_norm, frames.contribution_norm_batch])
        finite = finite[np.isfinite(finite) & (finite > 0)]
        if finite.size:                 # at least two decades, so the log axis labels only powers of ten
            low, high = np.log10(finite.min()), np.log10(finite.max())
            middle, half = 0.5 * (low + high), max(0.5 * (high - low), 1.0)
            plot.setYRange(middle - half, middle + half, padding=0.08)
        self._set_enabled(True)
        self._set_open(True)
        self.index = -1
        self.go_to(index)
        self._unfold_plot()
        self.fit_formulas()
        self._refit.start()           # again once the window has laid the panel out
        self.loaded.emit()

    #: The formulas take at most this share of the body's height; the diagram keeps the rest.
    FORMULA_SHARE = 0.7

    def fit_formulas(self) -> None:
        """Give the formula panel the height its tallest kind of frame needs at its width (up to
        `FORMULA_SHARE` of the body) and the diagram the rest: every number on screen without
        scrolling wherever the window allows it, and the diagram as large as that leaves. Where
        even that is too little (large type on a small screen), the plot folds away and gives the
        formulas its width (its splitter handle brings it back)."""
        frames = self.frames
        if frames is None or not self.panel.isVisibleTo(self):
            return
        T, needed = frames.T, 0
        # every shape of frame, and a sample of the others (longer numbers wrap more)
        sample = {0, T - 1, T, T + 1, 2 * T - 1, 2 * T, *np.linspace(0, 2 * T, 13).astype(int).tolist()}
        for index in sorted(sample):
            self.formula.show_frame(frames.frame(index))
            needed = max(needed, self.formula.content_height())
        self.formula.show_frame(frames.frame(self.index))
        total = sum(self.body.sizes())
        if total <= 0:
            return
        needed += 2 * self.formula.frameWidth() + 2
        most = int(self.FORMULA_SHARE * total)
        self.body.setSizes([total - min(needed, most), min(needed, most)])
        if needed > most and not self._plot_folded:
            self._plot_folded = True
            self.lower.setSizes([sum(self.lower.sizes()), 0])
            self._refit.start()            # measure again at the new width

    def _unfold_plot(self) -> None:
        """The plot back beside the formulas (a third of the width), before measuring afresh."""
        if self._plot_folded:
            self._plot_folded = False
            width = sum(self.lower.sizes())
            self.lower.setSizes([width - width // 3, width // 3])

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.frames is not None:
            self._unfold_plot()
            self._refit.start()

    def _example_changed(self, value: int) -> None:
        if self.inspection is not None:
            self.load(self.inspection, value - 1)

    # ------------------------------------------------------------------ navigation
    @property
    def n_frames(self) -> int:
        return self.frames.n_frames if self.frames is not None else 0

    def go_to(self, index: int) -> None:
        if self.frames is None:
            return
        index = max(0, min(int(index), self.frames.n_frames - 1))
        if index == self.index:
            return
        self.index = index
        if self.slider.value() != index:
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
        self._show(index)
        self.frame_changed.emit(index)

    def first(self) -> None:
        self.go_to(0)

    def last(self) -> None:
        self.go_to(self.n_frames - 1)

    def next(self) -> None:
        self.go_to(self.index + 1)

    def previous(self) -> None:
        self.go_to(self.index - 1)

    def toggle_play(self) -> None:
        if self._play.isActive():
            self.stop_playing()
        elif self.frames is not None:
            if self.index >= self.n_frames - 1:
                self.go_to(0)
            self._play.start(int(1000 / self.speed_spin.value()))
            self._set_play_icon(True)

    def stop_playing(self) -> None:
        self._play.stop()
        self._set_play_icon(False)

    @property
    def playing(self) -> bool:
        return self._play.isActive()

    def leave(self) -> None:
        """Back to training: collapse to the bar and let the window resume training."""
        self.stop_playing()
        self._set_open(False)
        self.finished.emit()

    def _set_play_icon(self, playing: bool) -> None:
        sp = QStyle.StandardPixmap
        self.play_button.setChecked(playing)
        self.play_button.setIcon(self.style().standardIcon(sp.SP_MediaPause if playing else sp.SP_MediaPlay))

    def _advance(self) -> None:
        if self.index >= self.n_frames - 1:
            self.stop_playing()
        else:
            self.next()

    def _speed_changed(self, value: float) -> None:
        if self._play.isActive():
            self._play.setInterval(int(1000 / value))

    # ------------------------------------------------------------------ keys
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if (kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and self.frames is not None
                and self.panel.isVisible()):
            key = event.key()
            if key in KEYS and not (isinstance(watched, QSpinBox | QDoubleSpinBox) and key != Qt.Key.Key_Space):
                if kind == QEvent.Type.ShortcutOverride:
                    event.accept()      # we handle it: window shortcuts (e.g. Space = play training) must not fire
                    return True
                self._key(key)
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in KEYS and self.frames is not None and self.panel.isVisible():
            self._key(event.key())
        else:
            super().keyPressEvent(event)

    def _key(self, key) -> None:
        {Qt.Key.Key_Left: self.previous, Qt.Key.Key_Right: self.next, Qt.Key.Key_Home: self.first,
         Qt.Key.Key_End: self.last, Qt.Key.Key_Space: self.toggle_play}[key]()

    # ------------------------------------------------------------------ drawing a frame
    def _show(self, index: int) -> None:
        frames = self.frames
        frame = frames.frame(index)
        # the batch's numbers and the masks of `revealed`: what the animated diagram draws at frame `index`
        kind, t, hidden_shown, grad_shown = revealed(index, frames.T)
        self.diagram.set_values(frames.hidden_rms_batch, frames.dh_norm_batch, frames.contribution_norm_batch,
                                hidden_shown=hidden_shown, grad_shown=grad_shown)
        self.diagram.highlight(t, kind)
        self.formula.show_frame(frame)
        self.cursor.setValue(t)
        if kind == BACKWARD:
            x = np.arange(1, frames.T + 1)[grad_shown]
            for curve, values in ((self.delta_curve, frames.dh_norm), (self.product_curve, frames.product_norm),
                                  (self.contribution_curve, frames.contribution_norm_batch)):
                y = values[grad_shown]
                keep = np.isfinite(y) & (y > 0)
                curve.setData(x[keep], y[keep])
        else:
            for curve in (self.delta_curve, self.product_curve, self.contribution_curve):
                curve.setData([], [])

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)
