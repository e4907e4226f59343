"""What the viewer saves (``p`` snapshots, ``R`` recordings) when it cannot, and whether a
snapshot reads back true: the defects new-user trial K found (issue 22). The full disk is a
real one (a small tmpfs), the sources real ones (the sample recording, the demo, files)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import depthview as dv
from _helpers_disk import fill, tmpfs
from _helpers_sources import write_recording
from _helpers_viewer import press, wait_for
from _registration_cases import PARAMETER_SETS
from depthview.frame import DepthFormat, Frame, VideoFormat
from depthview.viewer import Layout, Viewer, overlays
from depthview.viewer.overlays import ELLIPSIS


@pytest.fixture
def small_disk() -> Any:
    with tmpfs("1536k") as disk:
        yield disk


def hud_meant(v: Viewer) -> list[str]:
    return [t for t, _ in v.overlays.hud_lines(v.state, v.info())]


def messages_drawn(v: Viewer) -> tuple[str, ...]:
    v.draw()
    return next((p.text for p in v.placed if p.name == "messages"), ())


def assert_message_whole(v: Viewer, message: str) -> None:
    """The bottom line shows every word of ``message``, none cut at the window's edge."""
    drawn = messages_drawn(v)
    assert not any(ELLIPSIS in s for s in drawn), drawn
    # every character, in order (a path longer than a line goes on over the next)
    assert "".join("".join(drawn).split()) == "".join(message.split()), drawn
    width = v.display.get_width()
    size = overlays.font_size(v.display.get_size())
    rendered = [v.overlays.text.render(s, (255, 255, 255), size) for s in drawn]
    assert all(r.get_width() < width for r in rendered)


def paused_on_a_frame(v: Viewer) -> Frame:
    press(v, " ")  # paused, so the frame saved is the frame still shown afterwards
    wait_for(v, lambda: v.frame is not None)
    time.sleep(0.05)
    v.step()
    frame = v.frame
    assert frame is not None
    return frame


# -- 1. a snapshot on a full disk -----------------------------------------------------------
def test_a_snapshot_that_fills_the_disk_keeps_nothing_and_says_disk_full(
    small_disk: Path, viewers: Any
) -> None:
    """Trial K: "snapshot failed: 307200 requested and 57280 written", and the folder kept a
    truncated -depth.npy (np.load failed) and the colour PNG under their final names."""
    fill(small_disk, 200_000)  # room for the window's PNG, not for the depth
    out = small_disk / "full"
    v = viewers(dv.open("sample", loop=True), snapshot_dir=out, size=(640, 480))
    paused_on_a_frame(v)
    press(v, "p")
    message = v.state.message
    assert message.startswith("snapshot failed: depthview-"), message
    assert "-depth.npz: disk full; nothing saved" in message, message
    assert v.snapshots == []
    assert sorted(p.name for p in out.iterdir()) == []  # no half file, no orphan PNG
    assert_message_whole(v, message)
    # With room again, the same key saves the three files whole.
    (small_disk / "filler").unlink()
    press(v, "p")
    assert len(v.snapshots) == 3, v.state.message
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in v.snapshots)


# -- 5. a snapshot's depth reads back as the distances shown --------------------------------
def _read_back(v: Viewer, frame: Frame) -> None:
    """Snapshot -> ``dv.open`` -> the same metres as the frame (and its 16-bit PNG too)."""
    press(v, "p")
    (npz,) = [p for p in v.snapshots if p.name.endswith("-depth.npz")]
    (png,) = [p for p in v.snapshots if p.name.endswith("-depth.png")]
    want = dv.to_metres(frame.depth, frame.depth_format)
    with dv.open(str(npz)) as src:
        back = src.read()
        h, w = frame.depth.shape
        unfiltered = frame.meta.get("unfiltered", frame).depth.shape
        k = v.source.intrinsics.for_size(w, h, calibrated=(unfiltered[1], unfiltered[0]))
        assert src.intrinsics == k  # trial M: the source's camera, for this frame's size
    assert back.depth_format is frame.depth_format
    assert np.array_equal(dv.to_metres(back.depth, back.depth_format), want, equal_nan=True)
    with dv.open(str(png)) as src:
        mm = src.read()
    assert mm.depth_format.is_metric
    assert src.intrinsics == k  # trial R D5: the PNG carries the camera too
    got = dv.to_metres(mm.depth, mm.depth_format)
    valid = np.isfinite(want) & (want > 0)
    assert np.allclose(got[valid], want[valid], atol=1e-3)  # a millimetre's rounding


