"""Presets: one TOML file per lesson setting in ``resources/presets/``.

A preset file holds a title, a commentary (what to watch for) and a ``[settings]`` table whose keys
are `Settings` fields; missing keys take the defaults. Presets are listed in the order the lessons
(``resources/lessons/``) use them, so a list reads like the lecture.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from rnnviz.limits import MAX_STEPS, count_problem
from rnnviz.resource_dir import RESOURCES
from rnnviz.settings import Settings, SettingsError
from rnnviz.toml_files import read_toml

PRESET_DIR = RESOURCES / "presets"
LESSON_DIR = RESOURCES / "lessons"


class PresetError(ValueError):
    """A preset is unknown, unreadable or invalid; the message says which file and why."""


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    commentary: str
    settings: Settings
    steps: int = 2000  # iterations in which the preset shows its lesson


def preset_names(directory: Path = PRESET_DIR, lesson_dir: Path = LESSON_DIR) -> list[str]:
    """The presets in `directory`: first those the lessons use, in lesson order, then the others by name."""
    place = _lesson_order(lesson_dir)
    names = (p.stem for p in Path(directory).glob("*.toml") if p.is_file())
    return sorted(names, key=lambda name: (place.get(name, len(place)), name))


def _lesson_order(lesson_dir: Path) -> dict[str, int]:
    """Each preset's place in the lecture: the rank of the first lesson file (by name) that loads it.
    Only the lesson's ``preset`` key is read; an unreadable lesson is skipped (`lessons` reports it)."""
    place: dict[str, int] = {}
    for path in sorted(Path(lesson_dir).glob("*.toml")):
        try:
            name = tomllib.loads(path.read_text(encoding="utf-8")).get("preset")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if isinstance(name, str):
            place.setdefault(name, len(place))
    return place


def load_preset(name_or_path: str | Path, directory: Path = PRESET_DIR) -> Preset:
    """Load a preset by name (from `directory`) or from a path to a ``.toml`` file."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = directory / f"{name_or_path}.toml"
        if not path.is_file():
            raise PresetError(f"unknown preset {str(name_or_path)!r}; "
                              f"available: {', '.join(preset_names(directory)) or 'none'}")
    return _parse(path, read_toml(path, "preset", PresetError))


def _parse(path: Path, data: dict) -> Preset:
    unknown = set(data) - {"title", "commentary", "settings", "steps"}
    if unknown:
        raise PresetError(f"preset {path}: unknown key {sorted(unknown)[0]!r} "
                          "(expected title, commentary, steps, [settings])")
    title, commentary = data.get("title", path.stem), data.get("commentary", "")
    steps = data.get("steps", Preset.steps)
    if not isinstance(title, str) or not isinstance(commentary, str):
        raise PresetError(f"preset {path}: title and commentary must be text")
    problem = count_problem("steps", steps, MAX_STEPS)
    if problem:
        raise PresetError(f"preset {path}: {problem}")
    table = data.get("settings", {})
    if not isinstance(table, dict):
        raise PresetError(f"preset {path}: [settings] must be a table")
    try:
        settings = Settings.from_dict(table)
    except SettingsError as exc:
        raise PresetError(f"preset {path}: {exc}") from None
    return Preset(path.stem, title, commentary.strip(), settings, steps)


def preset_toml(preset: Preset) -> str:
    """The TOML text of a preset; loading it back gives an equal preset."""
    return tomli_w.dumps({"title": preset.title, "commentary": preset.commentary,
                          "steps": preset.steps, "settings": preset.settings.as_dict()})


def save_preset(preset: Preset, path: Path) -> None:
    """Write a preset file (written whole to a temporary file first, so nothing half-written)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_text(preset_toml(preset), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise PresetError(f"cannot write preset {path}: {exc.strerror or exc}") from None


def preset_with_overrides(name: str, overrides: list[tuple[str, object]]) -> tuple[Preset, Settings]:
    """The preset named on the command line and its settings after ``--set key=value`` overrides."""
    preset = load_preset(name)
    return preset, preset.settings.replace(**dict(overrides))
