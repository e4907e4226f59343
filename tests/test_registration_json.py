"""Registration parameters: device.json in libfreenect's layout, the shipped default, and
one clear error naming the file and key for a bad file."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import depthview as dv
from _registration_cases import PARAMETER_SETS, default_layout
from depthview.errors import SourceError
from depthview.registration import (
    DEFAULT_REGISTRATION,
    Registration,
    RegPadInfo,
    ZeroPlaneInfo,
)

REG_KEYS = [k for k, v in default_layout()["reg_info"].items() if not isinstance(v, dict)]


def test_default_is_the_shipped_kinect() -> None:
    layout = default_layout()
    reg = Registration.default()
    assert reg is DEFAULT_REGISTRATION
    assert reg.reg_info.ax == layout["reg_info"]["ax"] == 1830
    assert reg.const_shift == layout["const_shift"] == 200
    zp = layout["reg_info"]["zero_plane_info"]
    assert reg.zero_plane_info.reference_pixel_size == zp["reference_pixel_size"]
    assert reg.zero_plane_info.dcmos_emitter_dist == zp["dcmos_emitter_distance"]
    assert reg.reg_pad_info == RegPadInfo(0, 0, 0)


def test_the_layout_libfreenect_writes_round_trips(tmp_path: Path) -> None:
    """to_json writes what fakenect-record wrote (the shipped file is one such), keys and
    nesting included: pad_info and zero_plane_info inside reg_info."""
    assert json.loads(DEFAULT_REGISTRATION.to_json()) == default_layout()
    for name, layout in PARAMETER_SETS.items():
        reg = Registration.from_dict(layout)
        text = reg.to_json()
        expected = copy.deepcopy(layout)  # with the zero plane as the C floats hold it
        zp = expected["reg_info"]["zero_plane_info"]
        zp.update({k: float(np.float32(v)) for k, v in zp.items()})
        assert json.loads(text) == expected, name
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        assert Registration.from_json(path) == reg
    written = json.loads(DEFAULT_REGISTRATION.to_json())
    assert list(written) == ["reg_info", "const_shift"]
    assert list(written["reg_info"])[-2:] == ["pad_info", "zero_plane_info"]
    assert list(written["reg_info"])[:-2] == REG_KEYS


def test_floats_are_stored_as_the_c_floats() -> None:
    """2.4 and libfreenect's float 2.4000000953674316 are the same device."""
    layout = copy.deepcopy(default_layout())
    layout["reg_info"]["zero_plane_info"]["dcmos_rcmos_distance"] = 2.4
    reg = Registration.from_dict(layout)
    assert reg == DEFAULT_REGISTRATION and hash(reg) == hash(DEFAULT_REGISTRATION)
    assert reg.zero_plane_info.dcmos_rcmos_dist == float(np.float32(2.4)) == 2.4000000953674316


int32 = st.integers(-(2**31), 2**31 - 1)
float32 = st.floats(0.0625, 1000, width=32)


@settings(max_examples=60, deadline=None)
@given(
    reg=st.lists(int32, min_size=len(REG_KEYS), max_size=len(REG_KEYS)),
    pad=st.lists(st.integers(0, 65535), min_size=3, max_size=3),
    zero=st.lists(float32, min_size=4, max_size=4),
    const_shift=st.floats(0, 2047, exclude_min=True, exclude_max=True),
)
def test_any_parameters_round_trip(
    reg: list[int], pad: list[int], zero: list[float], const_shift: float
) -> None:
    assume(zero[2] >= 2 * zero[3])  # a camera: a focal length of at least 1 pixel (trial O 14)
    layout: dict[str, Any] = {
        "reg_info": {
            **dict(zip(REG_KEYS, reg, strict=True)),
            "pad_info": dict(zip(["start_lines", "end_lines", "cropping_lines"], pad, strict=True)),
            "zero_plane_info": dict(
                zip(
                    [
                        "dcmos_emitter_distance",
                        "dcmos_rcmos_distance",
                        "reference_distance",
                        "reference_pixel_size",
                    ],
                    zero,
                    strict=True,
                )
            ),
        },
        "const_shift": const_shift,
    }
    parsed = Registration.from_dict(layout)
    assert parsed.as_dict() == layout
    assert Registration.from_dict(json.loads(parsed.to_json())) == parsed


def _write(tmp_path: Path, layout: Any) -> Path:
    path = tmp_path / "device.json"
    path.write_text(json.dumps(layout))
    return path


def _without(path: str) -> dict[str, Any]:
    layout = copy.deepcopy(default_layout())
    *parents, last = path.split(".")
    node = layout
    for part in parents:
        node = node[part]
    del node[last]
    return layout


def _with(path: str, value: Any) -> dict[str, Any]:
    layout = copy.deepcopy(default_layout())
    *parents, last = path.split(".")
    node = layout
    for part in parents:
        node = node[part]
    node[last] = value
    return layout


