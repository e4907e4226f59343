"""Coverage-guided fuzzing (atheris, libFuzzer) of every parser that reads untrusted files.

    python tests/fuzz/fuzz_parsers.py all --seconds 60     # each target for a minute (make fuzz)
    python tests/fuzz/fuzz_parsers.py all --runs 300       # a short pass (CI, via pytest)
    python tests/fuzz/fuzz_parsers.py run TARGET [libFuzzer options]

What may happen to any input: a ``SourceError`` (nothing else escapes), within the timeout
(no hang), and no file opened or folder listed outside the folder being read (an audit
hook watches every ``open`` and listing while a target runs). Targets start from a seed
corpus of valid files that they write themselves.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import atheris
import numpy as np

with atheris.instrument_imports(include=["depthview"]):
    import depthview as dv
    import depthview.sources.demo
    import depthview.sources.fakenect
    import depthview.sources.files
    import depthview.sources.kinect
    import depthview.sources.sample  # every backend the registry asks, imported now
    from depthview.errors import SourceError
    from depthview.fakenect_format import parse_index_line, parse_pnm_header, parse_tilt_state
    from depthview.sources import depth_png, file_layouts

#: Seconds one input may take before libFuzzer calls it a hang.
TIMEOUT = 10
WORK = Path(tempfile.mkdtemp(prefix="depthview-fuzz-"))
_watch: list[str] = []  # the folder a target may read, while it runs
_auditing = [True]  # off while warming up (first imports, caches)
#: Where Python and its libraries live: a lazy import inside a parser is not a data read.
_CODE = tuple(os.path.realpath(p) + os.sep for p in sys.path if p and os.path.isdir(p))


def _audit(event: str, args: tuple[object, ...]) -> None:
    if not _watch or not _auditing[0] or event not in ("open", "os.listdir", "os.scandir"):
        return
    path = args[0] if args else None
    if isinstance(path, bytes):
        path = path.decode(errors="replace")
    if not isinstance(path, str):
        return  # an open file descriptor
    real = os.path.realpath(path)
    if (real + os.sep).startswith(_CODE):
        return
    if os.path.commonpath([real, _watch[0]]) != _watch[0]:
        raise AssertionError(f"read outside {_watch[0]}: {event} {real}")


sys.addaudithook(_audit)
from PIL import Image  # noqa: E402

Image.init()  # Pillow's format plugins, imported now rather than under the audit's watch


def _fresh(name: str) -> Path:
    folder = WORK / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _open_and_read(folder: Path, uri: Path) -> None:
    """Open ``uri`` and read every frame, watching that nothing outside ``folder`` is read."""
    _watch[:] = [os.path.realpath(folder)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with dv.open(str(uri), realtime=False) as src:
                for n, _frame in enumerate(src):
                    if n >= 64:
                        break
    except SourceError:
        pass
    finally:
        _watch.clear()


def _only_source_error(fn: Callable[[], object]) -> None:
    with contextlib.suppress(SourceError):
        fn()


# -- inputs a target builds from the fuzzer's bytes ---------------------------------------
def _safe_name(raw: bytes, default: str) -> str:
    name = raw.decode("latin-1").replace("/", "_").replace("\0", "_").strip()
    return name if name not in ("", ".", "..") else default


def t_index_line(data: bytes) -> None:
    _only_source_error(lambda: parse_index_line(data))


def t_pnm_header(data: bytes) -> None:
    _only_source_error(lambda: parse_pnm_header(data))


def t_tilt_state(data: bytes) -> None:
    _only_source_error(lambda: parse_tilt_state(data))


def t_png_header(data: bytes) -> None:
    _only_source_error(lambda: depth_png.parse_header(data))


def t_intrinsics(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    _only_source_error(lambda: file_layouts.parse_intrinsics_matrix(text, "intrinsics.txt"))


def t_recording(data: bytes) -> None:
    """A fakenect folder: INDEX.txt and the files it names, all from the fuzzer."""
    fdp = atheris.FuzzedDataProvider(data)
    folder = _fresh("recording")
    lines = []
    for _ in range(fdp.ConsumeIntInRange(0, 6)):
        name = _safe_name(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 48)), "d-1.0-1.pgm")
        lines.append(name)
        if fdp.ConsumeBool():
            (folder / name).write_bytes(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 200)))
    extra = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 200))
    (folder / "INDEX.txt").write_bytes("\n".join(lines).encode("latin-1") + b"\n" + extra)
    _open_and_read(folder, folder)


def _file_target(name: str) -> Callable[[bytes], None]:
    def target(data: bytes) -> None:
        folder = _fresh(name)
        (folder / name).write_bytes(data)
        _open_and_read(folder, folder / name)

    return target


def t_png_folder(data: bytes) -> None:
    """A dataset folder: depth/ and rgb/ (or flat), its PNGs, association and list files."""
    fdp = atheris.FuzzedDataProvider(data)
    root = _fresh("pngs")
    sub = fdp.ConsumeBool()
    depth_dir = root / "depth" if sub else root
    colour_dir = root / ("rgb", "color", "image")[fdp.ConsumeIntInRange(0, 2)] if sub else root
    for folder in {depth_dir, colour_dir}:
        folder.mkdir(exist_ok=True)
    for _ in range(fdp.ConsumeIntInRange(1, 4)):
        name = _safe_name(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 24)), "0.png")
        folder = depth_dir if fdp.ConsumeBool() else colour_dir
        (folder / name).write_bytes(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 400)))
    for text_file in (
        "associations.txt",
        "depth.txt",
        "rgb.txt",
        "intrinsics.txt",
        "camera-intrinsics.txt",
    ):
        if fdp.ConsumeBool():
            (root / text_file).write_bytes(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 200)))
    options: dict[str, object] = {}
    if fdp.ConsumeBool():
        options["depth_format"] = ("sun3d", "tum", "mm", "11bit")[fdp.ConsumeIntInRange(0, 3)]
    _watch[:] = [os.path.realpath(root)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with dv.open(str(root), **options) as src:
                for _frame in src:
                    pass
    except SourceError:
        pass
    finally:
        _watch.clear()


def t_device_json(data: bytes) -> None:
    """A recording whose device.json (registration parameters) comes from the fuzzer, read
    as millimetres so the parameters are used."""
    folder = _fresh("device")
    (folder / "d-1.000000-1.pgm").write_bytes(b"P5 640 480 65535\n" + bytes(640 * 480 * 2))
    (folder / "INDEX.txt").write_text("d-1.000000-1.pgm\n")
    (folder / "device.json").write_bytes(data)
    _watch[:] = [os.path.realpath(folder)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with dv.open(str(folder), realtime=False, depth_format="mm") as src:
                src.read()
    except SourceError:
        pass
    finally:
        _watch.clear()


TARGETS: dict[str, Callable[[bytes], None]] = {
    "index_line": t_index_line,
    "pnm_header": t_pnm_header,
    "tilt_state": t_tilt_state,
    "png_header": t_png_header,
    "intrinsics": t_intrinsics,
    "recording": t_recording,
    "pgm_file": _file_target("d-1.0-1.pgm"),
    "npy_file": _file_target("x.npy"),
    "npz_file": _file_target("x.npz"),
    "png_file": _file_target("x.png"),
    "png_folder": t_png_folder,
    "device_json": t_device_json,
}


# -- seeds: valid inputs to start from ------------------------------------------------------
def _png(arr: np.ndarray, marker: str | None = None) -> bytes:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    if marker:
        info.add_text(depth_png.MARKER_KEY, marker)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, *arrays.pop("positional", ()), **arrays)
    return buf.getvalue()


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def seeds(target: str) -> list[bytes]:
    """Valid inputs for ``target`` (folder targets get bytes their builders turn valid)."""
    depth = np.arange(12, dtype=np.uint16).reshape(3, 4) * 100
    pgm = b"P5 4 3 65535\n" + depth.astype("<u2").tobytes()
    return {
        "index_line": [b"d-1700000000.250000-1000.pgm", b"r-1.5-2.ppm\n", b"a-3-4.dump"],
        "pnm_header": [b"P5 640 480 65535\n", b"P6 640 480 255\n"],
        "tilt_state": [bytes(12), b"\x01\x00\x02\x00\x03\x00\x04\xa5\x00\x00\x00\x00"],
        "png_header": [_png(depth), _png(depth, "RAW_11BIT")],
        "intrinsics": [b"570.3 0 320\n0 570.3 240\n0 0 1\n"],
        "recording": [b"\x01\x1cd-1700000000.250000-1000.pgm\x01" + pgm[:180]],
        "pgm_file": [pgm],
        "npy_file": [_npy(depth), _npy(np.stack([depth, depth]))],
        "npz_file": [
            _npz(depth=depth[None], video=np.zeros((1, 3, 4, 3), np.uint8)),
            _npz(positional=(depth[None], np.zeros((1, 3, 4, 3), np.uint8))),
            _npz(depth=depth[None], depth_format=np.array(5)),
        ],
        "png_file": [_png(depth), _png(depth, "MM")],
        "png_folder": [b"\x01\x02\x01\x05x.png" + _png(depth)[:300]],
        "device_json": [
            (Path(dv.__file__).parent / "data" / "kinect-v1-registration.json").read_bytes()
        ],
    }[target]


# -- driving libFuzzer ----------------------------------------------------------------------
def run_target(target: str, fuzzer_args: list[str]) -> None:
    corpus = WORK / f"corpus-{target}"
    corpus.mkdir(exist_ok=True)
    for i, seed in enumerate(seeds(target)):
        (corpus / f"seed-{i}").write_bytes(seed)
    _auditing[0] = False
    for seed in seeds(target):  # warm up: imports and caches outside the audit's watch
        TARGETS[target](seed)
    _auditing[0] = True
    args = [
        sys.argv[0],
        *fuzzer_args,
        f"-timeout={TIMEOUT}",
        f"-artifact_prefix={WORK}/",
        str(corpus),
    ]
    atheris.Setup(args, TARGETS[target])
    atheris.Fuzz()


def run_all(runs: int | None, seconds: float | None, names: list[str]) -> int:
    """Each target in its own process (libFuzzer exits when done); 0 when none failed."""
    failed = []
    for target in names or list(TARGETS):
        budget = [f"-runs={runs}"] if runs else [f"-max_total_time={int(seconds or 60)}"]
        start = time.monotonic()
        proc = subprocess.run(
            [sys.executable, __file__, "run", target, *budget],
            capture_output=True,
            text=True,
        )
        took = time.monotonic() - start
        done = [ln for ln in proc.stderr.splitlines() if "Done " in ln or "DONE" in ln]
        status = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
        print(f"{target:12} {status:10} {took:6.1f} s  {done[-1].strip() if done else ''}")
        if proc.returncode != 0:
            failed.append(target)
            print(proc.stderr[-4000:])
    print(f"{len(TARGETS) if not names else len(names)} targets, {len(failed)} failed")
    return 1 if failed else 0


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "run":
        run_target(sys.argv[2], sys.argv[3:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["all"])
    parser.add_argument("targets", nargs="*", default=[], help=f"some of {', '.join(TARGETS)}")
    parser.add_argument("--runs", type=int, default=None, help="inputs per target")
    parser.add_argument("--seconds", type=float, default=None, help="time per target")
    args = parser.parse_args()
    unknown = sorted(set(args.targets) - set(TARGETS))
    if unknown:
        parser.error(f"expected targets among {', '.join(TARGETS)}, got {', '.join(unknown)}")
    return run_all(args.runs, args.seconds, args.targets)


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
