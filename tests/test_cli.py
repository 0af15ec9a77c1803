import json
import subprocess
import sys
from pathlib import Path

import pytest

from rnnviz.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_presets_lists_names_with_titles(capsys):
    code, out, _ = run_cli(capsys, "presets")
    assert code == 0
    assert any(line.startswith("vanishing") and "tanh" in line for line in out.splitlines())


def test_train_json_reports_the_run(capsys):
    code, out, _ = run_cli(capsys, "train", "--preset", "vanishing", "--set", "lag=5",
                           "--set", "hidden=8", "--steps", "20", "--log-every", "10", "--json")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [r["iteration"] for r in lines[:-1]] == [10, 20]
    final = lines[-1]
    for key in ("status", "iterations", "final_loss", "accuracy", "diverged_at", "max_grad_norm",
                "clip_events"):
        assert key in final
    assert final["status"] == "finished" and final["iterations"] == 20 and final["diverged_at"] is None
    assert 0 <= final["accuracy"] <= 1 and final["settings"]["lag"] == 5


def test_train_reports_divergence(capsys):
    code, out, _ = run_cli(capsys, "train", "--preset", "exploding", "--json")
    final = json.loads(out.splitlines()[-1])
    assert code == 0 and final["status"].startswith("diverged")
    assert final["diverged_at"] == final["iterations"] and final["divergence"]


@pytest.mark.parametrize("argv, words", [
    (["train", "--preset", "vanishing", "--set", "wobble=1"], "unknown setting 'wobble'"),
    (["train", "--preset", "vanishing", "--set", "lr=nan"], "lr = nan is not finite"),
    (["train", "--preset", "vanishing", "--set", "hidden=-3"], "out of range"),
    (["train", "--preset", "vanishing", "--steps", "0"], "must be an integer from 1 to 1,000,000"),
    (["train", "--preset", "nope"], "unknown preset 'nope'"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, words):
    with pytest.raises(SystemExit) as exit_info:
        code = main(argv)
        raise SystemExit(code)
    _, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert words in err and "Traceback" not in err and err.strip().count("\n") == 0


def test_main_py_and_console_script_share_the_cli():
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", "--preset", "vanishing",
                             "--set", "bogus=1"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "unknown setting 'bogus'" in result.stderr


def test_a_reader_that_goes_away_stops_the_cli_quietly():
    """``rnnviz presets | head`` style: the pipe closes before rnnviz writes; no traceback."""
    child = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "presets"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()                  # before the child has imported anything, let alone printed
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 1
    assert b"Traceback" not in stderr and b"Error" not in stderr
