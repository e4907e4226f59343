"""The camera models' one module: no import circle, and StereoCalibration read from the files
OpenCV itself writes (cv2.FileStorage), ROS-style YAML and JSON, and NYU's preset."""

from __future__ import annotations

import ast
from pathlib import Path

import cv2
import numpy as np
import pytest

import depthview as dv
from depthview.camera_models import (
    NYU_R0_VALUES,
    NYU_T,
    Distortion,
    Intrinsics,
    StereoCalibration,
)
from depthview.errors import SourceError

SRC = Path(dv.__file__).parent


def _imports(module: str) -> set[str]:
    tree = ast.parse((SRC / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(a.name for a in node.names)
    return found


def test_camera_models_is_the_bottom_and_nothing_imports_in_a_circle() -> None:
    modules = ("camera_models", "geometry", "registration", "_registration_tables", "stereo")
    graph = {m: _imports(m) & set(modules) for m in modules if (SRC / f"{m}.py").exists()}
    assert graph["camera_models"] == set()
    for m in graph:
        if m != "camera_models":
            assert "camera_models" in graph[m] or m == "stereo"
    # no cycles: a topological order exists
    done: set[str] = set()
    while len(done) < len(graph):
        ready = [m for m in graph if m not in done and graph[m] <= done]
        assert ready, f"an import circle among {set(graph) - done}"
        done.update(ready)
    assert dv.Intrinsics is Intrinsics


def _sample() -> StereoCalibration:
    theta = 0.02
    rot = cv2.Rodrigues(np.array([0.01, theta, -0.005]))[0]
    return StereoCalibration(
        depth=Intrinsics(580.0, 581.0, 314.0, 239.0),
        colour=Intrinsics(520.0, 521.0, 326.0, 254.0),
        depth_distortion=Distortion(-0.1, 0.39, 0.0019, -0.0019, -0.51),
        colour_distortion=Distortion(0.2, -0.58, 0.0007, 0.001, 0.49),
        rotation=tuple(tuple(r) for r in rot.tolist()),  # type: ignore[arg-type]
        translation=(0.025, 0.0006, -0.0003),
    )


def test_opencv_filestorage_yaml(tmp_path: Path) -> None:
    want = _sample()
    path = tmp_path / "stereo.yaml"
    fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_WRITE)
    fs.write("K1", np.array(want.as_dict()["depth"]["camera_matrix"]))
    fs.write("D1", np.array([want.depth_distortion.as_tuple()]))
    fs.write("K2", np.array(want.as_dict()["colour"]["camera_matrix"]))
    fs.write("D2", np.array([want.colour_distortion.as_tuple()]))
    fs.write("R", want.rotation_matrix)
    fs.write("T", want.translation_vector.reshape(3, 1))
    fs.release()
    assert path.read_text().startswith("%YAML")
    got = StereoCalibration.from_file(path)
    assert got == want


def test_ros_style_yaml_and_json_round_trip(tmp_path: Path) -> None:
    want = _sample()
    d = want.as_dict()
    ros = tmp_path / "ros.yml"
    flat = {
        k: np.ravel(v).tolist()
        for k, v in (
            ("dk", d["depth"]["camera_matrix"]),
            ("ck", d["colour"]["camera_matrix"]),
            ("r", d["R"]),
        )
    }
    ros.write_text(
        "depth:\n"
        f"  camera_matrix: {{rows: 3, cols: 3, data: {flat['dk']}}}\n"
        f"  distortion_coefficients: {d['depth']['distortion_coefficients']}\n"
        "rgb:\n"
        f"  camera_matrix: {{rows: 3, cols: 3, data: {flat['ck']}}}\n"
        f"  distortion_coefficients: {d['colour']['distortion_coefficients']}\n"
        f"R: {{rows: 3, cols: 3, data: {flat['r']}}}\n"
        f"T: {d['T']}\n"
    )
    assert StereoCalibration.from_file(ros) == want
    js = tmp_path / "c.json"
    js.write_text(want.to_json())
    assert StereoCalibration.from_file(js) == want


def test_image_sizes_are_read_wherever_a_layout_gives_them(tmp_path: Path) -> None:
    """Trial AD (D3): ROS's and OpenCV's ``image_width``/``image_height`` (in each camera's
    section, or at the top) went unread: a 1280x1024 calibration was taken for 640x480 and
    aligned 640x480 frames. Each is read; two different sizes are refused."""
    want = _sample()
    d = want.as_dict()
    k = {n: np.ravel(d[c]["camera_matrix"]).tolist() for n, c in (("d", "depth"), ("c", "colour"))}

    def ros(depth_size: tuple[int, int], colour_size: tuple[int, int]) -> Path:
        path = tmp_path / f"ros-{depth_size[0]}-{colour_size[0]}.yml"
        lines = []
        for name, key, (w, h) in (("left", "d", depth_size), ("rgb", "c", colour_size)):
            lines += [f"{name}:", f"  image_width: {w}", f"  image_height: {h}"]
            lines.append(f"  camera_matrix: {{rows: 3, cols: 3, data: {k[key]}}}")
        lines += [f"R: {np.ravel(d['R']).tolist()}", f"T: {d['T']}"]
        path.write_text("\n".join(lines) + "\n")
        return path

    big = StereoCalibration.from_file(ros((1280, 1024), (1280, 1024)))
    assert (big.width, big.height) == (1280, 1024)
    vga = StereoCalibration.from_file(ros((640, 480), (640, 480)))
    assert (vga.width, vga.height) == (640, 480)
    with pytest.raises(SourceError, match="expected one image size for both cameras, got 640x480"):
        StereoCalibration.from_file(ros((640, 480), (1280, 1024)))
    opencv = tmp_path / "stereo.yaml"
    fs = cv2.FileStorage(str(opencv), cv2.FILE_STORAGE_WRITE)
    fs.write("image_width", 1280)
    fs.write("image_height", 1024)
    for name, key in (("K1", "d"), ("K2", "c")):
        fs.write(name, np.array(k[key]).reshape(3, 3))
    fs.write("R", want.rotation_matrix)
    fs.write("T", want.translation_vector.reshape(3, 1))
    fs.release()
    got = StereoCalibration.from_file(opencv)
    assert (got.width, got.height) == (1280, 1024)


def test_nyu_preset_projects_as_the_toolbox_moves_points() -> None:
    nyu = StereoCalibration.nyu()
    r0 = -np.array(NYU_R0_VALUES).reshape(3, 3).T  # MATLAB's column-major reshape
    toolbox_r = np.linalg.inv(r0.T)
    assert np.linalg.det(toolbox_r) < 0  # the toolbox's "rotation" is a reflection
    t_x, t_y, t_z = NYU_T
    toolbox_t = np.array([t_x, t_z, t_y])
    rng = np.random.default_rng(1)
    p = rng.uniform([-2, -2, 0.5], [2, 2, 8], size=(100, 3))
    a = p @ toolbox_r.T + toolbox_t
    b = p @ nyu.rotation_matrix.T + nyu.translation_vector
    np.testing.assert_allclose(a[:, :2] / a[:, 2:], b[:, :2] / b[:, 2:], rtol=1e-12)
    assert nyu.colour.fx == 518.85790117450188 and nyu.depth_distortion.k3 == -0.51031725053400578


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"depth": {"camera_matrix": [1, 2]}, "rgb": {"k": [1, 1, 1, 1]}, '
            '"R": [1,0,0,0,1,0,0,0,1], "T": [0,0,0]}',
            "expected depth camera_matrix as a 3x3",
        ),
        ('{"K1": [[1,0,1],[0,1,1],[0,0,1]], "K2": [[1,0,1],[0,1,1],[0,0,1]]}', "expected R"),
        ("[1, 2]", "expected a mapping"),
        ("{", "expected JSON"),
        (
            '{"K1": [1,1,1,1], "K2": [1,1,1,1], "R": [2,0,0,0,2,0,0,0,2], "T": [0,0,0]}',
            "expected rotation as a rotation matrix",
        ),
        (
            '{"K1": [1,1,1,1], "D1": [1,2,3], "K2": [1,1,1,1], "R": [1,0,0,0,1,0,0,0,1], '
            '"T": [0,0,0]}',
            "k1 k2 p1 p2",
        ),
    ],
)
def test_bad_calibration_files_name_the_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(SourceError, match=message) as info:
        StereoCalibration.from_file(path)
    assert str(path) in str(info.value)
