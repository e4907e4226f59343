"""The source registry: ``open(uri)`` asks each backend in turn whether the URI is its kind.

A backend is a module with ``open_source(uri, **options) -> Source`` that raises
``NotMyFormat`` when the URI is not its kind (kept apart from real failures, which are
``SourceError``). Backends are imported lazily so that opening a recording never loads
libfreenect, and opening the demo never touches the disk.
"""

from __future__ import annotations

import importlib
import os
import warnings
from typing import Any

from ..errors import NotMyFormat, SourceError
from .base import CAMERA_FLAGS, Source, nearest

#: Backends in the order they are asked. Cheap, name-keyed ones first.
BACKENDS: list[tuple[str, str]] = [
    ("demo", "depthview.sources.demo"),
    ("sample", "depthview.sources.sample"),
    ("kinect", "depthview.sources.kinect"),
    ("fakenect", "depthview.sources.fakenect"),
    ("files", "depthview.sources.files"),
]

#: Sources named by a word rather than a path.
NAMES = ("demo", "sample", "kinect")
#: Every kind of source, for messages and command-line help.
KINDS = (
    "'demo', 'demo:SEED', 'sample' (a real recording shipped with depthview), 'kinect', "
    "'kinect:INDEX', 'kinect:SERIAL', a libfreenect recording folder (with INDEX.txt), a "
    "dataset folder of depth images (TUM RGB-D, 7-Scenes, Redwood, SUN3D, depthview's PNG "
    "export), a single depth file (.png, .pgm, .npy) or a .npz"
)
EXPECTED = "expected " + KINDS


def open(uri: str = "demo", **options: Any) -> Source:
    """Open a source by URI: ``"demo"``, ``"kinect"``, ``"kinect:1"``, a recording folder, ...

    Options are passed to the backend that accepts the URI (e.g. ``fps=``, ``seed=`` for the
    demo; ``realtime=``, ``loop=`` for recordings).
    """
    if not isinstance(uri, (str, os.PathLike)) or not str(uri).strip():
        raise SourceError(f"expected a source name or a path ({EXPECTED}), got {uri!r}")
    uri = str(uri)
    _check_readable(uri)
    for _name, module_name in BACKENDS:
        module = importlib.import_module(module_name)
        try:
            source: Source = module.open_source(uri, **options)
        except NotMyFormat:
            continue
        if _name in NAMES and os.path.lexists(uri):  # (trial AJ D13: read without a word)
            warnings.warn(
                f"{uri}: read as depthview's built-in '{_name}' source, not the "
                f"{'folder' if os.path.isdir(uri) else 'file'} of that name here: say "
                f"./{uri} to read it",
                stacklevel=2,
            )
        return source
    if not os.path.exists(uri):
        hint = nearest(uri.partition(":")[0], NAMES)
        raise SourceError(f"{uri}: no such file or folder, nor a source name{hint} ({EXPECTED})")
    held = _recordings_below(uri)
    if held:  # a dataset's folder: said as what it is, as a zip of recordings is (trial X)
        raise SourceError(
            f"{uri}: a folder of {len(held)} recording(s) (first: {held[0]}), not one: give "
            f"one of them, or 'depthview convert {uri} OUT' to read them all"
        )
    raise SourceError(f"{uri}: not a source depthview can open; {EXPECTED}")


def _recordings_below(uri: str, levels: int = 3) -> list[str]:
    """Recording folders (with INDEX.txt) within ``levels`` folders below ``uri``, in name
    order; none for a file or a folder that cannot be looked into."""
    found: list[str] = []
    if levels == 0 or not os.path.isdir(uri):
        return found
    try:
        names = sorted(os.listdir(uri))
    except OSError:
        return found
    for name in names:
        sub = os.path.join(uri, name)
        if name.startswith(".") or not os.path.isdir(sub):
            continue
        if os.path.isfile(os.path.join(sub, "INDEX.txt")):
            found.append(sub)
        else:
            found += _recordings_below(sub, levels - 1)
    return found


def _check_readable(uri: str) -> None:
    """A file or folder the user may not read is said as such, not as an unknown source."""
    if not os.path.exists(uri):
        return
    need = os.R_OK | os.X_OK if os.path.isdir(uri) else os.R_OK
    if not os.access(uri, need, effective_ids=os.access in os.supports_effective_ids):
        kind = "folder" if os.path.isdir(uri) else "file"
        raise SourceError(f"{uri}: permission denied (cannot read this {kind})")


__all__ = [
    "BACKENDS",
    "CAMERA_FLAGS",
    "EXPECTED",
    "KINDS",
    "NAMES",
    "Source",
    "SourceError",
    "open",
]
