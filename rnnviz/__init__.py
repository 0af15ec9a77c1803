"""rnnviz: a desktop lab that shows why plain recurrent networks are hard to train."""

from importlib.resources import files
from pathlib import Path

__version__ = "0.1.0"


def _resources() -> Path:
    """Presets, lessons, texts and icons: inside the package when installed from a wheel (which
    ships the repository's resources/ folder as rnnviz/resources), else resources/ beside the
    package, in a source checkout or an editable install."""
    installed = Path(str(files(__name__) / "resources"))
    return installed if installed.is_dir() else Path(__file__).resolve().parent.parent / "resources"


RESOURCES = _resources()