def test_snapshot_of_raw_depth_reads_back_as_raw(viewers: Any) -> None:
    v = viewers(dv.open("sample", loop=True), layout=Layout.DEPTH)
    frame = paused_on_a_frame(v)
    assert frame.depth_format is DepthFormat.RAW_11BIT
    _read_back(v, frame)


def test_snapshot_of_filtered_depth_reads_back_as_millimetres(viewers: Any) -> None:
    """Trial K: with filters on, the -depth.npy held filtered millimetres that depthview
    read back as raw 11-bit disparity (no marker said otherwise)."""
    v = viewers(dv.open("sample", loop=True), layout=Layout.DEPTH, filters="smooth")
    wait_for(v, lambda: v.frame is not None and "unfiltered" in v.frame.meta)
    frame = paused_on_a_frame(v)
    assert "unfiltered" in frame.meta and frame.depth_format is DepthFormat.MM
    _read_back(v, frame)


def test_snapshot_of_tum_depth_reads_back_in_fifths_of_a_millimetre(
    viewers: Any, tmp_path: Path
) -> None:
    """Trial K: TUM depth (10000 = 2 m) saved in a .npy read back as millimetres (10 m)."""
    tum = tmp_path / "tum2m.png"
    Image.fromarray(np.full((480, 640), 10000, np.uint16)).save(tum)
    v = viewers(dv.open(str(tum), depth_format="tum"), layout=Layout.DEPTH)
    frame = paused_on_a_frame(v)
    assert frame.depth_format is DepthFormat.TUM
    _read_back(v, frame)
    (npz,) = [p for p in v.snapshots if p.name.endswith("-depth.npz")]
    with dv.open(str(npz)) as src:
        assert np.allclose(dv.to_metres(src.read().depth, DepthFormat.TUM), 2.0)


def test_snapshot_of_registered_depth_reads_back_as_registered(
    viewers: Any, tmp_path: Path
) -> None:
    src = tmp_path / "reg.npz"
    depth = np.tile(np.linspace(500, 3000, 640).astype(np.uint16), (2, 480, 1))
    np.savez(src, depth=depth, depth_format=np.array(int(DepthFormat.REGISTERED)))
    v = viewers(dv.open(str(src)), layout=Layout.DEPTH)
    frame = paused_on_a_frame(v)
    assert frame.depth_format is DepthFormat.REGISTERED
    _read_back(v, frame)


