"""The window refuses settings too large for this machine's memory: a message, the controls back to
the running settings, nothing sent to the worker and nothing saved."""

import json

from rnnviz.gui import MainWindow
from rnnviz.gui.main_window import KEY_SETTINGS
from rnnviz.settings import Settings

HUGE = Settings(task="adding", seq_len=500, hidden=512, batch=1024, arch="lstm")


def test_refused_settings_are_reported_and_never_saved(qtbot, settings_store, tmp_path):
    window = MainWindow(settings_store=settings_store, start_worker=False)
    qtbot.addWidget(window)
    window.report_error = lambda message, title="": setattr(window, "last_error", message)
    before = window.controls.settings()
    stored = settings_store.value(KEY_SETTINGS)

    assert window.apply_settings(HUGE) is False
    assert window.last_error.startswith("Not applied: these settings need about")
    assert window.controls.settings() == before
    assert settings_store.value(KEY_SETTINGS) == stored

    preset = tmp_path / "huge.toml"
    preset.write_text("title = 'huge'\n[settings]\n" + "\n".join(
        f"{k} = {json.dumps(v)}" for k, v in HUGE.as_dict().items()) + "\n")
    window.last_error = None
    assert window.load_preset(preset) is False
    assert "these settings need about" in window.last_error
    window.save_state()
    assert json.loads(settings_store.value(KEY_SETTINGS)) == before.as_dict()


def test_stored_settings_too_large_for_this_machine_start_from_the_defaults(qtbot, settings_store):
    settings_store.setValue(KEY_SETTINGS, json.dumps(HUGE.as_dict()))
    window = MainWindow(settings_store=settings_store, start_worker=False)
    qtbot.addWidget(window)
    assert window.controls.settings() == Settings()
    assert "The saved settings were not used" in window.last_error and "hidden 512" in window.last_error
