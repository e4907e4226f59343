"""The scan window (``depthview scan SOURCE [OUT]`` without ``--no-window``): the depth
beside the model as it grows, seen from the camera's pose, with a HUD (frames fused and
lost, volume, memory, tracking state; a red "tracking lost: move back to the model").

A reader thread keeps only the newest frame, so a scan slower than the source skips
frames instead of falling behind. Keys: space pauses, r resets the model, s saves OUT (and
the trajectory and parameters beside it), q or Escape quits (saving first). The picture
reaches the screen through ``present`` like the viewer's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pygame

from ..colorize import colorize
from ..frame import Frame
from ..scan import Scanner
from ..scan.tracking import scaled
from ..sources.base import Source
from .present import Presenter

PANEL = (640, 480)
HUD_HEIGHT = 40
MODEL_WIDTH = 320  # the model is raycast at this width, then scaled to the panel
LIGHT = np.array([0.3, -0.5, -0.8])


class _Newest:
    """The newest frame from a reader thread (older ones are dropped, counted)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.frame: Frame | None = None
        self.read = 0
        self.ended = False
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                frame = self.source.read()
                with self._lock:
                    self.frame = frame
                    self.read += 1
        except StopIteration:
            self.ended = True
        except BaseException as exc:  # shown on the window's HUD and re-raised at the end
            self.error = exc
            self.ended = True

    def take(self) -> Frame | None:
        with self._lock:
            frame, self.frame = self.frame, None
        return frame

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def shade(view: Any) -> npt.NDArray[np.uint8]:
    """The raycast model as a picture: its colours lit by its normals (grey where it has no
    colour), black where nothing was hit."""
    normal = view.normal
    lit = np.abs(np.nan_to_num(normal @ LIGHT))
    rgb = view.rgb.astype(np.float32)
    grey = rgb.max(axis=2) == 0
    rgb[grey] = 200.0
    out = rgb * (0.35 + 0.65 * lit)[..., None]
    out[np.isnan(view.vertex[..., 0])] = 0
    picture: npt.NDArray[np.uint8] = np.clip(out, 0, 255).astype(np.uint8)
    return picture


def run_window(
    source: Source,
    scanner: Scanner,
    save: Callable[[], list[Path]],
    screenshot: Path | None = None,
) -> tuple[int, bool]:
    """Scan ``source`` in a window until it ends or the user quits; returns the frames
    read and whether the user quit."""
    window = Presenter(
        (2 * PANEL[0], PANEL[1] + HUD_HEIGHT), False, f"depthview scan - {source.name}"
    )
    font = pygame.font.Font(None, 26)
    newest = _Newest(source)
    paused = False
    quit_asked = False
    depth_picture = np.zeros((*PANEL[::-1], 3), np.uint8)
    model_picture = np.zeros((*PANEL[::-1], 3), np.uint8)
    message = ""
    try:
        while True:
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    quit_asked = True
                elif event.type == pygame.KEYDOWN:
                    if event.key in (pygame.K_q, pygame.K_ESCAPE):
                        quit_asked = True
                    elif event.key == pygame.K_SPACE:
                        paused = not paused
                    elif event.key == pygame.K_r:
                        scanner.reset()
                        message = "model reset"
                    elif event.key == pygame.K_s:
                        written = save()
                        message = f"saved {written[0].name}"
            if quit_asked:
                break
            frame = None if paused else newest.take()
            if frame is not None:
                tracked = scanner.add(frame)
                depth_picture = _fit(
                    colorize(frame.depth, "turbo", depth_format=frame.depth_format)
                )
                z, _, k = scanner.metres(frame)
                factor = MODEL_WIDTH / z.shape[1]
                view = scanner.view(
                    tracked.pose,
                    scaled(k, factor),
                    MODEL_WIDTH,
                    round(z.shape[0] * factor),
                )
                model_picture = _fit(shade(view))
            elif newest.ended and not paused:
                break
            else:
                time.sleep(0.005)
            _draw(window, font, depth_picture, model_picture, scanner, paused, message)
            window.show()
    finally:
        newest.stop()
        if screenshot is not None:
            window.save(screenshot)
        window.close()
    if newest.error is not None:
        raise newest.error
    return newest.read, quit_asked


def _fit(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Nearest-neighbour scaling to the panel's size."""
    h, w = rgb.shape[:2]
    rows = (np.arange(PANEL[1]) * h // PANEL[1]).astype(np.intp)
    cols = (np.arange(PANEL[0]) * w // PANEL[0]).astype(np.intp)
    return np.ascontiguousarray(rgb[rows][:, cols])


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
    window: Presenter,
    font: Any,
    depth: npt.NDArray[np.uint8],
    model: npt.NDArray[np.uint8],
    scanner: Scanner,
    paused: bool,
    message: str,
) -> None:
    picture = window.picture
    picture.fill((0, 0, 0))
    picture.blit(pygame.surfarray.make_surface(depth.swapaxes(0, 1)), (0, 0))
    picture.blit(pygame.surfarray.make_surface(model.swapaxes(0, 1)), (PANEL[0], 0))
    figures, state, colour = hud_lines(scanner, paused)
    y = PANEL[1] + 8
    picture.blit(font.render(figures, True, (230, 230, 230)), (10, y))
    picture.blit(font.render(state, True, colour), (PANEL[0] + 10, y))
    if message:
        text = font.render(message, True, (230, 230, 230))
        picture.blit(text, (2 * PANEL[0] - text.get_width() - 10, y))
