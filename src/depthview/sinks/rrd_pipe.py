"""An ``.rrd`` file that Rerun's writer fills through a named pipe, copied to the file by a
thread of depthview's.

Why: Rerun's own file writer (``rec.save(path)``, Rerun 0.41), when a write fails during a
flush (a full disk), never answers that flush, so ``flush``, ``disconnect`` and the stream's
release wait for ever, deaf to Ctrl-C. Through the pipe Rerun's writer never sees the disk:
a failed write is this process's ``OSError``, kept in ``error`` (the rest of the stream is
read and dropped, so Rerun always finishes) and raised by ``check`` and ``finish``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import BinaryIO

#: How much the copying thread reads from the pipe at a time.
BLOCK = 1 << 20


class RrdPipe:
    """``fifo`` is the path to give ``rec.save``; ``path`` receives its bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: OSError | None = None
        self._out: BinaryIO = open(path, "wb")  # noqa: SIM115 (closed by the thread)
        self._folder = Path(tempfile.mkdtemp(prefix="depthview-rrd-"))
        self.fifo = self._folder / "stream.rrd"
        os.mkfifo(self.fifo)
        self._thread = threading.Thread(target=self._copy, name="depthview-rrd", daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        try:
            with open(self.fifo, "rb", buffering=0) as pipe:  # until Rerun opens its end
                while block := pipe.read(BLOCK):
                    if self.error is None:
                        try:
                            self._out.write(block)
                        except OSError as exc:
                            self.error = exc
        finally:
            try:
                self._out.close()
            except OSError as exc:
                self.error = self.error or exc

    def check(self) -> None:
        """Raise the write that failed, if one did."""
        if self.error is not None:
            raise self.error

    def finish(self, seconds: float = 30.0) -> None:
        """After Rerun's stream is closed: wait for the copy to end, then raise a failure."""
        deadline = time.monotonic() + seconds
        while self._thread.is_alive() and time.monotonic() < deadline:
            # Rerun never opened its end (or has closed it): a writer that opens and closes
            # ends the read; until the copy has opened its own end this fails (ENXIO).
            with contextlib.suppress(OSError):
                os.close(os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK))
            self._thread.join(0.05)
        shutil.rmtree(self._folder, ignore_errors=True)
        if self._thread.is_alive():
            raise OSError(f"{self.path}: the Rerun stream did not end within {seconds:g} s")
        self.check()


__all__ = ["RrdPipe"]
