"""Curves that keep the pixels they drew, for recordings: each frame strokes only what was added.

A recording paints the Training page every video frame, and pyqtgraph strokes every segment of
every curve again each time. Lines wider than a pixel go through Qt's generic stroker there (the
plot's scale transform is not uniform, which rules out Qt's fast line path): about a fifth of the
painting thread's time filming the lstm preset. Between two frames a curve usually only grows at its
end: the points it drew last time are the first points it draws now, under the same transform and
pen.

`CurveLayer` keeps what its curve drew in a transparent image the size of the paint device, in
device pixels: when the points drawn last time begin the new data and nothing else changed, it
strokes only the new segments into the image, then draws the image. That is exact: the segments are
drawn without antialiasing in an opaque pen, so each pixel of the image is either the pen's colour
or untouched, and stroking one segment does not depend on the others (Qt strokes and fills a few
segments at a time). Drawing the image over the plot therefore gives the very pixels stroking every
segment onto the plot gives. Anything else (another transform or pen, a device of another size,
data that does not extend the last, a hi-DPI or non-translating device offset, a pen pyqtgraph does
not draw as separate segments) paints the plain way, and the image starts again.

Memory: one 32-bit image of the paint device's size per curve, only while on: `rnnviz record` keeps
four (3.7 MB each at 1280×720, 15 MB in all; 133 MB in all at 3840×2160).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.PlotCurveItem import arrayToLineSegments
from PySide6.QtCore import QLineF, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QImage, QPainter, QPen, QTransform

_TRANSLATE = QTransform.TransformationType.TxTranslate.value
_PROJECT = QTransform.TransformationType.TxProject.value
#: Ways of joining points whose segments can be drawn from where the last drawing stopped: the
#: number of points kept that the new segments start from ("pairs": none; the others: the last one).
_REDRAWN_POINTS = {"all": 1, "finite": 1, "pairs": 0}
#: New points at most that are stroked from a list of lines rather than pyqtgraph's arrays.
_FEW_POINTS = 32
#: Pixels around the points' bounding box that a stroke may reach beyond half the pen width.
_MARGIN = 2


def _entries(transform: QTransform) -> tuple[float, ...]:
    """The transform's nine numbers (exact comparison: QTransform's == allows a tolerance)."""
    return (transform.m11(), transform.m12(), transform.m13(), transform.m21(), transform.m22(),
            transform.m23(), transform.m31(), transform.m32(), transform.m33())


class CurveLayer:
    """Paints `curve` (a PlotCurveItem) from the pixels it kept, stroking only new segments (see the
    module doc). `release()` restores pyqtgraph's own painting."""

    def __init__(self, curve: pg.PlotCurveItem) -> None:
        self.curve = curve
        self.segments_stroked = 0      # segments stroked into the image so far (tests)
        self._image: QImage | None = None
        self._inked = QRect()          # the part of the image that may hold the curve's pixels
        self._state = None             # (device transform, pen, connect, image size) of the image
        self._x = self._y = None       # the points drawn into it
        self._segments = None          # pyqtgraph's reusable array of QLineF
        curve.paint = self.paint       # PySide calls a paint set on the instance

    def release(self) -> None:
        vars(self.curve).pop("paint", None)   # pyqtgraph's own paint again (twice is harmless)
        self._image = self._x = self._y = None

    def paint(self, painter: QPainter, option, widget) -> None:
        try:
            kept = self._paint_kept(painter)
        except BaseException:
            self._image = None     # the next paint starts again from nothing
            raise
        if not kept:
            self._image = None
            type(self.curve).paint(self.curve, painter, option, widget)

    def _paint_kept(self, painter: QPainter) -> bool:
        """Stroke what is new into the image and draw it; False when this paint cannot be kept exactly."""
        curve = self.curve
        x, y = curve.xData, curve.yData
        opts = curve.opts
        pen, connect = opts["pen"], opts["connect"]
        if (x is None or len(x) < 2 or opts["fillLevel"] is not None or opts["shadowPen"] is not None
                or opts["stepMode"] or opts["compositionMode"] is not None or curve._exportOpts is not False
                or not isinstance(connect, str) or connect not in _REDRAWN_POINTS
                or not curve._shouldUseDrawLineSegments(pen)):
            return False
        device = painter.deviceTransform()
        if device.type().value >= _PROJECT:
            return False
        painter.save()
        try:
            return self._paint_untransformed(painter, x, y, device, pen, connect)
        finally:
            painter.restore()

    def _paint_untransformed(self, painter: QPainter, x: np.ndarray, y: np.ndarray, device: QTransform,
                             pen: QPen, connect: str) -> bool:
        """`_paint_kept`'s work once the painter's state is saved; it is restored afterwards."""
        opts = self.curve.opts
        painter.resetTransform()
        offset = painter.deviceTransform()    # device pixels from the painter's own coordinates
        if (offset.type().value > _TRANSLATE or not float(offset.dx()).is_integer()
                or not float(offset.dy()).is_integer()):
            return False
        target = painter.paintEngine().paintDevice()   # what is painted on (a widget is redirected)
        size = (target.width(), target.height())
        state = (_entries(device), QPen(pen), connect, size)
        start, stale = 0, self._inked
        if (self._image is not None and state == self._state and self._extends(x, y)
                and (connect != "pairs" or len(self._x) % 2 == 0)):
            start, stale = max(0, len(self._x) - _REDRAWN_POINTS[connect]), QRect()
        elif self._image is None or (self._image.width(), self._image.height()) != size:
            self._image = QImage(size[0], size[1], QImage.Format.Format_ARGB32_Premultiplied)
            self._image.fill(0)
            stale = QRect()
        if start == 0:
            self._inked = QRect()
        if len(x) - start >= 2 or not stale.isEmpty():
            self._draw(x[start:], y[start:], device, pen, connect, opts["skipFiniteCheck"], stale)
        self._state, self._x, self._y = state, np.array(x), np.array(y)
        if not self._inked.isEmpty():
            inked = self._inked
            painter.drawImage(QPointF(inked.x() - offset.dx(), inked.y() - offset.dy()), self._image, QRectF(inked))
        return True

    def _extends(self, x: np.ndarray, y: np.ndarray) -> bool:
        count = len(self._x)
        return (len(x) >= count and np.array_equal(x[:count], self._x)
                and np.array_equal(y[:count], self._y))

    def _draw(self, x: np.ndarray, y: np.ndarray, device: QTransform, pen: QPen, connect: str,
              skip_finite_check: bool, stale: QRect) -> None:
        """Clear the stale part of the image, stroke the segments of these points into it as pyqtgraph
        draws them, and widen the inked part to cover them."""
        painter = QPainter(self._image)
        if not stale.isEmpty():
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
            painter.fillRect(stale, Qt.GlobalColor.transparent)
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
        finite = np.isfinite(x) & np.isfinite(y)
        if len(x) < 2 or not finite.any():
            painter.end()
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setWorldTransform(device)
        painter.setPen(pen)
        step = 2 if connect == "pairs" else 1
        if len(x) <= _FEW_POINTS and finite.all():   # a frame's few new points: no arrays to set up
            xs, ys = x.tolist(), y.tolist()
            painter.drawLines([QLineF(xs[i], ys[i], xs[i + 1], ys[i + 1]) for i in range(0, len(xs) - 1, step)])
        else:
            self._segments = arrayToLineSegments(x, y, connect=connect, finiteCheck=not skip_finite_check,
                                                 out=self._segments)
            painter.drawLines(*self._segments.drawargs())
        painter.end()
        self.segments_stroked += len(x) // 2 if connect == "pairs" else len(x) - 1
        xs, ys = x[finite], y[finite]
        corners = QRectF(QPointF(float(xs.min()), float(ys.min())), QPointF(float(xs.max()), float(ys.max())))
        reach = math.ceil(pen.widthF()) + _MARGIN
        box = device.mapRect(corners.normalized()).toAlignedRect().adjusted(-reach, -reach, reach, reach)
        self._inked = self._inked.united(box) & self._image.rect()
