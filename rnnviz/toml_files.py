"""Reading the TOML data files in ``resources/`` (presets, lessons) with errors a user can act on."""

from __future__ import annotations

import tomllib
from pathlib import Path


def read_toml(path: Path, what: str, error: type[Exception]) -> dict:
    """The table in `path`; an unreadable or invalid file raises `error` naming `what` and the path."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {what} {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what} {path} is not valid TOML: {exc}") from None
