"""The floating-point types the engine computes in (float64 by default; float32 keeps the vanishing
lesson's early-step contributions at lags 30–60 as float64 does, and underflows them to 0 only at
much longer lags, e.g. lag 160)."""

from __future__ import annotations

import numpy as np

DTYPES = ("float64", "float32")


def check_dtype(dtype) -> np.dtype:
    """float64 or float32 as an np.dtype; otherwise ValueError naming them."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved.name not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}")
    return resolved
