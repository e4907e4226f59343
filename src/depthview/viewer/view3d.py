"""The live 3D point cloud: OpenGL through moderngl (the ``3d`` extra), drawn by compute
passes in the window's own context (``present``) and read back into the panel's place in
the picture, so it sits in the same window as the other panels; or, where OpenGL is one of
Mesa's software renderers or missing, drawn on the CPU by ``depthview.splat`` (the same
pixels at a fraction of llvmpipe's cost). ``CloudView.open`` chooses by the renderer's name
(``is_software``), never by a timing; ``DEPTHVIEW_POINTS=cpu|gpu|auto`` overrides it.

Depth becomes points on the GPU. Each frame uploads the raw depth (uint16, 600 kB at
640x480) and the colour of every pixel (packed 32-bit, or the RGB bytes that
``map_rgb_to_depth`` gives, packed on the GPU); compute shaders unproject pixel (u, v) with
a ``CloudGeometry`` (a metres lookup table and a pinhole: what ``dv.point_cloud`` uses for
the same frame), project it, and splat it: a first pass keeps the nearest depth of every
panel pixel with an atomic minimum over a rectangle the size of the point's footprint as
seen from the eye (so turned surfaces stay closed), a second writes the colour of the
point that won.
Pixels with no reading are left out. This is how point clouds are drawn fast on GPUs, and
it is what makes a full frame of points affordable under Mesa's software renderer
(llvmpipe), whose point primitives cost about ten times as much. The axes at the origin and
the Kinect's frustum are points too, so the cloud hides them where it is in front.

The eye follows ``state.Camera3D``; the projection is the geometry's pinhole scaled to the
panel, so the reset view shows each point on its own depth pixel. A point at pinhole
coordinates (x, y) lands on pixel (floor(x + 0.5), floor(y + 0.5)). Colours are written
in the display's byte order, so the pixels read back are the window's.

``CloudView.open()`` never raises but on a bad ``DEPTHVIEW_POINTS``: without moderngl or a
usable OpenGL 4.3 the CPU draws; where neither can, it returns a view whose ``error`` says
why, and the window shows that in the 3D panel. It draws in the
window's context; only where no window is on screen (SDL's headless drivers: tests,
benchmarks) does it make a standalone one: EGL, else the platform's default (GLX under
X11); ``DEPTHVIEW_GL`` (e.g. ``egl,default``) chooses.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import splat
from ..errors import DepthviewError
from ..frame import DepthFormat
from ..geometry import KINECT_V1_DEPTH, Intrinsics, unprojection_grid
from ..registration import Registration
from ..registration import metres_table as libfreenect_metres
from ..splat import MAX_SPLAT, MAX_STRETCH, NEAR_CLIP, SURFACE_STEP, shifts
from ..units import metres_table
from .state import Camera3D

INSTALL_HINT = "pip install 'depthview[3d]'"
BACKGROUND = (18, 18, 24)
FRUSTUM_DEPTH = 0.6  # metres: how far the drawn frustum of the Kinect reaches
AXIS_LENGTH = 0.25
GUIDE_SAMPLES = 1500  # points per guide line
GROUP = 64  # compute work-group size

_COMMON = """
#version 430
layout(local_size_x = 64) in;  // GROUP
layout(std430, binding = 0) readonly buffer Depth { uint raw[]; };
layout(std430, binding = 1) readonly buffer Metres { float metres[]; };
layout(std430, binding = 2) readonly buffer Colours { uint colours[]; };  // or RGB bytes
layout(std430, binding = 3) buffer Keys { uint keys[]; };
layout(std430, binding = 4) buffer Pixels { uint pixels[]; };
layout(std430, binding = 5) buffer Where { ivec4 where[]; };
layout(std430, binding = 6) readonly buffer Guides { vec4 guides[]; };
uniform int count;      // points in this dispatch
uniform int guide_mode; // 0: depth pixels, 1: guide points (xyz + colour bits)
uniform int width;      // depth frame width
uniform vec4 intr;      // depth camera fx, fy, cx, cy
uniform mat4 view;      // world -> eye
uniform vec4 proj;      // panel fx, fy, cx, cy
uniform ivec2 panel;    // panel w, h
uniform float size;     // point size: times the projected footprint of a depth pixel
uniform int rgb_bytes;  // 1: colours holds 3 bytes (R, G, B) per pixel, packed here
uniform uvec4 packing;  // bit shifts of R, G, B in a packed pixel, and its always-set bits
"""

# Pass 1: each point's panel pixel and depth key (positive floats sort as their bits).
_PROJECT = (
    _COMMON
    + """
