"""The lessons panel: walk through the lecture one lesson at a time.

`LessonPanel` shows one lesson (its place in the lecture, title, the idea, what to do, what to
watch for) with Previous / Next and a chooser. Moving to a lesson emits `lesson_chosen(Lesson)`;
the main window loads the lesson's settings and shows its view.

The panel and the controls never disagree silently: the window tells the panel what the controls
hold (`show_settings`), and a status line says either that the shown lesson is loaded, or that it
is not (which settings differ) and that Start loads it. Loading a preset shows its lesson
(`select_preset`).
The lessons themselves are data: ``resources/lessons/*.toml`` (see `rnnviz.lessons`).
"""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QSizePolicy, QStyle, QVBoxLayout, QWidget)

from rnnviz.lessons import Lesson, LessonError, read_lessons
from rnnviz.settings import Settings

log = logging.getLogger(__name__)


class LessonPanel(QWidget):
    """One lesson at a time, with Previous / Next. `lesson_chosen` fires when a lesson is started."""

    lesson_chosen = Signal(object)   # Lesson
    remedy_chosen = Signal(object)   # Lesson whose remedy is to be run

    def __init__(self, lessons: list[Lesson] | None = None, parent: QWidget | None = None, *,
                 held: Settings | None = None) -> None:
        """held: the settings the controls hold (None: unknown, no status line)."""
        super().__init__(parent)
        self.setObjectName("lessonPanel")
        self.error: str | None = None
        self._held = held
        broken = []
        if lessons is None:
            try:
                lessons, broken = read_lessons()   # a bad file stops only its own lesson
            except LessonError as exc:   # shown in the panel; the app keeps running
                lessons, broken = [], [exc]
            errors = [str(getattr(each, "error", each)) for each in broken]
            for error in errors:
                log.warning("lesson not shown: %s", error)
            self.error = "\n".join(errors) or None
        self.lessons = list(lessons)
        self.total = len(self.lessons) + len(broken)   # the lecture's length, bad files included
        self.index = 0

        style = self.style()
        self.position_label = QLabel(objectName="lessonPosition")
        self.topic_label = QLabel(objectName="lessonTopic")
        self.topic_label.setWordWrap(True)
        self.title_label = QLabel(objectName="lessonTitle")
        self.title_label.setWordWrap(True)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.commentary = QLabel(objectName="lessonCommentary")
        self.commentary.setWordWrap(True)
        self.commentary.setTextFormat(Qt.TextFormat.RichText)
        self.commentary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.commentary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.commentary.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        scroll = QScrollArea(objectName="lessonScroll")
        scroll.setWidget(self.commentary)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.status_label = QLabel(objectName="lessonStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.RichText)
        self.remedy_button = QPushButton("Try the remedy", objectName="remedyButton")
        self.remedy_button.clicked.connect(self.try_remedy)

        self.chooser = QComboBox(objectName="lessonCombo")
        self.chooser.setToolTip("Jump to any lesson of the lecture")
        # Long titles must not widen the dock (the window has to fit 1280 px, e.g. a projector).
        self.chooser.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.chooser.setMinimumContentsLength(16)
        for lesson in self.lessons:
            self.chooser.addItem(f"{lesson.number}. {lesson.title}")
        self.chooser.activated.connect(lambda i: self.go_to(i, start=True))

        self.prev_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_ArrowBack), "Previous",
                                       objectName="prevLessonButton")
        self.prev_button.setToolTip("Previous lesson: loads its settings (Page Up)")
        self.prev_button.clicked.connect(self.previous)
        self.start_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload), "Start",
                                        objectName="startLessonButton")
        self.start_button.setToolTip("Load this lesson's settings and view; the run starts afresh")
        self.start_button.clicked.connect(self.start)
        self.next_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_ArrowForward), "Next",
                                       objectName="nextLessonButton")
        self.next_button.setToolTip("Next lesson: loads its settings (Page Down)")
        self.next_button.setLayoutDirection(Qt.LayoutDirection.RightToLeft)  # arrow after the text
        self.next_button.clicked.connect(self.next)

        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        buttons.addWidget(self.prev_button)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.next_button)
        header = QHBoxLayout()
        header.addWidget(self.position_label)
        header.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)
        layout.addWidget(self.chooser)
        layout.addLayout(header)
        layout.addWidget(self.topic_label)
        layout.addWidget(self.title_label)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.remedy_button)
        layout.addLayout(buttons)
        self._style_labels()
        self._show()

    # ----------------------------------------------------------------- navigation
    @property
    def current(self) -> Lesson | None:
        return self.lessons[self.index] if self.lessons else None

    def go_to(self, index: int, *, start: bool = True) -> None:
        """Show lesson `index` (0-based, clamped); with `start`, emit `lesson_chosen` for it."""
        if not self.lessons:
            return
        self.index = max(0, min(index, len(self.lessons) - 1))
        self._show()
        if start:
            self.start()

    def next(self) -> None:
        if self.index + 1 < len(self.lessons):
            self.go_to(self.index + 1)

    def previous(self) -> None:
        if self.index > 0:
            self.go_to(self.index - 1)

    def start(self) -> None:
        """(Re)start the shown lesson: emits `lesson_chosen`."""
        if self.current is not None:
            self.lesson_chosen.emit(self.current)

    def try_remedy(self) -> None:
        """Run the shown lesson with its remedy: emits `remedy_chosen`."""
        if self.current is not None and self.current.remedy:
            self.remedy_chosen.emit(self.current)

    def show_settings(self, settings: Settings) -> None:
        """The controls now hold `settings`: the status line says whether the shown lesson is loaded."""
        self._held = settings
        self._show_status()

    def select_preset(self, name: str, settings: Settings) -> None:
        """A preset was loaded: show the lesson with exactly these settings, else the first lesson
        built on that preset (its status line then says what Start would change); if no lesson uses
        the preset, the shown lesson stays, marked as not loaded."""
        exact = [i for i, lesson in enumerate(self.lessons) if lesson.settings == settings]
        named = [i for i, lesson in enumerate(self.lessons) if lesson.preset == name]
        if exact or named:
            self.go_to((exact or named)[0], start=False)
        self.show_settings(settings)

    # ----------------------------------------------------------------- display
    def _style_labels(self) -> None:
        # Sizes relative to the application font (rich text), so presentation mode scales them too.
        self.title_label.setTextFormat(Qt.TextFormat.RichText)
        self.position_label.setEnabled(False)   # drawn in the palette's muted colour
        self.topic_label.setEnabled(False)

    def _show(self) -> None:
        lesson = self.current
        count = self.total
        if lesson is None:
            self.position_label.setText("No lessons")
            self.title_label.setText("")
            self.topic_label.setText("")
            self.commentary.setText(html.escape(self.error or "No lessons were found."))
            for button in (self.prev_button, self.start_button, self.next_button):
                button.setEnabled(False)
            self.chooser.setEnabled(False)
            return
        self.position_label.setText(f"Lesson {lesson.number} of {count}")
        self.topic_label.setText(lesson.topic)
        self.title_label.setText(f"<span style='font-size: large; font-weight: 600'>{html.escape(lesson.title)}</span>")
        self.commentary.setText(lesson_html(lesson))
        self.chooser.setCurrentIndex(self.index)
        self.prev_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(self.index + 1 < len(self.lessons))
        self._show_status()

    def _show_status(self) -> None:
        lesson, held = self.current, self._held
        self.remedy_button.setVisible(lesson is not None and bool(lesson.remedy))
        if lesson is not None and lesson.remedy:
            self.remedy_button.setToolTip(f"Run this lesson again with {remedy_text(lesson)}: the "
                                          "same seed and everything else")
        self.status_label.setVisible(lesson is not None and held is not None)
        if lesson is None or held is None:
            return
        differ = [key for key, value in lesson.settings.as_dict().items() if getattr(held, key) != value]
        if lesson.remedy and held == lesson.remedy_settings:
            self.status_label.setText(f"✓ Remedy loaded: this lesson's run with "
                                      f"{html.escape(remedy_text(lesson))}. Start goes back to the lesson.")
        elif not differ:
            self.status_label.setText("✓ Loaded: the controls hold this lesson's settings.")
            self.start_button.setToolTip("Start this lesson again: a new run from the same seed")
        else:
            self.status_label.setText(f"<b>Not loaded:</b> the controls hold other settings "
                                      f"({html.escape(', '.join(differ))}). Press <b>Start</b> to "
                                      f"load this lesson.")
            self.start_button.setToolTip("Load this lesson's settings and view; the run starts afresh")


def remedy_text(lesson: Lesson) -> str:
    """A lesson's remedy in words: "clip = norm"."""
    return ", ".join(f"{key} = {value}" for key, value in lesson.remedy.items())


def lesson_html(lesson: Lesson) -> str:
    """The lesson's commentary as rich text: the idea, then what to do and what to watch for."""
    parts = [f"<p>{html.escape(lesson.intro)}</p>"] if lesson.intro else []
    if lesson.do:
        parts.append(f"<p><b>Do:</b> {html.escape(lesson.do)}</p>")
    parts.append(f"<p><b>Watch for:</b> {html.escape(lesson.watch)}</p>")
    parts.append(f"<p><i>Preset: {html.escape(lesson.preset)}"
                 + (", " + ", ".join(f"{k} = {v}" for k, v in lesson.overrides.items()) if lesson.overrides else "")
                 + f" · view: {html.escape(lesson.tab)}</i></p>")
    return "".join(parts)
