"""The sample: a real Kinect v1 recording shipped inside the package, ``dv.open("sample")``.

The package holds it as one compressed archive (``depthview/data/sample``, with its
attribution and licence). On first use it is unpacked, once, into a cache folder as a plain
fakenect recording, which is then read by the recording backend like any other: so the
sample behaves exactly as a recording on disk does, and libfreenect's own fakenect can replay
the same folder. The cache is ``$DEPTHVIEW_CACHE``, else ``$XDG_CACHE_HOME/depthview``, else
``~/.cache/depthview``; when none is writable, a folder under the system's temporary folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import NotMyFormat, SourceError
from ..fakenect_format import INDEX_NAME
from . import fakenect
from .base import check_options

NAME = "sample"
ARCHIVE = "kinect-v1-person.tar.xz"
_COMPLETE = ".complete"


def _archive_bytes() -> bytes:
    try:
        return (resources.files("depthview") / "data" / "sample" / ARCHIVE).read_bytes()
    except OSError as exc:
        raise SourceError(
            f"sample: the package's sample recording is missing ({exc}); reinstall depthview"
        ) from None


def _cache_roots() -> list[Path]:
    roots = []
    if os.environ.get("DEPTHVIEW_CACHE"):
        roots.append(Path(os.environ["DEPTHVIEW_CACHE"]))
    xdg = os.environ.get("XDG_CACHE_HOME")
    roots.append(Path(xdg) / "depthview" if xdg else Path.home() / ".cache" / "depthview")
    roots.append(Path(tempfile.gettempdir()) / f"depthview-{os.getuid()}")
    return roots


def unpack(data: bytes, dest: Path) -> Path:
    """Write the archive's recording files (plain names only) into ``dest``; return it."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:xz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            handle = tar.extractfile(member)
            assert handle is not None
            (dest / Path(member.name).name).write_bytes(handle.read())
    return dest


def folder() -> Path:
    """The sample as a fakenect recording folder, unpacked into the cache on first use."""
    data = _archive_bytes()
    key = hashlib.sha256(data).hexdigest()[:12]
    errors = []
    for root in _cache_roots():
        target = root / f"sample-{key}"
        if (target / _COMPLETE).is_file() and (target / INDEX_NAME).is_file():
            return target
        try:
            root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".sample-", dir=root))
            unpack(data, staging)
            (staging / _COMPLETE).touch()
            try:
                staging.rename(target)
            except OSError:  # another process finished first: use its copy
                shutil.rmtree(staging, ignore_errors=True)
            if (target / _COMPLETE).is_file():
                return target
        except OSError as exc:
            errors.append(f"{root}: {exc.strerror or exc}")
    raise SourceError(f"sample: cannot unpack the sample recording ({'; '.join(errors)})")


def write_to(dest: str | os.PathLike[str]) -> Path:
    """Write the sample recording out as a fakenect folder at ``dest`` (new or empty)."""
    path = Path(dest)
    if path.exists() and any(path.iterdir()):
        raise SourceError(f"{path}: expected a new or empty folder for the sample")
    return unpack(_archive_bytes(), path)


def open_source(uri: str, **options: Any) -> fakenect.RecordingSource:
    """``sample``: the shipped recording, with the recording backend's options."""
    if uri != NAME:
        raise NotMyFormat(f"{uri}: not {NAME!r}")
    check_options(NAME, options, fakenect.OPTIONS)  # named as the user named it
    where = str(folder())
    with warnings.catch_warnings(record=True) as said:  # named as the user named it
        warnings.simplefilter("always")
        try:
            source = fakenect.open_source(where, **options)
        except SourceError as exc:
            if type(exc) is not SourceError:  # a subclass's own fields: left as they are
                raise
            raise SourceError(str(exc).replace(where, NAME)) from None
    for w in said:
        warnings.warn(str(w.message).replace(where, NAME), w.category, stacklevel=2)
    source.name = NAME
    return source
