"""Getting things out of the app: plots as PNG or SVG, the metrics history as CSV, settings as a preset.

- `save_plot(plot, path)`: a pyqtgraph plot (PlotWidget, PlotItem or GraphicsLayoutWidget) to .png
  (pyqtgraph's ImageExporter, at `scale` × its size on screen) or .svg (Qt's SVG generator).
- `MetricsLog`: a view (``show_snapshots`` / ``restart``) that keeps every snapshot's scalars of the
  current run; `write_csv(path)` saves them. Memory is bounded: past `capacity` rows, every other
  row of the older half is dropped, so an hour-long run still exports in one piece (evenly thinned).
- `settings_preset(settings, ...)`, `save_settings_preset(...)`, `settings_toml(...)`: the current
  settings as a preset file that `rnnviz.presets.load_preset` reads back to equal settings.

`ExportActions` holds the File-menu actions for all of it (``savePlotAction``, ``exportCsvAction``,
``savePresetAction``, ``copyPresetAction``).
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QWidget

from rnnviz.presets import Preset, PresetError, preset_toml, save_preset
from rnnviz.settings import Settings

PLOT_FORMATS = (".png", ".svg")

#: Columns of the metrics CSV, in order.
CSV_COLUMNS = ("run", "iteration", "loss", "accuracy", "grad_norm", "grad_norm_clipped", "clipped",
               "clip_events", "W_H_norm", "status")
#: Rows kept before the older half is thinned 2:1.
METRICS_CAPACITY = 200_000


class ExportError(ValueError):
    """An export target is unusable; the message says which and why."""


# --------------------------------------------------------------------------- plots
def _plot_item(plot):
    """The item pyqtgraph's exporters take: a PlotItem/GraphicsLayout's scene item."""
    if isinstance(plot, pg.PlotWidget):
        return plot.getPlotItem()
    if isinstance(plot, pg.GraphicsLayoutWidget):
        return plot.ci
    if isinstance(plot, pg.GraphicsView):
        return plot.scene()
    return plot


def _view_of(plot) -> QWidget:
    """The widget showing a plot (a PlotItem's first view)."""
    if isinstance(plot, QWidget):
        return plot
    return plot.scene().views()[0]


def _save_svg(widget: QWidget, path: Path) -> None:
    """Paint the plot's widget into an SVG (vector: lines stay lines, text stays text).

    pyqtgraph 0.14's SVGExporter fails on closed paths ("M… Z", pyqtgraph issue #3495), which every
    plot with a legend or filled marker has; Qt's own SVG generator has no such problem.
    """
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(widget.size())
    generator.setViewBox(QRect(0, 0, widget.width(), widget.height()))
    generator.setResolution(widget.logicalDpiX())   # else 72 dpi: axes drawn at 3/4 scale
    generator.setTitle(widget.objectName() or "rnnviz plot")
    generator.setDescription("Exported from rnnviz")
    painter = QPainter(generator)
    try:
        widget.render(painter)
    finally:
        painter.end()


def save_plot(plot, path: str | os.PathLike, *, scale: float = 2.0) -> Path:
    """Save a pyqtgraph plot as .png (pyqtgraph's ImageExporter, `scale` × its on-screen size) or .svg."""
    import pyqtgraph.exporters as exporters

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in PLOT_FORMATS:
        raise ExportError(f"cannot save a plot as {path.name!r}: use .png or .svg")
    if not path.parent.is_dir():
        raise ExportError(f"cannot save {path.name!r}: directory {str(path.parent)!r} does not exist")
    if suffix == ".png":
        exporter = exporters.ImageExporter(_plot_item(plot))
        width = int(exporter.parameters()["width"])
        if width > 0:
            exporter.parameters()["width"] = int(width * scale)
        exporter.export(str(path))
    else:
        _save_svg(_view_of(plot), path)
    if not path.is_file():
        raise ExportError(f"could not write {path}")
    return path


def named_plots(root: QWidget) -> dict[str, pg.PlotWidget | pg.GraphicsLayoutWidget]:
    """The pyqtgraph plots under `root` that have an objectName, by name (e.g. lossPlot, gradPlot)."""
    plots = {}
    for widget in root.findChildren(pg.GraphicsView):
        name = widget.objectName()
        if name and widget.isVisibleTo(root):
            plots[name] = widget
    if isinstance(root, pg.GraphicsView) and root.objectName():
        plots[root.objectName()] = root
    return plots


# --------------------------------------------------------------------------- metrics
class MetricsLog:
    """Every snapshot's scalars for the current run (a view: the window feeds it like the plots).

    Rows are kept as one float64 array (the CSV's columns, the status as a code), 88 bytes a row: a
    tuple of Python numbers per row took ~350 bytes, so a run at several hundred iterations a second
    grew by ~65 MB before the first thinning. When `capacity` rows are held, the older half is
    thinned 2:1, so memory stays bounded (at most capacity × 88 bytes). The table is reserved at its
    full size once: the system hands its pages over only as rows are written, and nothing is copied
    to grow it (growing by doubling left ~13 MB more resident at the cap than the rows need)."""

    def __init__(self, capacity: int = METRICS_CAPACITY) -> None:
        self.capacity = max(4, capacity)
        self._table = np.empty((self.capacity + 1, _WIDTH))
        self._count = 0
        self._run: int | None = None

    def __len__(self) -> int:
        return self._count

    def restart(self, snapshot) -> None:
        self._count = 0
        self._run = snapshot.run
        self.show_snapshots((snapshot,))

    def show_snapshots(self, snapshots: tuple) -> None:
        last = self._table[self._count - 1, 1] if self._count else -math.inf
        rows = []
        for s in snapshots:
            if self._run is not None and s.run != self._run:
                continue
            if s.iteration <= last:
                continue  # a diverged run repeats its last snapshot
            rows.append(_encoded(s))
            last = s.iteration
        while rows:   # a block at a time (a row at a time cost as much again), thinned when full
            room = self.capacity + 1 - self._count
            block, rows = rows[:room], rows[room:]
            self._table[self._count: self._count + len(block)] = block
            self._count += len(block)
            if self._count > self.capacity:
                self._thin()

    def _thin(self) -> None:
        """Every other row of the older half goes."""
        half = self._count // 2
        older = (half + 1) // 2                      # rows 0, 2, 4, … of the older half
        self._table[:older] = self._table[:half:2]   # numpy buffers overlapping copies
        self._table[older: older + self._count - half] = self._table[half: self._count]
        self._count = older + self._count - half

    def rows(self) -> list[tuple]:
        return [_decoded(values) for values in self._table[: self._count]]

    def write_csv(self, path: str | os.PathLike) -> Path:
        return write_metrics_csv(self.rows(), path)


def row(snapshot) -> tuple:
    """One CSV row of a snapshot (inf and NaN written as inf/nan, a missing accuracy as empty).
    The log stores it encoded (`_encoded`, read straight off the snapshot; tested against this)."""
    s = snapshot
    return (s.run, s.iteration, s.loss, s.accuracy, s.grad_norm, s.grad_norm_clipped, int(s.clipped),
            s.clip_events, s.param_norms.get("W_H", math.nan), s.status)


#: The status column's values, stored by their index.
STATUSES = ("ok", "diverged")
_INTEGERS = (0, 1, 6, 7)     # run, iteration, clipped, clip_events
_WIDTH = len(CSV_COLUMNS) + 1   # and whether the task has an accuracy (None is not NaN)


def _encoded(s) -> list:
    """A snapshot's `row` as the table stores it: the status by its index in `STATUSES`, then
    whether the task has an accuracy (`_decoded` gives the row back). Read straight off the
    snapshot rather than through `row`: it runs for every iteration, in the GUI thread."""
    accuracy = s.accuracy
    return [s.run, s.iteration, s.loss, math.nan if accuracy is None else accuracy, s.grad_norm,
            s.grad_norm_clipped, s.clipped, s.clip_events, s.param_norms.get("W_H", math.nan),
            STATUSES.index(s.status), accuracy is not None]


def _decoded(values: np.ndarray) -> tuple:
    out: list = [float(v) for v in values[:-2]]
    for i in _INTEGERS:
        out[i] = int(out[i])
    if not values[-1]:
        out[3] = None
    return (*out, STATUSES[int(values[-2])])


def write_metrics_csv(rows, path: str | os.PathLike) -> Path:
    """Write rows (from `row`) with a header line; written whole to a temporary file first."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise ExportError(f"cannot export metrics to {path.name!r}: use a .csv file")
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for r in rows:
                writer.writerow(["" if v is None else (repr(v) if isinstance(v, float) else v) for v in r])
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def read_metrics_csv(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The numeric columns of an exported CSV as float arrays (for tests and notebooks)."""
    with open(path, newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    return {name: np.array([float(r[name]) if r[name] != "" else math.nan for r in records])
            for name in CSV_COLUMNS if name != "status"}


# --------------------------------------------------------------------------- settings as a preset
def settings_preset(settings: Settings, name: str = "custom", title: str = "My settings",
                    commentary: str = "", steps: int = Preset.steps) -> Preset:
    return Preset(name, title, commentary, settings, steps)


def settings_toml(settings: Settings, title: str = "My settings", commentary: str = "") -> str:
    """The settings as preset TOML text (what "Copy settings" puts on the clipboard)."""
    return preset_toml(settings_preset(settings, title=title, commentary=commentary))


def save_settings_preset(settings: Settings, path: str | os.PathLike, title: str | None = None,
                         commentary: str = "") -> Path:
    """Save the settings as a preset file; `load_preset(path).settings == settings`."""
    path = Path(path)
    if path.suffix != ".toml":
        raise ExportError(f"a preset file must end in .toml, got {path.name!r}")
    try:
        save_preset(settings_preset(settings, path.stem, title or path.stem, commentary), path)
    except PresetError as exc:
        raise ExportError(str(exc)) from None
    return path


# --------------------------------------------------------------------------- in the main window
class ExportActions(QObject):
    """The File-menu actions (``savePlotAction``, ``exportCsvAction``, ``savePresetAction``,
    ``copyPresetAction``) in `actions`, for the window to place.

    parent: the widget dialogs open over; metrics: the run's `MetricsLog`; settings: returns the
    settings to save; page: returns the widget whose plots "Save plot" offers (the shown tab);
    report(message): tells the user an export failed; note(message): a passing status note.
    """

    def __init__(self, parent: QWidget, metrics: MetricsLog, *, settings: Callable[[], Settings],
                 page: Callable[[], QWidget], report: Callable[[str], None],
                 note: Callable[[str], None]) -> None:
        super().__init__(parent)
        self._parent = parent
        self.metrics = metrics
        self._settings = settings
        self._page = page
        self._report = report
        self._note = note
        self.actions: list[QAction] = []
        for name, text, keys, slot in (
                ("savePlotAction", "Save &plot as PNG/SVG…", "Ctrl+Shift+P", self.save_plot_dialog),
                ("exportCsvAction", "&Export metrics as CSV…", "Ctrl+Shift+E", self.export_csv_dialog),
                ("savePresetAction", "Save settings as p&reset…", "Ctrl+S", self.save_preset_dialog),
                ("copyPresetAction", "&Copy settings as preset TOML", "Ctrl+Shift+T", self.copy_preset)):
            action = QAction(text, parent, objectName=name)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(slot)
            self.actions.append(action)

    def save_plot_dialog(self) -> None:
        plots = named_plots(self._page() or self._parent)
        if not plots:
            self._note("This tab has no plot to save.")
            return
        names = sorted(plots)
        name = names[0]
        if len(names) > 1:
            name, ok = QInputDialog.getItem(self._parent, "Save plot", "Plot:", names, 0, False)
            if not ok:
                return
        path, _ = QFileDialog.getSaveFileName(self._parent, "Save plot", f"{name}.png",
                                              "PNG image (*.png);;SVG drawing (*.svg)")
        if path:
            try:
                self._note(f"Saved {save_plot(plots[name], path)}")
            except (ExportError, OSError) as exc:
                self._report(str(exc))

    def export_csv_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self._parent, "Export metrics", "metrics.csv", "CSV (*.csv)")
        if path:
            try:
                self._note(f"Exported {len(self.metrics)} rows to {self.metrics.write_csv(path)}")
            except ExportError as exc:
                self._report(str(exc))

    def save_preset_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self._parent, "Save settings as preset", "my-preset.toml",
                                              "Preset (*.toml)")
        if path:
            if not path.endswith(".toml"):
                path += ".toml"
            try:
                self._note(f"Saved preset {save_settings_preset(self._settings(), path)}")
            except ExportError as exc:
                self._report(str(exc))

    def copy_preset(self) -> None:
        QApplication.clipboard().setText(settings_toml(self._settings()))
        self._note("Settings copied as preset TOML.")
