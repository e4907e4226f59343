"""libfreenect's fakenect recording format: names, headers and the tilt-state record.

Pure: no file access. Shared by the reader (``sources.fakenect``) and the writer
(``recording``) so both agree on one definition of the format. A recording is a folder::

    INDEX.txt                         one file name a line, in recording order
    d-<unix time %f>-<device ts>.pgm  b"P5 640 480 65535\\n" + uint16 little-endian depth
    r-<unix time %f>-<device ts>.ppm  b"P6 640 480 255\\n" + RGB bytes
    a-<unix time %f>-<device ts>.dump 12-byte freenect_raw_tilt_state (see TILT_STATE)
    device.json                       optional (registration tables)

Every parser raises ``SourceError`` (never anything else) with an "expected ..., got ..."
message, so bad recordings become one clear line instead of a traceback.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from .errors import SourceError
from .frame import DEPTH_HEIGHT, DEPTH_WIDTH, MAX_SECONDS, TiltState

INDEX_NAME = "INDEX.txt"
DEVICE_JSON = "device.json"

#: Entry kinds (first letter of each file name) and their file extensions.
KIND_DEPTH = "d"
KIND_VIDEO = "r"
KIND_ACCEL = "a"
EXTENSIONS = {KIND_DEPTH: "pgm", KIND_VIDEO: "ppm", KIND_ACCEL: "dump"}

#: Headers libfreenect's ``record`` writes for 640x480 frames.
DEPTH_HEADER = b"P5 %d %d 65535\n" % (DEPTH_WIDTH, DEPTH_HEIGHT)
VIDEO_HEADER = b"P6 %d %d 255\n" % (DEPTH_WIDTH, DEPTH_HEIGHT)

#: ``freenect_raw_tilt_state``: int16 accel x, y, z; int8 tilt angle (half degrees); one pad
#: byte (kept, so records are written back as read); int32 tilt status. Little-endian,
#: 12 bytes, as the C struct on x86/ARM.
TILT_STATE = struct.Struct("<hhhbBi")
TILT_STATE_SIZE = TILT_STATE.size  # 12

#: Longest header we look at: fakenect's are ~17 bytes; a standard PGM may carry comment
#: lines (GIMP writes one).
MAX_HEADER = 1024

_NAME_RE = re.compile(
    r"(?P<kind>[dra])-(?P<time>[0-9]{1,12}(?:\.[0-9]{0,9})?)-(?P<ts>[0-9]{1,10})"
    r"\.(?P<ext>pgm|ppm|dump)"
)
#: Whitespace between a header's fields, with ``#`` comments to the end of a line (Netpbm).
_SPACE = rb"(?:[ \t\r\n]|#[^\r\n]*[\r\n])+"
_NUMBER = rb"([0-9]{1,12})"  # (a size past 65535 is said as one, not as no header)
_HEADER_RE = re.compile(
    rb"(P[56])" + _SPACE + _NUMBER + _SPACE + _NUMBER + _SPACE + _NUMBER + rb"\n"
)
#: Netpbm's other kinds, which depthview does not read, by their magic.
_OTHER_NETPBM = {
    b"P1": "plain-text (P1) bitmap",
    b"P2": "plain-text (P2) PGM",
    b"P3": "plain-text (P3) PPM",
    b"P4": "binary (P4) bitmap",
}


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One line of INDEX.txt: which kind of record, when, and its file name."""

    kind: str  # "d", "r" or "a"
    unix_time: float  # seconds since the epoch, as recorded by the host
    device_timestamp: int  # the Kinect's 32-bit frame counter clock
    name: str  # the file name inside the recording folder (no directories)


