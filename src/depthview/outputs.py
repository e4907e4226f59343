"""Writers never touch their input: the one check every writer makes before it writes.

An output that is an input, holds one (a folder around it) or lies inside one (a file in a
recording folder) is refused before anything is written, so ``record REC REC --overwrite``
or a snapshot into the folder being played cannot damage what is being read. Paths are
compared after resolving symbolic links and ``..``. Sources list what they read in
``Source.inputs``; the command line adds the SOURCE arguments that name files.

Every file a writer makes is written under a temporary name beside it and renamed into
place when complete (``atomic``, ``write_atomic``), so a file that exists is whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import DepthviewError


def _real(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(os.path.expanduser(os.fspath(path))))


def overlap(
    out: str | os.PathLike[str],
    inputs: Iterable[str | os.PathLike[str]],
    *,
    contains: bool = True,
) -> str | None:
    """How ``out`` meets one of ``inputs`` ("is", "contains", "is inside"), else None.
    ``contains=False`` allows a folder around an input (one that only receives new files
    of the writer's own names, such as the viewer's snapshot folder)."""
    target = _real(out)
    for given in inputs:
        source = _real(given)
        if target == source:
            return f"is the input {given}"
        if contains and source.is_relative_to(target):
            return f"contains the input {given}"
        if target.is_relative_to(source):
            return f"is inside the input {given}"
    return None


def check_output(
    out: str | os.PathLike[str],
    inputs: Iterable[str | os.PathLike[str]],
    error: type[DepthviewError] = DepthviewError,
    what: str = "output",
    *,
    contains: bool = True,
) -> None:
    """Raise ``error`` naming ``out`` when it is, contains or is inside an input."""
    how = overlap(out, inputs, contains=contains)
    if how is not None:
        raise error(
            f"{out}: expected an {what} apart from the input, got one that {how}; "
            "nothing was written"
        )


def partial_path(path: Path) -> Path:
    """The temporary name ``path`` is written under until complete (hidden, beside it)."""
    return path.with_name(f".{path.name}.partial")


@contextlib.contextmanager
def atomic(path: Path) -> Iterator[Path]:
    """Yield a temporary name beside ``path``; rename it to ``path`` only when complete
    (removed on any failure)."""
    tmp = partial_path(path)
    try:
        yield tmp
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.replace(tmp, path)


def write_atomic(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` under a temporary name, renamed when complete; its sha256."""
    with atomic(path) as tmp:
        tmp.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = ["atomic", "check_output", "overlap", "partial_path", "sha256_file", "write_atomic"]
