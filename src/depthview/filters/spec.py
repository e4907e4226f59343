"""``--filter`` specs, parsed in one place: ``parse_filter_spec(text)`` -> a Chain factory.

A spec is filters separated by commas, each ``NAME`` or ``NAME:k=v,k=v`` (later ``k=v``
tokens belong to the filter before them), or a preset name::

    spatial:alpha=0.5,delta=20,temporal,holes:mode=1
    realsense                     (the RealSense Viewer's default chain)

Names: decimation, threshold, disparity (depth to disparity), depth (disparity to depth),
spatial, temporal, holes. Parameters are the classes' keyword arguments. A spec ends in
depth (a 'disparity' needs its 'depth'). A bad name, value or order raises ValueError
"expected ..., got ...", before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .base import Filter
from .chain import Chain
from .decimation import Decimation
from .disparity import DisparityTransform, kinect_baseline_focal
from .holes import HoleFilling
from .spatial import Spatial
from .temporal import Temporal
from .threshold import Threshold

if TYPE_CHECKING:
    from ..registration import Registration

FILTERS: dict[str, type[Filter]] = {
    "decimation": Decimation,
    "threshold": Threshold,
    "disparity": DisparityTransform,
    "depth": DisparityTransform,
    "spatial": Spatial,
    "temporal": Temporal,
    "holes": HoleFilling,
}
_PARAMS = {
    "decimation": ("magnitude",),
    "threshold": ("min_m", "max_m"),
    "disparity": ("baseline_mm", "focal_px"),
    "depth": ("baseline_mm", "focal_px"),
    "spatial": ("alpha", "delta", "magnitude", "holes_fill"),
    "temporal": ("alpha", "delta", "persistence"),
    "holes": ("mode",),
}

#: Named chains. ``realsense`` is the RealSense Viewer's default post-processing for depth
#: (its hole filling is off); ``smooth`` is the chain the benchmark times.
PRESETS: dict[str, str] = {
    "realsense": "decimation,threshold,disparity,spatial,temporal,depth",
    "smooth": "disparity,spatial,temporal,depth,holes",
    "fill": "holes",
}
NONE = ("none", "off")


@dataclass(frozen=True)
class FilterSpec:
    """A parsed spec: call it (with the source's registration, for the disparity
    transform's baseline and focal length) for a fresh Chain."""

    text: str
    name: str
    entries: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]

    def __call__(self, registration: Registration | None = None) -> Chain:
        filters: list[Filter] = []
        for fname, items in self.entries:
            kwargs = dict(items)
            if fname in ("disparity", "depth"):
                if "baseline_mm" not in kwargs or "focal_px" not in kwargs:
                    base, focal = kinect_baseline_focal(registration)
                    kwargs.setdefault("baseline_mm", base)
                    kwargs.setdefault("focal_px", focal)
                filters.append(DisparityTransform(fname == "disparity", **kwargs))
            else:
                filters.append(FILTERS[fname](**kwargs))
        return Chain(filters, name=self.name)

    def __bool__(self) -> bool:
        return bool(self.entries)

    @property
    def stateful(self) -> bool:
        """Whether a filter of it keeps state from frame to frame (temporal): its output
        then depends on where a stream is cut into parts."""
        return any(name in FILTERS and FILTERS[name].stateful for name, _ in self.entries)


def parse_filter_spec(text: str) -> FilterSpec:
    """Parse ``text`` and check every name and value (by building the chain once)."""
    if not isinstance(text, str):
        raise TypeError(f"expected a filter spec as a string, got {type(text).__name__}")
    stripped = text.strip()
    if stripped.lower() in NONE:
        return FilterSpec(text, "none", ())
    entries = _entries(PRESETS.get(stripped, stripped))
    _check_domains([name for name, _ in entries])
    spec = FilterSpec(text, stripped, tuple(entries))
    spec()  # every value checked here, by the filters' own constructors
    return spec


