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


def test_settings_too_big_for_memory_are_refused_before_anything_starts(tmp_path, monkeypatch):
    import rnnviz.memory_budget
    from rnnviz.errors import LimitError

    monkeypatch.setattr(rnnviz.memory_budget, "available_bytes", lambda: 1_000_000)
    with pytest.raises(LimitError, match="lower hidden, batch or the sequence length"):
        record(TINY.replace(hidden=256, batch=256), tmp_path / "big.mp4", seconds=1)
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


@pytest.mark.parametrize("argv, words", [
    (["--out", "{tmp}/x.mp4"], "one of the arguments --preset --lesson --all-lessons is required"),
    (["--out", "{tmp}/x.mp4", "--preset", "vanishing", "--lesson", "2"], "not allowed with argument --preset"),
    (["--out", "{tmp}/x.mp4", "--lesson", "2", "--all-lessons"], "not allowed with argument --lesson"),
    (["--out", "{tmp}/x.mp4", "--lesson", "99"], "unknown lesson '99'; lessons: 01-bptt"),
    (["--out", "{tmp}/x.mp4", "--lesson", "nope"], "unknown lesson 'nope'"),
    (["--out", "{tmp}/x.mp4", "--all-lessons"], "into a directory"),
    (["--out", "{tmp}/missing/videos", "--all-lessons"], "does not exist"),
])
def test_bad_lesson_arguments_exit_2_with_one_line_and_no_file(capsys, tmp_path, argv, words):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(main(["record", *argv]))
    _, err = capsys.readouterr()
    assert exit_info.value.code == 2 and words in err and err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def takes(monkeypatch):
    """`record` calls made by the CLI, without rendering."""
    import rnnviz.recording as recording

    calls = []

    def fake(settings, out, **kwargs):
        calls.append(dict(kwargs, settings=settings, out=out))
        return recording.RecordResult(out, 1, kwargs["fps"], kwargs["size"], 0, 0.0)

    monkeypatch.setattr(recording, "record", fake)
    return calls


def test_lesson_by_number_or_name_records_its_settings_on_its_view(takes, tmp_path, capsys):
    from rnnviz.lessons import find_lesson, load_lessons

    lessons = {lesson.view: lesson for lesson in load_lessons()}
    stepper, gradients = lessons["stepper"], lessons["gradients"]
    assert find_lesson(str(stepper.number)) == find_lesson(f"{stepper.number:02d}") == stepper
    assert main(["record", "--lesson", str(stepper.number), "--out", str(tmp_path / "a.mp4")]) == 0
    assert main(["record", "--lesson", gradients.name, "--set", "seed=7", "--out", str(tmp_path / "b.mp4"),
                 "--seconds", "2", "--fps", "10"]) == 0
    a, b = takes
    assert a["view"] == "stepper" and a["iterations_per_frame"] == 0 and a["settings"] == stepper.settings
    assert b["view"] == "window" and b["tab"] == "gradients" and b["preset"].title == gradients.title
    assert b["settings"] == gradients.settings.replace(seed=7)
    assert b["iterations_per_frame"] == max(1, round(gradients.steps / 19))
    assert capsys.readouterr().out.count("wrote ") == 2


def test_all_lessons_writes_one_mp4_per_lesson_into_a_new_directory(takes, tmp_path):
    from rnnviz.lessons import load_lessons

    out = tmp_path / "videos"
    assert main(["record", "--all-lessons", "--out", str(out), "--iterations-per-frame", "3"]) == 0
    lessons = load_lessons()
    assert [t["out"] for t in takes] == [out / f"{lesson.name}.mp4" for lesson in lessons]
    assert [t["settings"] for t in takes] == [lesson.settings for lesson in lessons]
    assert all(t["iterations_per_frame"] == 3 for t in takes) and out.is_dir()


def test_a_lesson_really_renders(qapp, tmp_path):
    from rnnviz.lessons import load_lessons

    curves = next(lesson for lesson in load_lessons() if lesson.view == "curves")
    out = tmp_path / "lesson.mp4"
    assert main(["record", "--lesson", curves.name, "--set", "hidden=4", "--set", "batch=4",
                 "--out", str(out), "--seconds", "0.5", "--fps", "4", "--size", "320x240",
                 "--iterations-per-frame", "1"]) == 0
    (codec, _, width, height), frames = decode(out)
    assert (codec, width, height) == ("h264", 320, 240) and len(frames) == 2


