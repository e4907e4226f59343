"""The README's library calls on a millimetre source (trial G; ``register``,
``map_rgb_to_depth`` and ``colorize``: trial O): ``to_metres``, ``to_mm``, ``point_cloud``,
``register``, ``map_rgb_to_depth`` and ``colorize`` take the frame's units from
``depth_format``; left out, the values are
raw 11-bit, and a frame holding more than 11 bits (a millimetre frame) is refused in one line
(one check, ``frame.depth_format_or_raw``) rather than read through the raw table into wrong
distances. The golden distances are the millimetre values themselves / 1000 (the
TUM/7-Scenes convention), and the aligned depth and colours libfreenect's own C
(``tests/oracle``), not depthview's output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import depthview as dv
from _registration_cases import PARAMETER_SETS, video


@pytest.fixture()
def seven_scenes(tmp_path: Path) -> Path:
    """A 7-Scenes folder of two frames: 16-bit PNG millimetres (65535: no reading)."""
    rng = np.random.default_rng(3)
    for i in range(2):
        mm = rng.integers(400, 4000, (48, 64)).astype(np.uint16)
        mm[:2] = 65535
        Image.fromarray(mm).save(tmp_path / f"frame-{i:06d}.depth.png")
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(
            tmp_path / f"frame-{i:06d}.color.png"
        )
    return tmp_path


def test_the_readme_calls_on_a_millimetre_source(seven_scenes: Path) -> None:
    with dv.open(str(seven_scenes)) as src:
        frame = next(iter(src))
    mm = np.asarray(Image.open(seven_scenes / "frame-000000.depth.png")).astype(np.float64)
    valid = (mm > 0) & (mm < 65535)
    z = dv.to_metres(frame.depth, frame.depth_format)
    np.testing.assert_allclose(z[valid], mm[valid] / 1000.0, rtol=1e-6)
    assert np.isnan(z[~valid]).all()
    np.testing.assert_array_equal(
        dv.to_mm(frame.depth, src.registration, depth_format=frame.depth_format)[valid],
        mm[valid],
    )
    cloud = dv.point_cloud(frame.depth, depth_format=frame.depth_format)
    assert len(cloud.points) == int(valid.sum())
    np.testing.assert_allclose(np.sort(cloud.points[:, 2]), np.sort(mm[valid] / 1000.0), rtol=1e-6)
    for call in (
        lambda: dv.to_metres(frame.depth),
        lambda: dv.to_mm(frame.depth, src.registration),
        lambda: dv.point_cloud(frame.depth),
    ):
        with pytest.raises(ValueError, match=r"expected raw 11-bit depth .*=frame\.depth_format"):
            call()


def test_the_readme_aligned_depth_calls_on_a_millimetre_source(
    tmp_path: Path, freenect_oracle: Any
) -> None:
    """Trial O: ``dv.register(frame.depth, src.registration)`` on 7-Scenes' millimetres
    returned nonsense (values past 2047 and millimetres alike read as disparity), and
    ``map_rgb_to_depth`` a wrong mapping, while ``to_mm`` refused the frame. Now all refuse
    it in the same line, and with ``depth_format=frame.depth_format`` align the millimetres
    as libfreenect aligns the raw frame that gives them (its FREENECT_DEPTH_MM of the
    shipped recording's first frame, written as 7-Scenes writes millimetres)."""
    freenect_oracle.load(PARAMETER_SETS["default"])
    with dv.open("sample") as sample:
        raw = sample.read().depth
    mm = freenect_oracle.depth_mm(raw)
    mm[mm >= 10000] = 0  # libfreenect's ceiling: past its shift table, no reading
    assert int(mm.max()) > 2047
    rgb = video(5)
    stored = np.where(mm == 0, 65535, mm).astype(np.uint16)  # 7-Scenes' no reading
    Image.fromarray(stored).save(tmp_path / "frame-000000.depth.png")
    Image.fromarray(rgb).save(tmp_path / "frame-000000.color.png")
    with dv.open(str(tmp_path)) as src:
        frame = next(iter(src))
    assert frame.depth_format is dv.DepthFormat.MM and frame.video is not None
    messages = set()
    for call in (
        lambda: dv.to_mm(frame.depth, src.registration),
        lambda: dv.register(frame.depth, src.registration),
        lambda: dv.map_rgb_to_depth(frame.depth, frame.video, src.registration),
        lambda: dv.colorize(frame.depth, "turbo"),  # trial O: 74 % black, no word
    ):
        with pytest.raises(
            ValueError, match=r"expected raw 11-bit depth .*=frame\.depth_format"
        ) as e:
            call()
        messages.add(str(e.value))
    assert len(messages) == 1, messages
    fmt = frame.depth_format
    np.testing.assert_array_equal(
        dv.register(frame.depth, src.registration, depth_format=fmt),
        freenect_oracle.registered(raw),
    )
    np.testing.assert_array_equal(
        dv.map_rgb_to_depth(frame.depth, frame.video, src.registration, depth_format=fmt),
        freenect_oracle.map_rgb_to_depth(mm, rgb),
    )
    with pytest.raises(ValueError, match="expected depth_format RAW_11BIT or MM"):
        dv.register(frame.depth, depth_format="registered")  # aligned already


@settings(max_examples=40, deadline=None)
@given(top=st.integers(0, 65535))
def test_raw_is_taken_as_raw_only_while_it_fits_11_bits(top: int) -> None:
    """Without a format, a frame whose largest value fits 11 bits is raw (as before); one
    with any larger value is refused by every function alike."""
    depth = np.zeros((480, 640), np.uint16)
    depth[1, 2] = top
    rgb = np.zeros((480, 640, 3), np.uint8)
    calls = (
        lambda: dv.to_metres(depth),
        lambda: dv.to_mm(depth),
        lambda: dv.point_cloud(depth, organized=True),
        lambda: dv.register(depth),
        lambda: dv.map_rgb_to_depth(depth, rgb),
        lambda: dv.colorize(depth, "turbo", near=0.5, far=4.0),
        lambda: dv.colorize_packed(depth),
    )
    if top <= 2047:
        np.testing.assert_array_equal(dv.to_metres(depth), dv.to_metres(depth, "11bit"))
        np.testing.assert_array_equal(dv.to_mm(depth), dv.to_mm(depth, depth_format="11bit"))
        np.testing.assert_array_equal(dv.register(depth), dv.register(depth, depth_format=0))
        for call in calls:
            call()
    else:
        for call in calls:
            with pytest.raises(ValueError, match=f"got values up to {top}"):
                call()


def test_refusals_and_guesses_name_what_was_given_and_what_fits(tmp_path: Path) -> None:
    """Trial Q: a relabelling refusal said ``--depth-format mm`` when ``--depth-scale 1000``
    was given, and for TUM's depth advised png16 for millimetres (png16 keeps TUM's fifths);
    the millimetre guess of a 16-bit PNG offered only ``--depth-format 11bit``, which its
    values (46655) rule out. Each line now names the option given and units that fit."""
    from _helpers_cli import cli

    raw, tum = tmp_path / "raw.npz", tmp_path / "tum.npz"
    np.savez(raw, depth=np.full((1, 8, 8), 700, np.uint16), depth_format=np.array("11bit"))
    np.savez(tum, depth=np.full((1, 8, 8), 7000, np.uint16), depth_format=np.array("tum"))
    ran = cli("info", str(raw), "--depth-scale", "1000")
    assert ran.code == 2 and len(ran.error_lines) == 1, ran.err
    assert "RAW_11BIT: --depth-scale 1000 would relabel" in ran.err
    assert "png16 gives millimetres" in ran.err
    ran = cli("info", str(tum), "--depth-format", "mm")
    assert ran.code == 2 and len(ran.error_lines) == 1, ran.err
    assert "TUM: --depth-format mm would relabel" in ran.err and "png16" not in ran.err
    folder = tmp_path / "pngs"
    folder.mkdir()
    Image.fromarray(np.full((48, 64), 46655, np.uint16)).save(folder / "000000.png")
    ran = cli("export", str(folder), str(tmp_path / "x.npz"), "--quiet")
    assert ran.code == 0, ran.err
    (line,) = [x for x in ran.err.splitlines() if "units are a guess" in x]
    assert "--depth-scale (units per metre: 5000 for TUM)" in line
    ran = cli("export", str(folder), str(tmp_path / "y.npz"), "--depth-scale", "5000")
    assert ran.code == 0, ran.err


def test_values_past_the_format_cross_a_process_whole() -> None:
    """convert on a Dask cluster sends a worker's error back pickled: the refusal that
    keeps its finding apart from its advice must arrive as it was raised."""
    import pickle

    from depthview.errors import SourceError, ValuesPastFormat
    from depthview.sources.depth_units import DepthUnits

    try:
        DepthUnits.of(dv.DepthFormat.RAW_11BIT, "test").decode(
            np.full((2, 2), 4000, np.uint16), "x.png"
        )
    except ValuesPastFormat as exc:
        raised = exc
    else:
        raise AssertionError("4000 was taken as raw 11-bit disparity")
    back = pickle.loads(pickle.dumps(raised))
    assert isinstance(back, SourceError)
    assert (str(back), back.found) == (str(raised), raised.found)
    assert back.found == "x.png: expected RAW_11BIT values 0..2047, got up to 4000"
