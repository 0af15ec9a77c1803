"""Recording a live widget: fixed frame rate from a timer, encoding off the GUI thread, a clean stop."""

import av
import numpy as np
import pyqtgraph as pg
import pytest

from rnnviz.gui.recorder import Recorder


@pytest.fixture
def plot(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(320, 240)
    widget.show()
    widget.curve = widget.plot(np.arange(10), np.arange(10))
    return widget


def test_records_a_widget_and_saves_on_stop(qtbot, plot, tmp_path):
    recorder = Recorder(fps=20)
    ticks = []
    recorder.tick.connect(ticks.append)
    recorder.start(plot, tmp_path / "live.mp4")
    assert recorder.recording
    for i in range(5):
        plot.curve.setData(np.arange(10), np.arange(10) ** (1 + i / 4))
        qtbot.wait(60)
    plot.resize(400, 300)          # a resize mid-recording is letterboxed, not an error
    qtbot.wait(120)
    with qtbot.waitSignal(recorder.stopped) as saved:
        path = recorder.stop()
    assert saved.args == [str(path)] and path == tmp_path / "live.mp4" and not recorder.recording
    assert ticks and ticks == sorted(ticks) and recorder.elapsed == 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(video=0))
        assert (stream.width, stream.height) == (320, 240)
        duration = float(frames[-1].pts * frames[-1].time_base)
    assert len(frames) == recorder.frames >= 3
    assert duration > 0.25   # frames carry their wall-clock times
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.mp4"]


def test_bad_path_fails_at_once_and_cancel_leaves_nothing(qtbot, plot, tmp_path):
    recorder = Recorder()
    with pytest.raises(ValueError, match="extension"):
        recorder.start(plot, tmp_path / "x.webm")
    assert not recorder.recording
    recorder.start(plot, tmp_path / "y.gif")
    qtbot.wait(80)
    recorder.cancel()
    assert not recorder.recording and list(tmp_path.iterdir()) == []