def test_snapshot_png_of_registered_depth_keeps_the_camera(viewers: Any, tmp_path: Path) -> None:
    """Trial R D5: a recording with a device.json viewed as registered depth (libfreenect's
    registered model: fx 575.8, cx 320) saved a -depth.png that read back alone with the
    Kinect v1 defaults (fx 594.21, cx 339.5): every point moved (4 cm at the centre). The
    PNG now carries its camera: read back alone, the same intrinsics and the same points."""
    folder = tmp_path / "rec"
    write_recording(folder, n=2, video=True, seed=5)
    layout = PARAMETER_SETS["perturbed"]
    (folder / "device.json").write_text(json.dumps(layout))
    v = viewers(dv.open(str(folder), depth_format="registered", loop=True), layout=Layout.DEPTH)
    frame = paused_on_a_frame(v)
    assert frame.depth_format is DepthFormat.REGISTERED
    _read_back(v, frame)
    (png,) = [p for p in v.snapshots if p.name.endswith("-depth.png")]
    model = dv.Registration.from_dict(layout).depth_intrinsics()  # libfreenect's, not read
    assert (model.fx, model.cx, model.cy) != (594.21, 339.5, 242.7)
    with dv.open(str(png)) as src:
        assert src.intrinsics == model
        assert src.units_note.endswith("intrinsics: the PNG's own"), src.units_note
        back = src.read()
    want = dv.point_cloud(frame.depth, depth_format=frame.depth_format, intrinsics=model)
    got = dv.point_cloud(back.depth, depth_format=back.depth_format, intrinsics=src.intrinsics)
    assert got.points.shape == want.points.shape and len(want.points) > 1000
    assert np.allclose(got.points, want.points, atol=2e-3)  # a millimetre's rounding


# -- 2. a recording that fills the disk -----------------------------------------------------
def test_a_recording_that_fills_the_disk_drops_the_rec_line(viewers: Any, small_disk: Path) -> None:
    """Trial K: "recording stopped: ... disk full" at the bottom while the HUD kept the red
    "REC ..." line of a recording no longer being written."""
    fill(small_disk, 1_000_000)  # a frame or so
    out = small_disk / "full"
    v = viewers(dv.open("sample", loop=True), snapshot_dir=out, size=(640, 480))
    wait_for(v, lambda: v.frame is not None)
    press(v, "R")
    assert v.state.recording is not None, v.state.message
    assert any(s.startswith("REC ") for s in hud_meant(v))
    wait_for(v, lambda: v.state.recording is None, timeout=20)
    assert not any(s.startswith("REC ") for s in hud_meant(v)), hud_meant(v)
    message = v.state.message
    assert "disk full" in message, message
    assert_message_whole(v, message)
    # R again starts a new recording (the failed one is over), not a stop of the old one.
    (small_disk / "filler").unlink()
    time.sleep(1.1)  # a recording's folder is named by the second
    press(v, "R")
    assert v.state.recording is not None, v.state.message
    press(v, "R")


# -- 3. R on a source a recording cannot hold -----------------------------------------------
def test_recording_a_millimetre_source_is_refused_in_a_line_that_fits(
    viewers: Any, tmp_path: Path
) -> None:
    """Trial K (a 7-Scenes folder): "recording stopped: fakenect recordings hold raw
    11-bit ... save them…" cut at the window's edge, a REC line for a folder that did not
    exist."""
    np.save(tmp_path / "mm.npy", np.full((2, 480, 640), 1185, np.uint16))
    out = tmp_path / "recmm"
    v = viewers(
        dv.open(str(tmp_path / "mm.npy"), depth_format="mm", loop=True),
        snapshot_dir=out,
        size=(640, 480),
    )
    wait_for(v, lambda: v.frame is not None)
    press(v, "R")
    assert v.state.recording is None
    assert not any(s.startswith("REC ") for s in hud_meant(v))
    message = v.state.message
    assert message == (
        "cannot record: a recording holds 640x480 raw 11-bit depth and RGB, this source "
        "gives millimetres; save it with depthview export"
    )
    assert_message_whole(v, message)
    assert not out.exists()  # no empty folder left


