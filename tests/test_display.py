"""Without a display, or without Qt's X11 libraries, `rnnviz` says what to do instead of aborting."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rnnviz.display import (SETUP_LIBRARIES, XCB_PACKAGES, display_problem, install_commands, not_found,
                            xcb_missing_libraries)

ROOT = Path(__file__).resolve().parent.parent


def launch(env_changes: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(env_changes)
    return subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY is how Linux finds a display")
def test_without_a_display_the_app_exits_2_with_one_line_saying_what_to_do():
    result = launch({})
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "no display" in result.stderr
    assert "rnnviz record" in result.stderr and "QT_QPA_PLATFORM=offscreen" in result.stderr


@pytest.mark.parametrize("env, words", [
    ({}, "DISPLAY and WAYLAND_DISPLAY are not set"),
    ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, "DISPLAY is not set"),
    ({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, "WAYLAND_DISPLAY is not set"),
    ({"DISPLAY": " "}, "no display"),
])
def test_no_display_is_named(env, words):
    problem = display_problem(env, "linux", missing=[])
    assert problem and words in problem and "\n" not in problem


@pytest.mark.parametrize("env, platform", [
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux"),
    ({"QT_QPA_PLATFORM": "minimal:enable_fonts"}, "linux"),
    ({"DISPLAY": ":0"}, "linux"),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux"),
    ({}, "darwin"),
    ({}, "win32"),
])
def test_a_usable_display_passes(env, platform):
    assert display_problem(env, platform, missing=[]) is None


def test_missing_xcb_libraries_are_named_with_the_packages_to_install():
    problem = display_problem({"DISPLAY": ":0"}, "linux", missing=["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in problem and "\n" not in problem
    assert "`sudo apt install libxcb-icccm4 libxcb-keysyms1` (Debian/Ubuntu)" in problem
    assert "`sudo dnf install xcb-util-wm xcb-util-keysyms` (Fedora)" in problem


def test_xcb_libraries_are_not_probed_when_qt_uses_another_platform():
    assert display_problem({"DISPLAY": ":0", "WAYLAND_DISPLAY": "w"}, "linux", missing=["libxcb.so.1"]) is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", missing=["libxcb.so.1"]) is None


def test_ldd_not_found_lines_are_read_once_each():
    listing = ("\tlinux-vdso.so.1 (0x00007ffd)\n\tlibxcb-icccm.so.4 => not found\n"
               "\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f)\n"
               "\tlibxcb-keysyms.so.1 => not found\n\tlibxcb-icccm.so.4 => not found\n")
    assert not_found(listing) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]


def test_the_readme_names_the_set_up_packages_for_debian_and_fedora():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert install_commands(SETUP_LIBRARIES) in readme
    assert all(library in XCB_PACKAGES for library in SETUP_LIBRARIES)


@pytest.mark.skipif(shutil.which("Xvfb") is None or not xcb_missing_libraries(),
                    reason="needs Xvfb and a machine that lacks some of Qt's xcb libraries")
def test_with_an_x_server_but_missing_libraries_the_app_names_them(tmp_path):
    display = f":{90 + os.getpid() % 100}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{display[1:]}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        result = launch({"DISPLAY": display})
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "sudo apt install" in result.stderr
    for library in xcb_missing_libraries():
        assert library in result.stderr
