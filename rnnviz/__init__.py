"""rnnviz: a desktop lab that shows why plain recurrent networks are hard to train."""

from pathlib import Path

__version__ = "0.1.0"

#: Presets, lessons, texts and icons shipped beside the package in a source checkout.
RESOURCES = Path(__file__).resolve().parent.parent / "resources"
