"""Temporal: librealsense's per-pixel smoothing over time, and its persistence.

Each pixel keeps its last value and an 8-frame history of whether it was valid. A new value
close to the last one (less than ``delta`` apart) is blended with it (``alpha`` weighs the
new one); a hole is filled with the last value when the history says it was valid often
enough lately (``persistence``):

    0 off  1 valid in 8 of the last 8  2 in 2 of the last 3  3 in 2 of the last 4
    4 in 2 of 8  5 in 1 of the last 2  6 in 1 of the last 5  7 in 1 of 8  8 always
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from .base import Depth, Filter, check_depth, check_out, kernels, number

#: persistence mode -> (how many of the last n frames, n); 0 never, 8 always.
RULES = {1: (8, 8), 2: (2, 3), 3: (2, 4), 4: (2, 8), 5: (1, 2), 6: (1, 5), 7: (1, 8)}


@lru_cache(maxsize=9)
def credible_table(persistence: int) -> npt.NDArray[np.uint8]:
    """history byte -> one bit per frame phase: whether that history is credible enough to
    fill a hole when the current frame is that phase (librealsense's recalc_persistence_map)."""
    bits = (np.arange(256)[:, None] >> np.arange(8)[None, :]) & 1  # bits[i, k]: bit k of i
    # Read as in librealsense: bit 7 is the newest frame, bit 0 the oldest.
    newest_first = bits[:, ::-1]
    if persistence == 8:
        valid = np.ones(256, dtype=bool)
    elif persistence in RULES:
        need, last = RULES[persistence]
        valid = newest_first[:, :last].sum(axis=1) >= need
    else:
        valid = np.zeros(256, dtype=bool)
    table = np.zeros(256, dtype=np.uint8)
    i = np.arange(256)
    for phase in range(8):
        pos = ((i << (8 - phase)) | (i >> phase)) & 0xFF
        table |= np.where(valid[pos], np.uint8(1 << phase), np.uint8(0))
    table.flags.writeable = False
    return table


def credible_window(persistence: int, phase: int) -> tuple[int, int]:
    """(history bits, how many of them must be set) for ``credible_table(persistence)``'s
    bit ``phase``: the n frames before the current one (tests check both agree)."""
    if persistence == 8:
        return 0, 0
    if persistence not in RULES:
        return 0, 9
    need, last = RULES[persistence]
    window = 0
    for k in range(last):
        window |= 1 << ((phase - 1 - k) % 8)
    return window, need


def credible_rule(window: int, need: int) -> int:
    """How the kernel tests "at least ``need`` of the ``window`` bits are set" without
    counting: never, any, two, all of them, or always (``_kernels.RULE_*``, in that order).
    Every persistence mode's (window, need) is one of these."""
    bits = bin(window).count("1")
    if need <= 0:
        return 4
    if need > bits:
        return 0
    if need in (1, 2):
        return need
    if need == bits:
        return 3
    raise ValueError(f"no temporal rule for {need} of {bits} frames")


class Temporal(Filter):
    """Smoothing over time: alpha 0..1, delta 1..100, persistence 0..8. Keeps state: one
    object per stream (``Chain`` does this), ``reset()`` to start again."""

    name = "temporal"
    stateful = True

    def __init__(self, alpha: float = 0.4, delta: int = 20, persistence: int = 3) -> None:
        self.alpha = number(alpha, "temporal alpha", 0.0, 1.0)
        self.delta = number(delta, "temporal delta", 1, 100, integer=True)
        self.persistence = number(persistence, "temporal persistence", 0, 8, integer=True)
        self._last: Depth | None = None
        self._history: npt.NDArray[np.int32] | None = None  # 8 bits used; int32 vectorizes
        self._phase = 0

    def params(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "delta": self.delta, "persistence": self.persistence}

    def reset(self) -> None:
        self._last = None
        self._history = None
        self._phase = 0

    def __call__(self, depth: Depth, *, out: Depth | None = None) -> Depth:
        arr = check_depth(depth, "temporal")
        dst = check_out(out, "temporal", arr.shape, arr.dtype)
        if dst is None:
            dst = np.empty(arr.shape, dtype=arr.dtype)
        src = np.ascontiguousarray(arr)
        last = self._last
        if last is None or last.shape != arr.shape or last.dtype != arr.dtype:
            # A new stream profile in librealsense: history and last frame start empty
            # (the phase carries on, as there).
            last = self._last = np.zeros(arr.shape, dtype=arr.dtype)
            self._history = np.zeros(arr.shape, dtype=np.int32)
        assert self._history is not None
        k = kernels()
        window, need = credible_window(self.persistence, self._phase)
        k.temporal(
            src,
            dst,
            last,
            self._history,
            window,
            credible_rule(window, need),
            1 << self._phase,
            np.float32(self.alpha),
            self.delta,
        )
        self._phase = (self._phase + 1) % 8
        return dst
