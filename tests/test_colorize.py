"""dv.colorize against independent computations: glview's C arithmetic re-done through
libm's own powf, matplotlib's colormaps, and the raw-to-metres formula written out here."""

from __future__ import annotations

import colorsys
import ctypes
import ctypes.util
import importlib
import tracemalloc

import numpy as np
import pytest
from matplotlib import colormaps

import depthview as dv
from _helpers_kinect_mm import metres as kinect_metres
from _helpers_kinect_mm import mm_table
from depthview.frame import DepthFormat
from depthview.registration import metres_table as registration_metres

colorize_module = importlib.import_module("depthview.colorize")
ALL_RAW = np.arange(2048, dtype=np.uint16).reshape(32, 64)


def glview_reference() -> np.ndarray:
    """glview.c's table, computed the way its C code does: float v = i/2048.0;
    v = powf(v, 3) * 6; t_gamma[i] = v * 6 * 256 (float32 products, truncation)."""
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    libm.powf.restype = ctypes.c_float
    libm.powf.argtypes = [ctypes.c_float, ctypes.c_float]
    table = np.zeros((2048, 3), dtype=np.uint8)
    for i in range(2048):
        v = np.float32(i / 2048.0)
        v = np.float32(libm.powf(v, 3.0)) * np.float32(6)
        t = int(np.float32(np.float32(v * np.float32(6)) * np.float32(256)))
        lb = t & 0xFF
        seg = t >> 8
        if seg == 0:
            rgb = (255, 255 - lb, 255 - lb)
        elif seg == 1:
            rgb = (255, lb, 0)
        elif seg == 2:
            rgb = (255 - lb, 255, 0)
        elif seg == 3:
            rgb = (0, 255, lb)
        elif seg == 4:
            rgb = (0, 255 - lb, 255)
        elif seg == 5:
            rgb = (0, 0, 255 - lb)
        else:
            rgb = (0, 0, 0)
        table[i] = rgb
    return table


def metres_11bit(raw: np.ndarray) -> np.ndarray:
    """libfreenect's distance of raw 11-bit values (its C formula, written out in the
    helper), NaN where none."""
    return kinect_metres(raw)


def test_glview_matches_glview_c_arithmetic_for_all_2048_values() -> None:
    expected = glview_reference()
    np.testing.assert_array_equal(dv.glview_table(), expected)
    np.testing.assert_array_equal(dv.colorize(ALL_RAW).reshape(2048, 3), expected)
    # Raw 2047 (no reading) is black, as in glview.
    assert tuple(dv.colorize(ALL_RAW)[-1, -1]) == (0, 0, 0)


def test_glview_segments_two_and_three_are_not_the_blog_snippets() -> None:
    # The widely copied port has (255-lb, lb, 0) and (255-lb, 255, 0) for segments 2 and 3.
    table = dv.glview_table().astype(int)
    t = (36 * 256 * (np.arange(2048, dtype=np.float32) / 2048) ** 3).astype(int)
    seg2 = np.flatnonzero(t >> 8 == 2)
    seg3 = np.flatnonzero(t >> 8 == 3)
    assert len(seg2) > 10 and len(seg3) > 10
    assert (table[seg2, 1] == 255).all()  # green saturated through segment 2
    assert (table[seg3, 0] == 0).all()  # no red in segment 3


def test_glview_10bit_uses_the_colour_of_the_same_distance() -> None:
    raw10 = np.arange(1024, dtype=np.uint16).reshape(16, 64)
    out = dv.colorize(raw10, depth_format="10bit").reshape(1024, 3)
    expected = glview_reference()[np.arange(1024) * 2]
    expected[1023] = 0  # 1023 is no reading in 10-bit mode
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("palette", ["turbo", "jet", "viridis"])
def test_metric_palettes_follow_matplotlib(palette: str) -> None:
    near, far = 0.6, 3.5
    raw = np.arange(0, 1084, dtype=np.uint16).reshape(1, -1)
    out = dv.colorize(raw, palette, near=near, far=far).reshape(-1, 3).astype(float)
    s = np.clip((far - metres_11bit(raw.ravel())) / (far - near), 0, 1)
    valid = metres_11bit(raw.ravel()) > 0
    expected = colormaps[palette].resampled(65536)(s)[:, :3] * 255
    err = np.abs(out[valid] - expected[valid])
    # turbo is sampled from the table, viridis a polynomial fit of it (a few levels off).
    tol = {"turbo": 7, "viridis": 3.5, "jet": 1}[palette]
    assert err.max() <= tol, f"{palette}: max error {err.max():.1f}"
    assert err.mean() <= 1.0


