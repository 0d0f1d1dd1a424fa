"""Element views of numpy arrays for code that reads one element at a time.

``array[i]`` builds a numpy scalar (about 100 ns); indexing a memoryview of the same buffer
gives the plain Python number (the same value as ``float(array[i])`` / ``int(array[i])``) in a
fraction of that, and building the view copies nothing (unlike ``array.tolist()``, which
creates one Python object per element up front). The per-bar and per-order paths read arrays
this way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["elements"]


def elements(values: npt.NDArray[Any]) -> Any:
    """A read-only memoryview of ``values`` (made contiguous first if needed)."""
    view = memoryview(np.ascontiguousarray(values))  # type: ignore[arg-type]
    return view.toreadonly()
