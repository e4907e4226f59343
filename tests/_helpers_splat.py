"""Draws the shipped sample's frames with the CPU's splat and the GPU's compute passes and
prints, as JSON, the share of drawn pixels that agree for each pose and colour kind.

Run as a child process by ``tests/test_splat.py``: a standalone EGL context left in the
test process would stop later tests' X windows from getting a GLX context (Mesa answers
``GLXMakeCurrent`` with BadAccess, and Xlib ends the process)."""

from __future__ import annotations

import json
import sys

import numpy as np

import depthview as dv
from depthview.viewer.state import Camera3D
from depthview.viewer.view3d import BACKGROUND, CloudView, cloud_geometry, pack_colour


def draw(view: CloudView, frame: dv.Frame, colours: np.ndarray, pose: list) -> np.ndarray:
    yaw, pitch, distance, size, guides = pose
    camera = Camera3D()
    camera.yaw, camera.pitch, camera.distance, camera.point_size = yaw, pitch, distance, size
    camera.pivot = (0.0, 0.0, 2.0)
    out = np.zeros((480, 640), np.uint32)
    geometry = cloud_geometry(frame.depth_format, frame.depth.shape)
    view.render(
        frame.depth, frame.depth_format, colours, "BGRX", camera, out, (640, 480), guides, geometry
    )
    return out


def main(poses: list[list]) -> dict[str, object]:
    gpu = CloudView.on_gpu()
    if not gpu.ok:
        return {"error": gpu.error}
    cpu = CloudView.on_cpu(gpu.renderer)
    if not cpu.ok:
        return {"error": cpu.error}
    source = dv.open("sample")
    frames = [source.read() for _ in range(3)]
    source.close()
    background = pack_colour(BACKGROUND, "BGRX")
    results = []
    for pose in poses:
        for packed in (True, False):
            for frame in frames:
                rgb = dv.colorize(frame.depth, "turbo", depth_format=frame.depth_format)
                if packed:  # (h, w) pixels in the display's order, as the palette gives
                    colours = (
                        rgb[..., 2].astype(np.uint32)
                        | (rgb[..., 1].astype(np.uint32) << 8)
                        | (rgb[..., 0].astype(np.uint32) << 16)
                        | np.uint32(0xFF000000)
                    )
                else:
                    colours = rgb  # (h, w, 3) RGB bytes, as map_rgb_to_depth gives
                on_cpu, on_gpu = draw(cpu, frame, colours, pose), draw(gpu, frame, colours, pose)
                drawn = (on_cpu != background) | (on_gpu != background)
                same = ((on_cpu == on_gpu) & drawn).sum()
                results.append(
                    {"pose": pose, "packed": packed, "drawn": int(drawn.sum()), "same": int(same)}
                )
    return {"renderer": gpu.renderer, "results": results}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))), flush=True)
