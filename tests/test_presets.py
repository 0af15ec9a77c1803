import pytest

from rnnviz.presets import (Preset, PresetError, load_preset, preset_names, preset_toml,
                            preset_with_overrides, save_preset)
from rnnviz.settings import Settings

LESSONS = ["vanishing", "relu", "identity-init", "skip", "exploding", "clipping", "lstm"]


def test_every_lecture_topic_has_a_preset():
    assert set(LESSONS) <= set(preset_names())


def test_presets_are_listed_in_lesson_order_then_by_name(tmp_path):
    assert preset_names()[:len(LESSONS)] == LESSONS
    presets, lessons = tmp_path / "presets", tmp_path / "lessons"
    presets.mkdir(), lessons.mkdir()
    for name in ("alpha", "beta", "gamma", "delta"):
        (presets / f"{name}.toml").write_text("title = 'x'\n")
    (lessons / "01-a.toml").write_text("preset = 'gamma'\n")
    (lessons / "02-b.toml").write_text("preset = 'beta'\n")
    (lessons / "03-c.toml").write_text("preset = [broken\n")   # a broken lesson changes nothing
    (lessons / "04-d.toml").write_text("preset = 'gamma'\n")
    assert preset_names(presets, lessons) == ["gamma", "beta", "alpha", "delta"]


@pytest.mark.parametrize("name", LESSONS)
def test_presets_load_with_title_and_commentary(name):
    preset = load_preset(name)
    assert preset.name == name and preset.title and len(preset.commentary) > 80
    assert "\n" not in preset.commentary  # line continuations joined into one paragraph
    assert isinstance(preset.settings, Settings)


def test_lesson_pairs_differ_only_where_the_lesson_says():
    vanishing, lstm = load_preset("vanishing").settings, load_preset("lstm").settings
    assert (vanishing.task, vanishing.lag) == (lstm.task, lstm.lag)
    exploding, clipping = load_preset("exploding").settings, load_preset("clipping").settings
    assert exploding.replace(clip="norm") == clipping
    assert exploding.clip == "none"


def test_unknown_preset_lists_the_available_ones():
    with pytest.raises(PresetError, match="unknown preset 'nope'; available: .*vanishing"):
        load_preset("nope")


@pytest.mark.parametrize("text, words", [
    ("title = 'x'\n[settings\n", "not valid TOML"),
    ("title = 'x'\n[settings]\nlr = 'fast'\n", "lr = 'fast' is not a number"),
    ("title = 'x'\n[settings]\nwobble = 1\n", "unknown setting 'wobble'"),
    ("title = 'x'\ncolour = 'red'\n", "unknown key 'colour'"),
    ("title = 3\n", "title and commentary must be text"),
    ("steps = -1\n", "steps must be an integer from 1 to 1,000,000; got -1"),
    ("steps = 10000000000000\n", "steps must be an integer from 1 to 1,000,000"),
    ("settings = 5\n", "[settings] must be a table"),
])
def test_corrupt_presets_give_clear_errors(tmp_path, text, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(PresetError) as err:
        load_preset(path)
    assert str(path) in str(err.value) and words in str(err.value)


def test_unreadable_bytes_give_a_clear_error(tmp_path):
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PresetError, match="cannot read preset"):
        load_preset(path)


def test_saved_preset_loads_back_identically(tmp_path):
    preset = Preset("mine", "My run", "Watch this.", Settings(lr=0.0123, arch="lstm", hidden=17), 321)
    save_preset(preset, tmp_path / "mine.toml")
    assert load_preset(tmp_path / "mine.toml") == preset
    assert preset_toml(load_preset(tmp_path / "mine.toml")) == preset_toml(preset)


def test_saving_to_an_unwritable_place_fails_clearly_and_leaves_nothing(tmp_path):
    target = tmp_path / "missing-dir" / "p.toml"
    with pytest.raises(PresetError, match="cannot write preset"):
        save_preset(Preset("p", "t", "c", Settings()), target)
    assert not target.parent.exists()


def test_overrides_apply_on_top_of_the_preset():
    preset, settings = preset_with_overrides("vanishing", [("lr", 0.5), ("hidden", 8)])
    assert settings == preset.settings.replace(lr=0.5, hidden=8)