float metres_at(int j) { return metres[(raw[j >> 1] >> uint((j & 1) * 16)) & 0xFFFFu]; }

vec3 unproject(int u, int v, float z) {
    return vec3((float(u) - intr.z) / intr.x * z, (float(v) - intr.w) / intr.y * z, z);
}

// Where the neighbouring depth pixel j (at u, v) lands, relative to this point's place
// ``here``: its absolute offset, added to ``extent``; false when it is no neighbour on
// the same surface (no reading, behind the eye, or a jump in depth: an edge).
bool neighbour(int j, int u, int v, float z, vec2 here, inout vec2 extent) {
    float zn = metres_at(j);
    if (!(zn > 0.0) || abs(zn - z) > SURFACE_STEP * z) return false;
    vec3 e = (view * vec4(unproject(u, v, zn), 1.0)).xyz;
    if (e.z <= NEAR_CLIP) return false;
    extent += abs(vec2(proj.x * e.x / e.z, proj.y * e.y / e.z) - here);
    return true;
}

void main() {
    int i = int(gl_GlobalInvocationID.x);
    if (i >= count) return;
    vec3 p;
    bool ok;
    if (guide_mode == 1) {
        p = guides[i].xyz;
        ok = true;
    } else {
        uint d = (raw[i >> 1] >> uint((i & 1) * 16)) & 0xFFFFu;
        float z = metres[d];
        ok = z > 0.0;  // false for NaN: no reading
        int u = i % width;
        int v = i / width;
        p = vec3((float(u) - intr.z) / intr.x * z, (float(v) - intr.w) / intr.y * z, z);
    }
    ivec4 w = ivec4(0, 0, 0, 0);
    if (ok) {
        vec3 e = (view * vec4(p, 1.0)).xyz;
        if (e.z > NEAR_CLIP) {
            int ix = int(floor(proj.x * e.x / e.z + proj.z + 0.5));
            int iy = int(floor(proj.y * e.y / e.z + proj.w + 0.5));
            // The splat is a rectangle covering the depth pixel's footprint as seen from
            // the eye (times ``size``): the reach, across and down, of the offsets to its
            // right and lower neighbours on the same surface; without both, at least a
            // pixel p.z / fx metres wide seen from e.z.
            vec2 span = vec2(1.0);
            if (guide_mode == 0) {
                vec2 here = vec2(proj.x * e.x / e.z, proj.y * e.y / e.z);
                float footprint = proj.x * p.z / (intr.x * e.z);
                int u = i % width;
                int v = i / width;
                vec2 extent = vec2(0.0);
                int found = 0;
                if (u + 1 < width && neighbour(i + 1, u + 1, v, p.z, here, extent)) found++;
                if (i + width < count && neighbour(i + width, u, v + 1, p.z, here, extent))
                    found++;
                // At most MAX_STRETCH footprints: depth comes in steps (the raw values'
                // quantisation), and a far terrace seen from the side is not to be a blob.
                extent = min(extent, vec2(MAX_STRETCH * footprint));
                span = size * (found == 2 ? extent : max(extent, vec2(footprint)));
            }
            ivec2 s = clamp(ivec2(ceil(span - 0.001)), ivec2(1), ivec2(MAX_SPLAT));
            int x0 = ix - (s.x - 1) / 2;
            int y0 = iy - (s.y - 1) / 2;
            if (x0 + s.x > 0 && y0 + s.y > 0 && x0 < panel.x && y0 < panel.y) {
                uint key = floatBitsToUint(e.z);
                w = ivec4(ix, iy, int(key), s.x | (s.y << 8));
                for (int y = max(y0, 0); y < min(y0 + s.y, panel.y); ++y)
                    for (int x = max(x0, 0); x < min(x0 + s.x, panel.x); ++x)
                        atomicMin(keys[y * panel.x + x], key);
            }
        }
    }
    where[i] = w;
}
""".replace("NEAR_CLIP", repr(NEAR_CLIP))
    .replace("MAX_SPLAT", str(MAX_SPLAT))
    .replace("SURFACE_STEP", repr(SURFACE_STEP))
    .replace("MAX_STRETCH", repr(MAX_STRETCH))
)

# Pass 2: the nearest point of each pixel writes its colour.
_SPLAT = (
    _COMMON
    + """