# -- 6. the recording lines fit at 640 px ---------------------------------------------------
def test_ir_asked_for_while_recording_is_refused_and_the_recording_goes_on(
    viewers: Any,
) -> None:
    """Trial R D6: IR turned on (``f``) during a recording ended it, "stopped early", with
    a hint to ``--depth-only``, which ``view`` lacks; R with IR on records depth alone. Now
    ``f`` is refused while R records and said in a line that fits at 640 px; the recording
    goes on with its RGB video, and R then saves it whole."""
    v = viewers(dv.open("demo"), size=(640, 480))
    wait_for(v, lambda: v.frame is not None)
    press(v, "R")
    folder = v.state.recording
    assert folder is not None
    start = v.frame.index
    wait_for(v, lambda: v.frame.index > start + 3)
    press(v, "f")
    message = v.state.message
    assert (
        message == "not while recording: a recording keeps the video it started with (R stops it)"
    )
    assert_message_whole(v, message)
    assert v.state.recording == folder
    shown = v.frame.index
    wait_for(v, lambda: v.frame.index > shown + 3)
    assert v.frame.video_format is VideoFormat.RGB
    press(v, "R")
    assert v.state.recording is None
    assert v.state.message.startswith(f"recording saved to {folder} ("), v.state.message
    lines = (folder / "INDEX.txt").read_text().splitlines()
    depth = sum(x.startswith("d-") for x in lines)
    assert depth > 6 and sum(x.startswith("r-") for x in lines) == depth


def test_a_recording_made_with_ir_on_says_the_video_was_not_kept(
    viewers: Any, tmp_path: Path, capsys: Any
) -> None:
    """Trial P (P10): R with the IR video shown recorded depth alone, and R again said
    "recording saved to ... (50 frames)" with no word of the video left out. The saved
    message says it (whole at 640 px), and stderr does, as the other R warnings."""
    out = tmp_path / "ir"
    v = viewers(dv.open("demo"), snapshot_dir=out, size=(640, 480))
    wait_for(v, lambda: v.frame is not None)
    press(v, "f")  # IR
    wait_for(v, lambda: v.frame.video_format is not dv.VideoFormat.RGB)
    press(v, "R")
    folder = v.state.recording
    assert folder is not None, v.state.message
    writer = v.effects._writer
    wait_for(v, lambda: writer.frames >= 3)
    press(v, "R")
    assert v.state.recording is None
    names = (folder / "INDEX.txt").read_text().split()
    depth = sum(n.startswith("d-") for n in names)
    assert depth >= 3 and not any(n.startswith("r-") for n in names), names  # no video
    message = v.state.message
    assert message == (
        f"recording saved to {folder} ({depth} frames); depth only, the IR video is not kept"
    )
    assert_message_whole(v, message)
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"depthview: warning: {folder}: depth only: a recording holds RGB video, so the IR "
        "video shown was not kept"
    ]


def test_snapshot_of_nyu_raw_depth_reads_back_as_its_millimetres(tmp_path: Path) -> None:
    """NYU's fit of raw disparity is no format a file holds (the .npz reader refuses it):
    its snapshot keeps the millimetres the fit measures, and says so in ``depth_format``."""
    from depthview.viewer.effects import _write_depth_npz

    raw = np.tile(np.linspace(400, 1000, 640).astype(np.uint16), (480, 1))
    frame = Frame(depth=raw, depth_format=DepthFormat.RAW_11BIT_NYU)
    path = tmp_path / "nyu-depth.npz"
    _write_depth_npz(path, frame, None, dv.KINECT_V1_DEPTH)
    with dv.open(str(path)) as src:
        back = src.read()
    assert back.depth_format is DepthFormat.MM
    want = dv.to_metres(raw, DepthFormat.RAW_11BIT_NYU)
    assert np.allclose(dv.to_metres(back.depth, back.depth_format), want, atol=5e-4)


# -- trial M (issue 22): a recording that kept no frame, R twice in a second ----------------
def _recordings(folder: Path) -> list[Path]:
    return sorted(folder.glob("depthview-*")) if folder.exists() else []


