"""Recording benchmark for ``rnnviz bench``: `rnnviz record --preset P` as a user runs it (the main
window at 1280×720, 30 fps, the preset's iterations spread over a 10-second video, so each frame
trains several iterations), for the vanishing and lstm presets. Target (issue 15): ≥ 2× real time.

Each video is filmed in a fresh process, as ``rnnviz record`` runs: the Qt settings a recording
makes before its QApplication exists apply, and nothing the other benchmarks left behind counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from rnnviz.presets import load_preset
from rnnviz.recording import default_iterations_per_frame, record
from rnnviz.video import X264_PARAMS, X264_PRESET

BENCH_SIZE, BENCH_FPS = (1280, 720), 30
#: The video length whose iterations per frame are filmed (rnnviz record's default --seconds).
VIDEO_SECONDS = 10
PRESETS = ("vanishing", "lstm")
REAL_TIME_TARGET = 2.0


def _film(name: str, frames: int) -> dict:
    """Film `frames` frames of preset `name` in this process; where a frame's time goes."""
    preset = load_preset(name)
    per_frame = default_iterations_per_frame(preset.steps, VIDEO_SECONDS * BENCH_FPS)
    with tempfile.TemporaryDirectory(prefix="rnnviz-bench-") as directory:
        out = Path(directory) / "bench.mp4"
        result = record(preset.settings, out, seconds=frames / BENCH_FPS, fps=BENCH_FPS, size=BENCH_SIZE,
                        view="window", iterations_per_frame=per_frame, preset=preset)
        megabytes = out.stat().st_size / 1e6

    def per_frame_ms(seconds: float) -> float:
        return 1e3 * seconds / result.frames

    # Training (a process of its own), painting and encoding (threads) run side by side: real time
    # needs each under 33 ms a frame and, on two cores, their sum under 67 ms. CPU times do not
    # depend on what else the machine runs; the waits say which part held the painting thread up.
    # The CPU bound is what the factor could be if the recording had the machine's cores to itself
    # and nothing else (the GIL, memory) held a thread up: an upper bound, not a measurement.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    busiest = max(result.paint_cpu_seconds, result.train_cpu_seconds, result.cpu_seconds / cores)
    return {"iterations_per_frame": per_frame,
            f"real time factor (target >= {REAL_TIME_TARGET:g})": result.frames / BENCH_FPS / result.seconds,
            "fps": result.frames / result.seconds,
            "wall_ms_per_frame": per_frame_ms(result.seconds),
            "training_cpu_ms_per_frame": per_frame_ms(result.train_cpu_seconds),
            "paint_cpu_ms_per_frame": per_frame_ms(result.paint_cpu_seconds),
            "encode_cpu_ms_per_frame (the encoder thread: yuv420p conversion and x264)":
                per_frame_ms(result.encode_cpu_seconds),
            "process_cpu_ms_per_frame (all threads, encoding and the training process included)":
                per_frame_ms(result.cpu_seconds),
            "painting thread waited for training, ms per frame": per_frame_ms(result.train_wait_seconds),
            "painting thread waited for the encoder, ms per frame": per_frame_ms(result.encode_wait_seconds),
            f"CPU bound on the real time factor, {cores} free cores (upper bound)":
                result.frames / BENCH_FPS / busiest,
            "mb_per_minute": megabytes * 60 * BENCH_FPS / result.frames}


def _film_in_new_process(name: str, frames: int) -> dict:
    package_root = str(Path(__file__).resolve().parents[2])   # the rnnviz this bench runs
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (package_root, os.environ.get("PYTHONPATH"))))}
    done = subprocess.run([sys.executable, "-m", "rnnviz.bench.recording", name, str(frames)],
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"filming {name} failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_record(quick: bool) -> dict:
    """Per preset: the real-time factor (video seconds per second of rendering, training
    included) and where a frame's time goes."""
    frames = 90 if quick else VIDEO_SECONDS * BENCH_FPS
    flat: dict = {"size": f"{BENCH_SIZE[0]}x{BENCH_SIZE[1]} main window, {BENCH_FPS} fps, libx264 {X264_PRESET} {X264_PARAMS}, "
                          f"{frames} frames"}
    for name in PRESETS:
        flat.update({f"{name}: {key}": value for key, value in _film_in_new_process(name, frames).items()})
    flat["load_average"] = os.getloadavg()[0]
    return flat


if __name__ == "__main__":   # one film, for `_film_in_new_process`
    print(json.dumps(_film(sys.argv[1], int(sys.argv[2]))))