uint colour_byte(uint k) { return (colours[k >> 2] >> ((k & 3u) * 8u)) & 0xFFu; }

uint pixel_colour(int i) {
    if (rgb_bytes == 0) return colours[i];
    uint k = uint(i) * 3u;
    return (colour_byte(k) << packing.x) | (colour_byte(k + 1u) << packing.y)
        | (colour_byte(k + 2u) << packing.z) | packing.w;
}

void main() {
    int i = int(gl_GlobalInvocationID.x);
    if (i >= count) return;
    ivec4 w = where[i];
    if (w.w == 0) return;
    uint key = uint(w.z);
    uint colour = guide_mode == 1 ? floatBitsToUint(guides[i].w) : pixel_colour(i);
    int ix = w.x;
    int iy = w.y;
    int sx = w.w & 0xFF;
    int sy = w.w >> 8;
    int x0 = ix - (sx - 1) / 2;
    int y0 = iy - (sy - 1) / 2;
    for (int y = max(y0, 0); y < min(y0 + sy, panel.y); ++y)
        for (int x = max(x0, 0); x < min(x0 + sx, panel.x); ++x)
            if (keys[y * panel.x + x] == key) pixels[y * panel.x + x] = colour;
}
"""
)


@dataclass(frozen=True, eq=False)
class CloudGeometry:
    """How one kind of depth frame becomes points: metres for every uint16 value (NaN: no
    reading) and the pinhole of the frame's pixels. ``cloud_geometry`` chooses it as
    ``dv.point_cloud`` would for the same frame, so the 3D view, the probe's X, Y, Z and
    the measuring tool agree with the library's point clouds."""

    metres: npt.NDArray[np.float32]
    intrinsics: Intrinsics
    size: tuple[int, int]  # (w, h) of the frames the intrinsics are for


@lru_cache(maxsize=16)
def cloud_geometry(
    depth_format: DepthFormat,
    shape: tuple[int, int],
    registration: Registration | None = None,
) -> CloudGeometry:
    """The geometry of frames of ``depth_format`` and ``shape`` (h, w), made once.

    With the source's ``registration`` (640x480 raw, millimetre or registered depth), what
    ``dv.point_cloud(..., registration=)`` uses: libfreenect's millimetre table for raw
    depth and ``freenect_camera_to_world``'s pinhole. Otherwise the metres of
    ``dv.to_metres`` and the Kinect's intrinsics, scaled when a source gives another size.
    """
    h, w = shape
    registered_kinds = (DepthFormat.RAW_11BIT, DepthFormat.MM, DepthFormat.REGISTERED)
    if registration is not None and shape == (480, 640) and depth_format in registered_kinds:
        raw = depth_format is DepthFormat.RAW_11BIT
        metres = libfreenect_metres(registration) if raw else metres_table(depth_format)
        return CloudGeometry(metres, registration.depth_intrinsics(), (w, h))
    return CloudGeometry(metres_table(depth_format), intrinsics_for(shape), (w, h))


