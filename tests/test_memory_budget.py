"""Settings that would exhaust memory are refused before anything is built, in one line."""

import multiprocessing
import threading
import tracemalloc

import pytest

from rnnviz.cli import main
from rnnviz.errors import LimitError, UsageError
from rnnviz.memory_budget import BUDGET_SHARE, estimate_bytes, memory_problem, size_text
from rnnviz.session import Session
from rnnviz.settings import Settings
from rnnviz.training_process import receive, send

HUGE = Settings(task="adding", seq_len=500, hidden=512, batch=1024, arch="lstm")


MEASURED = pytest.mark.parametrize("settings", [
    Settings(task="adding", seq_len=120, batch=24, hidden=48),
    Settings(task="adding", seq_len=60, batch=16, hidden=96, arch="lstm"),
    Settings(task="text", seq_len=80, batch=16, hidden=32, arch="skip"),
    Settings(task="sentence", lag=30, batch=8, hidden=64, dtype="float32"),
], ids=["rnn", "lstm", "skip-text", "sentence-float32"])


def _peak_of_training(settings, relay_inspection: bool) -> int:
    """Peak bytes allocated over a session's build, three iterations and one inspection; with
    `relay_inspection`, the inspection also crosses a pipe as it does to the app's window."""
    warm = Session(settings)                         # imports and compiles outside the measurement
    for _ in warm.run(1):                            # (the optimiser's update is compiled at its first step)
        pass
    warm.inspect()
    del warm
    tracemalloc.start()
    try:
        session = Session(settings)
        for _ in session.run(3):
            pass
        inspection = session.inspect()
        if relay_inspection:
            ours, theirs = multiprocessing.Pipe()
            received = []
            reader = threading.Thread(target=lambda: received.append(receive(theirs)))
            reader.start()
            send(ours, ("inspected", inspection))
            reader.join()
            assert received[0][1].trace.hidden.shape == inspection.trace.hidden.shape
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@MEASURED
def test_the_estimate_bounds_what_training_really_allocates(settings):
    peak = _peak_of_training(settings, relay_inspection=False)
    estimate = estimate_bytes(settings)
    assert peak <= estimate <= 2 * peak, (peak, estimate)


@MEASURED
def test_the_windows_estimate_bounds_both_processes_with_the_inspection_it_keeps(settings):
    peak = _peak_of_training(settings, relay_inspection=True)
    estimate = estimate_bytes(settings, window=True)
    assert peak <= estimate <= 2 * peak, (peak, estimate)
    assert estimate > estimate_bytes(settings)


def test_the_issue_configuration_is_refused_with_its_sizes_and_the_estimate():
    problem = memory_problem(HUGE, available=16 * 10**9)
    assert problem and "\n" not in problem
    for words in ("lstm", "hidden 512", "batch 1024", "T = 500", "GB", "8 GB allowed", "lower hidden"):
        assert words in problem
    assert estimate_bytes(HUGE) > 30 * 10**9


def test_what_fits_the_budget_passes():
    need = estimate_bytes(Settings())
    assert memory_problem(Settings(), available=int(need / BUDGET_SHARE) + 1) is None
    assert memory_problem(Settings(), available=int(need / BUDGET_SHARE) - 1000) is not None


def test_the_window_needs_room_for_its_copy_of_the_inspection_too():
    available = int(estimate_bytes(Settings()) / BUDGET_SHARE) + 1
    assert memory_problem(Settings(), available=available) is None
    problem = memory_problem(Settings(), available=available, window=True)
    assert problem and f"about {size_text(estimate_bytes(Settings(), window=True))}" in problem


def test_a_session_refuses_before_allocating_and_a_refused_apply_keeps_the_run(monkeypatch):
    with pytest.raises(LimitError):
        Session(HUGE)
    session = Session(Settings(task="adding", seq_len=20, hidden=8))
    for _ in session.run(2):
        pass
    with pytest.raises(LimitError):
        session.apply(HUGE)
    assert session.settings.hidden == 8 and session.iteration == 2
    assert isinstance(LimitError("x"), UsageError)


def test_the_cli_exits_2_with_one_line(capsys):
    argv = ["train", "--preset", "vanishing", "--set", "task=adding", "--set", "seq_len=500", "--set",
            "hidden=512", "--set", "batch=1024", "--set", "arch=lstm", "--steps", "2"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnviz: error: these settings need about") and err.count("\n") == 1
