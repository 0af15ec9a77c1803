import math

import pytest

from rnnviz.settings import FIELDS, LIVE, STRUCTURAL, Settings, SettingsError, parse_assignment


def test_defaults_are_valid_and_cover_every_field():
    s = Settings()
    assert set(s.as_dict()) == set(FIELDS)
    assert STRUCTURAL | LIVE == set(FIELDS) and not STRUCTURAL & LIVE
    assert LIVE == {"optimizer", "lr", "momentum", "clip", "clip_threshold"}


@pytest.mark.parametrize("key, value, words", [
    ("lr", float("nan"), "lr = nan is not finite"),
    ("lr", 0.0, "lr = 0.0 is out of range"),
    ("lr", 100.0, "[1e-05, 10]"),
    ("activation", "gelu", "activation must be one of tanh, relu, sigmoid, linear"),
    ("hidden", 2.5, "hidden = 2.5 is not an integer"),
    ("hidden", True, "not a number"),
    ("clip", "sometimes", "clip must be one of none, value, norm"),
    ("lag", 0, "lag = 0 is out of range"),
])
def test_bad_values_name_the_field_and_its_range(key, value, words):
    with pytest.raises(SettingsError) as err:
        Settings().replace(**{key: value})
    assert words in str(err.value)


def test_unknown_key_is_rejected_with_the_known_ones():
    with pytest.raises(SettingsError, match="unknown setting 'learning_rate'.*lr"):
        Settings().replace(learning_rate=0.1)


def test_parse_assignment_types_values():
    assert parse_assignment("lr=0.01") == ("lr", 0.01)
    assert parse_assignment("hidden = 64") == ("hidden", 64)
    assert parse_assignment("arch=lstm") == ("arch", "lstm")
    with pytest.raises(SettingsError, match="expected key=value"):
        parse_assignment("lr")
    with pytest.raises(SettingsError, match=r"hidden = 'many' is not a number; hidden must be an integer in \[1, 512\]"):
        parse_assignment("hidden=many")
    with pytest.raises(SettingsError, match="not finite"):
        parse_assignment("lr=inf")
    assert parse_assignment("hidden=64.0") == ("hidden", 64)    # as a preset file would accept it
    with pytest.raises(SettingsError, match="hidden = 2.5 is not an integer"):
        parse_assignment("hidden=2.5")


def test_ints_given_as_whole_floats_are_accepted():
    assert Settings(hidden=64.0).hidden == 64 and isinstance(Settings(hidden=64.0).hidden, int)
    assert Settings(lr=1).lr == 1.0 and isinstance(Settings(lr=1).lr, float)


def test_length_follows_the_task():
    assert Settings(task="recall", lag=7).length == 7
    assert Settings(task="sentence", lag=9).length == 9
    assert Settings(task="adding", seq_len=30).length == 30


def test_structural_changes():
    a = Settings()
    assert a.structural_changes(a.replace(lr=0.5, clip="none")) == set()
    assert a.structural_changes(a.replace(hidden=8, seed=3)) == {"hidden", "seed"}


def test_every_field_has_help_with_range_or_choices():
    for name, field in FIELDS.items():
        assert len(field.help) > 20, name
        assert field.choices or (field.low is not None and field.high is not None
                                 and math.isfinite(field.high)), name


def test_the_arch_choices_are_the_engines_architectures():
    """Settings lists them itself (it loads without numpy, which a sweep's process must not load
    before it chooses OpenBLAS's threads); the engine's ARCHS is the source it must match."""
    from rnnviz.engine import ARCHS

    assert FIELDS["arch"].choices == ARCHS