@dataclass(frozen=True, slots=True)
class Projection:
    """The 3D panel's pinhole: the depth frames' intrinsics scaled to the panel's size."""

    fx: float
    fy: float
    cx: float
    cy: float
    size: tuple[int, int]

    @classmethod
    def for_panel(
        cls,
        size: tuple[int, int],
        intrinsics: Intrinsics = KINECT_V1_DEPTH,
        frame: tuple[int, int] = (640, 480),
    ) -> Projection:
        """Scaled from depth frames of ``frame`` (w, h) to a panel of ``size`` (w, h)."""
        sx, sy = size[0] / frame[0], size[1] / frame[1]
        return cls(
            intrinsics.fx * sx, intrinsics.fy * sy, intrinsics.cx * sx, intrinsics.cy * sy, size
        )

    @classmethod
    def for_geometry(cls, size: tuple[int, int], geometry: CloudGeometry) -> Projection:
        """The panel's pinhole for frames of ``geometry``."""
        return cls.for_panel(size, geometry.intrinsics, geometry.size)


def view_matrix(camera: Camera3D) -> npt.NDArray[np.float64]:
    """4x4 world -> eye (x right, y down, z forward, metres)."""
    axes = camera.rotation()
    m = np.eye(4)
    m[:3, :3] = axes.T
    m[:3, 3] = -axes.T @ camera.eye()
    return m


def intrinsics_for(shape: tuple[int, int]) -> Intrinsics:
    """The depth camera's intrinsics for a frame of ``shape`` (h, w): the Kinect's, scaled
    when a source gives another size."""
    h, w = shape
    return KINECT_V1_DEPTH.for_size(w, h)


def point_at(
    depth: npt.NDArray[np.uint16], geometry: CloudGeometry, x: int, y: int
) -> tuple[float, float, float] | None:
    """Pixel (x, y) of a depth frame as a point in metres, or None without a reading."""
    z = float(geometry.metres[int(depth[y, x])])
    if not math.isfinite(z):
        return None
    gx, gy = unprojection_grid(*depth.shape, geometry.intrinsics)
    return (float(gx[y, x]) * z, float(gy[y, x]) * z, z)


def scene_centre(
    depth: npt.NDArray[np.uint16], geometry: CloudGeometry, step: int = 4
) -> tuple[float, float, float] | None:
    """The median x, y and z (metres) of a depth frame's valid points, on a grid of one
    pixel in ``step`` each way (plenty for a median): the centre the 3D view orbits about.
    None when the frame has no reading."""
    if step < 1:
        raise ValueError(f"expected a step >= 1, got {step}")
    z = geometry.metres[depth[::step, ::step]]
    valid = z > 0  # False for NaN: no reading
    if not valid.any():
        return None
    gx, gy = unprojection_grid(*depth.shape, geometry.intrinsics)
    zs = z[valid]
    xs = gx[::step, ::step][valid] * zs
    ys = gy[::step, ::step][valid] * zs
    return (float(np.median(xs)), float(np.median(ys)), float(np.median(zs)))


def pick(
    depth: npt.NDArray[np.uint16],
    geometry: CloudGeometry,
    camera: Camera3D,
    panel: tuple[int, int],
    at: tuple[float, float],
    radius: float = 4.0,
) -> tuple[tuple[int, int], tuple[float, float, float]] | None:
    """The point drawn nearest the eye within ``radius`` pixels of panel point ``at``: its
    depth pixel and metres, or None (for the measuring tool; runs once per click)."""
    z = geometry.metres[depth]
    valid = np.isfinite(z)
    if not valid.any():
        return None
    vs, us = np.nonzero(valid)
    gx, gy = unprojection_grid(*depth.shape, geometry.intrinsics)
    zs = z[valid]
    points = np.stack([gx[valid] * zs, gy[valid] * zs, zs], axis=1)
    eye = (view_matrix(camera) @ np.c_[points, np.ones(len(points))].T)[:3]
    proj = Projection.for_geometry(panel, geometry)
    ahead = eye[2] > NEAR_CLIP
    with np.errstate(divide="ignore", invalid="ignore"):
        px = proj.fx * eye[0] / eye[2] + proj.cx
        py = proj.fy * eye[1] / eye[2] + proj.cy
    near = ahead & ((px - at[0]) ** 2 + (py - at[1]) ** 2 <= radius**2)
    if not near.any():
        return None
    i = np.flatnonzero(near)[np.argmin(eye[2][near])]
    xyz = points[i]
    return (int(us[i]), int(vs[i])), (float(xyz[0]), float(xyz[1]), float(xyz[2]))


