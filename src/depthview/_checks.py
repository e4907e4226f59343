"""Shape and dtype contracts for the pure functions, and ``Quantity``: the one check of a
number (finite, in range, its unit), with "expected ..., got ..." messages."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


def depth_2d(depth: object, name: str = "depth") -> npt.NDArray[np.uint16]:
    """Return ``depth`` if it is an (H, W) uint16 array, else raise a clear error."""
    if not isinstance(depth, np.ndarray):
        raise TypeError(f"expected {name} as a numpy array, got {type(depth).__name__}")
    if isinstance(depth, (np.ma.MaskedArray, np.matrix)):  # arrays of other rules (trial
        # AR D6: a mask dropped, a masked pixel a reading; numpy's or numba's own errors)
        hint = (
            f" (fill it with no reading: {name}.filled(2047) for raw, .filled(0) for mm)"
            if isinstance(depth, np.ma.MaskedArray)
            else ""
        )
        raise TypeError(f"expected {name} as a plain numpy array, got {type(depth).__name__}{hint}")
    if depth.dtype != np.uint16:
        raise ValueError(f"expected {name} of dtype uint16, got {depth.dtype}")
    if depth.ndim != 2:
        raise ValueError(f"expected {name} of shape (H, W), got {depth.shape}")
    return depth


def is_number(value: object) -> bool:
    """A real number as a caller means one: an int or a float (numpy's too); a bool, a
    string or None is not one, however Python would convert it."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def flag(name: str, value: object) -> bool:
    """``value`` when it is True or False (numpy's too), else ``TypeError`` naming ``name``:
    a string is not read by its truth value (``overwrite='no'`` would replace a file)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"expected {name} as True or False, got {value!r}")
    return bool(value)


def out_array(
    out: npt.NDArray[np.generic] | None,
    shape: tuple[int, ...],
    dtype: type[np.generic],
    *,
    apart_from: Mapping[str, object] | None = None,
    strided: bool = False,
) -> None:
    """Check a caller's ``out=`` buffer before anything is written to it: the one check of
    ``out`` for every function taking one. ``apart_from`` names the inputs ``out`` must
    not share memory with (a loop reading them while writing ``out`` would read its own
    results); ``strided``: the function also writes a strided view."""
    if out is None:
        return
    if not isinstance(out, np.ndarray):
        raise TypeError(f"expected out as a numpy array, got {type(out).__name__}")
    if out.shape != shape or out.dtype != np.dtype(dtype):
        raise ValueError(
            f"expected out of shape {shape} and dtype {np.dtype(dtype)}, "
            f"got {out.shape} {out.dtype}"
        )
    if not out.flags.writeable:
        raise ValueError("expected out to be writable, got a read-only array")
    if not strided and not out.flags.c_contiguous:
        raise ValueError("expected out to be C-contiguous, got a strided view")
    for name, given in (apart_from or {}).items():
        if isinstance(given, np.ndarray) and np.shares_memory(out, given):
            raise ValueError(f"expected out apart from {name}, got out sharing memory with {name}")


# -- numbers: one check for the command line, files and the library alike ------------------
def ascii_number(text: str, *, whole: bool = False) -> float:
    """``text`` as a number written in ASCII (``1e-3``, ``0.8``), else NaN: Python's
    ``float`` also reads other scripts' digits (``float("\u0661") == 1``), which a user
    never means as a size in metres. ``whole``: digits are read exactly as an integer
    (``1e3`` still as a float, whose range check says whether it is whole)."""
    if not text.isascii():
        return math.nan
    if whole:
        try:
            return int(text)
        except ValueError:
            pass
    try:
        return float(text)
    except ValueError:
        return math.nan


@dataclass(frozen=True, slots=True)
class Quantity:
    """What a number must be: finite, within ``lo``..``hi`` (``lo`` itself allowed unless
    ``above``), whole when ``whole``, counted in ``unit``; ``what`` names it. Every command
    checks the same option with the same ``Quantity`` (``cli/_types.py`` makes argparse
    types of them), and the sources check what a file or a caller gives with it, so one
    value gets one answer everywhere."""

    what: str
    lo: float
    hi: float = math.inf
    above: bool = False
    whole: bool = False
    unit: str = ""
    #: What 0 means where it is allowed too, beside ``lo``..``hi`` ("as fast as it can" for
    #: ``--fps 0``); "" where it is not.
    zero: str = ""

    def describe(self) -> str:
        """``"a finite number of frames per second > 0"``: the range in words."""
        kind = "a whole number" if self.whole else "a finite number"
        of = f" of {self.unit}" if self.unit else ""
        low = f"> {self.lo:g}" if self.above else f">= {self.lo:g}"
        high = f"{self.hi:.0f}" if self.hi.is_integer() and self.hi <= 1e15 else f"{self.hi:g}"
        rng = low if math.isinf(self.hi) else f"{low} and <= {high}"
        return f"{kind}{of} {f'0 ({self.zero}) or ' if self.zero else ''}{rng}"

    def check(self, value: object, name: str = "") -> float:
        """``value`` as a float when it is this quantity, else ``ValueError`` saying so
        (``name``: the library's keyword the value came as, "expected frames as ...")."""
        number: float
        if isinstance(value, bool):
            number = math.nan
        elif isinstance(value, str):
            number = ascii_number(value, whole=self.whole)
        elif isinstance(value, (int, np.integer)):
            number = int(value)  # exact, however long: compared with the bounds as it is
        elif isinstance(value, (float, np.floating)):
            number = float(value)
        else:
            number = math.nan
        ok = (bool(self.zero) and number == 0) or (
            (isinstance(number, int) or math.isfinite(number))
            and (number > self.lo if self.above else number >= self.lo)
            and number <= self.hi
            and (isinstance(number, int) or not self.whole or number.is_integer())
        )
        if not ok or (isinstance(number, int) and abs(number) > 1e308):  # past any float
            shown = repr(value) if isinstance(value, str) else str(value)
            shown = shown if len(shown) <= 40 else f"{shown[:30]}... ({len(shown)} characters)"
            named = f"{name} as " if name else ""
            raise ValueError(f"expected {named}{self.describe()}, got {shown}")
        return float(number)


def argument(name: str, value: object, quantity: Quantity) -> float:
    """A library keyword's number checked as the command line checks its option (the same
    ``quantity``, so both give one answer), named: ``TypeError`` for what is not a number
    (``frames='3'``, True), ``ValueError`` for one out of range or not whole (``1.5``, NaN)."""
    if not is_number(value):
        raise TypeError(f"expected {name} as a number, got {value!r}")
    return quantity.check(value, name)


def whole(name: str, value: object, quantity: Quantity) -> int:
    """``argument`` of a whole ``quantity`` (a count, a step, a frame index), as an int."""
    return int(argument(name, value, quantity))


#: The quantities more than one command or source takes.
#: A frame rate, the same in every command (export's MP4, stream's and view's pacing): from
#: one frame in 100 s to 1000 a second; the viewer's and sources' also 0 (as fast as it can).
FPS = Quantity("fps", 0.01, 1000.0, unit="frames per second")
FPS_OR_AS_FAST = Quantity("fps", 0.01, 1000.0, unit="frames per second", zero="as fast as it can")
SECONDS = Quantity("seconds", 0.0, above=True, unit="seconds")
#: How long a run may be asked to last (``record --seconds``, ``scan --model-every``): up to
#: 10^6 s, eleven and a half days; more is a typo, not a plan, and is refused, not taken as
#: "until stopped" (no option says that: leaving it out does).
DURATION = Quantity("seconds", 0.0, 1e6, above=True, unit="seconds")
#: How many frames a run may be asked for (``--frames`` of every command): up to 10^9,
#: a year of a Kinect at 30 frames/s; the same bound as ``DURATION``'s reasoning.
FRAMES = Quantity("frames", 1.0, 1e9, whole=True, unit="frames")
#: Stored depth units per metre: from metres (1) to hundredths of a millimetre (100000); out
#: of it, a 16-bit value is past any depth camera's range or below its resolution.
DEPTH_SCALE = Quantity("the depth scale", 1.0, 100_000.0, unit="depth units per metre")
#: Any other count (``--every``, ``--chunk``, ``--workers``): whole, 1 .. 10^9 as ``FRAMES``.
COUNT = Quantity("a count", 1.0, 1e9, whole=True)
#: A frame's number in a source (export's ``start``, ``stop``; ``--range START:END``).
FRAME_INDEX = Quantity("a frame index", 0.0, 1e9, whole=True)
NUMBER = Quantity("a number", 0.0, above=True)
#: A TCP port a sink listens on or connects to (0: any free one).
PORT = Quantity("a port", 0.0, 65535.0, whole=True)