def test_near_end_is_warm_and_far_end_cool_for_turbo() -> None:
    near_raw, far_raw = dv.from_metres([0.7, 4.0])
    out = dv.colorize(np.array([[near_raw, far_raw]], dtype=np.uint16), "turbo", near=0.7, far=4)
    (r_near, _, b_near), (r_far, _, b_far) = out[0].astype(int)
    assert r_near > b_near and b_far > r_far


@pytest.mark.parametrize("fmt", ["11bit", "10bit", "mm", "registered"])
@pytest.mark.parametrize("palette", ["grayscale", "inverse_grayscale", "hue"])
def test_simple_palettes_every_format(fmt: str, palette: str) -> None:
    near, far = 0.8, 4.0
    if fmt == "11bit":
        values = np.arange(0, 1084)
        metres = metres_11bit(values)
    elif fmt == "10bit":
        values = np.arange(0, 542)
        metres = metres_11bit(values * 2)
    else:
        values = np.arange(1, 9000, 7)
        metres = values / 1000.0
    depth = values.astype(np.uint16).reshape(1, -1)
    out = dv.colorize(depth, palette, near=near, far=far, depth_format=fmt)[0].astype(int)
    s = np.nan_to_num(np.clip((far - metres) / (far - near), 0, 1))  # NaN: no reading, not compared
    if palette == "grayscale":
        expected = np.repeat((s * 255)[:, None], 3, axis=1)
    elif palette == "inverse_grayscale":
        expected = np.repeat(((1 - s) * 255)[:, None], 3, axis=1)
    else:
        expected = np.array([colorsys.hsv_to_rgb((1 - x) * 2 / 3, 1, 1) for x in s]) * 255
    ok = metres > 0
    assert np.abs(out[ok] - expected[ok]).max() <= 1.5


FORMATS = [("11bit", 2047, 700), ("10bit", 1023, 350), ("mm", 0, 1500), ("registered", 0, 900)]


@pytest.mark.parametrize(
    ("fmt", "invalid", "valid", "palette"),
    [(*f, p) for f in FORMATS for p in dv.PALETTES if p != "glview" or f[0].endswith("bit")],
)
def test_no_reading_gets_the_invalid_colour(
    fmt: str, invalid: int, valid: int, palette: str
) -> None:
    depth = np.full((4, 5), valid, dtype=np.uint16)
    depth[1, 2] = invalid
    kwargs = {} if palette == "glview" else {"near": 0.5, "far": 4.0}
    out = dv.colorize(depth, palette, depth_format=fmt, invalid_color=(1, 2, 3), **kwargs)
    assert tuple(out[1, 2]) == (1, 2, 3)
    assert tuple(out[0, 0]) != (1, 2, 3)
    packed = dv.colorize_packed(
        depth, palette, depth_format=fmt, invalid_color=(1, 2, 3), order="RGBA", **kwargs
    )
    assert tuple(packed.view(np.uint8).reshape(4, 5, 4)[1, 2]) == (1, 2, 3, 255)


def test_values_beyond_the_format_are_no_reading() -> None:
    """Said to be raw 11-bit, values past it are no reading; unsaid, such a frame is
    refused (``tests/test_depth_format_given.py``)."""
    depth = np.array([[3000, 65535, 500]], dtype=np.uint16)
    out = dv.colorize(depth, invalid_color=(9, 9, 9), depth_format="11bit")
    assert [tuple(p) for p in out[0][:2]] == [(9, 9, 9), (9, 9, 9)]


