"""The Horizon panel: how far back can each network remember? Accuracy against lag, measured.

The sweep itself is `rnnviz.horizon.Sweep` (worker processes, no Qt); a `Background` job runs it
off the GUI thread and sends each finished run as it comes, so the plot fills in while the UI stays live.
Cancel stops the running runs within an iteration and drops the pending ones.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRegularExpression, Qt, Signal, Slot
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar, QPushButton,
                               QSizePolicy, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from rnnviz.gui.background import Background
from rnnviz.gui.plot_style import recolour_legend
from rnnviz.gui.theme import LIGHT, OKABE_ITO, Theme
from rnnviz.gui.vertical_scroll import VerticalScroll
from rnnviz.horizon import LAG_TASKS, RunResult, Sweep, default_config, early_stop_text, horizon, remembered
from rnnviz.settings import FIELDS, Settings
from rnnviz.worker_processes import start_worker_server

#: Line colours, one per architecture in horizon.toml's order (Okabe–Ito, colour-blind safe).
LINE_COLOURS = ("vermillion", "orange", "green", "purple", "blue", "sky", "yellow", "black")
#: Curves that coincide (IRNN, skip and LSTM all at accuracy 1) must stay distinguishable: each
#: architecture has its own marker shape and dash pattern, and each curve of a sweep is drawn
#: shifted sideways by `DODGE` decades of lag from the next (accuracies stay exact), so points at
#: the same lag and accuracy sit side by side instead of on top of each other.
MARKERS = ("o", "s", "t", "d", "star", "h", "p", "x")
DODGE = 0.02
DASHES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine,
          Qt.PenStyle.DashDotDotLine, Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine)
#: The progress bar before any sweep (not "0 / 1 runs").
NO_SWEEP = "No sweep yet"
#: The base entry of the preset combo: horizon.toml's [base] table.
DEFAULT_BASE = "horizon defaults"
CSV_FIELDS = ("arch", "lag", "seed", "accuracy", "loss", "iterations", "reached", "diverged",
              "stopped", "seconds", "chance")
#: Seconds `shutdown` waits for the sweep thread after cancelling it.
SHUTDOWN_WAIT_S = 10.0
LAGS_PATTERN = r"^\s*\d+(\s*,\s*\d+)*\s*,?\s*$"


def _run_sweep(sweep: Sweep, job: Background) -> None:
    """The sweep's work, off the GUI thread: each finished run goes to the panel as it comes."""
    for result in sweep.results():
        job.emit(result)


def _pen(colour: str, width: float = 2.0, style=Qt.PenStyle.SolidLine):
    return pg.mkPen(colour, width=width, style=style)


