"""Driving a viewer as a user does: posted key presses, mouse moves and clicks (as SDL
reports them), each followed by one ``step``, and waiting for a condition."""

from __future__ import annotations

import time
from typing import Any

import pygame

from depthview.viewer import Viewer

#: Characters whose key is not their own code on a US keyboard.
KEYS = {
    "?": pygame.K_SLASH,
    " ": pygame.K_SPACE,
    "[": pygame.K_LEFTBRACKET,
    "]": pygame.K_RIGHTBRACKET,
    "{": pygame.K_LEFTBRACKET,
    "}": pygame.K_RIGHTBRACKET,
    "+": pygame.K_PLUS,
    "-": pygame.K_MINUS,
    ",": pygame.K_COMMA,
    ".": pygame.K_PERIOD,
}


def press(viewer: Viewer, char: str = "", key: int | None = None) -> None:
    """Post a key press the way SDL reports it, then let the viewer step."""
    if key is None:
        key = KEYS.get(char, ord(char.lower()) if char else 0)
    mod = pygame.KMOD_SHIFT if char and (char.isupper() or char in "{}+?") else 0
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, unicode=char, mod=mod))
    viewer.step()


def move_mouse(viewer: Viewer, pos: tuple[int, int]) -> None:
    """Move the pointer to ``pos`` (window pixels), then let the viewer step."""
    event = pygame.event.Event(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0))
    pygame.event.post(event)
    viewer.step()


def click(viewer: Viewer, pos: tuple[int, int]) -> None:
    """A left click at ``pos``, then let the viewer step."""
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pos, button=1))
    viewer.step()


def wait_for(viewer: Viewer, cond: Any, timeout: float = 10.0) -> None:
    """Step the viewer until ``cond()`` holds; fail after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        viewer.step()
        if cond():
            return
        time.sleep(0.005)
    raise AssertionError("condition not reached")
