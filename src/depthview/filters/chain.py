"""Chain: filters in order, with the stateful ones' state kept per stream."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator

from .base import Depth, Filter


class Chain:
    """Run filters one after the other: ``chain(depth, stream=key)``. Each stream (a device,
    a file, the viewer's one source) gets its own copy of the stateful filters (Temporal),
    so two streams through one chain never blend. ``name`` is what the HUD shows."""

    def __init__(self, filters: Iterable[Filter], name: str | None = None) -> None:
        self.filters: tuple[Filter, ...] = tuple(filters)
        for f in self.filters:
            if not isinstance(f, Filter):
                raise TypeError(f"expected depthview filters in a Chain, got {type(f).__name__}")
        self.name = name if name is not None else self.describe()
        self._streams: dict[Hashable, tuple[Filter, ...]] = {}

    def __call__(self, depth: Depth, *, out: Depth | None = None, stream: Hashable = 0) -> Depth:
        filters = self._streams.get(stream)
        if filters is None:
            filters = self._streams[stream] = tuple(
                f.fresh() if f.stateful else f for f in self.filters
            )
        last = len(filters) - 1
        for i, f in enumerate(filters):
            depth = f(depth, out=out if i == last else None)
        if last < 0 and out is not None:
            out[...] = depth
            return out
        return depth

    def reset(self) -> None:
        """Forget every stream's state."""
        self._streams.clear()

    def describe(self) -> str:
        """The chain as a ``--filter`` spec."""
        return ",".join(f.describe() for f in self.filters) or "none"

    def __iter__(self) -> Iterator[Filter]:
        return iter(self.filters)

    def __len__(self) -> int:
        return len(self.filters)

    def __repr__(self) -> str:
        return f"Chain({list(self.filters)!r}, name={self.name!r})"