class HorizonPanel(QWidget):
    """Choose a task, a lag grid, seeds, a budget and architectures; Run measures each
    architecture's memory horizon in the background and plots accuracy against lag."""

    sweepStarted = Signal(int)      # number of runs
    resultAdded = Signal(object)    # RunResult
    sweepFinished = Signal(bool)    # True if cancelled

    def __init__(self, parent: QWidget | None = None, theme: Theme = LIGHT) -> None:
        super().__init__(parent)
        self.setObjectName("horizonPanel")
        self.results: list[RunResult] = []
        self._sweep: Sweep | None = None
        self._job: Background | None = None
        self._labels: list[str] = []          # architectures of the current sweep, in order
        self._config = default_config()
        self._target = self._config.sweep.target
        self._build_controls()
        self._build_plot()
        self._build_layout()
        self.apply_theme(theme)
        self._set_running(False)
        start_worker_server()    # sweeps then start with warm workers (see rnnviz.worker_processes)

    # ----------------------------------------------------------------- construction
    def _build_controls(self) -> None:
        sweep = self._config.sweep
        self.task_combo = QComboBox(objectName="horizonTaskCombo")
        self.task_combo.addItems(LAG_TASKS)
        self.task_combo.setToolTip("The task whose lag is swept. recall: name the first of K symbols "
                                   "after `lag` distractors. sentence: the language of a country "
                                   "named `lag` filler words before the blank.")
        self.base_combo = QComboBox(objectName="horizonBaseCombo")
        self.base_combo.addItem(DEFAULT_BASE)
        self.base_combo.addItems(_lag_presets())
        self.base_combo.setToolTip("Where the shared settings (hidden size, batch, clipping, dtype) "
                                   "come from; each architecture then applies its own recipe.")
        self.base_combo.currentTextChanged.connect(self._base_changed)
        self.lags_edit = QLineEdit(", ".join(map(str, sweep.lags)), objectName="horizonLagsEdit")
        self.lags_edit.setValidator(QRegularExpressionValidator(QRegularExpression(LAGS_PATTERN)))
        self.lags_edit.setToolTip("Comma-separated lags; each is trained from scratch.")
        self.lags_edit.textChanged.connect(self._update_run_enabled)
        self.seeds_spin = QSpinBox(objectName="horizonSeedsSpin", minimum=1, maximum=20,
                                   value=sweep.seeds)
        self.seeds_spin.setToolTip("Seeds per lag; a lag counts as remembered when most seeds "
                                   "reach the target.")
        self.steps_spin = QSpinBox(objectName="horizonStepsSpin", minimum=10, maximum=100_000,
                                   singleStep=100, value=sweep.steps)
        self.steps_spin.setToolTip("Training budget per run (iterations). A run stops early once "
                                   "it reaches the target or has clearly failed.")
        self.target_spin = QDoubleSpinBox(objectName="horizonTargetSpin", minimum=0.3, maximum=1.0,
                                          singleStep=0.05, decimals=2, value=sweep.target)
        self.target_spin.setToolTip("Held-out accuracy that counts as remembering the lag.")
        self.target_spin.valueChanged.connect(self._target_changed)
        self.every_lag_box = QCheckBox("Every lag", objectName="horizonEveryLagCheck",
                                       checked=sweep.search == "grid")
        self.every_lag_box.setToolTip(
            "Train every lag on every seed: the whole accuracy curve, slower. Unchecked, a bisection "
            "on the lag grid trains only the lags it needs (accuracy falls with lag), and at each "
            "only the seeds that can still change the majority; once a probed lag is learnt within "
            "a tenth of the budget, it tries the longest lag next.")

        self.arch_boxes: dict[str, QCheckBox] = {}
        for arch, colour in zip(self._config.architectures, LINE_COLOURS):
            box = QCheckBox(arch.label, objectName=f"horizonArch_{arch.key}", checked=True)
            box.setToolTip(arch.describe())
            box.setStyleSheet(f"QCheckBox {{ color: {OKABE_ITO[colour]}; font-weight: 600; }}")
            box.toggled.connect(self._update_run_enabled)
            self.arch_boxes[arch.key] = box

        self.run_button = QPushButton("Run", objectName="horizonRunButton")
        self.run_button.setToolTip("Train every architecture × lag × seed in background processes.")
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel", objectName="horizonCancelButton")
        self.cancel_button.clicked.connect(self.cancel)
        self.csv_button = QPushButton("Save CSV…", objectName="horizonSaveCsvButton")
        self.csv_button.clicked.connect(self._ask_csv)
        self.png_button = QPushButton("Save PNG…", objectName="horizonSavePngButton")
        self.png_button.clicked.connect(self._ask_png)
        self.progress = QProgressBar(objectName="horizonProgress")
        self.progress.setFormat(NO_SWEEP)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status_label = QLabel("Ready.", objectName="horizonStatus", wordWrap=True)

    def _build_plot(self) -> None:
        self.plot = pg.PlotWidget(objectName="horizonPlot")
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.showGrid(x=True, y=True, alpha=0.25)
        item.setLogMode(x=True, y=False)
        item.setLabel("bottom", "lag (steps from cue to question)")
        item.setLabel("left", "held-out accuracy")
        item.getAxis("left").setWidth(56)
        self.plot.setMouseEnabled(x=False, y=False)
        self.legend = item.addLegend(offset=(10, -10))
        self.target_line = pg.InfiniteLine(angle=0, movable=False, label="target {value:.0%}",
                                           labelOpts={"position": 0.97, "anchors": [(1, 1), (1, 1)]})
        # The chance level is named in the legend, not on the line: failing curves lie on it.
        self.chance_line = pg.InfiniteLine(angle=0, movable=False)
        self.chance_line.setVisible(False)
        self.chance_sample = pg.PlotDataItem()   # the legend's sample of the chance line
        item.addItem(self.target_line, ignoreBounds=True)
        item.addItem(self.chance_line, ignoreBounds=True)
        self.target_line.setPos(self._target)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.seed_points: dict[str, pg.ScatterPlotItem] = {}
        self.horizon_rings: dict[str, pg.ScatterPlotItem] = {}   # a ring on each curve's horizon
        for arch, colour, marker, dash in zip(self._config.architectures, LINE_COLOURS, MARKERS, DASHES):
            curve = item.plot(name=arch.label, pen=_pen(OKABE_ITO[colour], style=dash), symbol=marker,
                              symbolSize=10, symbolBrush=OKABE_ITO[colour])
            points = pg.ScatterPlotItem(size=5, pen=None,
                                        brush=pg.mkBrush(OKABE_ITO[colour] + "80"))
            ring = pg.ScatterPlotItem(size=24, brush=None, pen=_pen(OKABE_ITO[colour], 2.0))
            item.addItem(points)
            item.addItem(ring)
            self.curves[arch.label] = curve
            self.seed_points[arch.label] = points
            self.horizon_rings[arch.label] = ring
        self._set_ranges(self._config.sweep.lags)

        self.table = QTableWidget(0, 4, objectName="horizonTable")
        self.table.setHorizontalHeaderLabels(["Architecture", "Horizon", "Runs", "Remembered lags"])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        for column in range(3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Horizon: the largest lag most seeds remembered (reached the target "
                              "on held-out data within the budget).")
        self.definition_label = QLabel(objectName="horizonDefinition", wordWrap=True)
        self.definition_label.setText(
            f"<b>Memory horizon.</b> {self._config.definition} {early_stop_text(self._config)} "
            "Markers (one shape per architecture, each curve shifted slightly sideways so that "
            "coinciding ones stay visible): mean over seeds; small dots: single seeds; ring: the "
            "horizon. 'Every lag' trains the whole grid.")
        self.definition_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.definition_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def _build_layout(self) -> None:
        sweep_box = QGroupBox("Sweep")
        form = QFormLayout(sweep_box)
        form.addRow("Task", self.task_combo)
        form.addRow("Base", self.base_combo)
        form.addRow("Lags", self.lags_edit)
        form.addRow("Seeds", self.seeds_spin)
        form.addRow("Budget", self.steps_spin)
        form.addRow("Target", self.target_spin)
        form.addRow("", self.every_lag_box)
        arch_box = QGroupBox("Architectures")
        arch_layout = QVBoxLayout(arch_box)
        for box in self.arch_boxes.values():
            arch_layout.addWidget(box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        saves = QHBoxLayout()
        saves.addWidget(self.csv_button)
        saves.addWidget(self.png_button)
        side = QVBoxLayout()
        side.addWidget(sweep_box)
        side.addWidget(arch_box)
        side.addLayout(buttons)
        side.addWidget(self.progress)
        side.addWidget(self.status_label)
        side.addLayout(saves)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        # The settings and the definition scroll rather than set the page's minimum height: the
        # window has to fit 1280x720 in presentation mode's large type.
        self.side_scroll = VerticalScroll(side_widget, objectName="horizonSideScroll")
        self.definition_scroll = VerticalScroll(self.definition_label, objectName="horizonDefinitionScroll")
        self.definition_scroll.setMinimumHeight(3 * self.fontMetrics().lineSpacing())

        main = QVBoxLayout()
        main.addWidget(self.plot, 3)
        main.addWidget(self.table)
        main.addWidget(self.definition_scroll, 1)
        layout = QHBoxLayout(self)
        layout.addWidget(self.side_scroll)
        layout.addLayout(main, 1)
        self._fit_table()

    def apply_theme(self, theme: Theme) -> None:
        self.plot.setBackground(theme.base)
        item = self.plot.getPlotItem()
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(theme.muted)
            axis.setTextPen(theme.text)
        self.target_line.setPen(_pen(theme.threshold, 1.5, Qt.PenStyle.DashLine))
        self.target_line.label.setColor(theme.threshold)
        self.chance_line.setPen(_pen(theme.muted, 1.5, Qt.PenStyle.DotLine))
        self.chance_sample.setPen(_pen(theme.muted, 1.5, Qt.PenStyle.DotLine))
        recolour_legend(self.legend, theme.text)
        self.legend.setBrush(pg.mkBrush(theme.base + "C0"))
        for curve in self.curves.values():     # an outline in the background colour parts nested markers
            curve.setSymbolPen(pg.mkPen(theme.base, width=1))

    # ----------------------------------------------------------------- reading the controls
    def lags(self) -> list[int]:
        """The lag grid typed in (sorted, duplicates and out-of-range values dropped)."""
        low, high = FIELDS["lag"].low, FIELDS["lag"].high
        values = {int(p) for p in self.lags_edit.text().replace(" ", "").split(",") if p.isdecimal() and p.isascii()}
        return sorted(v for v in values if low <= v <= high)

    def selected_architectures(self):
        return [a for a in self._config.architectures if self.arch_boxes[a.key].isChecked()]

    def base_settings(self) -> Settings:
        name = self.base_combo.currentText()
        if name == DEFAULT_BASE:
            base = self._config.base_settings()
        else:
            from rnnviz.presets import load_preset

            base = load_preset(name).settings
        return base.replace(task=self.task_combo.currentText())

    def configs(self) -> dict[str, Settings]:
        base = self.base_settings()
        return {arch.label: arch.settings(base) for arch in self.selected_architectures()}

    @property
    def running(self) -> bool:
        return self._job is not None

    # ----------------------------------------------------------------- running
    @Slot()
    def start(self) -> bool:
        """Start a sweep with the current controls; False if one is running or nothing is chosen."""
        if self.running or not self.lags() or not self.selected_architectures():
            return False
        try:
            configs = self.configs()
            budget = self._config.budget(steps=self.steps_spin.value(),
                                         target=self.target_spin.value())
            sweep = Sweep(configs, self.lags(), self.seeds_spin.value(), budget,
                          search="grid" if self.every_lag_box.isChecked() else "bisect")
        except (ValueError, OSError) as exc:   # a bad base preset: say so, keep running
            self.status_label.setText(f"Cannot start: {exc}")
            return False
        self.results.clear()
        self._labels = list(configs)
        self._target = self.target_spin.value()
        self._reset_plot(self.lags())
        self.progress.setRange(0, len(sweep))
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m runs")
        self.status_label.setText(f"Running up to {len(sweep)} runs on {sweep.max_workers} worker "
                                  f"process{'es' * (sweep.max_workers != 1)}…")
        self._sweep = sweep
        self._job = Background(lambda job: _run_sweep(sweep, job), name="horizonSweep", limit_blas=False)
        self._job.yielded.connect(self._add_result)
        self._job.errored.connect(self._failed)
        self._job.finished.connect(self._finished)
        self._set_running(True)
        self._job.start()
        self.sweepStarted.emit(len(sweep))
        return True

    @Slot()
    def cancel(self) -> None:
        """Stop the sweep: running runs end within an iteration, pending ones are dropped."""
        if self._sweep is not None:
            self._sweep.cancel()
            self.cancel_button.setEnabled(False)
            self.status_label.setText("Cancelling…")

    def shutdown(self) -> None:
        """Cancel and wait for the sweep thread (call before the window closes)."""
        if self._job is None:
            return
        self.cancel()
        for signal in (self._job.yielded, self._job.errored, self._job.finished):
            signal.disconnect()   # nothing from this sweep arrives after it is shut down
        self._job.stop(SHUTDOWN_WAIT_S)
        self._cleanup()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        # A word-wrapped label asks for the height of a narrower guess; give it what its text needs
        # at its real width, so the plot gets the rest.
        label = self.definition_label
        label.setMaximumHeight(label.heightForWidth(max(label.width(), 1)))

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    @Slot(object)
    def _add_result(self, result: RunResult) -> None:
        self.results.append(result)
        self.progress.setValue(len(self.results))
        self._redraw(result.arch)
        self._update_table()
        self.resultAdded.emit(result)

    @Slot(object)
    def _failed(self, error: Exception) -> None:
        self.status_label.setText(f"The sweep stopped with an error: {type(error).__name__}: {error}")

    @Slot()
    def _finished(self) -> None:
        cancelled = self._sweep is not None and self._sweep.cancelled
        total = self.progress.maximum()
        if cancelled:
            self.status_label.setText(f"Cancelled after {len(self.results)} of {total} runs.")
        elif not self.status_label.text().startswith("The sweep stopped"):
            seconds = sum(r.seconds for r in self.results)
            self.status_label.setText(f"Done: {len(self.results)} runs "
                                      f"({seconds:.0f} s of training in total).")
            self.progress.setRange(0, len(self.results))   # the search needed no more runs
        self._cleanup()
        self.sweepFinished.emit(cancelled)

    def _cleanup(self) -> None:
        if self._job is not None:
            self._job.deleteLater()
        self._job, self._sweep = None, None
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        for widget in (self.task_combo, self.base_combo, self.lags_edit, self.seeds_spin,
                       self.steps_spin, self.target_spin, self.every_lag_box,
                       *self.arch_boxes.values()):
            widget.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self._update_run_enabled()

    @Slot()
    def _update_run_enabled(self) -> None:
        self.run_button.setEnabled(not self.running and bool(self.lags())
                                   and bool(self.selected_architectures()))

    @Slot(str)
    def _base_changed(self, name: str) -> None:
        if name != DEFAULT_BASE:
            self.task_combo.setCurrentText(_preset_task(name, self.task_combo.currentText()))

    @Slot(float)
    def _target_changed(self, value: float) -> None:
        if not self.running:
            self._target = value
            self.target_line.setPos(value)
            for label in self._labels:
                self._redraw(label)
            self._update_table()

    # ----------------------------------------------------------------- drawing
    def _set_ranges(self, lags: list[int]) -> None:
        low, high = math.log10(min(lags)), math.log10(max(lags))
        pad = max(0.06 * (high - low), 0.1)
        item = self.plot.getPlotItem()
        item.setRange(xRange=(low - pad, high + pad), yRange=(-0.02, 1.04), padding=0)
        # Ticks at the grid's lags (log mode: positions are log10(lag)), not at powers of ten.
        item.getAxis("bottom").setTicks([[(math.log10(lag), str(lag)) for lag in lags], []])

    def _reset_plot(self, lags: list[int]) -> None:
        self.legend.clear()
        for label, curve in self.curves.items():
            curve.setData([], [])
            self.seed_points[label].setData([], [])
            self.horizon_rings[label].setData([], [])
            curve.setVisible(label in self._labels)
            self.seed_points[label].setVisible(label in self._labels)
            if label in self._labels:
                self.legend.addItem(curve, label)
        self.target_line.setPos(self._target)
        self.chance_line.setVisible(False)
        self._set_ranges(lags)
        self.table.setRowCount(0)
        self._update_table()

    def _redraw(self, label: str) -> None:
        runs = [r for r in self.results if r.arch == label]
        if label not in self.curves or not runs:
            return
        by_lag: dict[int, list[float]] = defaultdict(list)
        for r in runs:
            by_lag[r.lag].append(r.accuracy if math.isfinite(r.accuracy) else r.chance)
        lags = np.array(sorted(by_lag), dtype=float)
        shift = self._dodge(label)
        self.curves[label].setData(lags * 10 ** shift, [float(np.mean(by_lag[int(g)])) for g in lags])
        # Scatter items do not follow the plot's log mode: give them log10(lag) themselves.
        self.seed_points[label].setData(
            [math.log10(r.lag) + shift for r in runs],
            [r.accuracy if math.isfinite(r.accuracy) else r.chance for r in runs])
        best = horizon(runs, self._target)
        self.horizon_rings[label].setData(
            [] if best is None else [math.log10(best) + shift],
            [] if best is None else [float(np.mean(by_lag[best]))])
        if not self.chance_line.isVisible():
            self.chance_line.setPos(runs[0].chance)
            self.chance_line.setVisible(True)
            self.legend.addItem(self.chance_sample, f"chance ({runs[0].chance:.0%})")

    def _dodge(self, label: str) -> float:
        """How far (decades of lag) this sweep's curve `label` is drawn from its lags (see DODGE)."""
        index = self._labels.index(label) if label in self._labels else 0
        return (index - (len(self._labels) - 1) / 2) * DODGE

    def _update_table(self) -> None:
        self.table.setRowCount(len(self._labels))
        for row, label in enumerate(self._labels):
            runs = [r for r in self.results if r.arch == label]
            votes = remembered(runs, self._target)
            kept = [lag for lag, ok in votes.items() if ok]
            shown = str(max(kept)) if kept else ("none" if runs else "…")
            cells = (label, shown, str(len(runs)), ", ".join(map(str, kept)) or "–")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (1, 2):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(row, column, item)
        self._fit_table()

    def _fit_table(self) -> None:
        rows = max(self.table.rowCount(), 1)
        height = self.table.horizontalHeader().sizeHint().height() + 2 * self.table.frameWidth()
        height += sum(self.table.rowHeight(r) for r in range(self.table.rowCount())) or \
            self.table.verticalHeader().defaultSectionSize() * rows
        self.table.setFixedHeight(height)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:      # e.g. presentation mode's larger type
            self.definition_scroll.setMinimumHeight(3 * self.fontMetrics().lineSpacing())
            self._fit_table()

    def horizons(self) -> dict[str, int | None]:
        """Each architecture's horizon from the results so far."""
        return {label: horizon([r for r in self.results if r.arch == label], self._target)
                for label in self._labels}

    # ----------------------------------------------------------------- saving
    def save_csv(self, path: str | Path) -> None:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
            writer.writeheader()
            for r in sorted(self.results, key=lambda r: (self._order(r.arch), r.lag, r.seed)):
                writer.writerow({k: v for k, v in r.as_dict().items() if k in CSV_FIELDS})

    def save_png(self, path: str | Path) -> bool:
        return self.plot.grab().save(str(path))

    def _order(self, label: str) -> int:
        return self._labels.index(label) if label in self._labels else len(self._labels)

    @Slot()
    def _ask_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save results as CSV", "horizon.csv",
                                              "CSV files (*.csv)")
        if path:
            self._save(self.save_csv, path)

    @Slot()
    def _ask_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save plot as PNG", "horizon.png",
                                              "PNG images (*.png)")
        if path:
            self._save(self.save_png, path)

    def _save(self, save, path: str) -> None:
        try:
            ok = save(path)
        except OSError as exc:
            ok, why = False, exc.strerror or str(exc)
        else:
            why = "the image could not be written"
        self.status_label.setText(f"Saved {path}." if ok is not False else f"Could not save {path}: {why}")


def _lag_presets() -> list[str]:
    """Presets whose task has a lag (the only ones a horizon can be measured on)."""
    from rnnviz.presets import PresetError, load_preset, preset_names

    names = []
    for name in preset_names():
        try:
            if load_preset(name).settings.task in LAG_TASKS:
                names.append(name)
        except PresetError:
            continue
    return names


def _preset_task(name: str, fallback: str) -> str:
    from rnnviz.presets import PresetError, load_preset

    try:
        task = load_preset(name).settings.task
    except PresetError:
        return fallback
    return task if task in LAG_TASKS else fallback
