"""Guard against PySide6 builds that leak references to None: 6.12.0 on Python 3.11 was measured
dropping one reference to None per call of a method that returns nothing (sys.getrefcount(None)),
and the interpreter aborted with "none_dealloc" after some tens of thousands of calls."""

import sys

import pytest

CALLS = 5000
TOLERANCE = 50


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_void_qt_calls_leave_the_refcount_of_none_alone(qapp):
    from PySide6.QtCore import QCoreApplication

    for _ in range(200):  # warm up caches
        QCoreApplication.processEvents()
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        QCoreApplication.processEvents()
    drift = sys.getrefcount(None) - before
    assert abs(drift) <= TOLERANCE, (
        f"{CALLS} processEvents() calls changed sys.getrefcount(None) by {drift}: this PySide6 build "
        "leaks references to None and will crash the app; install a different version "
        "(pyproject.toml excludes 6.12.0 on Python < 3.12)")
