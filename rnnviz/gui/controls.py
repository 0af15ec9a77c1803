"""The control panel: one widget per setting, built from `rnnviz.settings.FIELDS`.

Ranges, choices and tooltips all come from FIELDS, so a widget can only hold a value `Settings`
accepts, and every tooltip states the formula the setting enters. The panel reads and writes whole
`Settings`; model → widget updates happen under signal blockers so they never bounce back.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QSizePolicy, QSlider, QSpinBox, QStyle, QTextBrowser,
                               QVBoxLayout, QWidget)

from rnnviz.settings import FIELDS, LAG_TASKS, Settings, SettingsError

#: How choices are shown (the stored value is the key); unlisted choices show as they are. Short
#: enough to show whole in the controls' narrow column, in presentation mode's large type too (the
#: tooltips say what each is).
CHOICE_LABELS = {
    "arch": {"rnn": "RNN", "skip": "RNN + skip", "lstm": "LSTM"},
    "task": {"recall": "Recall", "adding": "Adding", "sine": "Sine", "text": "Text", "sentence": "Sentence"},
    "activation": {"tanh": "tanh", "relu": "ReLU", "sigmoid": "sigmoid", "linear": "linear"},
    "init": {"xavier": "Xavier", "orthogonal": "Orthogonal", "identity": "Identity (IRNN)",
             "normal": "Normal"},
    "optimizer": {"sgd": "SGD (momentum)", "adam": "Adam"},
    "clip": {"none": "None", "value": "By value", "norm": "By norm"},
    "dtype": {"float64": "float64", "float32": "float32"},
}
#: Slider positions per decade of a log-scaled value.
LOG_SLIDER_STEPS_PER_DECADE = 20
#: One arrow press on a log spin box multiplies the value by 10 ** LOG_SPIN_STEP.
LOG_SPIN_STEP = 0.1
#: Significant digits kept by log spin boxes.
LOG_SPIN_DIGITS = 3
#: Arrow step of a linear float spin box, as a share of its range.
LINEAR_STEP_SHARE = 0.01
#: Decimals of linear float spin boxes.
LINEAR_DECIMALS = 3
#: Iterations per second the speed slider offers; 0 means as fast as possible.
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 0)
DEFAULT_SPEED = 200
SPEED_SLIDER_WIDTH = 200
#: The preset chooser may shrink to this many characters (the popup still shows whole names).
COMBO_MIN_CHARS = 8
#: The preset notes box is between this many lines tall and this many (then it scrolls).
NOTES_MIN_LINES, NOTES_MAX_LINES = 3, 32


def field_tooltip(name: str) -> str:
    """The tooltip of a setting: its help text (the formula) and what it allows."""
    field = FIELDS[name]
    if field.choices is not None:
        return field.help
    return f"{field.help}\nAllowed: {field.low:g} … {field.high:g}."


def speed_text(speed: float) -> str:
    return "max" if speed == 0 else f"{speed:g}/s"


class LogSpinBox(QDoubleSpinBox):
    """A spin box for values spanning decades: shows 3 significant digits (1e-05, 0.003, 2.5),
    steps by a constant factor, accepts scientific notation, and refuses values out of range."""

    def __init__(self, low: float, high: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(int(-math.floor(math.log10(low))) + LOG_SPIN_DIGITS)
        self.setRange(low, high)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:
        return f"{value:.{LOG_SPIN_DIGITS}g}"

    def valueFromText(self, text: str) -> float:
        try:   # keep exactly what the field shows
            return float(f"{float(text):.{LOG_SPIN_DIGITS}g}")
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            # Part of a number being typed ("1e", "-", "0.") is fine for now; letters are not.
            ok = stripped == "" or all(c in "0123456789.eE+-" for c in stripped)
            return (QValidator.State.Intermediate if ok else QValidator.State.Invalid), text, pos
        if not math.isfinite(value):
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def fixup(self, text: str) -> str:
        return self.textFromValue(self.value())

    def stepBy(self, steps: int) -> None:
        value = self.value() * 10 ** (steps * LOG_SPIN_STEP)
        value = float(f"{value:.{LOG_SPIN_DIGITS}g}")
        self.setValue(min(max(value, self.minimum()), self.maximum()))


class LogSlider(QSlider):
    """A horizontal slider over log10 of a value; `valueEdited(float)` when the user moves it."""

    valueEdited = Signal(float)

    def __init__(self, low: float, high: float, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._low, self._high = math.log10(low), math.log10(high)
        self.setRange(0, round((self._high - self._low) * LOG_SLIDER_STEPS_PER_DECADE))
        self.setPageStep(LOG_SLIDER_STEPS_PER_DECADE)
        self.valueChanged.connect(lambda pos: self.valueEdited.emit(self.value_at(pos)))

    def value_at(self, position: int) -> float:
        exponent = self._low + position / LOG_SLIDER_STEPS_PER_DECADE
        return float(f"{10 ** exponent:.{LOG_SPIN_DIGITS}g}")

    def set_log_value(self, value: float) -> None:
        with QSignalBlocker(self):
            self.setValue(round((math.log10(value) - self._low) * LOG_SLIDER_STEPS_PER_DECADE))


class NotesBox(QTextBrowser):
    """A preset's notes, as tall as their text at the box's width (up to `NOTES_MAX_LINES`): they
    read without scrolling inside the box; the controls' column scrolls instead."""

    def __init__(self, *, objectName: str) -> None:
        super().__init__(objectName=objectName)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.document().contentsChanged.connect(self.updateGeometry)

    def heightForWidth(self, width: int) -> int:
        frame = 2 * self.frameWidth()
        document = self.document().clone()
        document.setTextWidth(max(width - frame - self.verticalScrollBar().sizeHint().width(), 1))
        lines = self.fontMetrics().lineSpacing()
        return frame + max(NOTES_MIN_LINES * lines, min(int(document.size().height()) + lines, NOTES_MAX_LINES * lines))

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self.heightForWidth(max(self.width(), 200)))

    def minimumSizeHint(self) -> QSize:
        return QSize(super().minimumSizeHint().width(), self.heightForWidth(max(self.width(), 200)))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():   # the text wraps anew: another height
            self.updateGeometry()