def filters_argument(value: object, *, chains: bool = True) -> FilterSpec | Chain | None:
    """A library call's ``filters=``: a ``--filter`` spec string parsed as the command line
    parses it, a ``FilterSpec`` (or, with ``chains``, a ``Chain``) as it is, None for none;
    anything else one ``TypeError`` naming ``filters`` (a list gave AttributeError)."""
    if value is None or isinstance(value, FilterSpec) or (chains and isinstance(value, Chain)):
        return value
    if isinstance(value, str):
        return parse_filter_spec(value)
    kinds = "a --filter spec, FilterSpec or Chain" if chains else "a --filter spec or FilterSpec"
    raise TypeError(
        f"expected filters as {kinds} (F.parse_filter_spec('spatial')), got {type(value).__name__}"
    )


def _preset_parameters(preset: str, given: str) -> ValueError:
    """A preset's filters take their parameters by name: the preset itself takes none."""
    return ValueError(
        f"expected no parameters after the preset {preset!r}, got {given!r}: to change them, "
        f"give its filters one by one ({PRESETS[preset]})"
    )


def _entries(text: str) -> list[tuple[str, tuple[tuple[str, Any], ...]]]:
    entries: list[tuple[str, list[tuple[str, Any]]]] = []
    preset = ""  # the preset the last entries came from: it takes no k=v of its own
    for raw in text.split(","):
        token = raw.strip()
        if not token:
            raise ValueError(
                f"expected NAME[:k=v,...] between commas, got an empty item in {text!r}"
            )
        head, sep, rest = token.partition(":")
        if not sep and "=" in token:
            if not entries:
                raise ValueError(f"expected a filter name before {token!r}")
            if preset:
                raise _preset_parameters(preset, token)
            entries[-1][1].append(_param(entries[-1][0], token))
            continue
        fname = head.strip()
        preset = ""
        if fname in PRESETS:
            if sep:  # (trial AR D4: "expected ... realsense ..., got 'realsense'")
                raise _preset_parameters(fname, rest.strip())
            entries.extend((n, list(kv)) for n, kv in _entries(PRESETS[fname]))
            preset = fname
            continue
        if fname not in FILTERS:
            names = ", ".join([*FILTERS, *PRESETS])
            raise ValueError(f"expected a filter or preset ({names}), got {fname!r}")
        entries.append((fname, []))
        if sep:
            if not rest.strip():
                raise ValueError(f"expected k=v after {fname}:, got nothing")
            entries[-1][1].append(_param(fname, rest))
    out = []
    for fname, kv in entries:
        keys = [k for k, _ in kv]
        dup = {k for k in keys if keys.count(k) > 1}
        if dup:
            raise ValueError(f"expected each {fname} parameter once, got {sorted(dup)[0]} twice")
        out.append((fname, tuple(kv)))
    return out


def _check_domains(names: list[str]) -> None:
    """Depth (z16) and disparity in the right places: decimation and threshold take depth,
    'disparity' starts from depth, 'depth' from disparity, and a spec ends in depth."""
    in_disparity = False
    for name in names:
        if name in ("decimation", "threshold", "disparity") and in_disparity:
            raise ValueError(
                f"expected {name} before 'disparity' or after 'depth' (it takes depth)"
            )
        if name == "depth" and not in_disparity:
            raise ValueError("expected 'depth' (disparity to depth) after 'disparity'")
        in_disparity = {"disparity": True, "depth": False}.get(name, in_disparity)
    if in_disparity:
        raise ValueError("expected 'depth' after 'disparity': a spec ends in depth (mm)")


def _param(fname: str, token: str) -> tuple[str, Any]:
    key, eq, value = (s.strip() for s in token.partition("="))
    allowed = _PARAMS[fname]
    if not eq or key not in allowed:
        raise ValueError(
            f"expected {fname} parameter {'|'.join(allowed)}=VALUE, got {token.strip()!r}"
        )
    try:
        number: Any = int(value)
    except ValueError:
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"expected a number for {fname} {key}, got {value!r}") from None
    return key, number
