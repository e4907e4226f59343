"""Dask preload for ``convert``'s local worker processes: they ignore Ctrl-C.

The terminal sends Ctrl-C to the whole process group; only the process the user started
should act on it (close the cluster, one line, exit 130), not each worker with a
traceback of its own."""

from __future__ import annotations

import contextlib
import signal
from typing import Any


def dask_setup(worker: Any) -> None:
    """Called by Dask in each worker process as it starts."""
    with contextlib.suppress(ValueError):  # not the main thread: leave it
        signal.signal(signal.SIGINT, signal.SIG_IGN)
