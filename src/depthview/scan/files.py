"""What a scan leaves on disk: the mesh (binary coloured PLY, or OBJ with vertex colours,
both read by MeshLab and Open3D), the trajectory in TUM's format (``timestamp tx ty tz qx
qy qz qw``, what ``evo`` and TUM's scripts read) and the parameters used (JSON)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..geometry import quaternion, rotation
from ..outputs import partial_path
from .mesh import Mesh
from .params import ScanParams
from .scanner import PoseStamp

MESH_SUFFIXES = (".ply", ".obj")


def mesh_ply_bytes(mesh: Mesh, colour: bool = True) -> bytes:
    """A binary little-endian PLY: vertices (with ``red green blue`` when ``colour``),
    triangle faces."""
    n, m = len(mesh.vertices), len(mesh.triangles)
    rgb = "property uchar red\nproperty uchar green\nproperty uchar blue\n" if colour else ""
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment made by depthview scan\n"
        f"element vertex {n}\nproperty float x\nproperty float y\nproperty float z\n"
        f"{rgb}element face {m}\nproperty list uchar int vertex_indices\nend_header\n"
    ).encode("ascii")
    fields: list[tuple[str, str, int]] = [("p", "<f4", 3)] + ([("c", "u1", 3)] if colour else [])
    vertex = np.empty(n, dtype=fields)
    vertex["p"] = mesh.vertices
    if colour:
        vertex["c"] = mesh.colours
    face = np.empty(m, dtype=[("n", "u1"), ("i", "<i4", 3)])
    face["n"] = 3
    face["i"] = mesh.triangles
    return header + vertex.tobytes() + face.tobytes()


def mesh_obj_text(mesh: Mesh, colour: bool = True) -> str:
    """A Wavefront OBJ, with colours after each vertex (``v x y z r g b``, 0..1) when
    ``colour``. Each coordinate with the 9 significant digits that give its float32 back,
    so the OBJ holds the PLY's mesh (trial AM D1: 5 decimals merged distinct vertices)."""
    if colour:
        rgb = mesh.colours.astype(np.float64) / 255.0
        lines = [
            f"v {x:.9g} {y:.9g} {z:.9g} {r:.4f} {g:.4f} {b:.4f}"
            for (x, y, z), (r, g, b) in zip(mesh.vertices.tolist(), rgb.tolist(), strict=True)
        ]
    else:
        lines = [f"v {x:.9g} {y:.9g} {z:.9g}" for x, y, z in mesh.vertices.tolist()]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in mesh.triangles.tolist()]
    return "# made by depthview scan\n" + "\n".join(lines) + "\n"


def tum_text(trajectory: Sequence[PoseStamp]) -> str:
    """The poses where tracking held, one line each: ``timestamp tx ty tz qx qy qz qw``."""
    lines = ["# timestamp tx ty tz qx qy qz qw (camera to world; depthview scan)"]
    for stamp in trajectory:
        if not stamp.ok:
            continue
        t = stamp.pose[:3, 3]
        qx, qy, qz, qw = quaternion(stamp.pose[:3, :3])
        lines.append(
            f"{stamp.timestamp:.6f} {t[0]:.6f} {t[1]:.6f} {t[2]:.6f} "
            f"{qx:.7f} {qy:.7f} {qz:.7f} {qw:.7f}"
        )
    return "\n".join(lines) + "\n"


def read_tum(text: str) -> list[tuple[float, npt.NDArray[np.float64]]]:
    """(timestamp, 4x4 pose) per line of a TUM trajectory."""
    out = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        t, tx, ty, tz, qx, qy, qz, qw = (float(v) for v in line.split())
        pose = np.eye(4)
        pose[:3, :3] = rotation(qx, qy, qz, qw)
        pose[:3, 3] = (tx, ty, tz)
        out.append((t, pose))
    return out


def companions(out: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The trajectory and parameter files written beside a mesh ``out``."""
    p = Path(out)
    return p.with_name(p.stem + "-trajectory.txt"), p.with_name(p.stem + "-params.json")


def write_all(
    out: str | os.PathLike[str],
    mesh: Mesh,
    trajectory: Sequence[PoseStamp],
    params: ScanParams,
    extra: dict[str, Any] | None = None,
    *,
    colour: bool = True,
) -> list[Path]:
    """Write the mesh (its format from ``out``'s suffix, vertex colours when ``colour``),
    the trajectory and the parameters: all three under temporary names first
    (``outputs.partial_path``), renamed only when all are complete, so a failed run leaves
    an earlier scan's three files as they were. A failed write (a full disk) is an
    ``OSError`` whose ``filename`` is the file being written (not its temporary name)."""
    path = Path(out)
    trajectory_path, params_path = companions(path)
    if path.suffix.lower() == ".obj":
        data = mesh_obj_text(mesh, colour).encode("utf-8")
    else:
        data = mesh_ply_bytes(mesh, colour)
    info = {"params": params.as_dict(), "colour": colour, **(extra or {})}
    files = (
        (path, data),
        (trajectory_path, tum_text(trajectory).encode("ascii")),
        (params_path, (json.dumps(info, indent=2) + "\n").encode("utf-8")),
    )
    target = path
    try:
        for target, content in files:
            partial_path(target).write_bytes(content)
    except BaseException as exc:
        for done, _ in files:
            with contextlib.suppress(OSError):
                partial_path(done).unlink()
        if isinstance(exc, OSError):  # the file the user knows, not its hidden name
            raise OSError(exc.errno, exc.strerror, str(target)) from None
        raise
    for target, _ in files:
        os.replace(partial_path(target), target)
    return [target for target, _ in files]
