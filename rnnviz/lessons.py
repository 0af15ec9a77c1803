"""Lessons: the lecture as an ordered walk through presets, one TOML file each (no Qt).

``resources/lessons/NN-name.toml`` (taken in file-name order, so the number is the place in the
lecture) holds::

    title    = "Vanishing gradients: ..."        # shown as the lesson's heading
    topic    = "Problem 1: long-term dependency" # the lecture section it belongs to
    preset   = "vanishing"                       # a name in resources/presets/
    view     = "gradients"                       # curves | diagram | stepper | gradients
    intro    = "..."                             # the idea, in the lecture's words
    do       = "..."                             # what to do
    watch    = "..."                             # what to watch for
    steps    = 300                               # optional: iterations the lesson needs (default: the preset's)
    [settings]                                   # optional overrides of the preset's settings
    lag = 8
    [remedy]                                     # optional: what cures the lesson's problem, as
    clip = "norm"                                # settings changes; its video shows the run, then
                                                 # the same run again with them

Every field is checked when loading; a bad file raises `LessonError` naming the file and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from rnnviz.limits import MAX_STEPS, count_problem
from rnnviz.presets import LESSON_DIR, PRESET_DIR, Preset, PresetError, load_preset
from rnnviz.settings import Settings, SettingsError
from rnnviz.toml_files import read_toml

#: Where a lesson points the window: the training curves, the unrolled diagram, the BPTT stepper,
#: or the gradient views (contribution heatmap and spectrum).
VIEWS = ("curves", "diagram", "stepper", "gradients")
#: The title of the main window tab showing each view (the window shows it with `show_page(view)`).
VIEW_TABS = {"curves": "Training", "diagram": "Unrolled network", "stepper": "Unrolled network",
             "gradients": "Gradients"}
#: The `rnnviz record --view` that films each lesson view.
RECORD_VIEWS = {"curves": "curves", "diagram": "diagram", "stepper": "stepper", "gradients": "window"}

_TEXT_FIELDS = ("title", "topic", "preset", "view", "intro", "do", "watch")
_REQUIRED = ("title", "preset", "view", "watch")


class LessonError(ValueError):
    """A lesson file is unreadable or invalid; the message says which file and why."""


@dataclass(frozen=True)
class Lesson:
    number: int                       # 1-based place in the lecture
    name: str                         # file stem, e.g. "02-vanishing"
    title: str
    topic: str
    preset: str                       # preset name
    view: str                         # one of VIEWS
    intro: str
    do: str
    watch: str
    overrides: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    settings: Settings = field(default_factory=Settings)  # the preset's settings with the overrides
    steps: int = Preset.steps                             # iterations the lesson needs (video length)
    remedy: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))  # the cure, as settings changes

    @property
    def remedy_settings(self) -> Settings | None:
        """The lesson's settings with its remedy applied; None if it has no remedy."""
        return self.settings.replace(**self.remedy) if self.remedy else None

    @property
    def tab(self) -> str:
        """Title of the main window tab to show."""
        return VIEW_TABS[self.view]

    @property
    def record_view(self) -> str:
        """The ``rnnviz record --view`` that films this lesson."""
        return RECORD_VIEWS[self.view]

    def as_preset(self) -> Preset:
        """The lesson as a preset (its settings, title and commentary), e.g. to save or to load."""
        return Preset(self.preset, self.title, self.commentary, self.settings, self.steps)

    @property
    def commentary(self) -> str:
        """Intro, what to do and what to watch for, as plain text paragraphs."""
        parts = [self.intro, f"Do: {self.do}" if self.do else "", f"Watch: {self.watch}"]
        return "\n\n".join(p for p in parts if p)

    def set_arguments(self) -> list[str]:
        """``--set key=value`` arguments that reproduce the overrides on the command line."""
        args = []
        for key, value in self.overrides.items():
            args += ["--set", f"{key}={value}"]
        return args


@dataclass(frozen=True)
class BrokenLesson:
    """A lesson file that does not load: its place in the lecture, its file stem and why."""
    number: int
    name: str
    error: LessonError


