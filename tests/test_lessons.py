from pathlib import Path

import pytest

from rnnviz.lessons import VIEWS, LessonError, load_lesson, load_lessons
from rnnviz.presets import load_preset

LECTURE_ORDER = ["vanishing", "vanishing", "relu", "identity-init", "skip", "exploding", "clipping", "lstm"]


def test_lessons_walk_the_lecture_in_order():
    lessons = load_lessons()
    assert [lesson.preset for lesson in lessons] == LECTURE_ORDER
    assert [lesson.number for lesson in lessons] == list(range(1, len(lessons) + 1))
    assert "BPTT" in lessons[0].title and "LSTM" in lessons[-1].title
    for lesson in lessons:
        assert lesson.view in VIEWS and lesson.tab and lesson.record_view
        assert lesson.watch and lesson.do and lesson.intro
        assert "\n" not in lesson.watch  # whitespace of the TOML's wrapped text is normalised


def test_overrides_apply_on_top_of_the_preset():
    bptt = load_lessons()[0]
    base = load_preset("vanishing").settings
    assert bptt.settings == base.replace(lag=8)
    assert bptt.set_arguments() == ["--set", "lag=8"]
    preset = bptt.as_preset()
    assert preset.settings.lag == 8 and preset.title == bptt.title and "Watch:" in preset.commentary


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "01-x.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = 'title = "T"\npreset = "vanishing"\nview = "curves"\nwatch = "w"\n'


@pytest.mark.parametrize("text, words", [
    (GOOD + 'colour = "red"\n', "unknown key 'colour'"),
    ('title = "T"\nview = "curves"\nwatch = "w"\n', "missing 'preset'"),
    (GOOD.replace('"curves"', '"movie"'), "view = 'movie' is not allowed"),
    (GOOD.replace('"vanishing"', '"nope"'), "unknown preset 'nope'"),
    (GOOD + "[settings]\nlag = -1\n", "lag = -1 is out of range"),
    (GOOD + "[settings]\nwobble = 1\n", "unknown setting 'wobble'"),
    (GOOD.replace('"T"', "3"), "title must be text"),
    (GOOD + "steps = 0\n", "steps must be an integer from 1 to 1,000,000; got 0"),
    (GOOD + "steps = 10000000000000\n", "steps must be an integer from 1 to 1,000,000"),
    (GOOD + "[remedy]\nclip = 'sometimes'\n", "[remedy]: clip = 'sometimes' is not allowed"),
    (GOOD + "remedy = 3\n", "[remedy] must be a table"),
    ("title = ", "not valid TOML"),
])
def test_bad_lesson_files_say_which_file_and_why(tmp_path, text, words):
    path = _write(tmp_path, text)
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    assert words in str(info.value) and str(path) in str(info.value)


def test_a_lesson_may_shorten_the_presets_budget():
    lessons = load_lessons()
    assert lessons[-1].steps == 300 and lessons[1].steps == load_preset("vanishing").steps


def test_empty_directory_is_an_error(tmp_path):
    with pytest.raises(LessonError, match="no lessons"):
        load_lessons(tmp_path)


def test_the_exploding_lesson_names_a_remedy_that_is_the_clipping_preset():
    lesson = next(lesson for lesson in load_lessons() if lesson.preset == "exploding")
    assert dict(lesson.remedy) == {"clip": "norm"}
    assert lesson.remedy_settings == load_preset("clipping").settings
    assert [other.name for other in load_lessons() if other.remedy] == [lesson.name]


def _lesson_dir(tmp_path):
    """The shipped lessons, with lesson 3's file broken."""
    import shutil

    from rnnviz.presets import LESSON_DIR

    directory = tmp_path / "lessons"
    shutil.copytree(LESSON_DIR, directory)
    broken = sorted(directory.glob("*.toml"))[2]
    broken.write_text("colour = 'red'\n" + broken.read_text())
    return directory, broken.stem


def test_one_bad_lesson_file_stops_only_its_own_lesson(tmp_path):
    from rnnviz.lessons import find_lesson, read_lessons

    directory, bad = _lesson_dir(tmp_path)
    lessons, broken = read_lessons(directory)
    assert [b.name for b in broken] == [bad] and broken[0].number == 3
    assert [lesson.number for lesson in lessons] == [1, 2, *range(4, len(lessons) + 2)]
    assert find_lesson("1", directory).number == 1
    assert find_lesson("4", directory).number == 4
    with pytest.raises(LessonError, match="unknown key 'colour'"):
        find_lesson("3", directory)
    with pytest.raises(LessonError, match="unknown key 'colour'"):
        find_lesson(bad, directory)


def test_record_a_lesson_and_all_lessons_past_a_bad_file(tmp_path, monkeypatch, capsys):
    import rnnviz.lessons as lessons_module
    import rnnviz.recording as recording
    from rnnviz.cli import main

    directory, bad = _lesson_dir(tmp_path)
    monkeypatch.setattr(lessons_module, "LESSON_DIR", directory)
    recorded = []
    monkeypatch.setattr(recording, "record", lambda settings, out, **kw: recorded.append(out) or
                        recording.RecordResult(out, 1, kw["fps"], kw["size"], 0, 0.0))
    assert main(["record", "--lesson", "1", "--out", str(tmp_path / "one.mp4")]) == 0
    assert main(["record", "--all-lessons", "--out", str(tmp_path / "all")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"not recorded: lesson {directory / bad}.toml" in err
    assert len(recorded) == 1 + len(list(directory.glob("*.toml"))) - 1
    assert not any(bad in str(path) for path in recorded)


def test_the_panel_shows_the_lessons_that_load(qtbot, tmp_path, monkeypatch):
    import rnnviz.lessons as lessons_module
    from rnnviz.gui.lesson_panel import LessonPanel

    directory, bad = _lesson_dir(tmp_path)
    monkeypatch.setattr(lessons_module, "LESSON_DIR", directory)
    panel = LessonPanel()
    qtbot.addWidget(panel)
    total = len(list(directory.glob("*.toml")))
    assert len(panel.lessons) == total - 1 and "unknown key 'colour'" in panel.error
    panel.go_to(len(panel.lessons) - 1, start=False)
    assert panel.position_label.text() == f"Lesson {total} of {total}"