def test_a_lesson_with_a_remedy_films_the_divergence_then_the_remedy(qapp, tmp_path, capsys):
    """Lesson 6: the run explodes (the banner) in the first act, the same run with clipping trains
    in the second; the caption names what changed."""
    from rnnviz.lessons import load_lessons
    from rnnviz.recording import PROBLEM_SHARE, lesson_take, record_take

    lesson = next(lesson for lesson in load_lessons() if lesson.remedy)
    take = lesson_take(lesson, tmp_path / "remedy.mp4", 40)
    assert take.remedy == lesson.remedy_settings and take.iterations_per_frame < 1   # watched one by one
    result = record_take(take, seconds=4, fps=10, size=(320, 240))
    assert result.diverged_at is not None and result.diverged_at < 40 * PROBLEM_SHARE * take.iterations_per_frame + 1
    assert result.iterations > result.diverged_at + 10          # the remedy's run trained on
    _, frames = decode(result.path)
    assert len(frames) == 40


def test_the_remedy_caption_names_each_change():
    from rnnviz.recording import _remedy_caption

    before = Settings(clip="none")
    assert _remedy_caption(before, before.replace(clip="norm", lr=0.5)) == \
        "Remedy: lr 0.001 → 0.5, clip none → norm; the same seed and everything else"


def test_frames_that_keep_the_docks_are_the_frames_painted_whole(qapp, tmp_path, monkeypatch):
    """The camera copies the docks and bars instead of painting them again while nothing reached
    them: no pixel may differ from painting every frame whole. Lesson 6 (its lessons dock, the
    explosion's banner, the remedy's restart and caption) filmed both ways gives the same video."""
    from rnnviz.lessons import load_lessons
    from rnnviz.recording import WindowTarget, lesson_take, record_take

    lesson = next(lesson for lesson in load_lessons() if lesson.remedy)
    kwargs = dict(seconds=3, fps=10, size=(1280, 720))
    kept = record_take(lesson_take(lesson, tmp_path / "kept.mp4", 30), **kwargs)
    monkeypatch.setattr(WindowTarget, "still_widgets", lambda self: (0, []))
    whole = record_take(lesson_take(lesson, tmp_path / "whole.mp4", 30), **kwargs)
    assert whole.whole_frames == 30 and kept.whole_frames < 30 / 2   # most frames kept the docks
    _, a = decode(kept.path)
    _, b = decode(whole.path)
    assert len(a) == len(b) == 30
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def _still_and_moving_labels():
    """A 160×60 widget of two labels, laid out: (widget, the still one, the moving one, size)."""
    from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

    from rnnviz.recording import settle

    widget = QWidget()
    layout = QHBoxLayout(widget)
    still, moving = QLabel("still"), QLabel("0")
    layout.addWidget(still)
    layout.addWidget(moving)
    size = (160, 60)
    widget.resize(*size)
    settle(widget)
    return widget, still, moving, size


def test_a_buffer_handed_in_again_gets_the_same_pixels_as_a_fresh_one(qapp):
    """Frames that keep the still widgets skip copying them into a buffer that holds them already
    (the encoder's spares come round): buffers that come round, new buffers full of noise and a
    still widget that changes (a new version) all give the frames of a camera that paints whole."""
    from rnnviz.recording import Camera

    widget, still, moving, size = _still_and_moving_labels()
    version = [0]
    kept = Camera(widget, size, still=lambda: (version[0], [still]))
    whole = Camera(widget, size)
    rng = np.random.default_rng(0)
    pool = [rng.integers(0, 256, (size[1], size[0], 4), dtype=np.uint8) for _ in range(3)]
    for k in range(12):
        moving.setText(str(k))
        if k == 6:
            still.setText("changed")
            version[0] += 1
        into = pool[k % 3] if k % 4 else rng.integers(0, 256, (size[1], size[0], 4), dtype=np.uint8)
        assert np.array_equal(kept.frame(into), whole.frame()), k
    assert kept.whole_frames == 2
    widget.close()


