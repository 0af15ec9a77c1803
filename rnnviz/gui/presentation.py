"""Presentation mode: full screen, large type, thick lines, high contrast, advanced controls hidden.

    mode = PresentationMode(window, controls, theme=..., set_theme=...)
    mode.enter()    mode.leave()    mode.toggle(on)    ShortcutOverlay(window)

`enter` remembers everything it changes (window state, application font, theme, which control
groups were visible, each plot's pens and axis fonts) and `leave` puts it all back. The shortcut
overlay (``?``) lists every QAction of the window that has a shortcut, grouped by menu, in type a
back row can read; any key or click closes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyqtgraph as pg
from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QFont, QKeySequence, QPainter
from PySide6.QtWidgets import (QApplication, QComboBox, QGridLayout, QHBoxLayout, QLabel, QLayout, QMainWindow,
                               QVBoxLayout, QWidget)

from rnnviz.gui import dock_columns
from rnnviz.gui.lazy_tab import LazyTab
from rnnviz.gui.theme import OKABE_ITO, Theme

#: Type and lines are this much larger while presenting.
FONT_SCALE = 1.45
LINE_SCALE = 2.0
#: Side-by-side docks may take this share of the screen's width while presenting (at 1280 px the
#: controls and lessons in large type take about half, and Compare's two diagrams need the rest).
DOCKS_SHARE = 0.4
#: Control groups hidden while presenting (lessons set them; the lecture needs η and τ live).
ADVANCED_GROUPS = ("Task", "Model", "Weights")

#: Black on white, saturated Okabe–Ito lines: readable on a washed-out projector, colour-blind safe.
HIGH_CONTRAST = Theme(
    name="high-contrast", window="#FFFFFF", base="#FFFFFF", text="#000000", muted="#3A3A3A",
    highlight="#0050A0",
    loss_raw="#8DB8DD", loss_smooth="#003F7F",
    grad_before="#003F7F", grad_after="#C25400", threshold="#000000",
    clip_event="#B00000", diverged="#B00000", crosshair="#000000",
    banner_background="#FFE2D2", banner_text="#5A0000",
    colormap="cividis", alt_colormap="viridis",
)


@dataclass
class _Saved:
    """What `enter` changed, to restore in `leave`."""

    window_state: Qt.WindowState
    font: QFont
    theme: Theme
    hidden_groups: list = field(default_factory=list)
    pens: list = field(default_factory=list)          # (PlotDataItem, QPen)
    axis_fonts: list = field(default_factory=list)    # (AxisItem, QFont | None)
    legend_sizes: list = field(default_factory=list)  # (LegendItem, label text size)
    layout: QByteArray = field(default_factory=QByteArray)    # QMainWindow.saveState: docks, tool bar
    geometry: QByteArray = field(default_factory=QByteArray)  # QWidget.saveGeometry


class PresentationMode:
    """Switches a main window in and out of presentation mode (see the module doc).

    window: the main window (made full screen, its docks widened, its plots thickened);
    controls: its control panel, whose advanced groups hide; theme: returns the theme in use;
    set_theme: applies a theme to the whole window.
    """

    def __init__(self, window: QMainWindow, controls, *, theme: Callable[[], Theme],
                 set_theme: Callable[[Theme], None]) -> None:
        self.window = window
        self.controls = controls
        self._theme = theme
        self._set_theme = set_theme
        self._saved: _Saved | None = None

    @property
    def on(self) -> bool:
        return self._saved is not None

    def enter(self) -> None:
        """Switch to presentation mode (does nothing if already on)."""
        if self.on:
            return
        window = self.window
        app = QApplication.instance()
        saved = self._saved = _Saved(window.windowState(), QFont(app.font()), self._theme(),
                                     layout=window.saveState(), geometry=window.saveGeometry())
        big = QFont(saved.font)
        big.setPointSizeF(max(saved.font.pointSizeF(), 9.0) * FONT_SCALE)
        app.setFont(big)
        _remeasure(window)
        self._set_theme(HIGH_CONTRAST)
        for tab in window.findChildren(LazyTab):   # tabs not opened yet: built now, so they are dressed too
            tab.ensure()
        _thicken(window, saved, big)
        for name in ADVANCED_GROUPS:
            box = self.controls.groups.get(name)
            if box is not None and box.isVisibleTo(self.controls):
                box.setVisible(False)
                saved.hidden_groups.append(box)
        _fit_docks(window)
        window.showFullScreen()
        # Again once the full-screen geometry has arrived (asynchronous on most window systems).
        QTimer.singleShot(150, window, lambda: self._saved is saved and _fit_docks(window))

    def leave(self) -> None:
        """Back to the normal window: every change of `enter` undone."""
        saved, self._saved = self._saved, None
        if saved is None:
            return
        window = self.window
        QApplication.instance().setFont(saved.font)
        _remeasure(window)
        self._set_theme(saved.theme)
        for item, pen in saved.pens:
            item.setPen(pen)
        for axis, font in saved.axis_fonts:
            axis.setStyle(tickFont=font)
        for legend, size in saved.legend_sizes:
            _size_legend(legend, size)
        for box in saved.hidden_groups:
            box.setVisible(True)
        window.setWindowState(saved.window_state)
        if not saved.window_state & Qt.WindowState.WindowFullScreen:
            window.showNormal() if not saved.window_state & Qt.WindowState.WindowMaximized else window.showMaximized()
        _restore_layout(window, saved)
        # Again once the normal geometry has arrived (asynchronous on most window systems).
        QTimer.singleShot(150, window, lambda: self._saved is None and (_remeasure(window), _restore_layout(window, saved)))

    def toggle(self, on: bool | None = None) -> None:
        on = not self.on if on is None else on
        self.enter() if on else self.leave()


def _fit_docks(window: QMainWindow) -> None:
    """Docks as narrow as their contents allow in the large type, in one column where side by side
    they would take more than `DOCKS_SHARE` of the screen."""
    if dock_columns.crowded(window, DOCKS_SHARE):
        dock_columns.share_one_column(window)
    dock_columns.narrowest(window)


def _remeasure(window: QWidget) -> None:
    """Every widget measured again in the new type, hidden ones too: Qt (6.11) keeps two stale
    sizes across a font change. A QComboBox forgets its size hint but keeps its minimum size hint
    (a style change makes it forget both), and the layouts of hidden tab pages keep their minimum
    sizes until shown, which still counted in the window's minimum size: after presenting, the
    controls and the window stayed as wide as in the large type."""
    QApplication.sendPostedEvents()         # the font change reaches every widget first
    for combo in window.findChildren(QComboBox):
        QApplication.sendEvent(combo, QEvent(QEvent.Type.StyleChange))
    for layout in window.findChildren(QLayout):
        layout.invalidate()
    for widget in window.findChildren(QWidget):
        widget.updateGeometry()


def _restore_layout(window: QMainWindow, saved: _Saved) -> None:
    """The window where and as large as it was, its docks where and as wide as they were."""
    if not saved.window_state & (Qt.WindowState.WindowFullScreen | Qt.WindowState.WindowMaximized):
        window.restoreGeometry(saved.geometry)
    window.restoreState(saved.layout)


def _thicken(window, saved: _Saved, font: QFont) -> None:
    """Thicker curves, larger tick labels and legends in every pyqtgraph plot of the window."""
    tick_font = QFont(font)
    for view in window.findChildren(pg.GraphicsView):
        scene = view.scene()
        if scene is None:
            continue
        for item in scene.items():
            if isinstance(item, pg.PlotDataItem):
                pen = item.opts.get("pen")
                if pen is None:
                    continue
                pen = pg.mkPen(pen)
                saved.pens.append((item, pg.mkPen(pen)))
                if pen.style() != Qt.PenStyle.NoPen:
                    pen.setWidthF(max(pen.widthF(), 1.0) * LINE_SCALE)
                    item.setPen(pen)
            elif isinstance(item, pg.AxisItem):
                saved.axis_fonts.append((item, item.style.get("tickFont")))
                item.setStyle(tickFont=tick_font)
            elif isinstance(item, pg.LegendItem):
                saved.legend_sizes.append((item, item.opts["labelTextSize"]))
                _size_legend(item, f"{font.pointSizeF():.1f}pt")


def _size_legend(legend: pg.LegendItem, size: str) -> None:
    """Every label of `legend`, now and later, in type of `size` (e.g. "13pt")."""
    legend.opts["labelTextSize"] = size
    for _sample, label in legend.items:
        label.setText(label.text, size=size)
    legend.updateSize()


# --------------------------------------------------------------------------- shortcut overlay
def shortcut_rows(window) -> list[tuple[str, str, str]]:
    """(group, action text, keys) for every action of `window` with a shortcut, menus in order."""
    rows, seen = [], set()
    menus = [(m.title().replace("&", ""), m) for m in _menus(window)]
    groups = [(title, menu.actions()) for title, menu in menus] + [("Other", window.actions())]
    for title, actions in groups:
        for action in actions:
            keys = _keys(action)
            if keys and id(action) not in seen:   # a standard key may be empty on this platform
                seen.add(id(action))
                rows.append((title, _text(action), keys))
    return rows


def _menus(window):
    return [a.menu() for a in window.menuBar().actions() if a.menu() is not None]


def _text(action: QAction) -> str:
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…")


def _keys(action: QAction) -> str:
    texts = (s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())
    return ", ".join(t for t in texts if t)


class ShortcutOverlay(QWidget):
    """A translucent sheet over the whole window listing every keyboard shortcut (``?`` to show)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("shortcutOverlay")
        self.window_ = window
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, False)
        self.title = QLabel("Keyboard shortcuts", objectName="shortcutOverlayTitle")
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(28)
        self.grid.setVerticalSpacing(4)
        hint = QLabel("Press any key or click to close", objectName="shortcutOverlayHint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 36, 48, 36)
        layout.addWidget(self.title, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(12)
        centred = QHBoxLayout()
        centred.addStretch(1)
        centred.addLayout(self.grid)
        centred.addStretch(1)
        layout.addLayout(centred)
        layout.addStretch(1)
        layout.addWidget(hint, 0, Qt.AlignmentFlag.AlignHCenter)
        self.setStyleSheet("QLabel { color: white; background: transparent; }"
                           "QLabel#shortcutOverlayTitle { font-size: 22pt; font-weight: 600; }"
                           "QLabel[role='group'] { color: %s; font-weight: 600; padding-top: 8px; }"
                           "QLabel[role='keys'] { font-family: monospace; font-weight: 600; }"
                           "QLabel#shortcutOverlayHint { color: #BBBBBB; }" % OKABE_ITO["yellow"])
        window.installEventFilter(self)
        self.hide()

    def show_overlay(self) -> None:
        self._fill()
        self.setGeometry(self.window_.rect())
        self.raise_()
        self.show()
        self.setFocus()

    def _fill(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        lines: list[tuple[str, str, bool]] = []          # (text, keys, is a heading)
        group = None
        for title, text, keys in shortcut_rows(self.window_):
            if title != group:
                group = title
                lines.append((title, "", True))
            lines.append((text, keys, False))
        half = (len(lines) + 1) // 2                      # two columns of (keys, action)
        if half < len(lines) and lines[half - 1][2]:       # never end a column on a heading
            half += 1
        for index, (text, keys, heading) in enumerate(lines):
            column, line = (0, index) if index < half else (3, index - half)
            if heading:
                label = QLabel(text)
                label.setProperty("role", "group")
                self.grid.addWidget(label, line, column + 1)
                continue
            key = QLabel(keys)
            key.setProperty("role", "keys")
            self.grid.addWidget(key, line, column, Qt.AlignmentFlag.AlignRight)
            self.grid.addWidget(QLabel(text), line, column + 1)
        self.grid.setColumnMinimumWidth(2, 64)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0, 232))
        painter.end()

    def keyPressEvent(self, event) -> None:
        self.hide()
        event.accept()

    def mousePressEvent(self, event) -> None:
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window_ and event.type() == QEvent.Type.Resize and self.isVisible():
            self.setGeometry(self.window_.rect())
        return False