def pack_colour(rgb: tuple[int, int, int], order: str) -> int:
    """An RGB colour as a 32-bit pixel whose bytes in memory follow ``order`` (e.g. BGRX)."""
    channels = {"R": rgb[0], "G": rgb[1], "B": rgb[2], "A": 255, "X": 255}
    return int.from_bytes(bytes(channels[c] for c in order.upper()), "little")


def packing(order: str) -> tuple[int, int, int, int]:
    """For the shader: the bit shifts of R, G and B in a 32-bit pixel of byte ``order``
    (little-endian words, as ``pack_colour``), and the bits always set (alpha)."""
    r, g, b, alpha = (int(x) for x in shifts(order))
    return (r, g, b, alpha)


def guide_points(
    intrinsics: Intrinsics, shape: tuple[int, int], order: str
) -> npt.NDArray[np.float32]:
    """Axes at the origin (x red, y green, z blue) and the depth camera's frustum, sampled
    densely as points: (N, 4) float32 of x, y, z and the packed colour's bits."""
    h, w = shape
    z = FRUSTUM_DEPTH
    corners = [
        np.array(
            [(u - intrinsics.cx) / intrinsics.fx * z, (v - intrinsics.cy) / intrinsics.fy * z, z]
        )
        for u, v in ((0, 0), (w, 0), (w, h), (0, h))
    ]
    origin = np.zeros(3)
    grey = (150, 150, 150)
    segments: list[
        tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], tuple[int, int, int]]
    ] = []
    for axis, colour in enumerate(((255, 60, 60), (60, 255, 60), (80, 130, 255))):
        segments.append((origin, np.eye(3)[axis] * AXIS_LENGTH, colour))
    for i, corner in enumerate(corners):
        segments.append((origin, corner, grey))
        segments.append((corner, corners[(i + 1) % 4], grey))
    t = np.linspace(0.0, 1.0, GUIDE_SAMPLES)[:, None]
    parts = []
    for start, end, colour in segments:
        xyz = (start + t * (end - start)).astype(np.float32)
        bits = np.full((GUIDE_SAMPLES, 1), pack_colour(colour, order), dtype=np.uint32)
        parts.append(np.hstack([xyz, bits.view(np.float32)]))
    return np.ascontiguousarray(np.vstack(parts))


_SHARED_CONTEXTS: dict[str, Any] = {}  # by DEPTHVIEW_GL