def test_histogram_equalised_when_no_range_is_given() -> None:
    rng = np.random.default_rng(3)
    depth = rng.integers(500, 1000, (120, 160)).astype(np.uint16)
    depth[:, :8] = 2047
    out = dv.colorize(depth, "grayscale").astype(int)
    valid = depth != 2047
    # Grey level falls with distance: rank correlation is perfect (monotonic, near bright).
    order = np.argsort(depth[valid], kind="stable")
    assert (np.diff(out[valid][:, 0][order]) <= 0).all()
    # Equalised: the grey levels spread over the whole range, each quartile ~ a quarter.
    grey = out[valid][:, 0]
    assert grey.min() <= 5 and grey.max() >= 250
    assert abs(np.median(grey) - 127) <= 8
    assert (out[~valid] == 0).all()


def test_packed_orders_match_rgb() -> None:
    depth = dv.from_metres(np.linspace(0.4, 5, 300).reshape(15, 20))
    rgb = dv.colorize(depth, "turbo", near=0.5, far=4.5)
    for order in ("RGBA", "BGRA", "ARGB", "XBGR", "bgrx"):
        packed = dv.colorize_packed(depth, "turbo", near=0.5, far=4.5, order=order)
        assert packed.shape == depth.shape and packed.dtype == np.uint32
        as_bytes = packed.view(np.uint8).reshape(15, 20, 4)
        for byte, channel in enumerate(order.upper()):
            if channel in "AX":
                assert (as_bytes[..., byte] == 255).all()
            else:
                np.testing.assert_array_equal(as_bytes[..., byte], rgb[..., "RGB".index(channel)])


def test_out_is_reused_and_nothing_is_allocated() -> None:
    depth = dv.open("demo", fps=0).read().depth
    out = np.empty((480, 640, 3), np.uint8)
    packed = np.empty((480, 640), np.uint32)
    assert dv.colorize(depth, out=out) is out
    assert dv.colorize_packed(depth, out=packed) is packed
    dv.colorize_packed(depth, "turbo", near=1, far=3, out=packed)  # warm the tables
    dv.colorize(depth, "turbo", near=1, far=3, out=out)
    tracemalloc.start()
    for _ in range(5):
        dv.colorize_packed(depth, out=packed)
        dv.colorize(depth, "turbo", near=1, far=3, out=out)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20_000, f"{peak} bytes allocated per call with out="
    np.testing.assert_array_equal(out, dv.colorize(depth, "turbo", near=1, far=3))


def test_numpy_fallback_matches_compiled_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    assert colorize_module.backend() == "numba"  # the dev install has the fast extra
    depth = dv.open("demo", fps=0).read().depth
    fast = dv.colorize_packed(depth), dv.colorize(depth, "jet", near=0.5, far=5)
    monkeypatch.setattr(colorize_module, "_KERNELS", None)
    slow = dv.colorize_packed(depth), dv.colorize(depth, "jet", near=0.5, far=5)
    np.testing.assert_array_equal(fast[0], slow[0])
    np.testing.assert_array_equal(fast[1], slow[1])


def test_non_contiguous_input() -> None:
    depth = dv.open("demo", fps=0).read().depth
    view = depth[::2, ::3]
    np.testing.assert_array_equal(dv.colorize(view), dv.colorize(view.copy()))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"depth": np.zeros((4, 4), np.float32)}, "expected depth of dtype uint16, got float32"),
        ({"depth": np.zeros((4, 4, 1), np.uint16)}, "expected depth of shape (H, W), got (4,"),
        ({"depth": [[1, 2]]}, "expected depth as a numpy array, got list"),
        ({"palette": "rainbow"}, "expected a palette name (glview, turbo"),
        ({"palette": "turbo", "near": 3.0, "far": 1.0}, "expected near < far, got near=3.0"),
        ({"palette": "turbo", "near": -1.0}, "expected near as metres from 0 to 1000"),
        ({"depth_format": "mm"}, "palette 'glview' maps raw disparity"),
        ({"near": 1.0}, "palette 'glview' has a fixed mapping"),
        ({"depth_format": "12bit"}, "expected a depth format"),
        ({"out": np.empty((4, 4, 3), np.uint16)}, "expected out of shape (4, 4, 3) and dtype"),
        ({"invalid_color": (1, 2)}, "expected invalid_color as three ints"),
    ],
)
def test_bad_input_says_what_was_expected(kwargs: dict, message: str) -> None:
    args = {"depth": np.zeros((4, 4), np.uint16), **kwargs}
    depth = args.pop("depth")
    with pytest.raises((ValueError, TypeError)) as info:
        dv.colorize(depth, **args)
    assert message in str(info.value)


