"""Recording benchmark for ``rnnviz bench``: `rnnviz record --preset P` as a user runs it (the main
window at 1280×720, 30 fps, the preset's iterations spread over a 10-second video, so each frame
trains several iterations), for the vanishing and lstm presets. Target (issue 15): ≥ 2× real time.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from rnnviz.presets import load_preset
from rnnviz.recording import default_iterations_per_frame, record
from rnnviz.video import X264_PRESET

BENCH_SIZE, BENCH_FPS = (1280, 720), 30
#: The video length whose iterations per frame are filmed (rnnviz record's default --seconds).
VIDEO_SECONDS = 10
PRESETS = ("vanishing", "lstm")
REAL_TIME_TARGET = 2.0


def _film(name: str, frames: int) -> dict:
    preset = load_preset(name)
    per_frame = default_iterations_per_frame(preset.steps, VIDEO_SECONDS * BENCH_FPS)
    with tempfile.TemporaryDirectory(prefix="rnnviz-bench-") as directory:
        out = Path(directory) / "bench.mp4"
        cpu_start = time.process_time()
        result = record(preset.settings, out, seconds=frames / BENCH_FPS, fps=BENCH_FPS, size=BENCH_SIZE,
                        view="window", iterations_per_frame=per_frame, preset=preset)
        process_cpu = time.process_time() - cpu_start
        megabytes = out.stat().st_size / 1e6
    return {"iterations_per_frame": per_frame,
            f"real time factor (target >= {REAL_TIME_TARGET:g})": result.frames / BENCH_FPS / result.seconds,
            "fps": result.frames / result.seconds,
            "training_ms_per_frame": 1e3 * result.train_seconds / max(1, result.frames - 1),
            "painting_and_rest_ms_per_frame": 1e3 * (result.seconds - result.train_seconds) / result.frames,
            # CPU time does not depend on what else the machine runs (real time needs < 33 ms a
            # frame of each thread's work when two cores are free)
            "paint_cpu_ms_per_frame": 1e3 * result.paint_cpu_seconds / result.frames,
            "process_cpu_ms_per_frame": 1e3 * process_cpu / result.frames,
            "mb_per_minute": megabytes * 60 * BENCH_FPS / result.frames}


def bench_record(quick: bool) -> dict:
    """Per preset: the real-time factor (video seconds per second of rendering, training
    included) and where a frame's time goes."""
    frames = 90 if quick else VIDEO_SECONDS * BENCH_FPS
    flat: dict = {"size": f"{BENCH_SIZE[0]}x{BENCH_SIZE[1]} main window, {BENCH_FPS} fps, libx264 {X264_PRESET}, "
                          f"{frames} frames"}
    for name in PRESETS:
        flat.update({f"{name}: {key}": value for key, value in _film(name, frames).items()})
    flat["load_average"] = os.getloadavg()[0]
    return flat