@dataclass(frozen=True, slots=True)
class PnmHeader:
    """A binary PGM/PPM header as fakenect writes it."""

    magic: str  # "P5" (depth) or "P6" (video)
    width: int
    height: int
    maxval: int
    size: int  # header length in bytes, i.e. where the pixels start

    @property
    def channels(self) -> int:
        return 1 if self.magic == "P5" else 3

    @property
    def bytes_per_sample(self) -> int:
        return 2 if self.maxval > 255 else 1

    @property
    def data_size(self) -> int:
        """How many pixel bytes must follow the header."""
        return self.width * self.height * self.channels * self.bytes_per_sample


def entry_name(kind: str, unix_time: float, device_timestamp: int) -> str:
    """The file name libfreenect's ``record`` gives a record: ``d-1483969353.545864-1612.pgm``."""
    if kind not in EXTENSIONS:
        raise ValueError(f"expected kind 'd', 'r' or 'a', got {kind!r}")
    if not 0 <= device_timestamp <= 0xFFFFFFFF:
        raise ValueError(f"expected a 32-bit device timestamp, got {device_timestamp}")
    if not unix_time >= 0:
        raise ValueError(f"expected a non-negative unix time, got {unix_time}")
    return f"{kind}-{unix_time:f}-{device_timestamp}.{EXTENSIONS[kind]}"


def no_depth_entry(index: object, others: int, bad_lines: list[tuple[int, str]]) -> str:
    """What an INDEX.txt without a depth frame is, in one line (every reader says it alike:
    trial AP D5, convert called one of colour records "an empty recording")."""
    detail = f"; line {bad_lines[0][0]}: {bad_lines[0][1]}" if bad_lines else ""
    return (
        f"{index}: expected at least one d-*.pgm depth entry, got {others} other entries "
        f"and {len(bad_lines)} unreadable lines{detail}"
    )


def parse_index_line(line: str | bytes, where: str = "INDEX.txt") -> IndexEntry:
    """Parse one INDEX.txt line (without or with its newline) into an ``IndexEntry``.

    Only plain file names of the three kinds are accepted: no directories, no ``..``, no
    absolute paths, so an index can never name a file outside its recording.
    ``where`` (e.g. ``"rec/INDEX.txt line 7"``) goes into the error message.
    """
    if isinstance(line, bytes):
        try:
            line = line.decode("ascii")
        except UnicodeDecodeError:
            raise SourceError(f"{where}: expected an ASCII file name, got {line[:60]!r}") from None
    text = line.rstrip("\r\n")
    match = _NAME_RE.fullmatch(text)
    if match is None:
        raise SourceError(
            f"{where}: expected a name like d-<unix time>-<device timestamp>.pgm, "
            f"r-...ppm or a-...dump, got {text[:80]!r}"
        )
    kind = match["kind"]
    if match["ext"] != EXTENSIONS[kind]:
        raise SourceError(
            f"{where}: expected extension .{EXTENSIONS[kind]} for a '{kind}-' entry, "
            f"got {text[:80]!r}"
        )
    ts = int(match["ts"])
    if ts > 0xFFFFFFFF:
        raise SourceError(f"{where}: expected a 32-bit device timestamp, got {ts}")
    seconds = float(match["time"])
    if seconds > MAX_SECONDS:  # the one limit of a frame's time, as record writes them
        raise SourceError(
            f"{where}: expected a unix time of at most {MAX_SECONDS:.0f} s, got {text[:80]!r}"
        )
    return IndexEntry(kind, seconds, ts, text)


def shown_header(data: bytes, limit: int = 40) -> str:
    """The start of a file as a message shows it: its first four words (a header's fields,
    not the pixels after them), whitespace as single spaces, other bytes as ``?`` (never
    Python's ``b'...\\n'``)."""
    text = bytes(data[:limit]).decode("ascii", "replace").replace("\ufffd", "?")
    words = "".join(c if c.isprintable() or c.isspace() else "?" for c in text).split()
    return " ".join(words[:4])