def test_bad_packed_order() -> None:
    with pytest.raises(ValueError, match="expected a byte order"):
        dv.colorize_packed(np.zeros((2, 2), np.uint16), order="RGB")


def test_units_to_metres_matches_libfreenect_and_nan() -> None:
    """Raw disparity reads as libfreenect's FREENECT_DEPTH_MM (its formula written out in the
    helper, from the default device.json), not the widely used 1/(a*raw+b) fit, which reads
    3-5% nearer: one distance for a raw value in every output (issue 22)."""
    raw = np.arange(2048, dtype=np.uint16).reshape(32, 64)
    m = dv.to_metres(raw)
    assert m.dtype == np.float32
    expected = metres_11bit(raw)
    ok = np.isfinite(expected)
    assert ok.sum() > 1000 and not ok[-1, -1]
    np.testing.assert_allclose(m[ok], expected[ok], rtol=1e-6)
    assert np.isnan(m[~ok]).all()
    # the case the trial found: raw 887 is 0.887 m in libfreenect, 0.8466 m by the fit
    assert dv.to_metres(np.array([[700]], np.uint16))[0, 0] == pytest.approx(0.887)
    mm = dv.to_metres(np.array([[0, 1500]], np.uint16), DepthFormat.MM)
    assert np.isnan(mm[0, 0]) and mm[0, 1] == pytest.approx(1.5)
    # 10-bit raw is 11-bit halved
    ten = np.arange(1023, dtype=np.uint16).reshape(1, -1)
    np.testing.assert_allclose(
        dv.to_metres(ten, "10bit")[0], metres_11bit(ten[0] * 2), rtol=1e-6, equal_nan=True
    )
    # the registration module's table for the default parameters is the same table
    np.testing.assert_array_equal(
        np.asarray(registration_metres(None))[:2048], dv.to_metres(raw).ravel()
    )


def test_written_out_formula_is_libfreenects_compiled_code(freenect_oracle: object) -> None:
    """The helper's transcription against libfreenect's registration.c itself."""
    import json
    from importlib import resources

    layout = json.loads(
        (resources.files("depthview") / "data" / "kinect-v1-registration.json").read_text()
    )
    freenect_oracle.load(layout)  # type: ignore[attr-defined]
    c_table = freenect_oracle.tables()[0]  # type: ignore[attr-defined]
    np.testing.assert_array_equal(mm_table(), c_table.astype(np.int64))


def test_units_from_metres_inverts_to_metres() -> None:
    raw = np.arange(0, 1055, dtype=np.uint16).reshape(1, -1)
    metres = dv.to_metres(raw)
    back = dv.from_metres(metres)
    # raw values that read alike (libfreenect's table repeats near 0.3 m) all come back as
    # one of them; every one reads the same distance again
    np.testing.assert_array_equal(dv.to_metres(back), metres)
    distinct = np.concatenate([[True], np.diff(metres[0]) > 0])
    assert (back[0][distinct] == raw[0][distinct]).mean() > 0.98
    # a distance between two readings goes to the nearer one
    mid = (metres[0, 600] * 0.7 + metres[0, 601] * 0.3).reshape(1, 1)
    assert dv.from_metres(mid)[0, 0] == 600
    # past the readable range: no reading
    assert dv.from_metres([12.0, 0.1]).tolist() == [2047, 2047]
    mm = np.arange(1, 10000, dtype=np.uint16).reshape(1, -1)
    np.testing.assert_array_equal(dv.from_metres(dv.to_metres(mm, "mm"), "mm"), mm)
    assert dv.from_metres([np.nan, -1.0, 0.0]).tolist() == [2047, 2047, 2047]


