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

    def more_frames(count):
        frames = recorder.frames
        qtbot.waitUntil(lambda: recorder.frames >= frames + count, timeout=10_000)

    for i in range(5):
        plot.curve.setData(np.arange(10), np.arange(10) ** (1 + i / 4))
        more_frames(1)
    plot.resize(400, 300)          # a resize mid-recording is letterboxed, not an error
    more_frames(2)
    with qtbot.waitSignal(recorder.stopped) as saved:
        elapsed = recorder.elapsed
        path = recorder.stop()
    assert saved.args == [str(path)] and path == tmp_path / "live.mp4" and not recorder.recording
    assert ticks and ticks == sorted(ticks) and recorder.elapsed == 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(video=0))
        assert (stream.width, stream.height) == (320, 240)
        duration = float(frames[-1].pts * frames[-1].time_base)
    assert len(frames) == recorder.frames >= 7
    # Frames carry their wall-clock times: at least 1/fps apart, the last no later than the stop.
    # A frame's time is its capture time rounded to the nearest 1/fps, so the last can lie up to
    # half a frame after the last moment read before the stop.
    assert (len(frames) - 1) / 20 <= duration <= elapsed + 0.5 / 20
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