def parse_pnm_header(data: bytes, where: str = "frame") -> PnmHeader:
    """Parse the PGM/PPM header at the start of ``data`` (the first ``MAX_HEADER`` bytes do):
    binary P5 or P6, fields apart by whitespace and ``#`` comments as Netpbm allows."""
    match = _HEADER_RE.match(bytes(data[:MAX_HEADER]))
    if match is None:
        other = _OTHER_NETPBM.get(bytes(data[:2]))
        if other is not None:
            raise SourceError(
                f"{where}: a {other} is not supported: expected binary P5 (16-bit depth) or P6 "
                "(colour); save it as binary"
            )
        raise SourceError(
            f"{where}: expected a binary PGM or PPM header (P5 or P6, width, height, maxval, "
            f"as 'P5 640 480 65535'), got '{shown_header(data)}'"
        )
    magic = match[1].decode("ascii")
    width, height, maxval = int(match[2]), int(match[3]), int(match[4])
    if not (0 < width <= 65535 and 0 < height <= 65535 and 0 < maxval <= 65535):
        raise SourceError(
            f"{where}: expected a size of 1x1 to 65535x65535 and maxval 1..65535, "
            f"got {width}x{height} maxval {maxval}"
        )
    return PnmHeader(magic, width, height, maxval, match.end())


def check_pnm(header: PnmHeader, magic: str, itemsize: int, where: str) -> None:
    """``SourceError`` naming ``where`` unless ``header`` is a ``magic`` image of
    ``itemsize``-byte samples: 16-bit depth PGM (maxval 256..65535) or 8-bit colour PPM."""
    if header.magic == magic and header.bytes_per_sample == itemsize:
        return

    def kind(magic: str, size: int) -> str:
        return f"{'a 16' if size == 2 else 'an 8'}-bit {'PGM' if magic == 'P5' else 'PPM'} ({magic}"

    wanted = "maxval 256..65535" if itemsize == 2 else "maxval 1..255"
    what = "depth" if magic == "P5" else "colour"
    raise SourceError(
        f"{where}: expected {what} as {kind(magic, itemsize)}, {wanted}), got "
        f"{kind(header.magic, header.bytes_per_sample)}, maxval {header.maxval})"
    )


def pnm_header(
    magic: str, width: int = DEPTH_WIDTH, height: int = DEPTH_HEIGHT, maxval: int | None = None
) -> bytes:
    """The header bytes fakenect writes: ``pnm_header("P5") == DEPTH_HEADER``."""
    if magic not in ("P5", "P6"):
        raise ValueError(f"expected 'P5' or 'P6', got {magic!r}")
    if maxval is None:
        maxval = 65535 if magic == "P5" else 255
    return b"%s %d %d %d\n" % (magic.encode(), width, height, maxval)


def parse_tilt_state(data: bytes, where: str = "accel record") -> TiltState:
    """Unpack a 12-byte ``a-*.dump`` record."""
    if len(data) != TILT_STATE_SIZE:
        raise SourceError(
            f"{where}: expected {TILT_STATE_SIZE} bytes of tilt state, got {len(data)}"
        )
    x, y, z, angle, pad, status = TILT_STATE.unpack(bytes(data))
    return TiltState(x, y, z, angle, status, pad)


def pack_tilt_state(state: TiltState) -> bytes:
    """The 12 bytes of an ``a-*.dump`` record."""
    return TILT_STATE.pack(
        state.accel_x,
        state.accel_y,
        state.accel_z,
        state.tilt_angle,
        state.pad,
        state.tilt_status,
    )


__all__ = [
    "DEPTH_HEADER",
    "DEVICE_JSON",
    "EXTENSIONS",
    "INDEX_NAME",
    "KIND_ACCEL",
    "KIND_DEPTH",
    "KIND_VIDEO",
    "MAX_HEADER",
    "TILT_STATE",
    "TILT_STATE_SIZE",
    "VIDEO_HEADER",
    "IndexEntry",
    "PnmHeader",
    "TiltState",
    "check_pnm",
    "entry_name",
    "pack_tilt_state",
    "parse_index_line",
    "parse_pnm_header",
    "parse_tilt_state",
    "pnm_header",
    "shown_header",
]