def _combo(name: str, object_name: str) -> QComboBox:
    combo = QComboBox(objectName=object_name)
    labels = CHOICE_LABELS.get(name, {})
    for choice in FIELDS[name].choices:
        combo.addItem(labels.get(choice, choice), choice)
    combo.setToolTip(field_tooltip(name))
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    combo.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)  # never narrower: labels whole
    return combo


def _int_spin(name: str, object_name: str) -> QSpinBox:
    field = FIELDS[name]
    spin = QSpinBox(objectName=object_name)
    spin.setRange(int(field.low), int(field.high))
    spin.setKeyboardTracking(False)
    spin.setToolTip(field_tooltip(name))
    spin.setAccelerated(True)
    return spin


def _float_spin(name: str, object_name: str) -> QDoubleSpinBox:
    field = FIELDS[name]
    if field.log:
        spin = LogSpinBox(field.low, field.high)
    else:
        spin = QDoubleSpinBox()
        spin.setDecimals(LINEAR_DECIMALS)
        spin.setRange(field.low, field.high)
        spin.setSingleStep((field.high - field.low) * LINEAR_STEP_SHARE)
        spin.setKeyboardTracking(False)
    spin.setObjectName(object_name)
    spin.setToolTip(field_tooltip(name))
    return spin


class ControlPanel(QWidget):
    """Grouped controls for every setting, plus the preset chooser and its commentary.

    Signals: `settings_edited(Settings)` after any user edit; `preset_chosen(str)` with a preset name.
    """

    settings_edited = Signal(object)
    preset_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("controlPanel")
        self._settings = Settings()
        self._lengths = {"lag": self._settings.lag, "seq_len": self._settings.seq_len}

        self.preset_combo = QComboBox(objectName="presetCombo")
        self.preset_combo.setPlaceholderText("Choose a preset…")
        self.preset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(COMBO_MIN_CHARS)
        self.preset_combo.setToolTip("Load a lesson's settings: every control below is set to the "
                                     "preset's values and the run restarts.")
        self.preset_combo.activated.connect(self._preset_activated)
        self.preset_notes = NotesBox(objectName="presetNotes")
        self.preset_notes.setOpenExternalLinks(True)
        self.preset_notes.setPlaceholderText("A preset's notes appear here.")

        w = self.widgets = {
            "task": _combo("task", "taskCombo"),
            "length": QSpinBox(objectName="seqLenSpin"),
            "batch": _int_spin("batch", "batchSpin"),
            "arch": _combo("arch", "archCombo"),
            "activation": _combo("activation", "activationCombo"),
            "hidden": _int_spin("hidden", "hiddenSpin"),
            "skip": _int_spin("skip", "skipSpin"),
            "forget_bias": _float_spin("forget_bias", "forgetBiasSpin"),
            "init": _combo("init", "initCombo"),
            "init_scale": _float_spin("init_scale", "initScaleSpin"),
            "seed": _int_spin("seed", "seedSpin"),
            "dtype": _combo("dtype", "dtypeCombo"),
            "optimizer": _combo("optimizer", "optimizerCombo"),
            "lr": _float_spin("lr", "lrSpin"),
            "momentum": _float_spin("momentum", "momentumSpin"),
            "clip": _combo("clip", "clipModeCombo"),
            "clip_threshold": _float_spin("clip_threshold", "clipSpin"),
        }
        w["length"].setKeyboardTracking(False)
        w["length"].setAccelerated(True)
        self.lr_slider = LogSlider(FIELDS["lr"].low, FIELDS["lr"].high)
        self.lr_slider.setObjectName("lrSlider")
        self.lr_slider.setToolTip(field_tooltip("lr"))
        self.length_label = QLabel()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        preset_box = QGroupBox("Preset")
        preset_layout = QVBoxLayout(preset_box)
        preset_layout.addWidget(self.preset_combo)
        preset_layout.addWidget(self.preset_notes)
        layout.addWidget(preset_box)

        lr_row = QWidget()
        lr_layout = QHBoxLayout(lr_row)
        lr_layout.setContentsMargins(0, 0, 0, 0)
        lr_layout.addWidget(w["lr"])
        lr_layout.addWidget(self.lr_slider, 1)
        w["lr"].setMinimumWidth(w["lr"].fontMetrics().horizontalAdvance("0.00001") + 30)

        groups = (
            ("Task", (("Task", w["task"]), (self.length_label, w["length"]), ("Batch size", w["batch"]))),
            ("Model", (("Architecture", w["arch"]), ("Activation f", w["activation"]),
                       ("Hidden units H", w["hidden"]), ("Skip k", w["skip"]),
                       ("Forget-gate bias", w["forget_bias"]), ("Precision", w["dtype"]))),
            ("Weights", (("Init of W_H", w["init"]), ("Init scale", w["init_scale"]), ("Seed", w["seed"]))),
            ("Optimisation", (("Optimiser", w["optimizer"]), ("Learning rate η", lr_row),
                              ("Momentum μ", w["momentum"]))),
            ("Clipping", (("Clip", w["clip"]), ("Threshold τ", w["clip_threshold"]))),
        )
        self.groups: dict[str, QGroupBox] = {}
        for title, rows in groups:
            box = QGroupBox(title, objectName=f"{title.lower()}Group")
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setVerticalSpacing(4)
            form.setContentsMargins(8, 6, 8, 6)
            for label, widget in rows:
                form.addRow(label, widget)
                if isinstance(label, str):
                    form.labelForField(widget).setToolTip(widget.toolTip())
            layout.addWidget(box)
            self.groups[title] = box
        layout.addStretch(1)

        for key, widget in w.items():
            if isinstance(widget, QComboBox):
                widget.currentIndexChanged.connect(self._edited)
            else:
                widget.valueChanged.connect(self._edited)
        w["lr"].valueChanged.connect(self.lr_slider.set_log_value)
        self.lr_slider.valueEdited.connect(w["lr"].setValue)
        self.set_settings(self._settings)

    # ----------------------------------------------------------------- presets
    def set_presets(self, presets: list[tuple[str, str]]) -> None:
        """Fill the preset chooser with (name, title) pairs."""
        with QSignalBlocker(self.preset_combo):
            self.preset_combo.clear()
            for name, title in presets:
                self.preset_combo.addItem(title if title == name else f"{name}: {title}", name)
            self.preset_combo.setCurrentIndex(-1)

    def show_preset(self, name: str | None, title: str = "", commentary: str = "") -> None:
        """Select `name` in the chooser (None: none) and show the title and commentary."""
        with QSignalBlocker(self.preset_combo):
            self.preset_combo.setCurrentIndex(self.preset_combo.findData(name) if name else -1)
        if not (title or commentary):
            self.preset_notes.clear()
            return
        paragraphs = "".join(f"<p>{_escape(p)}</p>" for p in commentary.split("\n\n") if p.strip())
        self.preset_notes.setHtml(f"<p><b>{_escape(title or name)}</b></p>{paragraphs}")

    def _preset_activated(self, index: int) -> None:
        name = self.preset_combo.itemData(index)
        if name:
            self.preset_chosen.emit(name)

    # ----------------------------------------------------------------- settings ⇄ widgets
    def settings(self) -> Settings:
        return self._settings

    def set_settings(self, settings: Settings) -> None:
        """Show `settings` in the widgets without emitting `settings_edited`."""
        self._settings = settings
        self._lengths = {"lag": settings.lag, "seq_len": settings.seq_len}
        w = self.widgets
        was_blocked = {key: widget.blockSignals(True) for key, widget in w.items()}
        try:
            for key, widget in w.items():
                if key == "length":
                    continue
                value = getattr(settings, key)
                if isinstance(widget, QComboBox):
                    widget.setCurrentIndex(widget.findData(value))
                else:
                    widget.setValue(value)
            self._configure_length(settings.task)
            self.lr_slider.set_log_value(settings.lr)
        finally:
            for key, widget in w.items():
                widget.blockSignals(was_blocked[key])
        self._update_enabled()

    def _length_field(self, task: str) -> str:
        return "lag" if task in LAG_TASKS else "seq_len"

    def _configure_length(self, task: str) -> None:
        name = self._length_field(task)
        field = FIELDS[name]
        spin = self.widgets["length"]
        with QSignalBlocker(spin):
            spin.setRange(int(field.low), int(field.high))
            spin.setValue(self._lengths[name])
        spin.setToolTip(field_tooltip(name))
        self.length_label.setText("Lag" if name == "lag" else "Sequence length T")
        self.length_label.setToolTip(spin.toolTip())

    def _update_enabled(self) -> None:
        s = self._settings
        w = self.widgets
        w["activation"].setEnabled(s.arch != "lstm")
        w["skip"].setEnabled(s.arch == "skip")
        w["forget_bias"].setEnabled(s.arch == "lstm")
        w["momentum"].setEnabled(s.optimizer == "sgd")
        w["clip_threshold"].setEnabled(s.clip != "none")

    def _read(self) -> Settings:
        w = self.widgets
        values = {}
        for key, widget in w.items():
            if key == "length":
                continue
            values[key] = widget.currentData() if isinstance(widget, QComboBox) else widget.value()
        if values["task"] != self._settings.task:
            self._configure_length(values["task"])
        self._lengths[self._length_field(values["task"])] = w["length"].value()
        values.update(self._lengths)
        return self._settings.replace(**values)

    def _edited(self, *_args) -> None:
        try:
            settings = self._read()
        except SettingsError:  # cannot happen with the widgets' ranges; keep the old settings
            self.set_settings(self._settings)
            return
        if settings == self._settings:
            return
        self._settings = settings
        self._update_enabled()
        self.settings_edited.emit(settings)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class RunControls(QWidget):
    """Play/pause, one step, reset and the speed slider (for the toolbar)."""

    play_toggled = Signal(bool)
    step_clicked = Signal()
    reset_clicked = Signal()
    speed_changed = Signal(float)   # iterations per second, 0 = as fast as possible

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runControls")
        style = self.style()
        self.play_button = QPushButton(objectName="playButton")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Train continuously / pause (Space)")
        self.play_button.toggled.connect(self._play_toggled)
        self.step_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward),
                                       "Step", objectName="stepButton")
        self.step_button.setToolTip("Train exactly one iteration, then pause (S or →)")
        self.step_button.clicked.connect(self.step_clicked)
        self.reset_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload),
                                        "Reset", objectName="resetButton")
        self.reset_button.setToolTip("Start the run again from the same seed: it replays exactly (R)")
        self.reset_button.clicked.connect(self.reset_clicked)
        self.speed_slider = QSlider(Qt.Orientation.Horizontal, objectName="speedSlider")
        self.speed_slider.setRange(0, len(SPEEDS) - 1)
        self.speed_slider.setPageStep(1)
        self.speed_slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.speed_slider.setToolTip("Iterations per second; right end: as fast as possible ([ and ])")
        self.speed_slider.setFixedWidth(SPEED_SLIDER_WIDTH)
        self.speed_value = QLabel(objectName="speedValue")
        self.speed_value.setMinimumWidth(self.speed_value.fontMetrics().horizontalAdvance("1000/s") + 4)
        self.speed_slider.valueChanged.connect(self._speed_moved)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        for button in (self.play_button, self.step_button, self.reset_button):
            button.setMinimumWidth(button.fontMetrics().horizontalAdvance("Pause") + 48)
            layout.addWidget(button)
        layout.addSpacing(16)
        speed_label = QLabel("Speed")
        speed_label.setToolTip(self.speed_slider.toolTip())
        layout.addWidget(speed_label)
        layout.addWidget(self.speed_slider)
        layout.addWidget(self.speed_value)
        layout.addStretch(1)
        self.set_playing(False)
        self.set_speed(DEFAULT_SPEED)

    def set_playing(self, playing: bool) -> None:
        """Show the worker's state without emitting `play_toggled`."""
        with QSignalBlocker(self.play_button):
            self.play_button.setChecked(playing)
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play")

    def set_commands_enabled(self, enabled: bool) -> None:
        """Play, Step and Reset greyed out on a page without a run to command; the speed stays."""
        for button in (self.play_button, self.step_button, self.reset_button):
            button.setEnabled(enabled)

    def speed(self) -> float:
        return float(SPEEDS[self.speed_slider.value()])

    def set_speed(self, speed: float) -> None:
        """Move the slider to the offered speed nearest `speed` (0 = max) and emit `speed_changed`."""
        if speed == 0:
            index = len(SPEEDS) - 1
        else:
            finite = [s for s in SPEEDS if s > 0]
            index = SPEEDS.index(min(finite, key=lambda s: abs(math.log(s / speed))))
        if index == self.speed_slider.value():
            self._speed_moved(index)
        self.speed_slider.setValue(index)

    def faster(self) -> None:
        self.speed_slider.setValue(self.speed_slider.value() + 1)

    def slower(self) -> None:
        self.speed_slider.setValue(self.speed_slider.value() - 1)

    def _speed_moved(self, index: int) -> None:
        speed = float(SPEEDS[index])
        self.speed_value.setText(speed_text(speed))
        self.speed_changed.emit(speed)

    def _play_toggled(self, checked: bool) -> None:
        self.set_playing(checked)
        self.play_toggled.emit(checked)
