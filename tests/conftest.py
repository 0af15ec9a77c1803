"""Run every GUI test headless (the offscreen Qt platform) unless a display is asked for explicitly."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

# One BLAS thread, as the app's worker and the CLI use: on two cores, BLAS's own threads only
# compete with the test process (measured 3-10x slower under load).
_BLAS_LIMIT = threadpool_limits(1)


@pytest.fixture(scope="session", autouse=True)
def _private_qsettings(tmp_path_factory):
    """Point every QSettings (native and INI, user and system scope) at a temporary directory, so
    no test reads or writes the user's rnnviz settings."""
    from PySide6.QtCore import QSettings

    root = tmp_path_factory.mktemp("qsettings")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, str(root / f"{fmt.name}-{scope.name}"))
    yield root


@pytest.fixture
def settings_store(tmp_path):
    """A fresh, empty QSettings file for one test (pass it as `MainWindow(settings_store=...)`)."""
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "rnnviz.ini"), QSettings.Format.IniFormat)
