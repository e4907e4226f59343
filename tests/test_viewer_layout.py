"""Pure geometry of the viewer (no window)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import depthview as dv
from _helpers_kinect_mm import metres as kinect_metres
from depthview.frame import DepthFormat
from depthview.viewer import actions, keys, probe
from depthview.viewer.layout import Layout, Rect, depth_pixel, fit, native_size, panels


def test_native_sizes_follow_glview() -> None:
    assert native_size(Layout.BOTH) == (1280, 480)
    assert native_size(Layout.DEPTH) == (640, 480)
    assert panels(Layout.BOTH)["video"] == Rect(640, 0, 640, 480)


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ((1280, 480), Rect(0, 0, 1280, 480)),
        ((1280, 960), Rect(0, 240, 1280, 480)),
        ((640, 480), Rect(0, 120, 640, 240)),
        ((2000, 480), Rect(360, 0, 1280, 480)),
    ],
)
def test_fit_keeps_aspect_and_centres(window: tuple[int, int], expected: Rect) -> None:
    assert fit(window, (1280, 480)) == expected


def test_depth_pixel_maps_back_through_scaling() -> None:
    view = fit((2560, 960), (1280, 480))
    assert depth_pixel((0, 0), Layout.BOTH, view) == (0, 0)
    assert depth_pixel((2 * 321 + 1, 2 * 100), Layout.BOTH, view) == (321, 100)
    assert depth_pixel((1300, 10), Layout.BOTH, view) is None  # video panel
    assert depth_pixel((5, 5), Layout.VIDEO, fit((640, 480), (640, 480))) is None


def test_layout_cycle_and_parse() -> None:
    seen = [Layout.BOTH]
    for _ in range(6):
        seen.append(seen[-1].next())
    assert [m.value for m in seen] == [
        "both",
        "depth",
        "video",
        "overlay",
        "3d",
        "3d-video",
        "both",
    ]
    with pytest.raises(ValueError, match="expected a layout"):
        Layout.parse("sideways")


def test_probe_reads_metres_like_to_metres() -> None:
    depth = np.full((4, 5), 2047, dtype=np.uint16)
    depth[2, 3] = 800
    reading = probe.read(depth, DepthFormat.RAW_11BIT, 3, 2)
    assert reading is not None and reading.raw == 800
    expected = float(kinect_metres(800))  # libfreenect's table (its C formula, written out)
    assert math.isclose(reading.metres, expected, rel_tol=1e-5)
    assert reading.metres == float(dv.to_metres(depth)[2, 3])
    assert f"{expected:.3f} m" in reading.text
    assert "no reading" in probe.read(depth, DepthFormat.RAW_11BIT, 0, 0).text  # type: ignore[union-attr]
    assert probe.read(depth, DepthFormat.RAW_11BIT, 5, 0) is None


def test_probe_says_past_the_range_apart_from_no_reading() -> None:
    """Trial K: raw values past libfreenect's 10 m (drawn in colour, sent as 10000 mm) were
    labelled "no reading" like 2047; now only the format's no-reading value is."""
    from depthview.registration import Registration, to_mm

    reg = Registration.default()
    raws = np.arange(900, 2048, dtype=np.uint16).reshape(1, -1)
    mm = to_mm(raws, reg, depth_format=DepthFormat.RAW_11BIT)[0]
    for i, raw in enumerate(raws[0].tolist()):
        text = probe.read(raws, DepthFormat.RAW_11BIT, i, 0, registration=reg).text  # type: ignore[union-attr]
        if raw == 2047:
            assert text.endswith(f"raw {raw} no reading"), text
        elif mm[i] >= 10000:
            assert text.endswith(f"raw {raw} = {mm[i]} mm, past the 10 m range"), text
        else:
            assert f"raw {raw} = {mm[i]} mm  X " in text, text
    ten = np.array([[1022, 1023]], np.uint16)
    assert probe.read(ten, DepthFormat.RAW_10BIT, 0, 0).text.endswith("past the 10 m range")  # type: ignore[union-attr]
    assert probe.read(ten, DepthFormat.RAW_10BIT, 1, 0).text.endswith("no reading")  # type: ignore[union-attr]


def test_key_table_covers_glview_and_more() -> None:
    for char in "wxs0123456fmoebrn+-qcC[]{}a pRvh?i":
        assert keys.lookup(char, "") is not None, char
    assert keys.lookup("", "escape") == keys.Binding(actions.quit_viewer, 0, "quit")
    assert keys.lookup("", "f11") == keys.Binding(actions.fullscreen, 0, "fullscreen")
    assert keys.lookup("y", "y") is None
    assert any("palette" in text for _, text in keys.help_lines())
