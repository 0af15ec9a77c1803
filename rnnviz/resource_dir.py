"""Where rnnviz's resources (presets, lessons, texts, icons) live: a leaf module, so the engine's
tasks can find their texts without depending on the package root."""

from importlib.resources import files
from pathlib import Path


def _resources() -> Path:
    """Inside the package when installed from a wheel (which ships the repository's resources/
    folder as rnnviz/resources), else resources/ beside the package, in a source checkout or an
    editable install."""
    installed = Path(str(files(__package__) / "resources"))
    return installed if installed.is_dir() else Path(__file__).resolve().parent.parent / "resources"


RESOURCES = _resources()
