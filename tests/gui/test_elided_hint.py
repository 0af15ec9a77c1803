"""The stepper's one-line hint never shows a word cut in half; its tooltip holds the whole text."""

import pytest
from PySide6.QtWidgets import QLabel, QWidget

from rnnviz.gui.elided_label import ElidedLabel
from rnnviz.gui.stepper import INTRO


@pytest.mark.parametrize("width", [300, 500, 4000])
def test_the_stepper_hint_shows_whole_words_and_keeps_the_full_text_in_its_tooltip(qtbot, width):
    holder = QWidget()
    qtbot.addWidget(holder)
    label = ElidedLabel(INTRO, holder, objectName="stepperIntro")
    label.resize(width, 30)
    shown = label.text()
    assert label.toolTip() == INTRO
    assert label.fontMetrics().horizontalAdvance(shown) <= width
    if shown == INTRO:
        assert label.fontMetrics().horizontalAdvance(INTRO) <= width
    else:
        kept = shown.removesuffix(" …")
        assert shown.endswith(" …") and INTRO.startswith(kept)
        assert INTRO[len(kept)] in " ,:;"              # cut between words, never inside one


def test_the_stepper_bar_uses_the_eliding_hint(qtbot):
    from rnnviz.gui.stepper import BPTTStepper

    stepper = BPTTStepper()
    qtbot.addWidget(stepper)
    stepper.resize(600, 200)
    stepper.show()
    intro = stepper.findChild(QLabel, "stepperIntro")
    assert isinstance(intro, ElidedLabel) and intro.toolTip() == INTRO
    assert intro.fontMetrics().horizontalAdvance(intro.text()) <= intro.contentsRect().width()
