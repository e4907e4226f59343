"""A scene's identity: its inputs (a fingerprint) and every parameter that changes what
``convert`` writes for it. A rerun reuses a scene only when both match what the manifest
recorded; a line without them (an output written before they were recorded) never matches.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath
from typing import Any

from ..camera_models import StereoCalibration
from .job import Settings
from .scenes import Scene, open_zip

#: The keys a manifest line holds the identity under.
FINGERPRINT = "fingerprint"
PARAMS = "params"


def fingerprint(scene: Scene) -> str:
    """A digest of what a scene reads: each file's name, size and modification time (a zip
    member's CRC instead of the time), a recording's INDEX.txt (which names every record
    with its times) and device.json (its calibration) by their contents."""
    digest = hashlib.sha256()

    def add(*parts: object) -> None:
        digest.update(("\t".join(str(p) for p in parts) + "\n").encode())

    if scene.kind == "zip":
        prefix = "" if scene.member in ("", ".") else scene.member + "/"
        with open_zip(scene.path) as zf:
            for info in sorted(zf.infolist(), key=lambda i: i.filename):
                name = info.filename
                if name.startswith(prefix) and "/" not in name[len(prefix) :]:
                    add(PurePosixPath(name).name, info.file_size, info.CRC)
    elif scene.kind == "folder":
        folder = Path(scene.path)
        with os.scandir(folder) as listing:  # closed also when Ctrl-C comes mid-listing
            entries = sorted(listing, key=lambda e: e.name)
        for entry in entries:
            try:
                st = entry.stat() if entry.is_file() else None
            except OSError:  # a loop of links: refused, named, where the scene reads it
                st = None
            if st is not None:
                add(entry.name, st.st_size, st.st_mtime_ns)
        for name in ("INDEX.txt", "device.json"):
            if (folder / name).is_file():
                add(name, hashlib.sha256((folder / name).read_bytes()).hexdigest())
    else:
        path = Path(scene.path)
        files = (
            sorted(p for p in path.rglob("*") if p.is_file())
            if path.is_dir()
            else [path]
            if path.is_file()
            else []
        )
        add(scene.path)
        for p in files:
            st = p.stat()
            add(p.relative_to(path) if path.is_dir() else p.name, st.st_size, st.st_mtime_ns)
    return digest.hexdigest()


def params(settings: Settings, chunk_frames: int | None = None) -> dict[str, Any]:
    """Every setting that changes a scene's output, as the manifest records it;
    ``chunk_frames`` where a stateful filter starts again in each chunk of a TUM scene
    (trial AD: a rerun with another --chunk reused the scene as complete)."""
    c = settings.calibration
    calibration = (
        "stereo sha256:" + hashlib.sha256(c.to_json().encode()).hexdigest()[:16]
        if isinstance(c, StereoCalibration)
        else c
    )
    step = settings.step
    out: dict[str, Any] = {
        "format": settings.format,
        # The option as given; the manifest's own "calibration" says what aligned the depth.
        "calibration_option": calibration,
        "max_dt": settings.max_dt,
        "depth_format": None if settings.depth_format is None else settings.depth_format.name,
        "filters": None if settings.filters is None else settings.filters.text,
        "step": None
        if step is None
        else f"{getattr(step, '__module__', '?')}.{getattr(step, '__qualname__', repr(step))}",
        "pairing": settings.pairing,
    }
    if settings.format == "tum":
        out["tum_scale"] = settings.tum_scale
        if settings.filters is not None and settings.filters.stateful:
            out["chunk"] = chunk_frames
    if settings.depth_only:
        out["depth_only"] = True
    return out


def differences(line: dict[str, Any], scene: Scene, print_: str, wanted: dict[str, Any]) -> str:
    """What differs between a manifest line and this run's scene, in a few words; "" when
    nothing does (the scene is reused)."""
    if FINGERPRINT not in line or PARAMS not in line:
        return "it was written without a fingerprint (by an older depthview)"
    said: list[str] = []
    if line.get("source") != scene.describe():
        said.append(f"source {line.get('source')!r} -> {scene.describe()!r}")
    elif line[FINGERPRINT] != print_:
        said.append(f"the input {scene.describe()} changed")
    old = line[PARAMS] if isinstance(line[PARAMS], dict) else {}
    for key in sorted(set(old) | set(wanted)):
        if old.get(key) != wanted.get(key):
            said.append(f"{key} {old.get(key)!r} -> {wanted.get(key)!r}")
    return ", ".join(said)


__all__ = ["FINGERPRINT", "PARAMS", "differences", "fingerprint", "params"]