@pytest.mark.parametrize(
    "key",
    [
        "reg_info",
        "reg_info.ax",
        "reg_info.dydydy_start",
        "reg_info.pad_info",
        "reg_info.pad_info.cropping_lines",
        "reg_info.zero_plane_info.reference_distance",
        "reg_info.zero_plane_info.dcmos_emitter_distance",
        "const_shift",
    ],
)
def test_missing_key_names_file_and_key(tmp_path: Path, key: str) -> None:
    path = _write(tmp_path, _without(key))
    with pytest.raises(SourceError) as info:
        Registration.from_json(path)
    message = str(info.value)
    assert message.startswith(f"{path}: expected key ")
    assert key in message and "\n" not in message


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("reg_info.ax", 1.5, "expected reg_info.ax as an integer in -2147483648..2147483647"),
        ("reg_info.bx", "11", "expected reg_info.bx as an integer"),
        ("reg_info.cx", 2**31, "expected reg_info.cx as an integer"),
        ("reg_info.dy", True, "expected reg_info.dy as an integer"),
        ("reg_info.pad_info.start_lines", -1, "expected reg_info.pad_info.start_lines as an"),
        (
            "reg_info.zero_plane_info.reference_pixel_size",
            None,
            "expected reg_info.zero_plane_info.reference_pixel_size as a finite number",
        ),
        (
            "reg_info.zero_plane_info.reference_distance",
            1e39,
            "expected reg_info.zero_plane_info.reference_distance as a finite number (float32)",
        ),
        (
            "reg_info.zero_plane_info.reference_distance",
            0,
            "expected zero_plane_info.reference_distance > 0, got 0.0",
        ),
        (  # trial O 14: a traceback from Intrinsics (fx 6e31) in info, export and record
            "reg_info.zero_plane_info.reference_pixel_size",
            1e-30,
            "expected zero_plane_info.reference_pixel_size >= 0.0006 with reference_distance "
            "120, got 1e-30: a focal length reference_distance / (2 * reference_pixel_size) of "
            "6e+31 pixels",
        ),
        (  # trial O 14: accepted, fx 4.8e-30 put every point 1e29 m away
            "reg_info.zero_plane_info.reference_distance",
            1e-30,
            "expected zero_plane_info.reference_distance >= 0.208 with reference_pixel_size "
            "0.1042, got 1e-30",
        ),
        ("const_shift", [200], "expected const_shift as a finite number"),
        ("reg_info.zero_plane_info", 7, "expected an object holding reg_info.zero_plane_info."),
    ],
)
def test_invalid_value_names_file_and_key(
    tmp_path: Path, key: str, value: Any, expected: str
) -> None:
    path = _write(tmp_path, _with(key, value))
    with pytest.raises(SourceError) as info:
        Registration.from_json(path)
    assert str(info.value).startswith(f"{path}: {expected}")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"reg_info": {', "expected JSON, got Expecting property name"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b"\xff\xfe", "cannot read the registration"),
    ],
)
def test_not_a_device_json(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "device.json"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=f"^{path}: {expected}"):
        Registration.from_json(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "device.json"
    with pytest.raises(SourceError, match=f"^{path}: cannot read the registration: No such file"):
        Registration.from_json(path)


def test_bad_json_is_a_depthview_error_for_the_cli(tmp_path: Path) -> None:
    """A DepthviewError, which the command line turns into one line and exit code 2."""
    path = _write(tmp_path, _without("const_shift"))
    with pytest.raises(dv.DepthviewError):
        Registration.from_json(path)


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match=r"expected zero_plane_info.reference_pixel_size > 0"):
        ZeroPlaneInfo(7.5, 2.4, 120, 0)
    with pytest.raises(TypeError, match="expected reg_pad_info as a RegPadInfo, got dict"):
        Registration(
            DEFAULT_REGISTRATION.reg_info,
            {},  # type: ignore[arg-type]
            DEFAULT_REGISTRATION.zero_plane_info,
            200,
        )


@settings(max_examples=60, deadline=None)
@given(
    const_shift=st.one_of(st.floats(max_value=0), st.floats(min_value=2047)).filter(
        lambda v: v == v  # not NaN (refused as no number, elsewhere)
    ),
    baseline=st.floats(max_value=0, width=32, allow_nan=False, allow_infinity=False),
)
def test_a_registration_that_gives_no_depth_is_refused(const_shift: float, baseline: float) -> None:
    """Trial V (V14): a device.json's const_shift of 1e308 (every reading 0 mm) and an IR
    camera to projector distance of 0 or -7.5 (no depths, or wrong ones) were taken: an empty
    or wrong cloud, exit 0. Outside 0..2047, and a distance not above 0, are one line."""
    from depthview.errors import SourceError

    layout = json.loads(DEFAULT_REGISTRATION.to_json())
    shifted = {**layout, "const_shift": const_shift}
    with pytest.raises(SourceError, match=r"expected const_shift (within 0\.\.2047|as a finite)"):
        Registration.from_dict(shifted)
    layout["reg_info"]["zero_plane_info"]["dcmos_emitter_distance"] = baseline
    with pytest.raises(SourceError, match="dcmos_emitter_dist"):
        Registration.from_dict(layout)
