"""A lone 16-bit PGM's byte order (trial O, finding 1). The PGM standard is big-endian, and
OpenCV, Pillow and Netpbm write it so; libfreenect's d-*.pgm are little-endian. A file
written by OpenCV or Pillow read little-endian turned 1500 mm into 56325, and the refusal's
advice (``--depth-format mm``) exported those numbers with exit 0. The files here are
written by the independent writers themselves and by libfreenect (the shipped sample's d-
files, copied out of the recording); the golden values are the arrays given to the writers
and the recording's own frames, read through the command line as a user does."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import depthview as dv
from _helpers_cli import cli
from depthview.sources import sample


def _opencv(path: Path, values: np.ndarray) -> None:
    assert cv2.imwrite(str(path), values)


def _pillow(path: Path, values: np.ndarray) -> None:
    Image.fromarray(values).save(path)


WRITERS: dict[str, Callable[[Path, np.ndarray], None]] = {"opencv": _opencv, "pillow": _pillow}


def millimetres() -> np.ndarray:
    """7-Scenes-like millimetres: 400..4000 with holes (0)."""
    mm = np.random.default_rng(7).integers(400, 4000, (480, 640)).astype(np.uint16)
    mm[:, :100] = 0
    return mm


def exported(tmp_path: Path, source: Path, *args: str) -> tuple[np.ndarray, str]:
    """``depthview export SOURCE x.npz ARGS``: the depth it wrote and its stderr."""
    out = tmp_path / f"{source.stem}-{len(list(tmp_path.glob('*.npz')))}.npz"
    ran = cli("export", str(source), str(out), *args)
    assert ran.code == 0, ran.err
    with np.load(out) as archive:
        depth: np.ndarray = archive["depth"][0]
    return depth, ran.err


def units_line(source: Path, *args: str) -> dict[str, str]:
    ran = cli("info", str(source), "--json", *args)
    assert ran.code == 0, ran.err
    info: dict[str, str] = json.loads(ran.out)
    return info


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_standard_pgm_of_millimetres_reads_as_written(tmp_path: Path, writer: str) -> None:
    mm = millimetres()
    pgm = tmp_path / f"{writer}.pgm"
    WRITERS[writer](pgm, mm)
    assert pgm.read_bytes()[:2] == b"P5"
    depth, err = exported(tmp_path, pgm, "--depth-format", "mm", "--quiet")
    np.testing.assert_array_equal(depth, mm)
    # unsaid, values past 11 bits are the default's millimetres, said as a guess
    depth, err = exported(tmp_path, pgm)
    np.testing.assert_array_equal(depth, mm)
    assert "units are a guess: millimetres" in err
    info = units_line(pgm)
    assert "big-endian as the PGM standard says" in info["units"]
    assert info["depth_format"] == "MM"


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_the_trials_file_reads_1500_mm(tmp_path: Path, writer: str) -> None:
    """The trial's own file: 1500 mm (fits 11 bits, so the units are a guess said as one)."""
    mm = np.full((480, 640), 1500, np.uint16)
    mm[:, :100] = 0
    pgm = tmp_path / "cv_mm.pgm"
    WRITERS[writer](pgm, mm)
    info = units_line(pgm)
    assert "big-endian" in info["units"] and "--depth-format mm" in info["units_guess"]
    depth, _ = exported(tmp_path, pgm, "--depth-format", "mm", "--quiet")
    np.testing.assert_array_equal(depth, mm)
    with dv.open(str(pgm), depth_format="mm") as src:
        z = dv.to_metres(src.read().depth, "mm")
    assert float(z[0, 200]) == pytest.approx(1.5)


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_standard_pgm_of_raw_disparity_reads_as_written(tmp_path: Path, writer: str) -> None:
    """``cv2.imwrite('d.pgm', depth)`` of freenect's raw disparity (808 read as 10243 before)."""
    with dv.open("sample") as src:
        raw = src.read().depth
    pgm = tmp_path / "d.pgm"
    WRITERS[writer](pgm, raw)
    depth, err = exported(tmp_path, pgm)
    np.testing.assert_array_equal(depth, raw)
    assert "units are a guess: raw 11-bit disparity" in err


