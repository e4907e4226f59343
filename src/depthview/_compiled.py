"""The compiled loops of the ``fast`` extra (numba), loaded on first use, in one place.

Importing numba costs a quarter of a second that commands which never run a loop (``info``,
``--help``) should not pay, so a pure module asks here when it first needs its loops, and
gets None without numba or with ``DEPTHVIEW_NO_NUMBA`` set: it then runs numpy's equivalent.
A module whose numpy path is as right and only slower (the demo room) need not wait at all:
``in_background`` loads its loops on a thread while numpy draws the first frames.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
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


class _Load(threading.Thread):
    """``optional(name)`` and then ``warm(module)`` on a thread of their own. Not a daemon:
    a process that ends meanwhile waits for it rather than tear numba down under it."""

    def __init__(self, name: str, warm: Callable[[ModuleType], None]) -> None:
        super().__init__(name=f"depthview-load-{name}")
        self.module_name, self.warm = name, warm
        self.module: ModuleType | None = None

    def run(self) -> None:
        module = optional(self.module_name)
        if module is not None:
            self.warm(module)
        self.module = module


_loads: dict[str, _Load] = {}
_loads_lock = threading.Lock()


def in_background(
    name: str, warm: Callable[[ModuleType], None], wait: bool = False
) -> ModuleType | None:
    """``optional(name)`` without waiting for it: the first call starts loading the module
    and ``warm(module)`` (its loops run once on a small input, so numba loads their machine
    code from its cache, or compiles it) on a thread; until that is done every call gives
    None, and then the module. ``wait``: until it is done. None all along without numba,
    and while ``DEPTHVIEW_NO_NUMBA`` is set."""
    if os.environ.get("DEPTHVIEW_NO_NUMBA"):
        return None
    with _loads_lock:
        load = _loads.get(name)
        if load is None:
            load = _loads[name] = _Load(name, warm)
            load.start()
    if wait:
        load.join()
    return None if load.is_alive() else load.module