def test_a_recording_that_kept_no_frame_is_removed_and_said_so(viewers: Any) -> None:
    """Trial M: on a disk with room for no frame, R said "recording stopped: ... the
    recording so far stays valid" and left a folder with a 0-byte INDEX.txt that ``info``
    and ``view`` refuse."""
    with tmpfs("1536k") as disk:
        fill(disk, 200_000)  # less than one depth record (614 KB)
        out = disk / "full"
        v = viewers(dv.open("sample", loop=True), snapshot_dir=out, size=(640, 480))
        wait_for(v, lambda: v.frame is not None)
        press(v, "R")
        assert v.state.recording is not None, v.state.message
        wait_for(v, lambda: v.state.recording is None, timeout=20)
        message = v.state.message
        assert message.startswith("nothing recorded: "), message
        assert "disk full" in message and "valid" not in message, message
        assert _recordings(out) == []  # no folder a replay would refuse
        v.close()


def test_quitting_a_recording_that_kept_no_frame_leaves_no_folder(
    viewers: Any, tmp_path: Path, capsys: Any
) -> None:
    """R then q before any frame reached the recording (paused): no empty recording left."""
    out = tmp_path / "q"
    v = viewers(dv.open("sample", loop=True), snapshot_dir=out, size=(640, 480))
    paused_on_a_frame(v)
    press(v, "R")
    assert v.state.recording is not None, v.state.message
    press(v, "q")
    assert v.state.quit
    v.close()
    assert _recordings(out) == []
    assert "recording: nothing recorded" in capsys.readouterr().out


def test_r_again_within_the_same_second_makes_a_new_folder(viewers: Any, tmp_path: Path) -> None:
    """Trial M: R (start), R (stop), R within the same second was refused ("expected an
    empty or new folder, got 31 entries; use --append or --overwrite")."""
    out = tmp_path / "rrrr"
    v = viewers(dv.open("sample", loop=True), snapshot_dir=out, size=(640, 480))
    wait_for(v, lambda: v.frame is not None)
    stem = len("depthview-20261207-113240")
    for _ in range(10):  # until the stop and the new start fall in the same second
        press(v, "R")
        first = v.state.recording
        assert first is not None, v.state.message
        writer = v.effects._writer
        wait_for(v, lambda w=writer: w.frames > 0)
        press(v, "R")
        assert v.state.recording is None and first.is_dir()
        press(v, "R")
        second = v.state.recording
        assert second is not None, v.state.message  # never refused
        assert second != first and second.parent == out
        same_second = second.name[:stem] == first.name[:stem]
        writer = v.effects._writer
        wait_for(v, lambda w=writer: w.frames > 0)
        press(v, "R")
        if same_second:  # named by the same second, told apart by a number
            assert re.fullmatch(re.escape(first.name[:stem]) + r"-\d+", second.name), second
            break
    else:
        pytest.fail("no two recordings in the same second in ten tries")
    assert {first, second} <= set(_recordings(out))
    for folder in (first, second):  # each a recording a replay reads
        replay = dv.open(str(folder))
        assert replay.length
        replay.close()


def test_stepping_while_recording_goes_forward_only_at_the_sources_times(
    viewers: Any, tmp_path: Path
) -> None:
    """Trial P (P5): ``R`` while paused, then Right, Right, Left, Left, Home recorded source
    frames 17, 18, 17, 16, 0 as five frames 33 ms apart, their times made up so as to run
    forward. While recording, a step goes forward only: the two frames stepped to are
    recorded under the names (host and device time) the source's own files have; Left and
    Home are refused and said."""
    import pygame

    from depthview.sources import sample
    from depthview.viewer.actions import FORWARD_ONLY

    rec = sample.write_to(tmp_path / "rec")
    own = [s for s in (rec / "INDEX.txt").read_text().split() if s.startswith("d-")]
    v = viewers(dv.open(str(rec)), layout=Layout.DEPTH, snapshot_dir=tmp_path / "out")
    shown = paused_on_a_frame(v).index
    press(v, "R")
    folder = v.state.recording
    assert folder is not None
    for n in (1, 2):
        press(v, "", pygame.K_RIGHT)
        wait_for(v, lambda n=n: v.frame.index == shown + n)  # type: ignore[misc]
    said = []
    for key in (pygame.K_LEFT, pygame.K_LEFT, pygame.K_HOME):
        v.state.message = ""
        press(v, "", key)
        said.append(v.state.message)
    time.sleep(0.2)  # a frame read by mistake would reach the recorder meanwhile
    v.step()
    press(v, "R")
    recorded = [s for s in (folder / "INDEX.txt").read_text().split() if s.startswith("d-")]
    assert recorded == own[shown + 1 : shown + 3]
    assert said == [FORWARD_ONLY] * 3 and v.frame.index == shown + 2


