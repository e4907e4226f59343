"""The new-user trial (issue 18) as a test: every command, source kind, exporter and sink
given what a careless user gives them (``trial_cases.txt``, one case a line). Each case
checks the exit code, that a failure is one line with no traceback, and what is on disk
after: the world's inputs unchanged (hashed), nothing half-written under the output.

Most cases run in this process (``depthview.cli.main``): fast. Ctrl-C needs a process to
interrupt. A full disk is a real one: a 2 MB tmpfs (mounting it needs root, as CI runs),
filled to its last ~100 KB before each case."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

import depthview as dv
from _helpers_cli import Ran, cli, tree_hash
from _helpers_datasets import write_scene, zip_folder
from _helpers_disk import fill, tmpfs
from depthview.sources import sample

CASES_FILE = Path(__file__).with_name("trial_cases.txt")
#: Free bytes left on the small disk before a "full" case.
FREE_BYTES = 100_000


@dataclass(frozen=True)
class Case:
    line: int
    how: str
    code: int
    argv: tuple[str, ...]
    stderr_has: str
    after: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.line}: {' '.join(self.argv)}"


def _cases() -> list[Case]:
    cases = []
    for number, text in enumerate(CASES_FILE.read_text().splitlines(), start=1):
        if not text.strip() or text.startswith("#"):
            continue
        how, code, argv, has, after = (part.strip() for part in text.split(" | "))
        cases.append(
            Case(
                number,
                how,
                int(code),
                tuple(argv.split()),
                "" if has == "-" else has,
                () if after == "-" else tuple(after.split()),
            )
        )
    return cases


CASES = _cases()


# -- the world: odd inputs a user has lying around ----------------------------------------
def _png16(path: Path, values: np.ndarray, colour_type: int) -> None:
    """A 16-bit PNG written by hand (Pillow cannot write 16-bit RGB)."""
    h = values.shape[0]
    raw = b"".join(b"\0" + values[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", values.shape[1], h, 16, colour_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def world() -> Iterator[Path]:
    from PIL import Image

    from depthview.cli import main

    with tempfile.TemporaryDirectory(prefix="trial-world-") as tmp:
        w = Path(tmp)
        rec = sample.write_to(w / "rec")
        assert main(["export", str(rec), str(w / "p16"), "--format", "png16", "--quiet"]) == 0
        (w / "plink").mkdir()  # trial O 15: png16 frames linked in from outside the folder
        for frame in sorted((w / "p16").glob("frame-*.png"))[:3]:
            (w / "plink" / frame.name).symlink_to(frame)
        np.save(w / "empty.npy", np.zeros((0,), np.uint16))
        np.save(w / "empty3.npy", np.zeros((0, 4, 4), np.uint16))
        np.save(w / "float.npy", np.zeros((4, 4), np.float32))
        np.save(w / "ok.npy", np.full((2, 240, 320), 800, np.uint16))
        np.save(w / "one.npy", np.full((1, 1), 800, np.uint16))
        np.save(w / "wide.npy", np.full((1, 4, 20000), 800, np.uint16))
        np.savez(w / "exists.npz", depth=np.zeros((1, 2, 2), np.uint16))
        (w / "zero.npy").write_bytes(b"")
        (w / "zero.png").write_bytes(b"")
        (w / "trunc.npy").write_bytes(b"\x93NUMPY\x01\x00")
        (w / "text.txt").write_text("not depth\n")
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(w / "rgb8.png")
        from PIL import PngImagePlugin  # trial O: a depthview marker naming no format

        marked = PngImagePlugin.PngInfo()
        marked.add_text("depthview.depth_format", "BOGUS")
        Image.fromarray(np.full((4, 6), 700, np.uint16)).save(w / "badmark.png", pnginfo=marked)
        _png16(w / "rgb16.png", np.full((4, 4, 3), 1000, np.uint16), 2)
        (w / "mixed").mkdir()
        Image.fromarray(np.full((4, 6), 500, np.uint16)).save(w / "mixed" / "a_depth.png")
        Image.fromarray(np.full((8, 6), 500, np.uint16)).save(w / "mixed" / "b_depth.png")
        tiny = []  # trial O 14: a zero plane that gives no camera (fx 6e31, fx 5e-30)
        for field in ("reference_pixel_size", "reference_distance"):
            layout = json.loads(dv.Registration.default().to_json())
            layout["reg_info"]["zero_plane_info"][field] = 1e-30
            tiny.append(json.dumps(layout))
        for name, text in (
            ("badjson", "{not json"),
            ("emptyjson", ""),
            ("tinypixel", tiny[0]),
            ("tinydistance", tiny[1]),
        ):
            shutil.copytree(rec, w / name)
            (w / name / "device.json").write_text(text)
        shutil.copytree(rec, w / "emptyindex")
        (w / "emptyindex" / "INDEX.txt").write_text("")
        (w / "emptydir").mkdir()
        # convert (issue 21): a recording with colour, one zipped, calibrations that cannot fit
        write_scene(w / "scenes" / "desk", 3)
        zip_folder(w / "scenes", w / "recs.zip")
        nyu = dv.StereoCalibration.nyu()
        millimetres = tuple(1000 * v for v in nyu.translation)
        (w / "mm.json").write_text(
            dv.StereoCalibration(
                nyu.depth, nyu.colour, rotation=nyu.rotation, translation=millimetres
            ).to_json()
        )
        (w / "small.json").write_text(
            dv.StereoCalibration(
                nyu.depth, nyu.colour, rotation=nyu.rotation, width=320, height=240
            ).to_json()
        )
        # convert (issue 21, second trial): two depth frames at one host time, a long
        # recording to interrupt, recordings past the depth limit, a TUM frame without lists
        dup = write_scene(w / "recdup", 5)
        index = (dup / "INDEX.txt").read_text().split()
        d1, d2 = [n for n in index if n.startswith("d-")][1:3]
        same = f"d-{d1.split('-')[1]}-{d2.split('-')[2]}"  # frame 2 at frame 1's host time
        (dup / d2).rename(dup / same)
        (dup / "INDEX.txt").write_text("".join(f"{same if n == d2 else n}\n" for n in index))
        write_scene(w / "rec300", 300, link=True)
        write_scene(w / "tree" / "a" / "rec", 2)
        write_scene(w / "tree" / "l1" / "l2" / "l3" / "deep3", 2)  # 4 levels: converted
        write_scene(w / "tree" / "l1" / "l2" / "l3" / "l4" / "deep4", 2)  # 5: named
        zip_folder(w / "tree", w / "tree.zip")
        (w / "clash" / "frame-000001.png").mkdir(parents=True)  # a folder with a frame's name
        (w / "clash" / "notes.txt").write_text("mine\n")
        (w / "idxclash" / "INDEX.txt").mkdir(parents=True)  # a recording file's name
        (w / "idxclash" / "notes.txt").write_text("mine\n")
        np.save(w / "rgb.npy", np.zeros((480, 640, 3), np.uint8))  # a colour image
        np.save(w / "e640.npy", np.zeros((0, 640), np.uint16))
        (w / "mm16").mkdir()  # millimetres past 2047: cannot be raw 11-bit disparity
        shutil.copytree(rec, w / "bigtime")  # trial AJ D8: a time past the one limit (2**32 s)
        names = (w / "bigtime" / "INDEX.txt").read_text().split()
        (w / "bigtime" / names[0]).rename(w / "bigtime" / f"d-99{names[0][2:]}")
        (w / "bigtime" / "INDEX.txt").write_text(f"d-99{names[0][2:]}\n" + "\n".join(names[1:]))
        np.savez(
            w / "hugetime.npz", depth=np.full((2, 6, 8), 800, np.uint16), timestamp=[1e300, 1e300]
        )
        Image.fromarray(np.full((4, 6), 3000, np.uint16)).save(w / "mm16" / "a_depth.png")
        (w / "ro").mkdir(mode=0o555)  # what a normal user cannot write to (HOW user)
        (w / "locked").mkdir(mode=0o000)
        # issue 22's trial: inputs a normal user cannot read, arrays that are not depth,
        # an image a screenshot must not replace, times that go backwards
        shutil.copytree(rec, w / "z000")
        np.save(w / "unread.npy", np.full((2, 4, 4), 800, np.uint16))
        np.save(w / "bool.npy", np.zeros((480, 640), bool))
        (w / "tum").mkdir()
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(w / "tum" / "TUM_color.png")
        np.savez(
            w / "badts.npz", depth=np.full((3, 6, 8), 800, np.uint16), timestamp=[3.0, 1.0, 2.0]
        )
        np.savez(  # trial Q: one time for every frame (a burst stamped once)
            w / "same.npz", depth=np.full((3, 6, 8), 800, np.uint16), timestamp=[1.0, 1.0, 1.0]
        )
        np.savez(  # trial O: times that step back, in frames a recording can hold
            w / "back640.npz",
            depth=np.full((3, 480, 640), 800, np.uint16),
            timestamp=[1700000003.0, 1700000001.0, 1700000002.0],
        )
        shutil.copytree(rec, w / "dupidx")  # trial O: INDEX.txt names a depth frame twice
        index = (rec / "INDEX.txt").read_text().split()
        second = [n for n in index if n.startswith("d-")][1]
        (w / "dupidx" / "INDEX.txt").write_text(
            "".join(f"{n}\n" * (2 if n == second else 1) for n in index)
        )
        assert main(["export", str(w / "dupidx"), str(w / "dupidx.npz"), "--quiet"]) == 0
        np.savez(  # trial AN D8: a tilt no Kinect reports, and an infinite one
            w / "tilt.npz",
            depth=np.full((2, 6, 8), 800, np.uint16),
            timestamp=[0.0, 0.1],
            tilt_deg=[1e9, float("nan")],
        )
        np.savez(  # trial AR D7: a tilt without an accelerometer reading
            w / "tiltonly.npz",
            depth=np.full((2, 480, 640), 800, np.uint16),
            timestamp=[0.0, 0.1],
            tilt_deg=[70.0, 10.0],
        )
        np.savez(
            w / "inftilt.npz",
            depth=np.full((2, 6, 8), 800, np.uint16),
            timestamp=[0.0, 0.1],
            tilt_deg=[0.0, float("inf")],
        )
        np.savez(
            w / "nants.npz",
            depth=np.full((3, 6, 8), 800, np.uint16),
            timestamp=[0.0, float("nan"), 2.0],
        )
        shutil.copytree(rec, w / "wrongsize")  # its second depth frame is 320x240
        second = [n for n in (rec / "INDEX.txt").read_text().split() if n.startswith("d-")][1]
        (w / "wrongsize" / second).write_bytes(
            b"P5 320 240 65535\n" + np.full((240, 320), 800, "<u2").tobytes()
        )
        # trial O: links to outputs someone keeps (a "latest" link)
        write_scene(w / "kept", 2)
        (w / "keptlink").symlink_to("kept")
        assert (
            main(
                [
                    "export",
                    "sample",
                    str(w / "p16kept"),
                    "--format",
                    "png16",
                    "--frames",
                    "2",
                    "--quiet",
                ]
            )
            == 0
        )
        (w / "p16link").symlink_to("p16kept")
        (w / "npzlink.npz").symlink_to("exists.npz")
        nocolour = write_scene(w / "nocolour", 3)  # trial O: every colour image cut short
        for ppm in nocolour.glob("r-*.ppm"):
            ppm.write_bytes(ppm.read_bytes()[:100])
        hd = write_scene(w / "hdcolour", 6)  # trial O: its third colour image is 1280x1024
        third = [n for n in (hd / "INDEX.txt").read_text().split() if n.startswith("r-")][2]
        (hd / third).write_bytes(b"P6 1280 1024 255\n" + bytes(1280 * 1024 * 3))
        (w / "tumc000").mkdir()  # a depth image beside a colour image a user cannot read
        Image.fromarray(np.full((4, 4), 1000, np.uint16)).save(w / "tumc000" / "TUM_depth.png")
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(w / "tumc000" / "TUM_color.png")
        shutil.copytree(rec, w / "fifo")  # trial O: a named pipe for a depth frame's file
        third = [n for n in (rec / "INDEX.txt").read_text().split() if n.startswith("d-")][2]
        (w / "fifo" / third).unlink()
        os.mkfifo(w / "fifo" / third)
        (w / "fifoidx").mkdir()  # ... for INDEX.txt
        os.mkfifo(w / "fifoidx" / "INDEX.txt")
        shutil.copytree(rec, w / "fifojson")  # ... for device.json
        (w / "fifojson" / "device.json").unlink(missing_ok=True)
        os.mkfifo(w / "fifojson" / "device.json")
        shutil.copytree(rec, w / "dirframe")  # trial Q 12: a listed name is a folder
        shutil.copytree(rec, w / "dirdump")
        write_scene(w / "dirvideo", 3)  # (the sample has no colour)
        for kind, name in (("frame", "d-"), ("video", "r-"), ("dump", "a-")):
            names = (w / f"dir{kind}" / "INDEX.txt").read_text().split()
            first = next(n for n in names if n.startswith(name))
            (w / f"dir{kind}" / first).unlink()
            (w / f"dir{kind}" / first).mkdir()
        shutil.copytree(rec, w / "linkout")  # trial AJ D12: a frame linked out of the recording
        second = [n for n in (rec / "INDEX.txt").read_text().split() if n.startswith("d-")][1]
        (w / "linkout" / second).unlink()
        (w / "linkout" / second).symlink_to(rec / second)
        for name, target in (  # trial Q 14: a device.json that is a link to nothing
            ("jsonlinkout", "/nonexistent-mount/kinect-A/device.json"),
            ("jsonlinkin", "kinect-A.json"),
            ("jsonloop", "device.json"),
        ):
            shutil.copytree(rec, w / name)
            (w / name / "device.json").unlink(missing_ok=True)
            (w / name / "device.json").symlink_to(target)
        with dv.open("demo:1", realtime=False) as demo:  # trial O: an export of IR frames
            demo.set_video_format(dv.VideoFormat.IR_8BIT)
            dv.export([next(demo) for _ in range(3)], w / "ir.npz")
        np.save(w / "u32big.npy", np.full((4, 4), 70000, np.uint32))  # trial V 1
        np.save(w / "allnone.npy", np.full((480, 640), 2047, np.uint16))  # trial V 11
        os.mkfifo(w / "pipe.npy")  # trial X 5
        same = np.random.default_rng(3).integers(500, 1000, (4, 480, 640)).astype(np.uint16)
        np.savez(w / "eqts.npz", depth=same, timestamp=np.array([5.0, 5.0, 5.0, 5.1]))  # X 1
        (w / "huge.pgm").write_bytes(b"P5 100000 100000 65535\n" + b"\x01\x02" * 3072)  # V 9
        with zipfile.ZipFile(w / "slip.zip", "w") as slip:  # trial X 8: members under ../
            for f in sorted(rec.iterdir()):
                slip.write(f, "../" + f.name)
        shutil.copytree(rec, w / "mj" / "manifest.jsonl")  # trial X 9: the manifest's name
        shutil.copytree(rec, w / "idxlink")  # trial V 10: an INDEX.txt linked to the source's
        (w / "idxlink" / "INDEX.txt").unlink()
        (w / "idxlink" / "INDEX.txt").symlink_to(rec / "INDEX.txt")
        (w / "dslink").mkdir()  # ... and a dataset's manifest linked to another file
        (w / "dslink" / "manifest.jsonl").symlink_to(w / "text.txt")
        negative = np.full((2, 480, 640), 800, np.uint16)  # trial V 7: times before 0
        np.savez(w / "negts.npz", depth=negative, timestamp=np.array([-1.0, -0.5]))
        np.save(w / "odd.npy", np.full((2, 481, 641), 800, np.uint16))  # trial O: odd sizes
        write_scene(w / "convsrc" / "scene1", 6, video_every=2)  # trial Q 4: convert's npz
        convert = ["convert", str(w / "convsrc"), str(w / "conv"), "--format", "npz", "--quiet"]
        assert main(convert) == 0
        (w / "tumhd").mkdir()  # trial G: colour of another size than the depth
        Image.fromarray(np.full((480, 640), 5001, np.uint16)).save(w / "tumhd" / "TUM_depth.png")
        Image.fromarray(np.zeros((960, 1280, 3), np.uint8)).save(w / "tumhd" / "TUM_color.png")
        for name in ("tumlist", "tumgone"):  # trial O: TUM's lists are its frames
            (w / name / "depth").mkdir(parents=True)  # 4 files, 2 listed, macOS's ._ files
            for t in ("1.000000", "1.033333", "1.066667", "1.999999"):
                depth = np.full((4, 6), 5000, np.uint16)
                Image.fromarray(depth).save(w / name / "depth" / f"{t}.png")
                (w / name / "depth" / f"._{t}.png").write_bytes(b"\x00\x05\x16\x07" + bytes(80))
            lines = "1.000000 depth/1.000000.png\n1.066667 depth/1.066667.png\n"
            (w / name / "depth.txt").write_text(lines)
        with (w / "tumgone" / "depth.txt").open("a") as fh:
            fh.write("1.100000 depth/1.100000.png\n")
        (w / "tumback" / "depth").mkdir(parents=True)  # trial Q: a depth.txt newest first
        for t in ("1.10", "1.11", "1.12"):
            depth = np.full((4, 6), 5000, np.uint16)
            Image.fromarray(depth).save(w / "tumback" / "depth" / f"{t}.png")
        (w / "tumback" / "depth.txt").write_text(
            "1.12 depth/1.12.png\n1.11 depth/1.11.png\n1.10 depth/1.10.png\n"
        )
        (w / "tumextra" / "depth").mkdir(parents=True)  # trial AN D6: rgb.txt lists one more
        (w / "tumextra" / "rgb").mkdir()
        for t in ("1.000000", "1.033333", "8.000000"):
            if t != "8.000000":
                Image.fromarray(np.full((4, 6), 5000, np.uint16)).save(
                    w / "tumextra" / "depth" / f"{t}.png"
                )
            Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(w / "tumextra" / "rgb" / f"{t}.png")
        (w / "tumextra" / "depth.txt").write_text(
            "1.000000 depth/1.000000.png\n1.033333 depth/1.033333.png\n"
        )
        (w / "tumextra" / "rgb.txt").write_text(
            "1.000000 rgb/1.000000.png\n1.033333 rgb/1.033333.png\n8.000000 rgb/8.000000.png\n"
        )
        (w / "7sK").mkdir()  # trial O: a 7-Scenes-layout folder with its own camera
        for i in range(2):
            depth = np.full((4, 6), 1200, np.uint16)
            Image.fromarray(depth).save(w / "7sK" / f"frame-{i:06d}.depth.png")
        (w / "7sK" / "camera-intrinsics.txt").write_text("500 0 300\n0 510 200\n0 0 1\n")
        header = b"P5\n# Created by GIMP\n640 480\n65535\n"  # trial Q 9: PGMs as others write
        (w / "gimp.pgm").write_bytes(header + np.full((480, 640), 800, ">u2").tobytes())
        (w / "p8.pgm").write_bytes(b"P5\n640 480\n255\n" + bytes(640 * 480))
        (w / "plain.pgm").write_bytes(b"P2\n4 2\n2047\n1 2 3 4\n5 6 7 8\n")
        (w / "7sT").mkdir()  # trial S 2: a broken colour image and a broken depth image
        for i in range(4):
            depth = np.full((48, 64), 1200 + i, np.uint16)
            Image.fromarray(depth).save(w / "7sT" / f"frame-{i:06d}.depth.png")
            noise = np.random.default_rng(i).integers(0, 255, (48, 64, 3), np.uint8)
            Image.fromarray(noise).save(w / "7sT" / f"frame-{i:06d}.color.png")
        for name in ("frame-000001.color.png", "frame-000002.depth.png"):
            data = (w / "7sT" / name).read_bytes()
            (w / "7sT" / name).write_bytes(data[: len(data) // 2])
        (w / "7sC").mkdir()  # trial Q 7: 7-Scenes with its colour (another camera's)
        Image.fromarray(np.full((4, 6), 1200, np.uint16)).save(w / "7sC" / "frame-000000.depth.png")
        Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(w / "7sC" / "frame-000000.color.png")
        far = np.full((480, 640), 800, np.uint16)  # trial I: right half past the range
        far[:, 320:] = 1500
        np.save(w / "far.npy", far)
        # trial O: a lone PGM as OpenCV writes it (big-endian), and a d- file copied alone
        cv_mm = np.full((480, 640), 1500, np.uint16)
        cv_mm[:, :100] = 0
        assert cv2.imwrite(str(w / "cv_mm.pgm"), cv_mm)
        first = next(n for n in (rec / "INDEX.txt").read_text().split() if n.startswith("d-"))
        shutil.copy(rec / first, w / "lone_d.pgm")
        (w / "z000").chmod(0o000)
        (w / "unread.npy").chmod(0o000)
        (w / "tumc000" / "TUM_color.png").chmod(0o000)
        (w / "ro").chmod(0o555)  # (mkdir's mode is cut by the umask)
        (w / "locked").chmod(0o000)
        try:
            yield w
        finally:
            (w / "ro").chmod(0o755)
            (w / "locked").chmod(0o755)
            (w / "z000").chmod(0o755)
            (w / "unread.npy").chmod(0o644)
            (w / "tumc000" / "TUM_color.png").chmod(0o644)


@pytest.fixture(scope="module")
def small_disk() -> Iterator[Path]:
    """A real file system that fills up: a 2 MB tmpfs."""
    with tmpfs("2m") as disk:
        yield disk


@pytest.fixture(scope="module")
def ports() -> Iterator[dict[str, str]]:
    """PORT: one another program listens on; DEADPORT: one nothing listens on."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    free = str(dead.getsockname()[1])
    dead.close()
    yield {"PORT": str(taken.getsockname()[1]), "DEADPORT": free}
    taken.close()


