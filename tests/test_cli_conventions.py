"""The command line behaves like a desktop tool's: --version, python -m rnnviz, a description and the
defaults in every --help, plain numbers to 4 significant digits, strict JSON, a desktop entry."""

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import rnnviz
from rnnviz.cli import build_parser, main
from rnnviz.training import strict_json, times

ROOT = Path(__file__).resolve().parent.parent


def subcommands(parser):
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"rnnviz {rnnviz.__version__}"


def test_python_dash_m_rnnviz_runs_the_cli(tmp_path):
    result = subprocess.run([sys.executable, "-m", "rnnviz", "--version"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == f"rnnviz {rnnviz.__version__}"


def test_the_package_version_is_defined_once():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and 'attr = "rnnviz.__version__"' in pyproject


@pytest.mark.parametrize("name", sorted(subcommands(build_parser())))
def test_every_subcommand_has_a_description_and_every_option_help_and_its_default(name):
    parser = subcommands(build_parser())[name]
    assert parser.description and len(parser.description) > 20
    one_required = {a for g in parser._mutually_exclusive_groups if g.required for a in g._group_actions}
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, (name, action.option_strings)
        if action.nargs != 0 and not action.required and action not in one_required:
            shown = parser._get_formatter()._get_help_string(action)
            assert "default" in shown, (name, action.option_strings)
    assert "%(" not in parser.format_help()


def test_defaults_are_shown_with_their_values():
    text = " ".join(subcommands(build_parser())["record"].format_help().split())
    for words in ("length of the video (default: 10.0)", "frames per second (default: 30)",
                  "(default: 1280x720)"):
        assert words in text


def test_json_lines_are_strict_json_with_null_for_nan_and_inf_named_beside_the_status(capsys):
    code = main(["train", "--preset", "exploding", "--set", "clip=none", "--log-every", "1", "--json"])
    out = capsys.readouterr().out
    assert code == 0

    def refuse(token):
        raise ValueError(f"not strict JSON: {token}")

    records = [json.loads(line, parse_constant=refuse) for line in out.splitlines()]
    final = records[-1]
    assert final["status"] == "diverged" and final["divergence"] and final["final_loss"] is None
    assert final["non_finite"]["final_loss"] in ("NaN", "+inf", "-inf")
    nulled = [r for r in records[:-1] if r["loss"] is None]
    assert nulled and all(r["status"] == "diverged" and "loss" in r["non_finite"] for r in nulled)
    assert all("non_finite" not in r for r in records[:-1] if r["loss"] is not None)


def test_strict_json_names_each_non_finite_value():
    line = strict_json({"loss": float("nan"), "grad_norm": float("inf"), "lr": 0.1, "status": "diverged"})
    record = json.loads(line)
    assert record == {"loss": None, "grad_norm": None, "lr": 0.1, "status": "diverged",
                      "non_finite": {"loss": "NaN", "grad_norm": "+inf"}}
    assert json.loads(strict_json({"loss": 1.5, "status": "ok"})) == {"loss": 1.5, "status": "ok"}


def test_plain_text_numbers_have_at_most_4_significant_digits(capsys):
    assert main(["train", "--preset", "vanishing", "--set", "lag=5", "--set", "hidden=8", "--steps", "20",
                 "--log-every", "10"]) == 0
    out = capsys.readouterr().out
    summary = out.split("vanishing:")[1]
    for number in re.findall(r"(?<![\w.])\d+\.\d+(?:e[+-]\d+)?", summary.split("\n", 1)[1]):
        digits = re.sub(r"e.*", "", number).replace(".", "").lstrip("0")
        assert len(digits) <= 4, number


def test_counts_read_as_english():
    assert (times(0), times(1), times(2)) == ("0 times", "1 time", "2 times")


def test_install_desktop_writes_the_entry_and_icon_for_this_installation(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["install-desktop"]) == 0
    entry = (tmp_path / "applications" / "rnnviz.desktop").read_text()
    assert entry.startswith("[Desktop Entry]\n")
    keys = dict(line.split("=", 1) for line in entry.splitlines()[1:] if line)
    assert keys["Type"] == "Application" and keys["Icon"] == "rnnviz" and keys["Name"] == "rnnviz"
    assert keys["Exec"].split() == [sys.executable, "-m", "rnnviz"]
    icon = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "rnnviz.svg"
    assert icon.read_text().lstrip().startswith("<svg")
    assert str(tmp_path) in capsys.readouterr().out


def test_install_desktop_to_an_unwritable_place_is_one_line(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    assert main(["install-desktop"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnviz: error: cannot install the desktop entry") and err.count("\n") == 1


def test_horizon_help_shows_the_defaults_horizon_toml_sets():
    from rnnviz.horizon import default_config

    sweep = default_config().sweep
    text = " ".join(subcommands(build_parser())["horizon"].format_help().split())
    assert ",".join(map(str, sweep.lags)) + ")" in text
    assert f"horizon.toml, {sweep.seeds})" in text
    assert f"horizon.toml, {sweep.target:g})" in text