def test_steps_over_a_broken_frame_move_each_time_and_record_each_frame_once(
    viewers: Any, tmp_path: Path
) -> None:
    """Trial U (D7, D8): in a recording whose 5th depth frame is cut short, Right from frame
    4 showed 6, and the next Right showed 6 again (the step was taken from the broken frame
    asked for); Left stayed on 6 likewise. ``R`` meanwhile recorded frame 6 twice, with its
    accelerometer records going back in time. Now each press moves one readable frame, and
    a recording holds each source frame once, as the source's own files name them."""
    import warnings

    import pygame

    from depthview.sources import sample

    rec = sample.write_to(tmp_path / "rec")
    own = [s for s in (rec / "INDEX.txt").read_text().split() if s.startswith("d-")]
    (rec / own[4]).write_bytes((rec / own[4]).read_bytes()[:1000])  # frame index 4 broken
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the skipped frame's warning
        v = viewers(dv.open(str(rec)), layout=Layout.DEPTH, snapshot_dir=tmp_path / "out")
        paused_on_a_frame(v)
        press(v, "", pygame.K_HOME)
        wait_for(v, lambda: v.frame.index == 0)
        shown = []
        for key, count in ((pygame.K_RIGHT, 7), (pygame.K_LEFT, 7)):
            for _ in range(count):
                before = v.frame.index
                press(v, "", key)
                wait_for(v, lambda b=before: v.frame.index != b)  # type: ignore[misc]
                shown.append(v.frame.index)
        assert shown == [1, 2, 3, 5, 6, 7, 8, 7, 6, 5, 3, 2, 1, 0]
        for _ in range(3):
            press(v, "", pygame.K_RIGHT)
            wait_for(v, lambda: v.state.seek_target is None)
        assert v.frame.index == 3
        press(v, "R")
        folder = v.state.recording
        assert folder is not None
        for _ in range(3):  # quick presses, to 4 (broken: 5 is read), 5 (again), 6
            press(v, "", pygame.K_RIGHT)
        wait_for(v, lambda: v.frame.index == 6 and v.state.seek_target is None)
        time.sleep(0.2)
        v.step()
        press(v, "R")
    lines = (folder / "INDEX.txt").read_text().split()
    assert len(lines) == len(set(lines)), lines
    assert [s for s in lines if s.startswith("d-")] == [own[5], own[6]]


def test_a_step_back_refused_while_recording_does_not_pause(viewers: Any, tmp_path: Path) -> None:
    """Trial Y (2): Left while ``R`` recorded was refused and said, and paused the playback:
    the recording stopped gaining frames while the HUD still said REC. A refused step
    changes nothing."""
    import pygame

    from depthview.sources import sample
    from depthview.viewer.actions import FORWARD_ONLY

    rec = sample.write_to(tmp_path / "rec")
    v = viewers(dv.open(str(rec), loop=True), layout=Layout.DEPTH, snapshot_dir=tmp_path / "out")
    wait_for(v, lambda: v.frame is not None)
    press(v, "R")
    assert v.state.recording is not None and not v.state.paused
    v.state.message = ""
    press(v, "", pygame.K_LEFT)
    assert v.state.message == FORWARD_ONLY and not v.state.paused
    shown = v.frame.index
    wait_for(v, lambda: v.frame.index != shown)  # playing on
    press(v, "R")
