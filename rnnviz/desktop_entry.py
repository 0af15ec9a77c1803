"""``rnnviz install-desktop``: put rnnviz in the desktop's application menu, for this user.

Writes ``resources/rnnviz.desktop`` to ``$XDG_DATA_HOME/applications/`` with ``Exec`` pointing at
this installation (its Python running ``-m rnnviz``, so a virtual environment need not be active)
and the icon to ``$XDG_DATA_HOME/icons/hicolor/scalable/apps/``, as the freedesktop.org
specifications describe. No Qt.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from rnnviz.errors import UsageError
from rnnviz.resource_dir import RESOURCES

DESKTOP_FILE = RESOURCES / "rnnviz.desktop"
ICON = RESOURCES / "icons" / "rnnviz.svg"


def data_home(env=None) -> Path:
    """$XDG_DATA_HOME, or ~/.local/share where it is unset or not absolute (as the spec says)."""
    env = os.environ if env is None else env
    value = env.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def desktop_entry(executable: str = sys.executable) -> str:
    """The shipped .desktop text with ``Exec`` launching this installation."""
    exec_line = f"Exec={shlex.join([executable, '-m', 'rnnviz'])}"
    lines = DESKTOP_FILE.read_text(encoding="utf-8").splitlines()
    return "\n".join(exec_line if line.startswith("Exec=") else line for line in lines) + "\n"


def install_desktop(home: Path | None = None) -> tuple[Path, Path]:
    """Write the .desktop file and the icon under `home` (default: `data_home()`); their paths."""
    home = data_home() if home is None else Path(home)
    entry = home / "applications" / "rnnviz.desktop"
    icon = home / "icons" / "hicolor" / "scalable" / "apps" / "rnnviz.svg"
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        icon.parent.mkdir(parents=True, exist_ok=True)
        entry.write_text(desktop_entry(), encoding="utf-8")
        shutil.copyfile(ICON, icon)
    except OSError as exc:
        raise UsageError(f"cannot install the desktop entry under {home}: {exc.strerror or exc}") from None
    return entry, icon


def install_desktop_command() -> int:
    entry, icon = install_desktop()
    print(f"installed {entry} and {icon}; delete them to remove rnnviz from the menu")
    return 0
