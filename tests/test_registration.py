"""depthview's registration against libfreenect's own code, bit for bit.

The oracle is libfreenect's ``src/registration.c`` compiled from Debian's source at test
time (tests/oracle); its device gets each parameter set the way fakenect reads a
device.json. Every comparison runs on both back ends (numba and numpy)."""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import depthview as dv
from _helpers_kinect_mm import past_uint16
from _registration_cases import MAPPABLE_SETS, PARAMETER_SETS, SCENES, video
from depthview import registration as registration_module
from depthview.registration import Registration

colorize_module = importlib.import_module("depthview.colorize")  # dv.colorize is the function
SETS = list(PARAMETER_SETS)


@pytest.fixture(params=["numba", "numpy"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on the compiled loops, then on numpy (as without the fast extra)."""
    if request.param == "numpy":
        monkeypatch.setattr(registration_module, "_KERNELS", None)
        monkeypatch.setattr(colorize_module, "_KERNELS", None)
    else:  # the dev install has the fast extra: the compiled loops must be there
        assert registration_module.backend() == "numba"
    assert registration_module.backend() == request.param
    return str(request.param)


@pytest.fixture(params=SETS)
def params(request: pytest.FixtureRequest, freenect_oracle: Any) -> tuple[Registration, Any]:
    """(depthview's Registration, the oracle loaded with the same device.json layout)."""
    layout = PARAMETER_SETS[request.param]
    freenect_oracle.load(layout)
    return Registration.from_dict(layout), freenect_oracle


def _mappable(raw: np.ndarray, oracle: Any) -> np.ndarray:
    """``raw`` with the pixels whose DEPTH_MM value is 10000 (libfreenect's ceiling, past
    its shift table: it would read out of bounds) set to no reading."""
    out = raw.copy()
    out[oracle.depth_mm(raw) >= 10000] = 2047
    return out


# -- tables --------------------------------------------------------------------------------
def test_tables_equal_libfreenects(params: tuple[Registration, Any]) -> None:
    reg, oracle = params
    raw_to_mm, shift, table = oracle.tables()
    ours = registration_module.tables(reg)
    np.testing.assert_array_equal(ours.raw_to_mm, raw_to_mm)  # all 2048 raw values
    np.testing.assert_array_equal(ours.depth_to_rgb_shift, shift)  # all 10000 mm values
    np.testing.assert_array_equal(ours.registration_table, table)  # all 307200 pixels


def test_raw_values_the_c_cannot_convert_are_at_the_ceiling(freenect_oracle: Any) -> None:
    """Trial AJ (D14): raw 1090 read 6351 mm and 1095 3755 mm (points 6 m away for readings
    past 10 m), as libfreenect's x86 build wraps a double its ``uint16_t`` cannot hold
    (undefined in C). Those raw values are at the ceiling: 10000 mm, no metres, no point;
    every other entry is the C's own."""
    layout = PARAMETER_SETS["default"]
    freenect_oracle.load(layout)
    c_raw = freenect_oracle.c_tables()[0]
    past = past_uint16(layout)
    ghosts = np.flatnonzero(past & (c_raw > 0) & (c_raw < 10000))
    assert ghosts.size, "the C's wrap gives readings here: the difference matters"
    r = ghosts.astype(np.uint16).reshape(1, -1)
    assert (dv.to_mm(r) == 10000).all()
    assert np.isnan(dv.to_metres(r)).all()
    assert len(dv.point_cloud(np.full((480, 640), ghosts[0], np.uint16)).points) == 0
    ours = registration_module.tables(Registration.from_dict(layout)).raw_to_mm
    np.testing.assert_array_equal(ours[~past], c_raw[~past])


def test_tables_differ_between_parameter_sets() -> None:
    """The sets are not accidentally the same device."""
    built = [registration_module.tables(Registration.from_dict(p)) for p in PARAMETER_SETS.values()]
    for a, b in itertools.combinations(built, 2):
        assert not np.array_equal(a.raw_to_mm, b.raw_to_mm)
        assert not np.array_equal(a.registration_table, b.registration_table)


# -- to_mm ---------------------------------------------------------------------------------
def test_to_mm_every_raw_value(params: tuple[Registration, Any], backend: str) -> None:
    reg, oracle = params
    ramp = SCENES["ramp"]  # every value 0..2047, 150 times each
    expected = oracle.depth_mm(ramp)
    np.testing.assert_array_equal(dv.to_mm(ramp, reg), expected)
    assert expected.flat[2047] == 0  # raw 2047 (no reading) gives 0


@pytest.mark.parametrize("scene", list(SCENES))
def test_to_mm_scenes(params: tuple[Registration, Any], backend: str, scene: str) -> None:
    reg, oracle = params
    out = np.full((480, 640), 12345, dtype=np.uint16)
    result = dv.to_mm(SCENES[scene], reg, out=out)
    assert result is out
    np.testing.assert_array_equal(out, oracle.depth_mm(SCENES[scene]))


def test_to_mm_any_shape_and_values_above_11_bits() -> None:
    """Values above 11 bits are refused whether raw is said or not (trial AL D1: said,
    they came back as no reading without a word): they are another unit's (a millimetre
    frame). Within 11 bits, 2047 is no reading (libfreenect's table ends there)."""
    depth = np.array([[0, 600, 2047]], dtype=np.uint16)
    mm = dv.to_mm(depth, depth_format="11bit")
    table = registration_module.tables().raw_to_mm
    assert mm.tolist() == [[table[0], table[600], 0]]
    past = np.array([[0, 600, 2047, 2048, 4095, 65535]], dtype=np.uint16)
    for fmt in (None, "11bit", "raw"):
        with pytest.raises(ValueError, match=r"expected raw 11-bit depth \(0..2047\).*65535"):
            dv.to_mm(past, depth_format=fmt)


@pytest.mark.parametrize(
    ("fmt", "value", "words"),
    [
        ("10bit", 1500, "expected raw 10-bit depth (0..1023) as RAW_10BIT, got values up to 1500"),
        ("11bit", 3000, "expected raw 11-bit depth (0..2047) as RAW_11BIT, got values up to 3000"),
        ("raw", 2048, "expected raw 11-bit depth (0..2047) as RAW_11BIT, got values up to 2048"),
        (
            "nyu",
            3000,
            "expected raw 11-bit depth (0..2047) as RAW_11BIT_NYU, got values up to 3000",
        ),
    ],
)
def test_a_named_raw_format_refuses_values_past_its_bits(fmt: str, value: int, words: str) -> None:
    """Trial AL D1: to_metres(a, '10bit') of values up to 1500 was all NaN, to_mm all 0 and
    point_cloud empty, without a word; the same array unnamed, and the command line's
    --depth-format 10bit, were refused. Now each says so in one line."""
    a = np.full((4, 4), value, np.uint16)
    calls = [
        lambda: dv.to_metres(a, fmt),
        lambda: dv.point_cloud(a, depth_format=fmt),
    ]
    if fmt != "nyu":
        calls.append(lambda: dv.to_mm(a, depth_format=fmt))
    for call in calls:
        with pytest.raises(ValueError) as caught:
            call()
        assert str(caught.value).startswith(words) and "\n" not in str(caught.value)
    within = np.full((4, 4), value, np.uint16) % (1023 if fmt == "10bit" else 2047)
    assert np.isfinite(dv.to_metres(within, fmt)).any()


def test_to_mm_of_nyu_raw_says_to_metres_reads_it() -> None:
    """Trial AL D2: to_mm(depth, depth_format='nyu') said "expected unpacked depth, got
    RAW_11BIT_NYU", though NYU's raw is unpacked. to_mm is libfreenect's table; NYU's
    raw is read by NYU's fit, 351.3 / (1092.5 - raw): to_metres gives it, and the one
    line says so."""
    a = np.full((2, 2), 1000, np.uint16)
    with pytest.raises(ValueError) as caught:
        dv.to_mm(a, depth_format="nyu")
    message = str(caught.value)
    assert "\n" not in message and "unpacked" not in message
    assert "does not apply" in message and "dv.to_metres(depth, 'nyu')" in message
    assert dv.to_metres(a, "nyu")[0, 0] == pytest.approx(351.3 / (1092.5 - 1000), rel=1e-6)


# -- register ------------------------------------------------------------------------------
@pytest.mark.parametrize("scene", list(SCENES))
def test_register_scenes(params: tuple[Registration, Any], backend: str, scene: str) -> None:
    reg, oracle = params
    expected = oracle.registered(SCENES[scene])
    np.testing.assert_array_equal(dv.register(SCENES[scene], reg), expected)


def test_register_into_out_and_repeatedly(backend: str) -> None:
    """``out`` is filled, not reallocated, and stale content never leaks into a frame."""
    out = np.full((480, 640), 777, dtype=np.uint16)
    for scene in ("blocks", "holes", "blocks"):
        assert dv.register(SCENES[scene], out=out) is out
        np.testing.assert_array_equal(out, dv.register(SCENES[scene]))
    assert (out == 0).any() and not (out == 777).any()


def test_register_scene_features_are_exercised(freenect_oracle: Any) -> None:
    """The scenes reach the code paths that matter: collisions the nearest wins, holes
    opened behind near edges, targets off the right edge, and sub-pixel shifts left of
    column 0 that C's truncating division keeps in column 0."""
    layout = PARAMETER_SETS["default"]
    freenect_oracle.load(layout)
    raw_to_mm, shift, table = freenect_oracle.tables()
    d = SCENES["near_borders"]
    mm = raw_to_mm[d].astype(np.int64)
    placed = (mm > 0) & (mm < 10000)
    s = table[:, :, 0] + shift[np.where(placed, mm, 1)]
    assert (placed & (s < 0) & (s > -256)).any()
    assert (placed & (s >= 640 * 256)).any()
    blocks = SCENES["blocks"]
    registered = freenect_oracle.registered(blocks)
    assert np.count_nonzero(registered == 0) > 0  # disocclusion holes
    assert np.count_nonzero(registered) < np.count_nonzero(raw_to_mm[blocks])  # collisions


def test_register_refuses_values_above_11_bits_said_or_not() -> None:
    """Values past 11 bits are another unit's, refused whether the frame is said to be raw
    11-bit or not, as ``to_mm`` refuses them (trial AL D1: said, they were no reading)."""
    marked = SCENES["blocks"].copy()
    marked[::7, ::5] = 40000
    for fmt in (None, "11bit"):
        with pytest.raises(ValueError, match=r"expected raw 11-bit depth .*got values up to 40000"):
            dv.register(marked, depth_format=fmt)


def test_register_non_contiguous_input(backend: str) -> None:
    wide = np.zeros((480, 1280), dtype=np.uint16)
    wide[:, ::2] = SCENES["holes"]
    np.testing.assert_array_equal(dv.register(wide[:, ::2]), dv.register(SCENES["holes"]))


# -- the colour of each depth pixel ----------------------------------------------------------
@pytest.mark.parametrize("params", MAPPABLE_SETS, indirect=True)
@pytest.mark.parametrize("scene", list(SCENES))
def test_map_rgb_to_depth_scenes(
    params: tuple[Registration, Any], backend: str, scene: str
) -> None:
    reg, oracle = params
    raw = _mappable(SCENES[scene], oracle)
    rgb = video()
    mm = oracle.depth_mm(raw)
    expected = oracle.map_rgb_to_depth(mm, rgb)
    np.testing.assert_array_equal(dv.map_rgb_to_depth(raw, rgb, reg), expected)
    np.testing.assert_array_equal(dv.map_rgb_to_depth(mm, rgb, reg, depth_format="mm"), expected)


@pytest.mark.parametrize("params", ["default"], indirect=True)
def test_map_rgb_to_depth_blacks_what_libfreenect_skips(
    params: tuple[Registration, Any], backend: str
) -> None:
    """libfreenect leaves occluded pixels as the buffer held them; depthview makes them
    black, which is what it gives on a zeroed buffer. Both kinds occur in the scene (the
    untouched ones keep either fill value given to libfreenect)."""
    reg, oracle = params
    raw = SCENES["blocks"]
    rgb = video(9)
    mm = oracle.depth_mm(raw)
    written = oracle.map_rgb_to_depth(mm, rgb, fill=9)
    other = oracle.map_rgb_to_depth(mm, rgb, fill=77)
    untouched = (written == 9).all(axis=2) & (other == 77).all(axis=2)
    assert untouched.any()
    ours = dv.map_rgb_to_depth(raw, rgb, reg)
    assert (ours[untouched] == 0).all()
    np.testing.assert_array_equal(ours[~untouched], written[~untouched])


def test_map_rgb_to_depth_into_out(backend: str) -> None:
    out = np.full((480, 640, 3), 5, dtype=np.uint8)
    rgb = video()
    assert dv.map_rgb_to_depth(SCENES["holes"], rgb, out=out) is out
    np.testing.assert_array_equal(out, dv.map_rgb_to_depth(SCENES["holes"], rgb))


def test_numba_and_numpy_agree_on_random_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    frames = [rng.integers(0, 2048, (480, 640), dtype=np.uint16) for _ in range(3)]
    rgb = video(3)
    compiled = [(dv.register(d), dv.map_rgb_to_depth(d, rgb), dv.to_mm(d)) for d in frames]
    monkeypatch.setattr(registration_module, "_KERNELS", None)
    monkeypatch.setattr(colorize_module, "_KERNELS", None)
    for d, (reg, rgb_map, mm) in zip(frames, compiled, strict=True):
        np.testing.assert_array_equal(dv.register(d), reg)
        np.testing.assert_array_equal(dv.map_rgb_to_depth(d, rgb), rgb_map)
        np.testing.assert_array_equal(dv.to_mm(d), mm)


# -- real frames -----------------------------------------------------------------------------
def _sample_frames() -> Iterator[np.ndarray]:
    with dv.open("sample", realtime=False) as src:
        for frame in src:
            yield frame.depth


def test_real_frames_equal_libfreenect(freenect_oracle: Any, backend: str) -> None:
    """The sample recording's 20 real frames, default registration: DEPTH_MM, DEPTH_REGISTERED
    and the colour mapping, every pixel."""
    freenect_oracle.load(PARAMETER_SETS["default"])
    rgb = video(5)
    count = 0
    for depth in _sample_frames():
        np.testing.assert_array_equal(dv.to_mm(depth), freenect_oracle.depth_mm(depth))
        np.testing.assert_array_equal(dv.register(depth), freenect_oracle.registered(depth))
        raw = _mappable(depth, freenect_oracle)
        expected = freenect_oracle.map_rgb_to_depth(freenect_oracle.depth_mm(raw), rgb)
        np.testing.assert_array_equal(dv.map_rgb_to_depth(raw, rgb), expected)
        count += 1
    assert count == 20


# -- argument checks -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dv.register(np.zeros((480, 640), np.int32)), "expected depth of dtype uint16"),
        (
            lambda: dv.register(np.zeros((240, 320), np.uint16)),
            "expected depth of shape (480, 640)",
        ),
        (lambda: dv.to_mm(np.zeros((4, 4, 1), np.uint16)), "expected depth of shape (H, W)"),
        (
            lambda: dv.register(
                np.zeros((480, 640), np.uint16), out=np.zeros((480, 640), np.int32)
            ),
            "expected out of shape (480, 640) and dtype uint16",
        ),
        (
            lambda: dv.map_rgb_to_depth(
                np.zeros((480, 640), np.uint16), np.zeros((480, 640), np.uint8)
            ),
            "expected video as (480, 640, 3) uint8 RGB",
        ),
        (
            lambda: dv.map_rgb_to_depth(
                np.zeros((480, 640), np.uint16), video(), depth_format="registered"
            ),
            "expected depth_format RAW_11BIT or MM",
        ),
    ],
)
def test_bad_arguments(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_registration_argument_type() -> None:
    with pytest.raises(TypeError, match="expected registration as a Registration, got dict"):
        dv.to_mm(np.zeros((2, 2), np.uint16), PARAMETER_SETS["default"])  # type: ignore[arg-type]
