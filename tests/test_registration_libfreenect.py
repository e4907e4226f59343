"""The live-device side of registration against the REAL installed libfreenect (Debian's
libfreenect0.5): ``freenect_copy_registration`` through depthview's ctypes layer, on the
oracle's device (the harness fills it as fakenect fills a device from device.json).

This also shows the oracle is libfreenect as Debian ships it: the installed library's
tables and colour mapping equal the ones compiled from source for the tests. And the
Kinect source on fakenect, which lacks the call, reports no registration.

No skips: without libfreenect these tests fail, as CI installs it (scripts/bootstrap.sh)."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import depthview as dv
from _helpers_sources import FAKENECT_LIB, write_recording
from _registration_cases import MAPPABLE_SETS, PARAMETER_SETS, SCENES, video
from depthview.registration import Registration
from depthview.sources import _libfreenect as lf

pytestmark = pytest.mark.libfreenect


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> lf.Library:
    """The system's libfreenect, loaded through depthview's loader."""
    monkeypatch.delenv(lf.ENV_LIBRARY, raising=False)
    monkeypatch.setattr(lf, "_loaded", None)
    lib = lf.load()
    assert not lib.is_fakenect, lib.path
    assert lib.has("freenect_copy_registration") and lib.has("freenect_destroy_registration")
    return lib


def test_ctypes_struct_matches_the_c_layout(freenect_oracle: Any) -> None:
    layout = freenect_oracle.registration_layout()
    s = lf.RegistrationStruct
    assert layout == {
        "size": ctypes.sizeof(s),
        "reg_pad_info": s.reg_pad_info.offset,
        "zero_plane_info": s.zero_plane_info.offset,
        "const_shift": s.const_shift.offset,
        "raw_to_mm_shift": s.raw_to_mm_shift.offset,
        "depth_to_rgb_shift": s.depth_to_rgb_shift.offset,
        "registration_table": s.registration_table.offset,
    }


@pytest.mark.parametrize("name", list(PARAMETER_SETS))
def test_copy_registration_gives_the_device_parameters(
    name: str, installed: lf.Library, freenect_oracle: Any
) -> None:
    freenect_oracle.load(PARAMETER_SETS[name])
    device = ctypes.c_void_p(freenect_oracle.device())
    assert lf.copy_registration(installed, device) == Registration.from_dict(PARAMETER_SETS[name])


@pytest.mark.parametrize("name", list(PARAMETER_SETS))
def test_installed_library_builds_the_oracles_tables(
    name: str, installed: lf.Library, freenect_oracle: Any
) -> None:
    freenect_oracle.load(PARAMETER_SETS[name])
    reg = installed.fn("freenect_copy_registration")(ctypes.c_void_p(freenect_oracle.device()))
    try:
        raw = np.ctypeslib.as_array(reg.raw_to_mm_shift, (2048,)).copy()
        shift = np.ctypeslib.as_array(reg.depth_to_rgb_shift, (10000,)).copy()
        pairs = ctypes.cast(reg.registration_table, ctypes.POINTER(ctypes.c_int32))
        table = np.ctypeslib.as_array(pairs, (480, 640, 2)).copy()
    finally:
        installed.fn("freenect_destroy_registration")(ctypes.byref(reg))
    expected = freenect_oracle.c_tables()  # C against C: as they are
    for ours, theirs in zip((raw, shift, table), expected, strict=True):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("name", MAPPABLE_SETS)
def test_installed_map_rgb_to_depth_and_camera_to_world(
    name: str, installed: lf.Library, freenect_oracle: Any
) -> None:
    """The exported routines of the installed library on the oracle's device: the same
    colour mapping and world coordinates as the compiled source, and as depthview."""
    freenect_oracle.load(PARAMETER_SETS[name])
    device = ctypes.c_void_p(freenect_oracle.device())
    raw = SCENES["holes"]
    mm = freenect_oracle.depth_mm(raw)
    rgb = video(4)
    out = np.zeros((480, 640, 3), dtype=np.uint8)
    mapper = installed.cdll.freenect_map_rgb_to_depth
    mapper.restype = None
    mapper.argtypes = [ctypes.c_void_p] * 4
    mapper(device, mm.ctypes.data, rgb.ctypes.data, out.ctypes.data)
    np.testing.assert_array_equal(out, freenect_oracle.map_rgb_to_depth(mm, rgb))
    reg = Registration.from_dict(PARAMETER_SETS[name])
    np.testing.assert_array_equal(out, dv.map_rgb_to_depth(raw, rgb, reg))

    to_world = installed.cdll.freenect_camera_to_world
    to_world.restype = None
    to_world.argtypes = [ctypes.c_void_p] + [ctypes.c_int] * 3 + [ctypes.c_void_p] * 2
    wx, wy = ctypes.c_double(), ctypes.c_double()
    for x, y, z in [(0, 0, 500), (639, 479, 4000), (320, 240, 1234), (17, 400, 2500)]:
        to_world(device, x, y, z, ctypes.byref(wx), ctypes.byref(wy))
        assert (wx.value, wy.value) == freenect_oracle.camera_to_world(x, y, z)


def test_no_registration_without_reference_distance() -> None:
    """A device that reported nothing (zeroed zero plane) has no registration."""
    assert lf.registration_from_struct(lf.RegistrationStruct()) is None


CHILD = r"""
import json, sys
import depthview as dv
with dv.open("kinect", timeout=5.0) as src:
    print(json.dumps({"registration": repr(src.registration)}))
"""


def test_fakenect_kinect_source_has_no_registration(tmp_path: Path) -> None:
    """Debian's fakenect lacks freenect_copy_registration: the source says None."""
    assert FAKENECT_LIB.exists(), "libfreenect0.5 (fakenect) is not installed"
    rec = write_recording(tmp_path / "rec", n=2).folder
    env = dict(
        os.environ,
        DEPTHVIEW_LIBFREENECT=str(FAKENECT_LIB),
        FAKENECT_PATH=str(rec),
        FAKENECT_LOOP="0",
    )
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    assert json.loads(line) == {"registration": "None"}