class CloudView:
    """Draws one frame's point cloud into a panel-sized buffer in the display's byte order."""

    def __init__(
        self, ctx: Any = None, error: str | None = None, points: str = "gpu", renderer: str = ""
    ) -> None:
        self.ctx = ctx
        self.error = error
        #: Which draws the points: "gpu" (compute shaders) or "cpu" (``depthview.splat``).
        self.points = points
        #: The OpenGL renderer's name ("" without OpenGL).
        self.renderer = renderer
        self._cpu: _CpuTarget | None = None
        self._panel: tuple[int, int] | None = None
        self._shape: tuple[int, int] | None = None
        self._geometry: CloudGeometry | None = None
        self._order = ""
        if ctx is not None and points == "gpu":
            self.renderer = gl_renderer(ctx)
            self._project = ctx.compute_shader(_PROJECT)
            self._splat = ctx.compute_shader(_SPLAT)

    @classmethod
    def open(cls, window: Any = None, why_not: str | None = None) -> CloudView:
        """The 3D view for this machine: the GPU's compute passes on a hardware OpenGL
        renderer, the CPU's splat (``depthview.splat``) on a software one (llvmpipe,
        softpipe, swrast) or without OpenGL 4.3; ``DEPTHVIEW_POINTS=cpu|gpu`` forces one.
        The choice follows the renderer's name, so a machine always gets the same path."""
        wanted = points_wanted()
        if wanted == "cpu":
            return cls.on_cpu(gl_renderer(window))
        if wanted == "auto" and window is not None:
            name = gl_renderer(window)
            if is_software(name):
                return cls.on_cpu(name)
        gpu = cls.on_gpu(window, why_not)
        if wanted == "gpu" or (gpu.ok and not is_software(gpu.renderer)):
            return gpu
        cpu = cls.on_cpu(gpu.renderer)
        return cpu if cpu.ok or not gpu.ok else gpu

    @classmethod
    def on_cpu(cls, renderer: str = "") -> CloudView:
        """A view drawing its points on the CPU (``renderer``: the GL renderer's name, for
        the figures), or one whose ``error`` says what it needs."""
        error = splat.available()
        if error is None:
            splat.warm_up()  # compiled now, so the first frames are not kept waiting
        return cls(error=error, points="cpu", renderer=renderer)

    @classmethod
    def on_gpu(cls, window: Any = None, why_not: str | None = None) -> CloudView:
        """A view drawing in the ``window``'s OpenGL context (the one the picture reaches
        the screen through, see ``present``). Without one: with ``why_not`` a view whose
        ``error`` says it (a real window must not get a second context: it would stop
        showing what is drawn); else (no window on screen: tests, offscreen use) a
        standalone OpenGL 4.3 context, or a view whose ``error`` says why not. The
        standalone context is made once per process and shared: Mesa does not take kindly
        to a second EGL start after the first was torn down."""
        try:
            import moderngl
        except ImportError:
            return cls(error=f"the 3D view needs moderngl: {INSTALL_HINT}")
        if window is not None:
            try:
                return cls(window)
            except Exception as exc:  # a shader the driver refuses: say why
                text = str(exc).strip().splitlines()
                return cls(error="the 3D view cannot run: " + (text[0] if text else "?"))
        if why_not is not None:
            return cls(error=f"the 3D view needs OpenGL 4.3: {why_not}")
        wanted = os.environ.get("DEPTHVIEW_GL", "egl,default")
        if wanted in _SHARED_CONTEXTS:
            shared = _SHARED_CONTEXTS[wanted]
            shared.__enter__()  # current again: a window in between may have taken over
            return cls(shared)
        failures = []
        for backend in wanted.split(","):
            try:
                chosen: dict[str, Any] = {} if backend == "default" else {"backend": backend}
                ctx = _SHARED_CONTEXTS[wanted] = moderngl.create_standalone_context(
                    require=430, **chosen
                )
                return cls(ctx)
            except Exception as exc:  # any GL failure: try the next, then say why
                text = str(exc).strip().splitlines()
                failures.append(f"{backend}: {text[0] if text else type(exc).__name__}")
        return cls(error="the 3D view needs OpenGL 4.3: " + "; ".join(failures))

    @property
    def ok(self) -> bool:
        """Whether the view can draw."""
        if self.points == "cpu":
            return self.error is None
        return self.ctx is not None

    def _setup(
        self, panel: tuple[int, int], shape: tuple[int, int], geometry: CloudGeometry, order: str
    ) -> None:
        """(Re)make the buffers that depend on the panel size, frame size, geometry, order."""
        ctx = self.ctx
        if panel != self._panel or order != self._order:
            self._panel = panel
            n = panel[0] * panel[1]
            self._keys = ctx.buffer(reserve=4 * n)
            self._pixels = ctx.buffer(reserve=4 * n)
            self._far_keys = np.full(n, 0xFFFFFFFF, dtype=np.uint32).tobytes()
            bg = pack_colour(BACKGROUND, order)
            self._background = np.full(n, bg, dtype=np.uint32).tobytes()
            if "packing" in self._splat:
                self._splat["packing"].value = packing(order)
        resized = shape != self._shape
        h, w = shape
        if resized:
            self._shape = shape
            self._depth = ctx.buffer(reserve=2 * h * w + 2)
            self._colours = ctx.buffer(reserve=4 * h * w)
            for cs in (self._project, self._splat):
                if "width" in cs:
                    cs["width"].value = w
        if resized or geometry is not self._geometry or order != self._order:
            self._geometry = geometry
            self._metres = ctx.buffer(np.ascontiguousarray(geometry.metres).tobytes())
            guides = guide_points(geometry.intrinsics, shape, order)
            self._guides = ctx.buffer(guides.tobytes())
            self._guide_count = len(guides)
            self._where = ctx.buffer(reserve=16 * max(h * w, len(guides)))
            k = geometry.intrinsics
            for cs in (self._project, self._splat):
                if "intr" in cs:
                    cs["intr"].value = (k.fx, k.fy, k.cx, k.cy)
        self._order = order

    def render(
        self,
        depth: npt.NDArray[np.uint16],
        depth_format: DepthFormat,
        colours: npt.NDArray[np.uint32] | npt.NDArray[np.uint8],
        order: str,
        camera: Camera3D,
        out: Any,
        panel: tuple[int, int],
        guides: bool = True,
        geometry: CloudGeometry | None = None,
    ) -> None:
        """Draw the cloud of ``depth`` from ``camera`` into ``out``: a writable buffer of
        ``panel`` (w, h) 32-bit pixels in byte ``order``, top row first. ``colours`` are
        the pixels' colours, (h, w) packed in the same byte order or (h, w, 3) RGB bytes;
        ``geometry`` turns depth into points (default: ``cloud_geometry`` of the format)."""
        shape = (depth.shape[0], depth.shape[1])
        if geometry is None:
            geometry = cloud_geometry(depth_format, shape)
        if self.points == "cpu" and self.error is None:
            if self._cpu is None:
                self._cpu = _CpuTarget()
            w, h = panel
            if isinstance(out, np.ndarray):
                pixels = out.view(np.uint32).reshape(h, w)
            else:
                pixels = np.frombuffer(out, np.uint32).reshape(h, w)
            self._cpu.render((depth, geometry, colours), camera, pixels, order, guides)
            return
        if self.ctx is None:
            raise RuntimeError(self.error or "no OpenGL")
        self._setup(panel, shape, geometry, order)
        self._depth.write(np.ascontiguousarray(depth))
        self._colours.write(np.ascontiguousarray(colours))
        self._keys.write(self._far_keys)
        self._pixels.write(self._background)
        for i, buf in enumerate(
            (self._depth, self._metres, self._colours, self._keys, self._pixels, self._where)
        ):
            buf.bind_to_storage_buffer(i)
        self._guides.bind_to_storage_buffer(6)
        proj = Projection.for_geometry(panel, geometry)
        view = view_matrix(camera).T.astype(np.float32).tobytes()  # column-major for GL
        for cs in (self._project, self._splat):
            if "view" in cs:
                cs["view"].write(view)
            if "proj" in cs:
                cs["proj"].value = (proj.fx, proj.fy, proj.cx, proj.cy)
            if "panel" in cs:
                cs["panel"].value = panel
        if "rgb_bytes" in self._splat:
            self._splat["rgb_bytes"].value = int(colours.ndim == 3)
        dispatches = [(0, shape[0] * shape[1], float(camera.point_size))]
        if guides:
            dispatches.append((1, self._guide_count, 1.0))
        for mode, count, size in dispatches:
            for cs in (self._project, self._splat):
                for name, value in (("guide_mode", mode), ("count", count), ("size", size)):
                    if name in cs:
                        cs[name].value = value
                cs.run((count + GROUP - 1) // GROUP)
                self.ctx.memory_barrier()
        self._pixels.read_into(out)

    def release(self) -> None:
        """Let go of the view (the shared context stays for the next one)."""
        self.ctx = None
        self._cpu = None
        if self.points == "cpu":
            self.error = "released"


_Cloud = tuple[
    npt.NDArray[np.uint16], CloudGeometry, npt.NDArray[np.uint32] | npt.NDArray[np.uint8]
]


class _CpuTarget:
    """The CPU path's buffers, kept from frame to frame: the z-buffer, the per-pixel
    scratch, and the guides' points for the current geometry."""

    def __init__(self) -> None:
        self.keys: npt.NDArray[np.float32] = np.empty((0, 0), np.float32)
        self.scratch: splat.Scratch | None = None
        self.guides: tuple[object, npt.NDArray[np.float32], npt.NDArray[np.uint32]] | None = None

    def render(
        self, cloud: _Cloud, camera: Camera3D, pixels: splat.Pixels, order: str, guides: bool
    ) -> None:
        """Draw ``cloud`` (depth, how it becomes points, its colours) from ``camera`` into
        ``pixels``, the panel's (h, w) 32-bit pixels in byte ``order``."""
        depth, geometry, colours = cloud
        h, w = pixels.shape
        if self.keys.shape != (h, w):
            self.keys = np.empty((h, w), np.float32)
        if self.scratch is None or self.scratch[1].shape[1] != depth.shape[1]:
            self.scratch = splat.new_scratch((depth.shape[0], depth.shape[1]))
        splat.clear(pixels, self.keys, pack_colour(BACKGROUND, order))
        proj = Projection.for_geometry((w, h), geometry)
        pinhole = Intrinsics(proj.fx, proj.fy, proj.cx, proj.cy)
        view = view_matrix(camera).astype(np.float32)
        splat.splat_depth(
            depth,
            geometry.metres,
            geometry.intrinsics,
            colours,
            view,
            pinhole,
            pixels,
            self.keys,
            point_size=float(camera.point_size),
            order=order,
            scratch=self.scratch,
        )
        if guides:
            key = (geometry, depth.shape, order)
            if self.guides is None or self.guides[0] != key:
                g = guide_points(geometry.intrinsics, (depth.shape[0], depth.shape[1]), order)
                bits = np.ascontiguousarray(g[:, 3]).view(np.uint32)
                self.guides = (key, np.ascontiguousarray(g[:, :3]), bits)
            _, points, bits = self.guides
            splat.splat_points(points, bits, view, pinhole, pixels, self.keys)


SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast")
POINTS_CHOICES = ("auto", "cpu", "gpu")


def is_software(renderer: str) -> bool:
    """Whether an OpenGL renderer's name is one of Mesa's software renderers (or empty:
    no OpenGL), where the CPU draws the points."""
    name = renderer.lower()
    return not name or any(s in name for s in SOFTWARE_RENDERERS)


def points_wanted() -> str:
    """``DEPTHVIEW_POINTS``: "auto" (the default), "cpu" or "gpu"; another value is a
    ``DepthviewError`` naming it."""
    value = os.environ.get("DEPTHVIEW_POINTS", "").strip().lower() or "auto"
    if value not in POINTS_CHOICES:
        raise DepthviewError(
            f"DEPTHVIEW_POINTS={os.environ.get('DEPTHVIEW_POINTS')!r}: "
            "expected one of auto, cpu, gpu"
        )
    return value


def gl_renderer(ctx: Any) -> str:
    """The name of the OpenGL renderer of a moderngl context ("" for None)."""
    if ctx is None:
        return ""
    return str(ctx.info.get("GL_RENDERER", ""))
