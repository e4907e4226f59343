"""The compiled loops of the ``fast`` extra (numba), loaded on first use, in one place.

Importing numba costs a quarter of a second that commands which never run a loop (``info``,
``--help``) should not pay, so a pure module asks here when it first needs its loops, and
gets None without numba or with ``DEPTHVIEW_NO_NUMBA`` set: it then runs numpy's equivalent.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType


def optional(name: str) -> ModuleType | None:
    """``depthview.<name>`` (a module of numba loops), or None where numba is missing or
    switched off."""
    if os.environ.get("DEPTHVIEW_NO_NUMBA"):
        return None
    try:
        return importlib.import_module(f"{__package__}.{name}")
    except ImportError:
        return None
