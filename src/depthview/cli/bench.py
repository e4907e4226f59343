"""``depthview bench``: run the benchmarks in ``benchmarks/`` and print their ratios."""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from pathlib import Path
from typing import Any

from ..benchmarking import Result, system_info, system_line
from ..errors import DepthviewError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("bench", help="measure speed against the simple approaches")
    p.add_argument("names", nargs="*", help="run only benchmarks whose file name contains these")
    p.add_argument("--json", action="store_true", help="print one JSON line per result")
    p.add_argument("--quick", action="store_true", help="shorter rounds (noisier figures)")
    p.add_argument("--dir", type=Path, default=None, help="benchmarks folder")


def find_benchmarks(folder: Path | None) -> Path:
    """The project's ``benchmarks/`` folder: given, beside the source tree, or in the cwd."""
    candidates = (
        [folder]
        if folder
        else [Path(__file__).resolve().parents[3] / "benchmarks", Path.cwd() / "benchmarks"]
    )
    for c in candidates:
        if c is not None and c.is_dir():
            return c
    raise DepthviewError(
        f"--dir: no benchmarks folder at {', '.join(str(c) for c in candidates)}; "
        "run from a checkout of depthview"
    )


def run(args: argparse.Namespace) -> int:
    folder = find_benchmarks(args.dir)
    files = sorted(folder.glob("bench_*.py"))
    if args.names:
        files = [f for f in files if any(n in f.stem for n in args.names)]
    if not files:
        raise DepthviewError(f"{folder}: no bench_*.py matches {args.names}")
    results: list[Result] = []
    system = system_info()
    if not args.json:
        sys.stdout.write(f"machine: {system_line(system)}\n")
    for path in files:
        spec = importlib.util.spec_from_file_location(f"depthview_bench_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for result in module.run(quick=args.quick):
            results.append(result)
            if args.json:
                print(json.dumps({**result.as_dict(), "system": system}), flush=True)
            else:
                _print_row(result, system)
    return 0


def _print_row(r: Result, system: dict[str, str]) -> None:
    met = {True: "met", False: "NOT MET", None: ""}[r.met]
    ratio = "    n/a " if math.isnan(r.ratio) else f"{r.ratio:>7.1f}x"
    extra = f"  {r.extra}" if r.extra else ""
    sys.stdout.write(
        f"{r.name:<34} {r.ours:>12,.1f} vs {r.baseline:>10,.1f} {r.unit:<10} {ratio}  "
        f"(baseline: {r.baseline_name})  target {r.target} {met}{extra}  "
        f"[{system['cpu']}; {system['vector_extensions']}; numba {system['numba_cpu']}; "
        f"GL {system['gl_renderer'] or 'none'}]\n"
    )
    sys.stdout.flush()
