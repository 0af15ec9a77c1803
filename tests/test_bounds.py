"""Every count has an upper bound, refused with the same one line and exit code 2 from every entry
point (the rnnviz script's main, python main.py, python -m rnnviz, python -m rnnviz.cli)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnnviz.cli import main
from rnnviz.settings import SettingsError, parse_assignment

ROOT = Path(__file__).resolve().parent.parent
ENTRY_POINTS = [["main.py"], ["-m", "rnnviz"], ["-m", "rnnviz.cli"]]


def run(entry: list[str], *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, *entry, *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


BAD = [
    (["train", "--preset", "vanishing", "--steps", "10000000000000"], "--steps: the value must be an integer from 1 to 1,000,000"),
    (["record", "--preset", "vanishing", "--out", "x.mp4", "--seconds", "1e308", "--fps", "10"],
     "--seconds: expected a number of seconds above 0 and up to 3,600"),
    (["record", "--preset", "vanishing", "--out", "x.mp4", "--fps", "100000"], "--fps: the value must be an integer from 1 to 120"),
    (["record", "--preset", "vanishing", "--out", "x.mp4", "--iterations-per-frame", "1000000"],
     "a recording trains at most 1,000,000"),
    (["horizon", "--preset", "vanishing", "--seeds", "1000"], "--seeds: the value must be an integer from 1 to 100"),
    (["record", "--lesson", "99", "--out", "x.mp4"], "unknown lesson '99'"),
]


@pytest.mark.parametrize("argv, words", BAD, ids=lambda v: v[0] if isinstance(v, list) else None)
def test_counts_beyond_their_bound_are_one_line_and_exit_2(capsys, argv, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)     # x.mp4, were it accepted
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and words in err and err.count("\n") == 1, err


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=" ".join)
def test_every_entry_point_gives_the_same_line(capsys, entry, tmp_path):
    expected = []
    for argv, _ in (BAD[0], BAD[1], BAD[-1]):
        try:
            main(argv)
        except SystemExit:
            pass
        expected.append(capsys.readouterr().err)
        result = run(entry, *argv)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr == expected[-1]


def test_a_preset_with_a_huge_step_count_is_refused_before_recording(tmp_path, capsys):
    preset = tmp_path / "long.toml"
    preset.write_text("title = 'long'\nsteps = 10000000000000\n")
    assert main(["record", "--preset", str(preset), "--out", str(tmp_path / "x.mp4")]) == 2
    assert "steps must be an integer from 1 to 1,000,000" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["hidden=１２", "hidden=١٢", "lr=０.１", "lr=٠٫١", "seed=٣"])
def test_only_ascii_digits_are_numbers_in_set(text):
    with pytest.raises(SettingsError, match="is not a number"):
        parse_assignment(text)


@pytest.mark.parametrize("argv", [["train", "--preset", "vanishing", "--steps", "１２"],
                                  ["record", "--preset", "vanishing", "--out", "x.mp4", "--seconds", "٣"],
                                  ["record", "--preset", "vanishing", "--out", "x.mp4", "--size", "６４０x480"]])
def test_only_ascii_digits_are_numbers_in_options(capsys, argv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)     # x.mp4, were it accepted
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 2 and capsys.readouterr().err.count("\n") == 1
