"""Parameter sets and synthetic raw scenes for the registration tests and benchmark.

Parameter sets are device.json layouts (plain dicts, read without depthview's parser): the
real Kinect shipped as depthview's default, and two hand-perturbed ones within the spread
seen between units (a few percent on each coefficient, other zero-plane values, another
const_shift; the third also has a pad line, which libfreenect's registered depth uses).
Scenes are (480, 640) uint16 raw 11-bit frames with near edges over far ones, holes,
values at both ends of the range and objects touching every border.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import numpy as np

HEIGHT, WIDTH = 480, 640


def default_layout() -> dict[str, Any]:
    """The shipped default, straight from the package's JSON file."""
    text = (resources.files("depthview") / "data" / "kinect-v1-registration.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def _perturbed(
    reg: dict[str, int], pad: dict[str, int], zero: dict[str, float], const_shift: float
) -> dict[str, Any]:
    layout = default_layout()
    out = copy.deepcopy(layout)
    out["reg_info"].update(reg)
    out["reg_info"]["pad_info"].update(pad)
    out["reg_info"]["zero_plane_info"].update(zero)
    out["const_shift"] = const_shift
    return out


PARAMETER_SETS: dict[str, dict[str, Any]] = {
    "default": default_layout(),
    "perturbed": _perturbed(
        {
            "ax": 1790,
            "bx": -4,
            "cx": 18,
            "dx": 480,
            "ay": 30,
            "by": 2620,
            "cy": 610,
            "dy": 40,
            "dx_start": 3200,
            "dy_start": 7600,
            "dxdx_start": 2096000,
            "dxdy_start": 1100,
            "dydx_start": 300,
            "dydy_start": 2096120,
            "dxdxdx_start": 134215450,
            "dydxdx_start": 134217250,
            "dxdxdy_start": 134217060,
            "dydxdy_start": 134216850,
            "dydydx_start": 134217150,
            "dydydy_start": 134215070,
        },
        {},
        {"dcmos_rcmos_distance": 2.5, "reference_pixel_size": 0.1047},
        197,
    ),
    "far_shifted_padded": _perturbed(
        {"dx_start": 3400, "dy_start": 9300, "ax": 1900, "by": 2540},
        {"start_lines": 1},
        {
            "dcmos_emitter_distance": 7.3,
            "dcmos_rcmos_distance": 2.6,
            "reference_distance": 118,
            "reference_pixel_size": 0.1038,
        },
        212,
    ),
}
#: Sets libfreenect's colour mapping can run on: with pad lines it indexes outside its
#: buffers (it subtracts 480 rows' worth), which no test can compare against.
MAPPABLE_SETS = [
    name for name, p in PARAMETER_SETS.items() if not p["reg_info"]["pad_info"]["start_lines"]
]


def _blocks() -> np.ndarray:
    """Far wall with a near box and a mid box over it, both touching image borders."""
    d = np.full((HEIGHT, WIDTH), 950, dtype=np.uint16)  # about 3 m
    d[:, 560:] = 1000
    d[0:220, 0:260] = 500  # about 0.6 m, at the top-left corner
    d[300:480, 380:640] = 760  # about 1.2 m, at the bottom-right corner
    d[120:360, 200:330] = 420  # nearer still, over the others' edges
    return d


def _with_holes(seed: int) -> np.ndarray:
    """The blocks with the Kinect's holes: a no-reading band right of the near object,
    the rightmost columns empty, and scattered single-pixel dropouts."""
    rng = np.random.default_rng(seed)
    d = _blocks()
    d[120:360, 330:352] = 2047
    d[:, 632:] = 2047
    d[rng.random((HEIGHT, WIDTH)) < 0.08] = 2047
    return d


def _ramp() -> np.ndarray:
    """Every raw value 0..2047 at 150 positions each, borders included."""
    return (np.arange(HEIGHT * WIDTH) % 2048).astype(np.uint16).reshape(HEIGHT, WIDTH)


def _range_ends(seed: int) -> np.ndarray:
    """Values at the ends of the valid range and where libfreenect's mm formula runs past
    its pole (about raw 1084..1090), scattered over the frame."""
    rng = np.random.default_rng(seed)
    values = np.array([0, 1, 2, 300, 440, *range(1080, 1095), 2045, 2046, 2047])
    return rng.choice(values, size=(HEIGHT, WIDTH)).astype(np.uint16)


def _near_borders() -> np.ndarray:
    """Near gradients along all four borders: at the left border, near pixels shift left
    by less than a pixel past column 0 (libfreenect's truncating division keeps them)."""
    d = np.full((HEIGHT, WIDTH), 2047, dtype=np.uint16)
    ramp = np.linspace(330, 620, WIDTH).astype(np.uint16)
    d[:40, :] = ramp
    d[-40:, :] = ramp[::-1]
    d[:, :48] = np.linspace(330, 700, HEIGHT).astype(np.uint16)[:, None]
    d[:, -48:] = 480
    return d


def _noise(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2048, size=(HEIGHT, WIDTH), dtype=np.uint16)


SCENES: dict[str, np.ndarray] = {
    "blocks": _blocks(),
    "holes": _with_holes(1),
    "ramp": _ramp(),
    "range_ends": _range_ends(2),
    "near_borders": _near_borders(),
    "noise": _noise(3),
}


def video(seed: int = 7) -> np.ndarray:
    """A colour image whose every pixel differs from its neighbours."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)
