"""The package finds its resources wherever it is installed: beside the source tree in a checkout
or an editable install, inside the package (rnnviz/resources) in a wheel."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, cwd: Path, path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(path), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_an_installed_layout_reads_the_resources_inside_the_package(tmp_path):
    # As a wheel installs it: site-packages/rnnviz/resources, and no resources/ beside it.
    site = tmp_path / "site-packages"
    shutil.copytree(ROOT / "rnnviz", site / "rnnviz", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "resources", site / "rnnviz" / "resources")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_python("import rnnviz, rnnviz.presets as p, rnnviz.lessons as l; "
                        "print(rnnviz.RESOURCES); print(p.preset_names()); print(len(l.load_lessons()))",
                        elsewhere, site)
    assert result.returncode == 0, result.stderr
    where, names, lessons = result.stdout.splitlines()
    assert Path(where) == site / "rnnviz" / "resources"
    assert "vanishing" in names and int(lessons) >= 8


def test_a_source_checkout_reads_the_top_level_resources_folder():
    import rnnviz

    assert rnnviz.RESOURCES == ROOT / "resources"
    assert (rnnviz.RESOURCES / "presets" / "vanishing.toml").is_file()


def test_the_wheel_configuration_ships_every_resource_kind():
    # setup.py maps resources/ to the package rnnviz.resources; package-data must name each kind of
    # file in it, or the wheel silently lacks it.
    import tomllib

    resources = ROOT / "resources"
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["rnnviz.resources"]
    shipped = {path for pattern in patterns for path in resources.glob(pattern)}
    not_shipped = {"screenshots"}   # the README's picture only
    for path in resources.rglob("*"):
        if path.is_file() and path.relative_to(resources).parts[0] not in not_shipped:
            assert path in shipped, path
