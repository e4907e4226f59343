"""What ``convert`` reads: scenes found in its inputs, and the files of a recording read
from a folder or from inside a ``.zip`` without extracting it.

An input is one of: a fakenect recording folder (one scene); a folder or a ``.zip``
holding recording folders (one scene each, in path order), found the same way in both: a
folder with ``INDEX.txt`` is a recording (nothing inside it is looked at), others are
searched down to ``MAX_DEPTH`` levels below the input (NYU Depth V2's downloads as they
are; zip members are read in place); anything else ``dv.open`` reads (a TUM folder, a
``.npz``: one scene). A scene is named as its folder
(or file stem); two scenes of one name are refused rather than merged.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import stat
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import numpy.typing as npt

from ..camera_models import Registration
from ..errors import SourceError
from ..fakenect_format import (
    DEVICE_JSON,
    INDEX_NAME,
    KIND_VIDEO,
    MAX_HEADER,
    IndexEntry,
    check_pnm,
    parse_index_line,
    parse_pnm_header,
    parse_tilt_state,
)
from ..frame import TiltState
from ..sources.fakenect import FileReader, open_regular

#: How many folder levels below an input recordings are looked for (a zip's root is level
#: 0): NYU's zips hold scenes one or two levels down.
MAX_DEPTH = 4
#: How far past ``MAX_DEPTH`` a folder is looked into for recordings to name as left out.
LOOK_PAST = 4
#: Longest INDEX.txt accepted (NYU's longest scenes have tens of thousands of lines).
MAX_INDEX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Scene:
    """One scene to convert: ``kind`` "folder" (a recording folder), "zip" (a recording
    folder ``member`` inside the zip at ``path``) or "source" (``dv.open(path)``)."""

    name: str
    kind: str
    path: str
    member: str = ""

    def describe(self) -> str:
        return f"{self.path}:{self.member}" if self.kind == "zip" else self.path


#: Source names ``view`` opens that give no end of frames to convert: the demo, a Kinect.
LIVE_NAMES = ("demo", "kinect")


def find_scenes(inputs: list[str]) -> list[Scene]:
    """Every scene in ``inputs``; ``SourceError`` naming an input that holds none, or two
    scenes of one name."""
    scenes: list[Scene] = []
    for text in inputs:
        path = Path(os.path.expanduser(text))  # an unknown ~user stays as typed
        deep: list[Path] = []
        others: list[Path] = []
        if path.is_file() and path.suffix.lower() == ".zip":
            scenes += _zip_scenes(path)
        elif path.is_dir() and (path / INDEX_NAME).is_file():
            scenes.append(Scene(path.resolve().name, "folder", str(path)))
        elif path.is_dir() and (found := _folder_recordings(path, 0, deep, set(), others)):
            scenes += [Scene(p.name, "folder", str(p)) for p in found]
            _say_too_deep(text, [str(p) for p in deep])
            if others:  # left out, said: a dataset folder is a SRC of its own
                left = [str(p) for p in others]
                warnings.warn(
                    f"{text}: {len(left)} folder(s) beside its recordings hold none, left out "
                    f"(the first: {left[0]}); a dataset folder (TUM, 7-Scenes, ...) is "
                    "converted when given as a SRC of its own",
                    stacklevel=2,
                )
        elif deep:
            raise SourceError(
                f"{text}: expected recordings at most {MAX_DEPTH} folder levels down, got "
                f"{len(deep)} deeper (first: {deep[0]}); give their folder as SRC"
            )
        elif not path.exists() and text.partition(":")[0] in LIVE_NAMES:  # (trial AD)
            raise SourceError(
                f"{text}: expected recordings, got a live source that never ends; record it "
                f"first (depthview record {text} OUT --frames N), then convert OUT"
            )
        elif path.exists() or ":" in text or text == "sample":
            scenes.append(Scene(path.stem if path.exists() else text, "source", text))
        else:
            raise SourceError(
                f"{text}: expected a recording, a folder of them or a .zip, got nothing there"
            )
    seen: dict[str, Scene] = {}
    for s in scenes:
        if s.name in seen:
            raise SourceError(
                f"{s.describe()}: expected scene names to be unique, got {s.name!r} also at "
                f"{seen[s.name].describe()}"
            )
        seen[s.name] = s
    return scenes


def _subdirs(path: Path) -> list[Path]:
    try:
        return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as exc:
        raise SourceError(f"{path}: cannot list ({exc.strerror or exc})") from None


def _say_too_deep(text: str, deep: list[str]) -> None:
    """One warning line naming the recordings the depth limit left out of an input."""
    if deep:
        warnings.warn(
            f"{text}: {len(deep)} recording(s) more than {MAX_DEPTH} folder levels down left "
            f"out (first: {deep[0]}); give their folder as SRC to convert them",
            stacklevel=3,
        )


def _folder_recordings(
    path: Path, depth: int, too_deep: list[Path], seen: set[str], left: list[Path]
) -> list[Path]:
    """Recording folders under ``path`` (not itself one), down to ``MAX_DEPTH`` levels;
    those found up to ``LOOK_PAST`` levels further go to ``too_deep``, and the folders
    right under ``path`` that hold none (a dataset folder) to ``left``. A folder reached
    again (a link back up, ``current -> .``, or to a sibling: ``seen`` holds the real paths
    met) is not searched again: its recordings are found once (trial X)."""
    found: list[Path] = []
    seen.add(os.path.realpath(path))
    if depth >= MAX_DEPTH + LOOK_PAST:
        return found
    for sub in sorted(_subdirs(path), key=Path.is_symlink):  # a folder before a link to it
        real = os.path.realpath(sub)
        if real in seen:
            continue
        if (sub / INDEX_NAME).is_file():
            seen.add(real)
            (found if depth < MAX_DEPTH else too_deep).append(sub)
        else:
            inside = _folder_recordings(sub, depth + 1, too_deep, seen, left)
            if not inside and depth == 0 and any(sub.iterdir()):
                left.append(sub)  # said by ``find_scenes`` (trial AF: left out unsaid)
            found += inside
    return found


#: Info-ZIP's Unicode Path extra field: a member's name in UTF-8 beside its legacy one.
UNICODE_PATH = 0x7075
#: The general-purpose flag that says a member's name is UTF-8.
UTF8_FLAG = 0x800


def open_zip(path: str | Path) -> zipfile.ZipFile:
    """A zip with its members' names as their maker meant them: a name without the UTF-8
    flag is taken from Info-ZIP's Unicode Path field when it has one (and it matches the
    name), else read as UTF-8 when it is valid UTF-8, else as cp437 (the zip standard's,
    which Python applies to every name without the flag)."""
    zf = zipfile.ZipFile(path)
    changed = False
    for info in zf.infolist():
        if info.flag_bits & UTF8_FLAG:
            continue
        name = _meant_name(info)
        if name is not None and name != info.filename:
            info.filename = name
            changed = True
    if changed:
        zf.NameToInfo = {info.filename: info for info in zf.infolist()}
    return zf


def _meant_name(info: zipfile.ZipInfo) -> str | None:
    raw = info.orig_filename.encode("cp437")
    extra = info.extra
    while len(extra) >= 4:
        kind, size = struct.unpack("<HH", extra[:4])
        body = extra[4 : 4 + size]
        if kind == UNICODE_PATH and len(body) > 5 and body[0] == 1:
            (crc,) = struct.unpack("<I", body[1:5])
            if crc == zlib.crc32(raw):
                with contextlib.suppress(UnicodeDecodeError):
                    return body[5:].decode("utf-8").replace("\\", "/")
        extra = extra[4 + size :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _zip_scenes(path: Path) -> list[Scene]:
    try:
        with open_zip(path) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise SourceError(f"{path}: expected a zip archive, got {exc}") from None
    recordings = sorted(
        {PurePosixPath(n).parent for n in names if PurePosixPath(n).name == INDEX_NAME},
        key=lambda f: f.parts,
    )
    # The same rule as for folders: nothing inside a recording, at most MAX_DEPTH down from
    # the folder the zip unpacks to (its one top folder, when all members are in one).
    tops = {PurePosixPath(n).parts[0] for n in names if PurePosixPath(n).parts}
    top = 1 if len(tops) == 1 and all("/" in n.rstrip("/") or n.endswith("/") for n in names) else 0
    outer = [
        f for f in recordings if not any(other != f and other in f.parents for other in recordings)
    ]
    folders = [str(f) for f in outer if len(f.parts) - top <= MAX_DEPTH]
    _say_too_deep(str(path), [f"{path}:{f}" for f in outer if len(f.parts) - top > MAX_DEPTH])
    if not folders:
        raise SourceError(f"{path}: expected recording folders (with {INDEX_NAME}), got none")
    return [
        Scene(PurePosixPath(f).name if f != "." else path.stem, "zip", str(path), f)
        for f in folders
    ]


class Recording:
    """A fakenect recording's files, from its folder or from inside a zip (read in place:
    each member is decompressed as it is read, nothing is extracted)."""

    def __init__(self, scene: Scene) -> None:
        if scene.kind not in ("folder", "zip"):
            raise ValueError(f"expected a folder or zip scene, got {scene.kind!r}")
        self.scene = scene
        self._zip: zipfile.ZipFile | None = None
        self._prefix = ""
        if scene.kind == "zip":
            try:
                self._zip = open_zip(scene.path)
            except (OSError, zipfile.BadZipFile) as exc:
                raise SourceError(f"{scene.path}: expected a zip archive, got {exc}") from None
            self._prefix = "" if scene.member in ("", ".") else scene.member + "/"
        self._files: FileReader | None = None  # a folder's reader, made on first use
        self._video_size: tuple[int, int] | None = None
        self._video_size_known = False

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def where(self, name: str) -> str:
        if self._zip is not None:
            return f"{self.scene.path}:{self._prefix}{name}"
        return str(Path(self.scene.path) / name)

    def exists(self, name: str) -> bool:
        if self._zip is not None:
            try:
                self._zip.getinfo(self._prefix + name)
            except KeyError:
                return False
            return True
        return os.path.lexists(Path(self.scene.path) / name)  # a link to nothing: refused

    def _open(self, name: str) -> int:
        """A file of a recording folder open for reading, as every command opens one
        (``FileReader.open_inside``): a named pipe, a folder or a link to nothing is refused
        in one line before an open that could wait for ever, and so is a link out of the
        recording (a bad frame or record, as info, record and export skip it); INDEX.txt
        itself as the recording source opens it (``open_regular``)."""
        if name == INDEX_NAME:
            return open_regular(Path(self.scene.path) / name, self.where(name))
        if self._files is None:
            self._files = FileReader(Path(self.scene.path))
        return self._files.open_inside(name, self.where(name))

    def _member(self, name: str) -> zipfile.ZipInfo:
        """A zipped recording's member ``name`` (``KeyError`` without one). A symbolic link
        stored in the zip (``zip -y``) is followed to a member of the same recording folder,
        as a folder's link inside the recording is; one out of it is refused in the words of
        ``FileReader.open_inside``, not read as a file holding its target's name."""
        assert self._zip is not None
        info = self._zip.getinfo(self._prefix + name)
        if not stat.S_ISLNK(info.external_attr >> 16):
            return info
        target = self._zip.read(info, pwd=None)[:4096].decode("utf-8", "replace")
        inside = posixpath.normpath(posixpath.join(self._prefix or ".", target))
        if not posixpath.isabs(target) and posixpath.dirname(inside) + "/" == (self._prefix or "/"):
            with contextlib.suppress(KeyError):
                linked = self._zip.getinfo(inside)
                if not stat.S_ISLNK(linked.external_attr >> 16):
                    return linked
        raise SourceError(
            f"{self.where(name)}: expected a file inside the recording, got a link to {target}"
        )

    def read(self, name: str, limit: int | None = None) -> bytes:
        """A file's bytes; ``SourceError`` naming it when it cannot be read."""
        if "/" in name or name in ("", ".", ".."):
            raise SourceError(f"{self.where(name)}: expected a file name inside the recording")
        try:
            if self._zip is not None:
                info = self._member(name)
                if limit is not None and info.file_size > limit:
                    raise SourceError(f"{self.where(name)}: expected under {limit} bytes")
                return self._zip.read(info)
            with open(self._open(name), "rb") as fh:
                data = fh.read() if limit is None else fh.read(limit + 1)
        except KeyError:
            raise SourceError(f"{self.where(name)}: expected the file, got none") from None
        except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as exc:  # (a corrupt member's
            # deflated data is zlib's error: trial Z met it as a traceback)
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise SourceError(f"{self.where(name)}: cannot read ({reason})") from None
        if limit is not None and len(data) > limit:
            raise SourceError(f"{self.where(name)}: expected under {limit} bytes")
        return data

    def index(self) -> tuple[list[IndexEntry], list[tuple[int, str]]]:
        """INDEX.txt's entries, and its unreadable lines (number, reason)."""
        data = self.read(INDEX_NAME, MAX_INDEX_BYTES)
        entries: list[IndexEntry] = []
        bad: list[tuple[int, str]] = []
        for number, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            try:
                entries.append(parse_index_line(raw, f"{self.where(INDEX_NAME)} line {number}"))
            except SourceError as exc:
                bad.append((number, str(exc)))
        return entries, bad

    def registration(self) -> Registration | None:
        """The recording's device.json, or None without one."""
        if not self.exists(DEVICE_JSON):
            return None
        return Registration.from_json_text(self.read(DEVICE_JSON, 1 << 20), self.where(DEVICE_JSON))

    def depth(self, name: str) -> npt.NDArray[np.uint16]:
        """A ``d-*.pgm``: uint16, little-endian as fakenect writes it."""
        depth: npt.NDArray[np.uint16] = self._pnm(name, "P5", np.dtype("<u2"), 1)
        return depth.astype(np.uint16, copy=False)

    def video(self, name: str) -> npt.NDArray[np.uint8]:
        """An ``r-*.ppm``: (H, W, 3) uint8 RGB, of the recording's colour size (its first
        colour file's: one of another size is a broken record, as in every command)."""
        video: npt.NDArray[np.uint8] = self._pnm(name, "P6", np.dtype(np.uint8), 3)
        expected = self.video_size()
        if expected is not None and video.shape[:2] != expected:
            raise SourceError(
                f"{self.where(name)}: expected a {expected[1]}x{expected[0]} colour image like "
                f"the recording's first, got {video.shape[1]}x{video.shape[0]}"
            )
        return video

    def video_size(self) -> tuple[int, int] | None:
        """The recording's colour size (h, w): its first colour file whose header reads, over
        the whole recording (a chunk's frames are held to the same), found once."""
        if not self._video_size_known:
            self._video_size_known = True
            for entry in self.index()[0]:
                if entry.kind != KIND_VIDEO:
                    continue
                try:
                    header = parse_pnm_header(self._head(entry.name), self.where(entry.name))
                except SourceError:
                    continue
                self._video_size = (header.height, header.width)
                break
        return self._video_size

    def _head(self, name: str) -> bytes:
        """A file's first bytes (its header); ``SourceError`` when it cannot be read."""
        try:
            if self._zip is not None:
                with self._zip.open(self._member(name)) as member:
                    return member.read(MAX_HEADER)
            with open(self._open(name), "rb") as fh:
                return fh.read(MAX_HEADER)
        except (KeyError, OSError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise SourceError(f"{self.where(name)}: cannot read ({exc})") from None

    def accel(self, name: str) -> TiltState:
        return parse_tilt_state(self.read(name, 4096), self.where(name))

    def _pnm(self, name: str, magic: str, dtype: np.dtype[Any], channels: int) -> Any:
        where = self.where(name)
        data = self.read(name)
        header = parse_pnm_header(data, where)
        check_pnm(header, magic, dtype.itemsize, where)
        if len(data) != header.size + header.data_size:
            raise SourceError(
                f"{where}: expected {header.size + header.data_size} bytes "
                f"({header.width}x{header.height}), got {len(data)}"
            )
        shape = (header.height, header.width) + ((channels,) if channels > 1 else ())
        return np.frombuffer(data, dtype=dtype, offset=header.size).reshape(shape)