def read_lessons(directory: Path | None = None,
                 preset_dir: Path | None = None) -> tuple[list[Lesson], list[BrokenLesson]]:
    """Every lesson in ``directory`` (default `LESSON_DIR`) in file-name order, each loaded on its
    own: a bad file (or a bad preset it uses) stops only that lesson. The lessons that load, and the
    broken ones; numbers are places in the lecture either way."""
    directory = LESSON_DIR if directory is None else directory
    preset_dir = PRESET_DIR if preset_dir is None else preset_dir
    paths = sorted(Path(directory).glob("*.toml"))
    if not paths:
        raise LessonError(f"no lessons found in {directory}")
    lessons, broken = [], []
    for number, path in enumerate(paths, start=1):
        try:
            lessons.append(load_lesson(path, number, preset_dir))
        except LessonError as exc:
            broken.append(BrokenLesson(number, path.stem, exc))
    return lessons, broken


def load_lessons(directory: Path | None = None, preset_dir: Path | None = None) -> list[Lesson]:
    """All lessons in ``directory``, in file-name order; the first bad one raises its `LessonError`."""
    lessons, broken = read_lessons(directory, preset_dir)
    if broken:
        raise broken[0].error
    return lessons


def find_lesson(name: str, directory: Path | None = None, preset_dir: Path | None = None) -> Lesson:
    """The lesson named by its file stem ("02-vanishing") or its number ("2", "02"); its own
    `LessonError` if that file is bad (other bad files do not matter), or one listing the lessons
    if there is none of that name."""
    lessons, broken = read_lessons(directory, preset_dir)
    text = str(name).strip()
    for each in [*lessons, *broken]:
        if text == each.name or (text.isdigit() and int(text) == each.number):
            if isinstance(each, BrokenLesson):
                raise each.error
            return each
    names = sorted([*lessons, *broken], key=lambda each: each.number)
    raise LessonError(f"unknown lesson {text!r}; lessons: {', '.join(l.name for l in names)} "
                      f"(or their numbers 1..{len(names)})")


def load_lesson(path: Path, number: int = 1, preset_dir: Path = PRESET_DIR) -> Lesson:
    path = Path(path)
    data = read_toml(path, "lesson", LessonError)

    unknown = set(data) - set(_TEXT_FIELDS) - {"settings", "steps", "remedy"}
    if unknown:
        raise LessonError(f"lesson {path}: unknown key {sorted(unknown)[0]!r} "
                          f"(expected {', '.join(_TEXT_FIELDS)}, steps, [settings], [remedy])")
    steps = data.get("steps")
    problem = None if steps is None else count_problem("steps", steps, MAX_STEPS)
    if problem:
        raise LessonError(f"lesson {path}: {problem}")
    for key in _REQUIRED:
        if key not in data:
            raise LessonError(f"lesson {path}: missing {key!r}")
    for key in _TEXT_FIELDS:
        if key in data and not isinstance(data[key], str):
            raise LessonError(f"lesson {path}: {key} must be text, got {data[key]!r}")
    text = {key: " ".join(data.get(key, "").split()) for key in _TEXT_FIELDS}
    if not text["title"]:
        raise LessonError(f"lesson {path}: title is empty")
    if text["view"] not in VIEWS:
        raise LessonError(f"lesson {path}: view = {text['view']!r} is not allowed; "
                          f"view must be one of {', '.join(VIEWS)}")
    overrides, remedy = data.get("settings", {}), data.get("remedy", {})
    for name, table in (("settings", overrides), ("remedy", remedy)):
        if not isinstance(table, dict):
            raise LessonError(f"lesson {path}: [{name}] must be a table")
    try:
        preset = load_preset(text["preset"], preset_dir)
    except PresetError as exc:
        raise LessonError(f"lesson {path}: {exc}") from None
    try:
        settings = preset.settings.replace(**overrides)
    except (SettingsError, TypeError) as exc:
        raise LessonError(f"lesson {path}: [settings]: {exc}") from None
    try:
        settings.replace(**remedy)
    except (SettingsError, TypeError) as exc:
        raise LessonError(f"lesson {path}: [remedy]: {exc}") from None
    return Lesson(number=number, name=path.stem, overrides=MappingProxyType(dict(overrides)),
                  settings=settings, steps=steps or preset.steps,
                  remedy=MappingProxyType(dict(remedy)), **text)