def test_repeated_calls_still_check_the_frame() -> None:
    # The second call takes the remembered table; the frame itself is checked every time.
    depth = np.zeros((4, 4), np.uint16)
    dv.colorize_packed(depth, "turbo", near=1.0, far=2.0)
    dv.colorize_packed(depth, "turbo", near=1.0, far=2.0)
    with pytest.raises(ValueError, match="expected depth of dtype uint16"):
        dv.colorize_packed(depth.astype(np.int32), "turbo", near=1.0, far=2.0)
    with pytest.raises(ValueError, match="expected out of shape"):
        dv.colorize_packed(depth, "turbo", near=1.0, far=2.0, out=np.empty((2, 2), np.uint32))
    no_reading = np.full((4, 4), 2047, np.uint16)
    listed = dv.colorize(no_reading, "turbo", near=1.0, far=2.0, invalid_color=[5, 6, 7])  # type: ignore[arg-type]
    assert tuple(listed[0, 0]) == (5, 6, 7)


def test_the_equalizer_as_the_readme_spells_it() -> None:
    """Trial Z (D1): the README's ``depthview.colorize.Equalizer`` was no name a user can
    reach (``dv.colorize`` is the function). It is ``dv.Equalizer``, as the README says now,
    and the limit given is the one used."""
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "dv.Equalizer(clip=" in readme and "depthview.colorize.Equalizer" not in readme
    depth = np.full((60, 80), 2000, np.uint16)
    depth[:, :8] = np.linspace(800, 1200, 60, dtype=np.uint16)[:, None]
    loose = dv.colorize(depth, "turbo", depth_format="mm", equalizer=dv.Equalizer(clip=100.0))
    tight = dv.colorize(depth, "turbo", depth_format="mm", equalizer=dv.Equalizer(clip=1.5))
    assert not np.array_equal(tight, loose)  # the limit the user gave is the one used


@pytest.mark.parametrize("palette", ["grayscale", "turbo"])
def test_equalised_colours_do_not_depend_on_the_units(palette: str) -> None:
    """The contrast limit is taken per step of distance, so a raw frame and the same frame
    in millimetres get the same colours (trial AL D10: per stored value they were up to 60
    grey levels apart). A scene with a wall near and far, and a slope between."""
    raw = np.full((120, 160), 2047, np.uint16)
    raw[:, :60] = 610  # a wall near 0.8 m: many pixels on one raw value
    raw[:, 60:100] = np.linspace(700, 1000, 40, dtype=np.uint16)[None, :]
    raw[:, 100:150] = 1010  # a far wall
    valid = raw < 2047
    mm = dv.to_mm(raw)
    assert len(np.unique(mm[valid])) == len(np.unique(raw[valid]))  # the same scene
    from_raw = dv.colorize(raw, palette).astype(int)
    from_mm = dv.colorize(mm, palette, depth_format="mm").astype(int)
    assert np.abs(from_raw - from_mm)[valid].max() <= 1
    # The limit does act: without it the walls' colours differ.
    loose = dv.colorize(raw, palette, equalizer=dv.Equalizer(clip=1e9)).astype(int)
    assert np.abs(loose - from_raw)[valid].max() > 10


def test_real_frames_look_the_same_raw_and_in_millimetres() -> None:
    """The shipped Kinect recording, frame by frame through one equalizer each."""
    raw_eq, mm_eq = dv.Equalizer(), dv.Equalizer()
    with dv.open("sample", realtime=False) as src:
        for _, frame in zip(range(5), src, strict=False):
            valid = frame.depth < 2047
            from_raw = dv.colorize(frame.depth, "turbo", equalizer=raw_eq).astype(int)
            mm = dv.to_mm(frame.depth)
            from_mm = dv.colorize(mm, "turbo", depth_format="mm", equalizer=mm_eq).astype(int)
            assert np.abs(from_raw - from_mm)[valid].max() <= 1
