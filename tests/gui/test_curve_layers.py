"""Curves that keep their pixels between frames (`rnnviz record`) paint what plain curves paint."""

import numpy as np
from PySide6.QtGui import QColor, QImage

from rnnviz.gui.curves import TrainingCurves
from rnnviz.gui.theme import DARK, LIGHT
from tests.gui.test_curves_and_worker import snap


def pixels(widget) -> np.ndarray:
    image = QImage(widget.width(), widget.height(), QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    widget.render(image)
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.width(), 4).copy()


def batch(start: int, count: int, run: int = 1) -> tuple:
    """Noisy falling losses and gradient norms, every fifth iteration clipped."""
    rng = np.random.default_rng(start)
    return tuple(snap(i, 2.0 / (1 + i / 100) * (1 + 0.3 * rng.random()), 5.0 * (1 + rng.random()),
                      run=run, clipped=i % 5 == 0) for i in range(start, start + count))


def test_kept_curves_paint_the_plain_curves_pixels_and_stroke_only_what_is_new(qtbot):
    plain, kept = TrainingCurves(), TrainingCurves()
    kept.keep_curve_pixels()
    for curves in (plain, kept):
        qtbot.addWidget(curves)
        curves.resize(800, 500)
        curves.show()
        curves.restart(snap(0, 2.0, 5.0))
    layers = kept._layers
    steps = [None] * 12 + [lambda c: c.apply_theme(DARK), None, None, lambda c: c.set_log_scale(True),
                           None, None, lambda c: c.resize(700, 460), None, None, lambda c: c.apply_theme(LIGHT),
                           None, None]
    start, grown = 1, 0
    for k, change in enumerate(steps):
        # 60 iterations a frame: the x axis steps past round numbers (a new transform) and the
        # curves are thinned to about a point per pixel column (pyqtgraph's peak downsampling).
        for curves in (plain, kept):
            curves.show_snapshots(batch(start, 60))
            if change is not None:
                change(curves)
            curves.redraw()
        start += 60
        before = [layer.segments_stroked for layer in layers]
        assert np.array_equal(pixels(plain), pixels(kept)), k
        drawn = [len(layer.curve.xData) for layer in layers]
        new = [after - was for after, was in zip((layer.segments_stroked for layer in layers), before)]
        if all(0 < each < count / 2 for each, count in zip(new[:2] + new[3:], drawn[:2] + drawn[3:])):
            grown += 1     # only the segments added since the last frame were stroked
    assert grown >= 10
    for curves in (plain, kept):    # a new run: the curves shrink, and start again
        curves.restart(snap(0, 2.0, 5.0, run=2))
        curves.show_snapshots(batch(1, 50, run=2))
        curves.redraw()
    assert np.array_equal(pixels(plain), pixels(kept))
    kept.keep_curve_pixels(False)
    assert not kept._layers and "paint" not in vars(kept.smooth_curve.curve)


def test_a_released_layer_leaves_pyqtgraphs_painting_even_when_released_twice(qtbot):
    from rnnviz.gui.curve_layers import CurveLayer

    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curve = curves.smooth_curve.curve
    layer = CurveLayer(curve)
    assert vars(curve)["paint"] == layer.paint
    layer.release()
    layer.release()
    assert "paint" not in vars(curve)
