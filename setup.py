"""Packaging beyond pyproject.toml: the repository's top-level resources/ folder (presets, lessons,
texts, icons) is shipped inside the package as ``rnnviz/resources``; pyproject.toml's package-data
says which files. A source checkout and an editable install read resources/ where it is."""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["rnnviz*"]) + ["rnnviz.resources"],
      package_dir={"rnnviz.resources": "resources"})
