"""Run rnnviz from a source checkout: ``python main.py [train|record|bench|presets|horizon] ...``."""

import sys

from rnnviz.cli import main

if __name__ == "__main__":
    sys.exit(main())
