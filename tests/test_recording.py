"""Headless recording: the CLI's checks, a tiny real recording, and reproducibility."""

import av
import numpy as np
import pytest

from rnnviz.cli import main
from rnnviz.recording import parse_size, record
from rnnviz.settings import Settings

pytestmark = [pytest.mark.qt_log_ignore("propagateSizeHints")]

TINY = Settings(task="recall", lag=4, hidden=6, batch=4)


def decode(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        info = (stream.codec_context.name, stream.codec_context.pix_fmt, stream.width, stream.height)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return info, frames


@pytest.mark.parametrize("argv, words", [
    (["--out", "{tmp}/demo.avi"], "extension '.avi'"),
    (["--out", "{tmp}/missing/demo.mp4"], "does not exist"),
    (["--out", "{tmp}/demo.mp4", "--size", "big"], "--size must be WIDTHxHEIGHT"),
    (["--out", "{tmp}/demo.mp4", "--size", "10x10"], "out of range"),
    (["--out", "{tmp}/demo.mp4", "--preset", "nope"], "unknown preset 'nope'"),
])
def test_bad_input_exits_2_with_one_line_and_no_file(capsys, tmp_path, argv, words):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if "--preset" not in argv:
        argv += ["--preset", "vanishing"]
    code = main(["record", *argv])
    _, err = capsys.readouterr()
    assert code == 2 and words in err and err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_parse_size():
    assert parse_size("1280x720") == (1280, 720) and parse_size(" 640 X 360 ") == (640, 360)


def test_one_second_recording_of_the_curves(qapp, tmp_path):
    result = record(TINY, tmp_path / "tiny.mp4", seconds=1, fps=8, size=(320, 240), view="curves",
                    iterations_per_frame=3)
    (codec, pix_fmt, width, height), frames = decode(result.path)
    assert (codec, pix_fmt, width, height) == ("h264", "yuv420p", 320, 240)
    assert len(frames) == result.frames == 8 and result.iterations == 21
    assert frames[0].std() > 10                                 # something is drawn
    assert np.abs(frames[-1].astype(int) - frames[0]).mean() > 0.5   # and it changes as training runs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.mp4"]


def test_same_preset_and_seed_give_identical_frames(qapp, tmp_path):
    kwargs = dict(seconds=0.5, fps=8, size=(480, 320), view="window", iterations_per_frame=2)
    record(TINY, tmp_path / "a.mp4", **kwargs)
    record(TINY, tmp_path / "b.mp4", **kwargs)
    _, a = decode(tmp_path / "a.mp4")
    _, b = decode(tmp_path / "b.mp4")
    assert len(a) == len(b) == 4
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_stepper_recording_plays_every_frame(qapp, tmp_path):
    # T = lag + 2 = 4: 2T + 1 = 9 stepper frames in 1 s at 9 fps, one video frame each.
    result = record(TINY.replace(lag=2), tmp_path / "bptt.gif", seconds=1, fps=9, size=(640, 400),
                    view="stepper", iterations_per_frame=0)
    (codec, _, width, height), frames = decode(result.path)
    assert codec == "gif" and (width, height) == (640, 400) and len(frames) == 9
    assert not np.array_equal(frames[0], frames[-1])


def test_cli_writes_the_video(capsys, tmp_path):
    out = tmp_path / "cli.mp4"
    code = main(["record", "--preset", "vanishing", "--set", "lag=3", "--set", "hidden=4", "--out", str(out),
                 "--seconds", "0.5", "--fps", "4", "--size", "320x200", "--view", "curves",
                 "--iterations-per-frame", "2"])
    printed, _ = capsys.readouterr()
    assert code == 0 and f"wrote {out}" in printed and "2 iterations" in printed
    assert len(decode(out)[1]) == 2
