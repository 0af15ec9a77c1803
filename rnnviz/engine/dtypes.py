"""The floating-point types the engine computes in (float64 by default: float32 underflows the
tiny gradients the vanishing lesson is about)."""

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