def test_a_fakenect_d_file_alone_stays_little_endian(tmp_path: Path) -> None:
    """d- files copied out of a recording libfreenect wrote, beside the recording's frames.
    A lone file says neither byte order nor units: the reading is a guess, said where the
    user looks as ``info`` says it (trial AH D2: ``export`` said nothing)."""
    rec = sample.write_to(tmp_path / "rec")
    names = [n for n in (rec / "INDEX.txt").read_text().split() if n.startswith("d-")]
    with dv.open(str(rec)) as src:
        frames = [src.read().depth for _ in range(3)]
    for name, frame in zip(names, frames, strict=False):
        lone = shutil.copy(rec / name, tmp_path / name)
        depth, err = exported(tmp_path, Path(lone))
        np.testing.assert_array_equal(depth, frame)
        assert "units are a guess: raw 11-bit disparity" in err
        info = units_line(Path(lone))
        assert "read little-endian as libfreenect writes d-*.pgm (a guess" in info["units"]
        assert info["depth_format"] == "RAW_11BIT" and "--depth-format mm" in info["units_guess"]


def test_a_d_file_inside_a_recording_is_little_endian_whatever_its_values(
    tmp_path: Path,
) -> None:
    """The rule is a lone file's: in a recording every d- file is fakenect's own, also one
    whose values fit 11 bits either way (a frame of 0x0100: 256 little-endian, 1 big-endian),
    which alone is read as the standard says."""
    rec = sample.write_to(tmp_path / "rec")
    first = next(n for n in (rec / "INDEX.txt").read_text().split() if n.startswith("d-"))
    (rec / first).write_bytes(b"P5 640 480 65535\n" + np.full((480, 640), 256, "<u2").tobytes())
    with dv.open(str(rec)) as src:
        assert int(src.read().depth.max()) == 256
    with dv.open(str(rec / first)) as lone:
        assert int(lone.read().depth.max()) == 1


def test_a_pgm_with_comment_lines_reads_as_written(tmp_path: Path) -> None:
    """Trial Q 9: a ``#`` comment line in the header (Netpbm's standard allows them; GIMP
    writes one) was refused with a Python byte repr. Written here by hand as the standard
    says (comments, big-endian samples); the golden value is the array written."""
    mm = millimetres()
    pgm = tmp_path / "gimp.pgm"
    header = b"P5\n# Created by GIMP version 2.10.30 PNM plug-in\n640 480\n# depth\n65535\n"
    pgm.write_bytes(header + mm.astype(">u2").tobytes())
    depth, _ = exported(tmp_path, pgm, "--depth-format", "mm", "--quiet")
    np.testing.assert_array_equal(depth, mm)


@pytest.mark.parametrize(
    ("name", "data", "said"),
    [
        ("p8.pgm", b"P5\n640 480\n255\n" + bytes(640 * 480), "got an 8-bit PGM (P5, maxval 255)"),
        ("a.pgm", b"P2\n4 2\n2047\n1 2 3 4\n5 6 7 8\n", "a plain-text (P2) PGM is not supported"),
        ("c.pgm", b"P6\n4 2\n255\n" + bytes(4 * 2 * 3), "got an 8-bit PPM (P6, maxval 255)"),
        ("t.pgm", b"P5 640 x\n" + bytes(64), "got 'P5 640 x"),
        (  # trial AN D4: samples past the file's own maxval were read as millimetres
            "mv.pgm",
            b"P5\n4 2\n1000\n" + np.array([500, 3999, 800, 900] * 2, ">u2").tobytes(),
            "expected samples 0..1000 (its maxval), got up to 3999",
        ),
    ],
)
def test_a_pgm_depthview_cannot_read_is_one_line_saying_why(
    tmp_path: Path, name: str, data: bytes, said: str
) -> None:
    """Trial Q 9: an 8-bit PGM was told "expected maxval 65535" (2047 reads), a plain-text
    one "not a source depthview can open" without why, headers shown as Python bytes."""
    (tmp_path / name).write_bytes(data)
    ran = cli("info", str(tmp_path / name))
    assert ran.code == 2 and len(ran.error_lines) == 1, ran.err
    line = ran.error_lines[0]
    assert line.startswith(f"depthview: error: {tmp_path / name}: ") and said in line, line
    assert "b'" not in line and "\\n" not in line, line
