"""The one command line behind ``python main.py`` and the ``rnnviz`` script.

    rnnviz                      open the desktop app
    rnnviz presets              list the presets
    rnnviz train   --preset NAME [--set key=value ...] [--steps N] [--json]
    rnnviz record  --preset NAME --out demo.mp4 [--seconds S] [--fps F] [--size WxH] [--view V]
    rnnviz record  --lesson NAME --out lesson.mp4 [...]     (a lesson's preset, settings and view)
    rnnviz record  --all-lessons --out DIR [...]             (DIR/NN-name.mp4, one per lesson)
    rnnviz horizon --preset NAME [--lags 5,10,...] [--seeds 3] [--steps N] [--json]
    rnnviz bench   [--quick]
    rnnviz install-desktop      add rnnviz to the desktop's application menu
    rnnviz --version

Errors in what the user typed exit with code 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import signal
import sys

from rnnviz import __version__
from rnnviz.errors import EngineError, RecordingError, UsageError
from rnnviz.limits import MAX_FPS, MAX_SECONDS, MAX_SEEDS, MAX_STEPS, count_problem
from rnnviz.presets import PresetError
from rnnviz.settings import SettingsError, parse_assignment


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage dump), exit code 2, and whose help
    shows each option's default."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's "(default: X)" after every option that has a value to show; an option whose
    default depends on the preset or lesson says so in its own help."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("default" in text or action.required or isinstance(action.default, bool)
                or action.default in (None, [], argparse.SUPPRESS)):
            return text
        return f"{text} (default: %(default)s)"


def _assignment(text: str):
    try:
        return parse_assignment(text)
    except SettingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _count(high: int):
    """An argparse type: an integer from 1 to `high`, written in ASCII digits."""

    def count(text: str) -> int:
        value = int(text) if re.fullmatch(r"\s*\+?[0-9]+\s*", text) else text
        problem = count_problem("the value", value, high)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value

    return count


def _seconds(text: str) -> float:
    """A video length: a positive number of seconds up to `MAX_SECONDS`, in ASCII."""
    try:
        value = float(text) if text.isascii() else math.nan
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0 and up to {MAX_SECONDS:,}, "
                                         f"got {text!r}")
    return value


PRESET_HELP = "preset name (see `rnnviz presets`) or path to a .toml file"


def _add_run_options(parser: argparse.ArgumentParser, *, preset_required: bool = True) -> None:
    parser.add_argument("--preset", required=preset_required, metavar="NAME", help=PRESET_HELP)
    _add_set_option(parser)


def _add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="overrides", action="append", default=[], type=_assignment,
                        metavar="KEY=VALUE", help="override one setting, e.g. --set lr=0.01; repeatable "
                        "(default: the preset's settings)")


def _command(sub, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    """A subcommand: `summary` in `rnnviz --help`'s list, `description` atop its own --help."""
    return sub.add_parser(name, help=summary, description=description)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rnnviz", description="A desktop lab that shows why plain RNNs are hard to train. "
        "Without a command, opens the app.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--preset", metavar="NAME",
                        help="open the app with this preset loaded (default: the last settings used)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    _command(sub, "presets", "list the presets with their titles",
             "List the presets, in the order the lessons use them, with their titles.")

    train = _command(sub, "train", "train headless and report progress",
                     "Train a preset without a window and print its progress, then a summary of "
                     "the run and its held-out accuracy.")
    _add_run_options(train)
    train.add_argument("--steps", type=_count(MAX_STEPS), metavar="N",
                       help="iterations (default: the preset's)")
    train.add_argument("--json", action="store_true",
                       help="one JSON object per log interval, then a summary (NaN and infinity "
                       "are written as null)")
    train.add_argument("--log-every", type=_count(MAX_STEPS), default=100, metavar="N",
                       help="iterations between log lines")

    record = _command(sub, "record", "render a run offscreen to an .mp4 or .gif",
                      "Train a preset or lesson and film it, frame by frame and without a display, "
                      "into a video; the same preset and seed give the same frames.")
    source = record.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", metavar="NAME", help=PRESET_HELP)
    source.add_argument("--lesson", metavar="NAME",
                        help="a lesson: its file stem in resources/lessons (e.g. 02-vanishing) or its "
                        "number; records its preset with its settings, on its view")
    source.add_argument("--all-lessons", action="store_true",
                        help="one .mp4 per lesson, NN-name.mp4 in the --out directory")
    _add_set_option(record)
    record.add_argument("--out", required=True,
                        help="output file (.mp4 or .gif); with --all-lessons, a directory")
    record.add_argument("--force", action="store_true",
                        help="replace an existing video (without it, an existing --out is an error)")
    record.add_argument("--seconds", type=_seconds, default=10.0, metavar="S",
                        help="length of the video")
    record.add_argument("--fps", type=_count(MAX_FPS), default=30, metavar="F", help="frames per second")
    record.add_argument("--size", default="1280x720", metavar="WxH", help="frame size in pixels")
    record.add_argument("--view", choices=("window", "diagram", "curves", "stepper"), default=None,
                        help="what to film (default: window; a lesson's own view with --lesson)")
    record.add_argument("--iterations-per-frame", type=_count(MAX_STEPS), default=None, metavar="N",
                        help="training iterations between frames (default: spread the preset's or lesson's "
                        "steps over the video). With --view stepper: iterations trained before the batch "
                        "is inspected (default 0, the initial weights); the video then plays the 2T+1 "
                        "BPTT frames, each held equally long")

    horizon = _command(sub, "horizon", "measure the memory horizon: accuracy against lag",
                       "Train a preset at the lags of a grid for several seeds and report the largest "
                       "lag at which it reaches the target held-out accuracy (by default a "
                       "bisection trains only the lags it needs; --search grid trains every lag).")
    _add_run_options(horizon)
    horizon.add_argument("--lags", default=None,
                         help="comma-separated lags (default: the sweep's lags in resources/horizon.toml, "
                              "5,10,20,40,80,160)")
    horizon.add_argument("--seeds", type=_count(MAX_SEEDS), default=None, metavar="N",
                         help="seeds per lag, the preset's seed then the next ones (default: the "
                              "sweep's in resources/horizon.toml, 3)")
    horizon.add_argument("--steps", type=_count(MAX_STEPS), default=None, metavar="N",
                         help="training budget per run (default: the budget in resources/horizon.toml)")
    horizon.add_argument("--target", type=float, default=None,
                         help="held-out accuracy that counts as remembered (default: the sweep's "
                              "target in resources/horizon.toml, 0.9)")
    horizon.add_argument("--search", choices=("bisect", "grid"), default=None,
                         help="bisect: train only the lags a bisection on the grid needs (default); "
                              "grid: every lag on every seed")
    horizon.add_argument("--json", action="store_true", help="one JSON object instead of a table")

    bench = _command(sub, "bench", "measure engine, GUI and recording speed",
                     "Measure the speed of the engine, the GUI, recording and the memory-horizon sweep.")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions")
    bench.add_argument("--only", choices=("engine", "gui", "record", "horizon", "soak"), action="append",
                       help="run only these parts; repeatable (default: all but soak, the one-hour "
                            "memory soak; --quick makes it five minutes)")
    bench.add_argument("--against", metavar="CHECKOUT", default=None,
                       help="horizon part: time this tree's sweeps against another checkout's (e.g. an "
                            "older commit) in interleaved rounds (default: none; the horizon part then "
                            "times bisection against the grid in this tree)")

    desktop = _command(sub, "install-desktop", "add rnnviz to the desktop's application menu",
                       "Install rnnviz.desktop and the icon for this user (under $XDG_DATA_HOME, "
                       "by default ~/.local/share), launching this installation of rnnviz.")
    desktop.set_defaults(command="install-desktop")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from rnnviz.display import display_problem

            problem = display_problem()   # before Qt, which would abort the process
            if problem:
                raise UsageError(problem)
            from rnnviz.gui.app import run_gui
            return run_gui(preset=args.preset)
        if args.command == "presets":
            from rnnviz.training import list_presets_command
            return list_presets_command()
        if args.command == "train":
            from rnnviz.training import train_command
            return train_command(args)
        if args.command == "record":
            from rnnviz.recording import record_command
            return record_command(args)
        if args.command == "horizon":
            from rnnviz.horizon import horizon_command
            return horizon_command(args)
        if args.command == "install-desktop":
            from rnnviz.desktop_entry import install_desktop_command
            return install_desktop_command()
        if args.command == "bench":
            from rnnviz.bench import bench_command
            return bench_command(args)
    except (UsageError, RecordingError, EngineError, PresetError, SettingsError) as exc:
        print(f"rnnviz: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:   # Ctrl+C, or `Interrupted` by SIGTERM / SIGHUP
        signum = getattr(exc, "signum", signal.SIGINT)
        print(f"rnnviz: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        # The reader went away (``rnnviz presets | head``): stop quietly, as Unix tools do. Point
        # stdout at /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
