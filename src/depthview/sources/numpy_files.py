"""``.npy`` and ``.npz`` files read defensively: the header is checked against the bytes that
follow before anything is allocated, pickles are never loaded, and every failure is one
``SourceError`` naming the file (numpy's own loader raises a dozen kinds, and allocates
whatever a header claims).
"""

from __future__ import annotations

import math
import os
import tokenize
import zipfile
import zlib
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from ..errors import SourceError

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
#: A zip of no file (its end record alone): what ``np.savez(path)`` of no array writes.
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
#: Largest array read (bytes): far above any depth recording that fits in memory.
MAX_ARRAY_BYTES = 16 * 1024**3
_MAX_HEADER = 10_000
#: What numpy's header parser and zipfile raise on hostile bytes (``TokenError``: a header
#: with NUL bytes, found by fuzzing).
_ERRORS = (
    tokenize.TokenError,
    OSError,
    ValueError,
    EOFError,
    KeyError,
    SyntaxError,
    RecursionError,
    NotImplementedError,
    RuntimeError,
    zipfile.BadZipFile,
    zlib.error,
    UnicodeDecodeError,
    OverflowError,
    TypeError,
)


def _header(fp: IO[bytes], size: int, where: str) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    """Shape, Fortran order and dtype of the array whose ``.npy`` bytes ``fp`` holds, checked
    against ``size`` (all the bytes there are)."""
    fmt = np.lib.format
    version = fmt.read_magic(fp)
    if version == (1, 0):
        shape, fortran, dtype = fmt.read_array_header_1_0(fp, max_header_size=_MAX_HEADER)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = fmt.read_array_header_2_0(fp, max_header_size=_MAX_HEADER)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise SourceError(f"{where}: expected a plain numeric array, got dtype {dtype}")
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    if nbytes > MAX_ARRAY_BYTES:
        raise SourceError(f"{where}: expected an array under {MAX_ARRAY_BYTES} bytes, got {shape}")
    left = size - fp.tell()
    if left != nbytes:
        raise SourceError(
            f"{where}: expected {nbytes} bytes of {dtype} {shape} data, got {left} bytes"
        )
    return shape, fortran, dtype


def _array(
    data: bytes, shape: tuple[int, ...], fortran: bool, dtype: np.dtype[Any]
) -> npt.NDArray[Any]:
    flat = np.frombuffer(data, dtype=dtype)
    return flat.reshape(shape, order="F" if fortran else "C")


def _read_array(
    fh: Any, shape: tuple[int, ...], fortran: bool, dtype: np.dtype[Any], where: str
) -> npt.NDArray[Any]:
    """The array after its header; one line where memory cannot hold it (a compressed
    archive of many frames is small on disk: trial X met a MemoryError traceback)."""
    try:
        return _array(fh.read(), shape, fortran, dtype)
    except MemoryError:
        need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        raise SourceError(
            f"{where}: {dtype} {shape} needs {need / 1e9:.1f} GB of memory, more than could be "
            "had; save fewer frames to a file (an export streams them)"
        ) from None


def load_npy(path: str | os.PathLike[str]) -> npt.NDArray[Any]:
    """The array of a ``.npy`` file."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            shape, fortran, dtype = _header(fh, size, str(path))
            return _read_array(fh, shape, fortran, dtype, str(path))
    except SourceError:
        raise
    except _ERRORS as exc:
        raise SourceError(f"{path}: expected a numpy .npy file, got {_reason(exc)}") from None


def load_npz(path: str | os.PathLike[str], wanted: set[str]) -> dict[str, npt.NDArray[Any]]:
    """The arrays named ``wanted`` that a ``.npz`` holds (see ``npz_names`` for all names)."""
    out: dict[str, npt.NDArray[Any]] = {}
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                name = info.filename
                if not name.endswith(".npy") or name[:-4] not in wanted:
                    continue
                where = f"{path}: {name}"
                if info.file_size > MAX_ARRAY_BYTES + _MAX_HEADER:
                    raise SourceError(f"{where}: expected an array under {MAX_ARRAY_BYTES} bytes")
                with z.open(info) as member:
                    shape, fortran, dtype = _header(member, info.file_size, where)
                    out[name[:-4]] = _read_array(member, shape, fortran, dtype, where)
    except SourceError:
        raise
    except _ERRORS as exc:
        raise SourceError(f"{path}: expected a numpy .npz file, got {_reason(exc)}") from None
    return out


def npz_names(path: str | os.PathLike[str]) -> list[str]:
    """The names of the arrays a ``.npz`` holds (``arr_0``, ... when saved positionally)."""
    try:
        with zipfile.ZipFile(path) as z:
            return [n[:-4] for n in z.namelist() if n.endswith(".npy")]
    except _ERRORS as exc:
        raise SourceError(f"{path}: expected a numpy .npz file, got {_reason(exc)}") from None


def zip_recordings(path: str | os.PathLike[str]) -> int:
    """How many fakenect recordings (``INDEX.txt`` members) a zip holds: a zip that is no
    ``.npz`` is named for what it is."""
    try:
        with zipfile.ZipFile(path) as z:
            return sum(1 for n in z.namelist() if n.rsplit("/", 1)[-1] == "INDEX.txt")
    except _ERRORS:
        return 0


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:120]


__all__ = [
    "EMPTY_ZIP_MAGIC",
    "MAX_ARRAY_BYTES",
    "NPY_MAGIC",
    "ZIP_MAGIC",
    "load_npy",
    "load_npz",
    "npz_names",
    "zip_recordings",
]
