"""Ctrl+C, SIGTERM and SIGHUP always stop `rnnviz record`: no .part file is left and an existing
video is never replaced; an existing --out is refused unless --force (also with --all-lessons)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rnnviz.cli import main

ROOT = Path(__file__).resolve().parent.parent
OLD = b"an earlier video the user wants to keep"


def start_recording(out: Path, *extra: str, group: bool = False) -> subprocess.Popen:
    """`rnnviz record` in a process; with `group`, in a process group of its own (as a terminal
    starts a command), which a signal can reach with its training process."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen(
        [sys.executable, "main.py", "record", "--preset", "vanishing", "--out", str(out), "--seconds", "120",
         "--fps", "10", "--size", "320x240", *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=group)


def wait_for_frames(process: subprocess.Popen, directory: Path, timeout: float = 60) -> None:
    """Until the recording is under way: its temporary file exists (the frame loop starts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if list(directory.glob("*.part")):
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError("the recording did not start")


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
@pytest.mark.parametrize("signum, group", [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGHUP, False),
                                           (signal.SIGINT, True), (signal.SIGTERM, True)],
                         ids=["SIGINT", "SIGTERM", "SIGHUP", "SIGINT to the group (Ctrl+C)",
                              "SIGTERM to the group"])
def test_a_signal_stops_the_recording_and_keeps_the_existing_video(tmp_path, signum, group):
    out = tmp_path / "demo.mp4"
    out.write_bytes(OLD)
    process = start_recording(out, "--force", group=group)
    try:
        wait_for_frames(process, tmp_path)
        time.sleep(1.0)                       # well inside the frame loop: painting or training
        if group:                             # the recording and its training process
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 128 + signum, err
    assert f"interrupted ({signum.name})" in err and "Traceback" not in err
    assert out.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.mp4"]


def test_an_existing_video_is_refused_without_force(tmp_path, capsys):
    out = tmp_path / "demo.mp4"
    out.write_bytes(OLD)
    assert main(["record", "--preset", "vanishing", "--out", str(out), "--seconds", "1"]) == 2
    err = capsys.readouterr().err
    assert "demo.mp4 exists already; add --force to replace" in err and err.count("\n") == 1
    assert out.read_bytes() == OLD


def test_all_lessons_refuses_existing_videos_without_force(tmp_path, capsys, monkeypatch):
    import rnnviz.recording as recording

    monkeypatch.setattr(recording, "record", lambda *a, **k: pytest.fail("nothing may be recorded"))
    (tmp_path / "02-vanishing.mp4").write_bytes(OLD)
    assert main(["record", "--all-lessons", "--out", str(tmp_path), "--seconds", "1"]) == 2
    err = capsys.readouterr().err
    assert "02-vanishing.mp4 exists already; add --force to replace" in err


def test_force_replaces_an_existing_video(tmp_path, capsys, qapp):
    out = tmp_path / "demo.mp4"
    out.write_bytes(OLD)
    assert main(["record", "--preset", "vanishing", "--set", "hidden=4", "--out", str(out), "--seconds", "0.2",
                 "--fps", "5", "--size", "320x240", "--force"]) == 0
    assert out.read_bytes() != OLD and out.stat().st_size > 1000


def test_a_training_process_that_dies_is_one_line_and_exit_code_2(tmp_path, capsys, qapp, monkeypatch):
    """Killed (OOM killer, kill -9) while the recording films: one line, exit code 2, no traceback,
    and no unfinished video left."""
    from rnnviz.frame_training import FrameTrainer

    next_frame = FrameTrainer.next_frame

    def dies_after_the_first_frame(trainer):
        if trainer._taken == 1:
            trainer._process.kill()
            trainer._process.join()
        return next_frame(trainer)

    monkeypatch.setattr(FrameTrainer, "next_frame", dies_after_the_first_frame)
    out = tmp_path / "demo.mp4"
    assert main(["record", "--preset", "vanishing", "--set", "hidden=4", "--out", str(out), "--seconds", "2",
                 "--fps", "5", "--size", "320x240"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnviz: error: ") and "ended unexpectedly" in err
    assert len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []
