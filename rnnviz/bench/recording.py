"""Recording benchmark for ``rnnviz bench``: filming the main window at 1280×720 for a 30 fps video."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from rnnviz.presets import load_preset
from rnnviz.recording import record
from rnnviz.video import X264_PRESET

BENCH_SIZE, BENCH_FPS = (1280, 720), 30


def bench_record(quick: bool) -> dict:
    """Frames per second filming the main window at 1280×720 for a 30 fps video (real time = 30):
    with one training iteration per frame, and for painting + encoding alone (training excluded)."""
    settings = load_preset("vanishing").settings
    frames = 60 if quick else 150
    with tempfile.TemporaryDirectory(prefix="rnnviz-bench-") as directory:
        out = Path(directory) / "bench.mp4"
        cpu_start = time.process_time()
        result = record(settings, out, seconds=frames / BENCH_FPS, fps=BENCH_FPS, size=BENCH_SIZE,
                        view="window", iterations_per_frame=1)
        process_cpu = time.process_time() - cpu_start
        megabytes = out.stat().st_size / 1e6
    total_fps = result.frames / result.seconds
    render_fps = result.frames / max(1e-9, result.seconds - result.train_seconds)
    return {"size": f"{BENCH_SIZE[0]}x{BENCH_SIZE[1]} main window, vanishing preset, libx264 {X264_PRESET}",
            "frames": result.frames,
            "render_encode_fps": render_fps,
            "render_encode_real_time_factor": render_fps / BENCH_FPS,
            "with_training_fps": total_fps,
            "training_ms_per_frame": 1e3 * result.train_seconds / max(1, result.frames - 1),
            # CPU time does not depend on what else the machine runs: painting (filming thread) and
            # encoding (its own thread) each below 1000/30 = 33 ms a frame means real time on 2 cores.
            "paint_cpu_ms_per_frame": 1e3 * result.paint_cpu_seconds / result.frames,
            "process_cpu_ms_per_frame": 1e3 * process_cpu / result.frames,
            "mb_per_minute": megabytes * 60 * BENCH_FPS / result.frames,
            "load_average": os.getloadavg()[0]}
