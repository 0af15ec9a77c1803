"""rnnviz: a desktop lab that shows why plain recurrent networks are hard to train."""

from rnnviz.resource_dir import RESOURCES

__version__ = "0.1.0"

__all__ = ["RESOURCES", "__version__"]