def test_a_buffer_painted_whole_without_still_widgets_gets_them_again(qapp):
    """A frame painted whole while no widget is listed as still paints over the still pixels a
    buffer held: when the same still pixels come back (same version), that buffer gets them again."""
    from rnnviz.recording import Camera

    widget, still, moving, size = _still_and_moving_labels()
    listed = [True]
    kept = Camera(widget, size, still=lambda: (0, [still] if listed[0] else []))
    whole = Camera(widget, size)
    a, b = (np.zeros((size[1], size[0], 4), np.uint8) for _ in range(2))
    for k, (into, listing) in enumerate([(a, True), (a, False), (b, True), (a, True)]):
        listed[0] = listing
        moving.setText(str(k))
        still.setText("still" if listing else "")     # what a frame without it shows there
        assert np.array_equal(kept.frame(into), whole.frame()), k
    widget.close()


class _TrainedWhileFilming:
    """FrameTrainer's interface, training in the filming thread as the recorder once did: frame k's
    iterations when the camera asks for frame k."""

    def __init__(self, settings, frames, rate, stop=None):
        from rnnviz.session import Session

        self.session, self.frames, self.rate, self.k = Session(settings), frames, rate, 0
        self.first = self.session.snapshot()
        self.train_seconds = self.train_cpu_seconds = self.wait_seconds = 0.0

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()

    def close(self):
        pass

    def first_snapshot(self):
        return self.first

    def next_frame(self):
        self.k += 1
        due = int(self.k * self.rate) - self.session.iteration
        if due <= 0 or self.session.diverged:
            return ()
        snapshots = list(self.session.run(due))
        return (*snapshots[:-1], snapshots[-1].with_spectrum())


def test_training_in_its_own_process_films_what_training_while_filming_did(qapp, tmp_path, monkeypatch):
    """The training process hands over snapshots (pickled); the video is the one a recorder that
    trains each frame's iterations itself makes. Lesson 6: two acts, a divergence and a remedy."""
    import rnnviz.recording
    from rnnviz.lessons import load_lessons
    from rnnviz.recording import lesson_take, record_take

    lesson = next(lesson for lesson in load_lessons() if lesson.remedy)
    kwargs = dict(seconds=3, fps=10, size=(640, 360))
    apart = record_take(lesson_take(lesson, tmp_path / "apart.mp4", 30), **kwargs)
    monkeypatch.setattr(rnnviz.recording, "FrameTrainer", _TrainedWhileFilming)
    here = record_take(lesson_take(lesson, tmp_path / "here.mp4", 30), **kwargs)
    assert (apart.iterations, apart.diverged_at) == (here.iterations, here.diverged_at)
    assert apart.diverged_at is not None and apart.train_cpu_seconds > 0
    _, a = decode(apart.path)
    _, b = decode(here.path)
    assert len(a) == len(b) == 30
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_the_curves_headers_are_painted_again_when_they_change(qapp):
    """The training curves' titles, legends and log-scale box are kept from frame to frame like the
    docks; toggling the log scale or recolouring the legends (a theme) paints them again. Two windows
    fed alike: one filmed keeping still widgets, one painted whole."""
    from rnnviz.gui.theme import DARK
    from rnnviz.presets import load_preset
    from rnnviz.recording import Camera, WindowTarget, _prepare
    from rnnviz.session import Session

    size = (1024, 768)
    targets = [WindowTarget("curves"), WindowTarget("curves")]
    try:
        for target in targets:
            _prepare(target, size)
        kept = Camera(targets[0].widget, size, targets[0].redraw, targets[0].still_widgets)
        whole = Camera(targets[1].widget, size, targets[1].redraw)
        session = Session(load_preset("vanishing").settings)
        first = session.snapshot()
        for target in targets:
            target.restart(first)
        changes = [None, None, lambda curves: curves.set_log_scale(not curves.log_scale()), None,
                   lambda curves: curves.apply_theme(DARK), None]
        for k, change in enumerate(changes):
            snapshots = tuple(session.run(3))
            for target in targets:
                target.show_snapshots(snapshots)
                if change is not None:
                    change(target.window.curves)
            assert np.array_equal(kept.frame(), whole.frame()), k
        assert kept.whole_frames == 3       # the first frame and one after each change
    finally:
        for target in targets:
            target.close()