# -- running a case --------------------------------------------------------------------------
def _argv(case: Case, world: Path, out: Path, ports: dict[str, str]) -> list[str]:
    argv = []
    for a in case.argv:
        if a == "EMPTY":  # an empty argument, as ``""`` in a shell
            a = ""
        elif a.startswith("W/"):
            a = str(world / a[2:])
        elif a == "O" or a.startswith("O/"):
            a = str(out / a[2:]) if a != "O" else str(out)
        for name, port in ports.items():
            a = a.replace(name, port) if "DEADPORT" not in a or name == "DEADPORT" else a
        argv.append(a)
    return argv


def _fill(disk: Path) -> None:
    fill(disk, FREE_BYTES)


def _in_process(argv: list[str], without: str | None = None) -> Ran:
    saved = os.environ.pop(without, None) if without else None
    try:
        return cli(*argv)
    finally:
        if without and saved is not None:
            os.environ[without] = saved


#: A subprocess as a normal user meets folder permissions: root without the capabilities
#: that ignore them (CI runs as root), else the user that runs the tests.
AS_USER = (
    ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
    if os.geteuid() == 0
    else []
)


def _as_user(argv: list[str]) -> Ran:
    done = subprocess.run(
        [*AS_USER, sys.executable, "-m", "depthview", *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def _subprocess(argv: list[str]) -> Ran:
    """In a process of its own: one that hangs (a named pipe opened) fails, not the run."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "depthview", *argv], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{argv}: no end within 60 s") from None
    return Ran(done.returncode, done.stdout, done.stderr)


def _interrupted(argv: list[str], delay: float, out: Path, sig: int = signal.SIGINT) -> Ran:
    """Ctrl-C (or ``sig``) ``delay`` s after the command's first words on stderr (progress,
    address) or its first file under ``out`` (a recording says nothing until it ends)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "depthview", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    first = threading.Event()
    err: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        while chunk := proc.stderr.read(1):
            err.append(chunk)
            first.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 30
    while not first.wait(0.05) and time.monotonic() < deadline:
        if any(p.is_file() and p.stat().st_size for p in out.rglob("*")):
            break
    time.sleep(delay)
    proc.send_signal(sig)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"{argv}: no end within 20 s of signal {sig}") from None
    reader.join(5)
    assert proc.stdout is not None
    return Ran(proc.returncode, proc.stdout.read(), "".join(err))


