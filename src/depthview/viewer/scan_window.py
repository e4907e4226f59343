"""The scan window (``depthview scan SOURCE [OUT]`` without ``--no-window``): the depth
beside the model as it grows, seen from the camera's pose, with a HUD (frames fused and
lost, volume, memory, tracking state; a red "tracking lost: move back to the model").

A reader thread keeps only the newest frame, so a scan slower than the source skips
frames instead of falling behind; each scanned frame's latency (source to screen) is
kept for ``--stats``. Keys: space pauses, r resets the model, s saves OUT (and the
trajectory and parameters beside it), c shows the model in its colours or shaded, v the
depth or the colour picture on the left, z the model from the camera's pose again, q or
Escape quits (saving first); drag over the model to orbit it, the wheel to zoom. What the
user chose is plain state (``scan_state``); the picture reaches the screen through
``present`` like the viewer's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pygame

from ..colorize import colorize
from ..frame import Frame
from ..geometry import video_as_rgb
from ..outputs import why_not_written
from ..scan import Scanner
from ..scan.tracking import scaled
from ..sources.base import Source
from . import scan_state
from .layout import fit, window_to_content
from .present import Presenter
from .scan_state import F64, ScanViewState

PANEL = (640, 480)
HUD_HEIGHT = 40
#: The window's picture at its own size: the two panels side by side, the HUD below.
CANVAS = (2 * PANEL[0], PANEL[1] + HUD_HEIGHT)
#: The model is raycast at this width while frames come in, then scaled to the panel: a
#: whole-ray raycast at 320 px took longer than the frame's own tracking and fusion and
#: kept the window from keeping up with the source (``latency_p95_ms`` above 1 s).
LIVE_MODEL_WIDTH = 160
#: ... and at this width when paused, where there is time for a sharper picture.
STILL_MODEL_WIDTH = 320
LIGHT = np.array([0.3, -0.5, -0.8])
SHADE_GREY = 200.0
#: Where a first orbit pivots when the model's centre shows nothing (metres ahead).
PIVOT_DEFAULT_M = 2.0


class _Newest:
    """The newest frame from a reader thread (older ones are dropped, counted).

    The first frame is held: the reader waits until the window showed it (its scan and
    draw compile or load the loops for this source's frames) and paces on from then, so
    a recording does not run ahead meanwhile and leave the camera too far from the model
    for tracking on the next frame."""

    def __init__(self, source: Source, frames: int | None = None) -> None:
        self.source = source
        self.frames = frames
        self.frame: tuple[Frame, float] | None = None
        self.read = 0
        self.ended = False
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._shown = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if self.frames is not None and self.read >= self.frames:
                    raise StopIteration
                frame = self.source.read()
                with self._lock:
                    self.frame = (frame, time.perf_counter())
                    self.read += 1
                if self.read == 1:
                    while not (self._shown.wait(0.25) or self._stop.is_set()):
                        pass
                    self.source.repace(frame)
        except StopIteration:
            self.ended = True
        except BaseException as exc:  # shown on the window's HUD and re-raised at the end
            self.error = exc
            self.ended = True

    def take(self) -> tuple[Frame, float] | None:
        """The newest frame and when the source handed it over (``perf_counter``)."""
        with self._lock:
            frame, self.frame = self.frame, None
        return frame

    def first_shown(self) -> None:
        """The window showed the first frame: read on, paced from now."""
        self._shown.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def model_picture(view: Any, coloured: bool) -> npt.NDArray[np.uint8]:
    """The raycast model as a picture, black where nothing was hit: in its colours (grey,
    lit by its normals, where it has none) or shaded grey by its normals."""
    lit = np.abs(np.nan_to_num(view.normal @ LIGHT))
    grey = (SHADE_GREY * (0.35 + 0.65 * lit))[..., None].repeat(3, axis=2)
    out = grey
    if coloured:
        rgb = view.rgb.astype(np.float32)
        has = rgb.max(axis=2) > 0
        out[has] = rgb[has]
    out[np.isnan(view.vertex[..., 0])] = 0
    picture: npt.NDArray[np.uint8] = np.clip(out, 0, 255).astype(np.uint8)
    return picture


def left_picture(frame: Frame, left: str) -> tuple[npt.NDArray[np.uint8], str]:
    """The left panel for ``frame`` at the frame's size: its depth coloured, or its colour
    picture (the depth, and a word why, when the frame has none)."""
    video = frame.video
    if left == "colour" and video is not None:
        return video_as_rgb(video, video.shape[:2]), ""
    depth = colorize(frame.depth, "turbo", depth_format=frame.depth_format)
    return depth, ("no colour from this source" if left == "colour" else "")


@dataclass
class WindowRun:
    """What a window session did: frames the source gave, frames scanned (the others were
    skipped to keep up), whether the user quit, and each scanned frame's latency (ms from
    the source handing it over to its picture on screen)."""

    read: int
    scanned: int
    quit: bool
    latencies_ms: list[float]
    #: When the source handed over its first frame (``time.perf_counter``), None: none came.
    first_read_at: float | None = None
    #: Ended by Ctrl-C or SIGTERM: what was fused is kept, as the batch scan keeps it.
    interrupted: bool = False
    #: The window's last picture, encoded for ``--screenshot``: written only with the
    #: scan's own files (trial AK D2: a scan that wrote nothing replaced an earlier one).
    screenshot: bytes | None = None

    def latency_p95_ms(self) -> float | None:
        if not self.latencies_ms:
            return None
        return round(float(np.percentile(self.latencies_ms, 95)), 1)


KEYS: dict[int, Callable[[ScanViewState], None]] = {
    pygame.K_SPACE: scan_state.pause,
    pygame.K_r: scan_state.reset_model,
    pygame.K_s: scan_state.save,
    pygame.K_q: scan_state.quit_scan,
    pygame.K_ESCAPE: scan_state.quit_scan,
    pygame.K_c: scan_state.model_look,
    pygame.K_v: scan_state.left_panel,
    pygame.K_z: scan_state.camera_view,
}


def run_window(
    source: Source,
    scanner: Scanner,
    save: Callable[[], list[Path]],
    screenshot: Path | None = None,
    frames: int | None = None,
) -> WindowRun:
    """Scan ``source`` in a window until it ends, the user quits or it has handed over
    ``frames`` frames.

    A frame's latency runs from the source handing it over to the window showing it: its
    left panel and the model with it fused (or the HUD saying it was lost). The scan's
    compiled kernels are warmed before the source is read, so no frame waits for them.
    """
    warm_up(scanner)
    window = Presenter(CANVAS, False, f"depthview scan - {source.name}")
    canvas = pygame.Surface(CANVAS, 0, 32)  # drawn at its own size, fitted to the window
    font = pygame.font.Font(None, 26)
    newest = _Newest(source, frames)
    state = ScanViewState()
    run = WindowRun(0, 0, False, [])
    left = model = _blank_panel()
    frame: Frame | None = None
    pose = scanner.last_good.copy()
    pivot_m = PIVOT_DEFAULT_M
    left_drawn: tuple[object, ...] = ()
    model_drawn: tuple[object, ...] = ()
    shown: tuple[object, ...] = ()
    try:
        while not state.quit:
            events = pygame.event.get()
            for event in events:
                if event.type in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
                    window.sync()  # drawn again below (events came), fitted to the new size
                _handle(event, state, pose, pivot_m, window.picture.get_size())
            _apply(state, scanner, save)
            if state.quit:
                break
            taken = None if state.paused else newest.take()
            if taken is not None:
                frame, read_at = taken
                if run.first_read_at is None:
                    run.first_read_at = read_at
                pose = scanner.add(frame).pose
                run.scanned += 1
            elif newest.ended and not state.paused:
                break
            if frame is not None:
                look = (run.scanned, state.left)
                if look != left_drawn:
                    left_drawn = look
                    picture, note = left_picture(frame, state.left)
                    left = _panel(picture)
                    state.message = note or state.message
                seen = (
                    run.scanned,
                    scanner.fused,
                    state.coloured,
                    astuple(state.camera),
                    None if state.anchor is None else state.anchor.tobytes(),
                    STILL_MODEL_WIDTH if state.paused else LIVE_MODEL_WIDTH,
                )
                if seen != model_drawn:
                    model_drawn = seen
                    width = STILL_MODEL_WIDTH if state.paused else LIVE_MODEL_WIDTH
                    model, pivot_m = _model(scanner, frame, state, pose, width)
            on_screen = (left_drawn, model_drawn, hud_lines(scanner, state.paused), state.message)
            if on_screen != shown or events:
                shown = on_screen
                native = window.picture.get_size() == CANVAS  # drawn in place: no copy
                _draw(window.picture if native else canvas, font, left, model, scanner, state)
                if not native:
                    _fit(canvas, window.picture)
                window.show()
            elif taken is None:
                time.sleep(0.005)
            if taken is not None:
                run.latencies_ms.append(1000 * (time.perf_counter() - read_at))
                newest.first_shown()
    except KeyboardInterrupt:  # trial AI (D3): the window threw the fused model away
        run.interrupted = True
    finally:
        newest.stop()
        if screenshot is not None:  # written by the caller once the scan's files are
            run.screenshot = window.encoded(screenshot)
        window.close()
    if newest.error is not None:
        raise newest.error
    run.read, run.quit = newest.read, state.quit
    return run


def warm_up(scanner: Scanner) -> None:
    """Compile (or load from numba's cache) the scan's kernels: a throwaway scanner with
    ``scanner``'s parameters scans two small frames of the demo room and draws its model."""
    from ..scene_walk import WalkScene

    scene = WalkScene(width=80, height=60)
    throwaway = Scanner(scanner.params, intrinsics=scene.intrinsics)
    for index in (0, 1):
        depth, rgb, _ = scene.render(index)
        throwaway.add(Frame(depth=depth, video=rgb))
    throwaway.view(None, scene.intrinsics, 80, 60)


def _handle(
    event: Any, state: ScanViewState, pose: F64, pivot_m: float, window: tuple[int, int]
) -> None:
    """One pygame event as a change of ``state`` (keys, and drags and the wheel over the
    model panel, wherever the ``window``-sized picture shows it)."""
    if event.type == pygame.QUIT:
        scan_state.quit_scan(state)
    elif event.type == pygame.KEYDOWN and event.key in KEYS:
        KEYS[event.key](state)
    elif (
        event.type == pygame.MOUSEBUTTONDOWN and event.button == 1 and _on_model(event.pos, window)
    ):
        scan_state.press(state)
    elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
        scan_state.release(state)
    elif event.type == pygame.MOUSEMOTION and state.dragging:
        scan_state.orbit(state, (int(event.rel[0]), int(event.rel[1])), pose, pivot_m)
    elif event.type == pygame.MOUSEWHEEL and _on_model(pygame.mouse.get_pos(), window):
        scan_state.zoom(state, int(event.y), pose, pivot_m)


def _apply(state: ScanViewState, scanner: Scanner, save: Callable[[], list[Path]]) -> None:
    """What the handlers asked of the scanner and the disk."""
    if state.reset_asked:
        state.reset_asked = False
        scanner.reset()
    if state.save_asked:
        state.save_asked = False
        try:
            written = save() if scanner.fused else []  # (trial AQ D7: an empty mesh saved)
            nothing = "no surface in the model yet: nothing saved"
            state.message = f"saved {written[0].name}" if written else nothing
        except OSError as exc:  # a full disk: said on the HUD, the scan goes on (trial AI)
            state.message = f"cannot save {Path(exc.filename or '').name}: {why_not_written(exc)}"


def _on_model(pos: tuple[int, int], window: tuple[int, int]) -> bool:
    """Whether a window point falls on the model panel of the picture fitted to it."""
    point = window_to_content(pos, fit(window, CANVAS), CANVAS)
    return point is not None and PANEL[0] <= point[0] < 2 * PANEL[0] and point[1] < PANEL[1]


def _fit(canvas: pygame.Surface, picture: pygame.Surface) -> None:
    """The canvas onto a window's picture of another size, scaled and letterboxed as the
    viewer's picture is (trial AA: a resized window cropped it, hiding the model and the
    tracking line)."""
    view = fit(picture.get_size(), canvas.get_size())
    picture.fill((0, 0, 0))
    picture.blit(pygame.transform.smoothscale(canvas, view.size), view.topleft)


def _model(
    scanner: Scanner, frame: Frame, state: ScanViewState, pose: F64, width: int
) -> tuple[pygame.Surface, float]:
    """The model panel as ``state`` says to see it, raycast ``width`` pixels wide, and the
    distance to the model at its centre (where a first orbit pivots)."""
    if scanner.last_input is not None:  # the frame ``add`` just converted
        z, _, k = scanner.last_input
    else:  # reset since (the model is empty): convert it again
        z, _, k = scanner.metres(frame)
    factor = width / z.shape[1]
    eye = state.eye_pose(pose)
    reach = float(np.linalg.norm(np.linalg.inv(pose) @ eye[:, 3] - [0, 0, 0, 1]))
    view = scanner.view(eye, scaled(k, factor), width, round(z.shape[0] * factor), farther_m=reach)
    h, w = view.vertex.shape[:2]
    centre = view.vertex[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] - eye[:3, 3]
    distances = np.linalg.norm(centre.reshape(-1, 3), axis=1)
    distances = distances[np.isfinite(distances)]
    pivot_m = float(np.median(distances)) if distances.size else PIVOT_DEFAULT_M
    return _panel(model_picture(view, state.coloured)), pivot_m


def _panel(rgb: npt.NDArray[np.uint8]) -> pygame.Surface:
    """A picture as a surface of the panel's size (nearest-neighbour scaling)."""
    surface = pygame.surfarray.make_surface(rgb.swapaxes(0, 1))
    if surface.get_size() != PANEL:
        surface = pygame.transform.scale(surface, PANEL)
    return surface


def _blank_panel() -> pygame.Surface:
    surface = pygame.Surface(PANEL)
    surface.fill((0, 0, 0))
    return surface


def hud_lines(scanner: Scanner, paused: bool) -> tuple[str, str, tuple[int, int, int]]:
    """The HUD's figures and its tracking state (text and colour)."""
    volume = scanner.volume
    figures = (
        f"fused {scanner.fused}  lost {scanner.lost}  "
        f"volume {volume.blocks} blocks, {volume.used_bytes / 1e6:.0f} MB"
    )
    last = scanner.last
    if paused:
        return figures, "paused (space)", (230, 230, 230)
    if last is not None and not last.ok:
        return figures, "tracking lost: move back to the model", (255, 40, 40)
    return figures, "tracking", (90, 220, 90)


def _draw(
    picture: pygame.Surface,
    font: Any,
    left: pygame.Surface,
    model: pygame.Surface,
    scanner: Scanner,
    state: ScanViewState,
) -> None:
    picture.fill((0, 0, 0))
    picture.blit(left, (0, 0))
    picture.blit(model, (PANEL[0], 0))
    figures, tracking, colour = hud_lines(scanner, state.paused)
    y = PANEL[1] + 8
    picture.blit(font.render(figures, True, (230, 230, 230)), (10, y))
    picture.blit(font.render(tracking, True, colour), (PANEL[0] + 10, y))
    if state.message:
        text = font.render(state.message, True, (230, 230, 230))
        picture.blit(text, (2 * PANEL[0] - text.get_width() - 10, y))
