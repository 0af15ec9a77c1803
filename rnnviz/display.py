"""Can the desktop app open a window here? Checked before Qt starts, because Qt cannot say so itself:
with no display, or with an X server but without some of the system libraries Qt's X11 (xcb)
platform plugin loads, creating the QApplication aborts the process (a core dump) after a generic
"could not load the Qt platform plugin" message. `display_problem` returns one line saying what to
do instead. No Qt import here: importing PySide6's Qt libraries can itself fail on a bare machine.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

#: System libraries Qt's xcb plugin needs (as the dynamic linker names them) and the package that
#: provides each: (Debian/Ubuntu apt, Fedora dnf).
XCB_PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libGLX.so.0": ("libglx0", "libglvnd-glx"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
}

#: The packages the README's set-up section names: those a desktop often lacks (the rest come with
#: any X11 desktop).
SETUP_LIBRARIES = ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-image.so.0", "libxcb-keysyms.so.1",
                   "libxcb-render-util.so.0", "libxkbcommon-x11.so.0", "libEGL.so.1",
                   "libfontconfig.so.1", "libdbus-1.so.3")

#: Platforms that need no display (QT_QPA_PLATFORM values).
HEADLESS_PLATFORMS = ("offscreen", "minimal", "minimalegl", "vnc", "eglfs", "linuxfb", "vkkhrdisplay")

HEADLESS_HINT = "or make videos without a display with `rnnviz record` (QT_QPA_PLATFORM=offscreen runs the app off screen)"


def install_commands(libraries) -> str:
    """``sudo apt install …`` (Debian/Ubuntu) or ``sudo dnf install …`` (Fedora) for `libraries`."""
    apt = dict.fromkeys(XCB_PACKAGES[lib][0] for lib in libraries if lib in XCB_PACKAGES)
    dnf = dict.fromkeys(XCB_PACKAGES[lib][1] for lib in libraries if lib in XCB_PACKAGES)
    return (f"`sudo apt install {' '.join(apt)}` (Debian/Ubuntu) or "
            f"`sudo dnf install {' '.join(dnf)}` (Fedora)")


def display_problem(env=None, platform: str = sys.platform, missing=None) -> str | None:
    """Why the app cannot open a window here, in one line with what to do; None if it can (or if
    this cannot be known before trying). `missing` is the xcb plugin's missing libraries
    (default: asked of the dynamic linker, only when Qt would use xcb)."""
    env = os.environ if env is None else env
    if not platform.startswith("linux"):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen in HEADLESS_PLATFORMS:
        return None
    x11, wayland = env.get("DISPLAY", "").strip(), env.get("WAYLAND_DISPLAY", "").strip()
    no_display = ((chosen == "xcb" and not x11) or (chosen == "wayland" and not wayland)
                  or (not chosen and not x11 and not wayland))
    if no_display:
        unset = {"xcb": "DISPLAY is", "wayland": "WAYLAND_DISPLAY is"}.get(chosen, "DISPLAY and WAYLAND_DISPLAY are")
        return (f"no display to open the window on ({unset} not set): run rnnviz in a desktop session "
                f"or over `ssh -X`, {HEADLESS_HINT}")
    uses_xcb = chosen == "xcb" or (not chosen and not wayland)
    if not uses_xcb:
        return None
    missing = xcb_missing_libraries() if missing is None else missing
    if not missing:
        return None
    return (f"Qt's X11 platform needs system libraries that are missing ({', '.join(missing)}): "
            f"install them with {install_commands(missing)}, {HEADLESS_HINT}")


def xcb_plugin() -> Path | None:
    """PySide6's xcb platform plugin, found without loading Qt."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(list(spec.submodule_search_locations)[0]) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def xcb_missing_libraries(plugin: Path | None = None) -> list[str]:
    """Libraries the xcb plugin links (directly or through other libraries) that the dynamic linker
    cannot find, plus libxcb-cursor, which Qt loads only when it starts; [] if all are there or if
    this system has no ``ldd`` to ask."""
    plugin = plugin or xcb_plugin()
    ldd = shutil.which("ldd")
    if plugin is None or ldd is None:
        return []
    try:
        listing = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    missing = not_found(listing)
    if "libxcb-cursor.so.0" not in listing and not _loadable("libxcb-cursor.so.0"):
        missing.append("libxcb-cursor.so.0")
    return missing


def not_found(ldd_output: str) -> list[str]:
    """The libraries ``ldd`` reports as "not found", each once, in its order."""
    names = (line.split("=>")[0].strip() for line in ldd_output.splitlines() if "not found" in line)
    return list(dict.fromkeys(names))


def _loadable(library: str) -> bool:
    import ctypes

    try:
        ctypes.CDLL(library)
    except OSError:
        return False
    return True