def _inputs(argv: list[str], world: Path) -> dict[str, str]:
    """The hash of every world path the command names (and the world's top folder)."""
    named = {Path(a) for a in argv if a.startswith(str(world))}
    named = {p if p.exists() else p.parent for p in named}
    return {str(p): tree_hash(p) for p in named if p.exists() and p != world} | {
        "world names": " ".join(sorted(p.name for p in world.iterdir()))
    }


@pytest.mark.parametrize("case", CASES, ids=str)
def test_trial(
    case: Case, world: Path, tmp_path: Path, ports: dict[str, str], request: pytest.FixtureRequest
) -> None:
    out = tmp_path / "out"
    if case.how == "full":
        small_disk: Path = request.getfixturevalue("small_disk")
        _fill(small_disk)
        out = small_disk / "out"
    out.mkdir()
    argv = _argv(case, world, out, ports)
    before = _inputs(argv, world)
    if case.how.startswith("int@"):
        ran = _interrupted(argv, float(case.how[4:]), out)
    elif case.how.startswith("term@"):
        ran = _interrupted(argv, float(case.how[5:]), out, signal.SIGTERM)
    elif case.how == "user":
        ran = _as_user(argv)
    elif case.how == "sub":
        ran = _subprocess(argv)
    else:
        assert case.how in ("in", "full", "in-DISPLAY"), case.how
        ran = _in_process(argv, "DISPLAY" if case.how == "in-DISPLAY" else None)
    err = ran.err
    assert ran.code == case.code, err
    for bad in ("Traceback", "Exception ignored", "ERROR", " WARN "):
        assert bad not in err, err
    if case.code == 2:
        assert len(ran.error_lines) == 1, err
        assert ran.error_lines[0].startswith("depthview"), err
        assert case.stderr_has in ran.error_lines[0], err
    else:
        assert case.stderr_has in ran.out + err, err
        assert "error" not in err.lower() or case.code == 130, err
    assert _inputs(argv, world) == before, "an input changed"
    assert not list(out.rglob("*.partial")) and not list(out.rglob(".*.partial"))
    for check in case.after:
        what, _, where = check.partition(":")
        path = Path(_argv(Case(0, "", 0, (where,), "", ()), world, out, ports)[0])
        if what == "exists":
            assert path.exists() and (path.is_dir() or path.stat().st_size > 0), check
        elif what == "absent":
            assert not path.exists(), check
        elif what == "empty":
            assert not list(path.iterdir()), f"{check}: {list(path.iterdir())}"
        else:
            raise AssertionError(f"unknown check {check!r}")


def test_the_trial_is_big_enough() -> None:
    """Issue 18: at least 150 cases over every command."""
    assert len(CASES) >= 150
    commands = {c.argv[0] for c in CASES}
    assert {"record", "export", "stream", "info", "view", "bench"} <= commands
    formats = " ".join(" ".join(c.argv) for c in CASES)
    for fmt in (".mp4", ".npz", ".ply", ".rrd", ".mcap", "png16", "--to rerun", "foxglove"):
        assert fmt in formats
