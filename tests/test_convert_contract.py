"""``convert``'s contract (README, docs/DESIGN.md): every depth frame is kept, dropped with
its reason or counted bad, and the counts reconcile; pairing takes the nearest *usable*
colour frame (or TUM's one-to-one ``associate`` rule); a scene is reused only when its
inputs and parameters match; what cannot give a dataset is refused in one line, exit 2,
with nothing half-made left behind.

Property tests (Hypothesis) convert made recordings with random stream timings, gaps,
missing and corrupt colour records, and reruns with changed parameters; the expected
pairs come from brute-force computations written here from the rules' descriptions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import depthview as dv
from _helpers_cli import cli, tree_hash
from _helpers_datasets import T0, colour, sample_depths, write_scene, zip_folder
from depthview.datasets import pairing
from depthview.datasets.scenes import MAX_DEPTH, find_scenes
from depthview.errors import ExportError
from depthview.fakenect_format import TILT_STATE, entry_name, pnm_header
from depthview.outputs import claimed

SLOW = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _lines(out: Path) -> list[dict[str, object]]:
    return [json.loads(t) for t in (out / "manifest.jsonl").read_text().splitlines()]


def write_timed(
    folder: Path,
    depth_ms: list[int],
    colour_ms: list[int],
    corrupt: set[int] = frozenset(),  # type: ignore[assignment]
    missing: set[int] = frozenset(),  # type: ignore[assignment]
) -> tuple[list[float], list[float]]:
    """A recording with depth and colour frames at the given milliseconds after T0 (colour
    frame j truncated when j in ``corrupt``, named in INDEX.txt but absent when in
    ``missing``); each stream's times, in the order given, as INDEX.txt carries them."""
    folder.mkdir(parents=True)
    depths = sample_depths()
    entries: list[tuple[float, str, bytes | None]] = []
    for i, ms in enumerate(depth_ms):
        t = T0 + ms / 1000
        entries.append((t, entry_name("d", t, i), depths[i % len(depths)]))
        entries.append(
            (t + 0.0001, entry_name("a", t + 0.0001, i), TILT_STATE.pack(0, 819, 0, 0, 0, 0))
        )
    for j, ms in enumerate(colour_ms):
        t = T0 + ms / 1000
        data = pnm_header("P6") + colour(j).tobytes()
        entries.append(
            (
                t,
                entry_name("r", t, j),
                None if j in missing else data[: 1000 if j in corrupt else None],
            )
        )
    entries.sort(key=lambda e: e[0])
    for _, name, data in entries:
        if data is not None:
            (folder / name).write_bytes(data)
    (folder / "INDEX.txt").write_text("".join(f"{name}\n" for _, name, _ in entries))
    return [float(f"{T0 + ms / 1000:f}") for ms in depth_ms], [
        float(f"{T0 + ms / 1000:f}") for ms in colour_ms
    ]


def brute_associate(depth: list[float], other: list[float], max_dt: float) -> list[int]:
    """associate.py's rule as TUM describes it: every (colour, depth) pair within the
    limit, sorted by time difference (then colour time, depth time), taken greedily with
    each frame used once."""
    pairs = sorted(
        (abs(a - b), a, b, j, k)
        for k, b in enumerate(depth)
        for j, a in enumerate(other)
        if abs(a - b) <= max_dt
    )
    out, used_o, used_d = [-1] * len(depth), set(), set()
    for _, _, _, j, k in pairs:
        if j not in used_o and k not in used_d:
            used_o.add(j)
            used_d.add(k)
            out[k] = j
    return out


# -- pure pairing ------------------------------------------------------------------------------
times_ms = st.lists(st.integers(0, 2000), max_size=25, unique=True)


@settings(max_examples=300, deadline=None)
@given(times_ms, times_ms, st.sampled_from([5, 20, 40, 10_000]))
def test_associate_is_tums_greedy_rule(d: list[int], o: list[int], limit_ms: int) -> None:
    depth, other = [x / 1000 for x in d], [x / 1000 for x in o]
    got = pairing.associate(depth, other, limit_ms / 1000).tolist()
    assert got == brute_associate(depth, other, limit_ms / 1000)
    used = [j for j in got if j >= 0]
    assert len(used) == len(set(used))  # one to one


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2000), max_size=25), st.integers(0, 2000), st.integers(0, 300))
def test_ranked_lists_every_record_within_the_limit_nearest_first(
    o: list[int], t: int, limit_ms: int
) -> None:
    got = list(pairing.Ranked(o).around(t, limit_ms))
    want = sorted(
        (j for j in range(len(o)) if abs(o[j] - t) <= limit_ms),
        key=lambda j: (abs(o[j] - t), o[j], j),
    )
    assert [abs(o[j] - t) for j in got] == [abs(o[j] - t) for j in want]
    assert sorted(got) == sorted(want)


# -- the contract on made recordings -----------------------------------------------------------
@SLOW
@given(
    depth_ms=st.lists(st.integers(0, 400), min_size=1, max_size=7, unique=True),
    colour_ms=st.lists(st.integers(0, 400), min_size=1, max_size=7, unique=True),
    broken=st.sets(st.integers(0, 6)),
    missing=st.sets(st.integers(0, 6)),
    max_dt_ms=st.sampled_from([None, 10, 40]),
    rule=st.sampled_from(pairing.PAIRINGS),
)
def test_every_depth_frame_is_kept_dropped_or_bad_and_the_counts_reconcile(
    tmp_path_factory: pytest.TempPathFactory,
    depth_ms: list[int],
    colour_ms: list[int],
    broken: set[int],
    missing: set[int],
    max_dt_ms: int | None,
    rule: str,
) -> None:
    root = tmp_path_factory.mktemp("timed")
    corrupt = {j for j in broken if j < len(colour_ms)}
    gone = {j for j in missing if j < len(colour_ms)} - corrupt
    depth_t, colour_t = write_timed(root / "rec", depth_ms, colour_ms, corrupt, gone)
    max_dt = None if max_dt_ms is None else max_dt_ms / 1000
    limit = np.inf if max_dt is None else max_dt + 1e-9
    s = dv.convert(root / "rec", root / "out", format="npz", max_dt=max_dt, pairing=rule)
    usable = [j for j in range(len(colour_t)) if j not in corrupt | gone]
    if rule == "associate":
        match = brute_associate(depth_t, colour_t, max_dt if max_dt is not None else np.inf)
        want = {k: colour_t[j] for k, j in enumerate(match) if j >= 0 and j in usable}
    else:
        want = {}
        for k, t in enumerate(depth_t):
            near = [j for j in usable if abs(colour_t[j] - t) <= limit]
            if near:
                want[k] = colour_t[min(near, key=lambda j: (abs(colour_t[j] - t), colour_t[j]))]
    if not want:  # nothing to keep: the scene fails, and nothing of it is left
        assert s.done == [] and [n for n, _ in s.failed] == ["rec"]
        assert not (root / "out").exists()
        return
    assert s.done == ["rec"] and not s.failed
    (line,) = _lines(root / "out")
    assert line["pairing"] == rule
    assert line["frames"] == len(depth_t)
    assert line["pairs_kept"] + line["pairs_dropped"] + line["bad_frames"] == line["frames"]  # type: ignore[operator]
    assert line["bad_frames"] == 0 and line["pairs_kept"] == len(want)
    z = np.load(root / "out" / "rec.npz")
    got = dict(
        zip(
            np.round(z["depth_times"], 6).tolist(),
            np.round(z["rgb_times"], 6).tolist(),
            strict=True,
        )
    )
    assert got == {round(depth_t[k], 6): round(t, 6) for k, t in want.items()}
    dropped = line["dropped"]
    assert isinstance(dropped, list) and len(dropped) == len(depth_t) - len(want)
    assert all(d["reason"].startswith(("no colour frame", "every colour frame")) for d in dropped)
    # Bad colour records are those that could not be read, each counted once.
    bad = [b for b in line["bad"] if b["kind"] == "video"]  # type: ignore[union-attr]
    assert len(bad) == len({b["file"] for b in bad}) == line["bad_records"]["video"]  # type: ignore[index]
    unreadable = {entry_name("r", colour_t[j], j) for j in corrupt | gone}
    assert {Path(b["file"]).name for b in bad} <= unreadable
    if rule == "associate":
        assert len(set(got.values())) == len(got)  # one to one


@SLOW
@given(
    first=st.fixed_dictionaries(
        {
            "max_dt": st.sampled_from([None, 0.02]),
            "pairing": st.sampled_from(pairing.PAIRINGS),
            "tum_scale": st.sampled_from([5000, 1000]),
        }
    ),
    second=st.fixed_dictionaries(
        {
            "max_dt": st.sampled_from([None, 0.02]),
            "pairing": st.sampled_from(pairing.PAIRINGS),
            "tum_scale": st.sampled_from([5000, 1000]),
        }
    ),
    other_recording=st.booleans(),
)
def test_a_rerun_reuses_only_what_matches_and_overwrite_redoes_only_that(
    tmp_path_factory: pytest.TempPathFactory,
    first: dict[str, object],
    second: dict[str, object],
    other_recording: bool,
) -> None:
    root = tmp_path_factory.mktemp("rerun")
    write_scene(root / "a" / "kitchen", 2, seed=1)
    write_scene(root / "b" / "kitchen", 3, seed=2)  # another recording, the same name
    out = root / "out"
    dv.convert(root / "a" / "kitchen", out, **first)  # type: ignore[arg-type]
    dv.convert(root / "a" / "kitchen", out, format="npz")  # another format: its own line
    before = tree_hash(out)
    again_src = root / ("b" if other_recording else "a") / "kitchen"
    same = first == second and not other_recording
    if same:
        s = dv.convert(again_src, out, **second)  # type: ignore[arg-type]
        assert s.skipped == ["kitchen"] and s.done == []
        assert tree_hash(out) == before
        return
    with pytest.raises(dv.DepthviewError) as refused:
        dv.convert(again_src, out, **second)  # type: ignore[arg-type]
    message = str(refused.value)
    assert "--overwrite" in message and "\n" not in message
    if other_recording:
        assert "kitchen" in message and ("source" in message or "changed" in message)
    for key in ("max_dt", "pairing", "tum_scale"):
        if first[key] != second[key] and not other_recording:
            assert key in message
    assert tree_hash(out) == before  # refused before writing anything
    s = dv.convert(again_src, out, overwrite=True, **second)  # type: ignore[arg-type]
    assert s.done == ["kitchen"]
    lines = _lines(out)
    assert sorted((str(x["scene"]), str(x["format"])) for x in lines) == [
        ("kitchen", "npz"),
        ("kitchen", "tum"),
    ]
    tum = next(x for x in lines if x["format"] == "tum")
    assert tum["frames"] == (3 if other_recording else 2)
    assert tum["params"]["pairing"] == second["pairing"]  # type: ignore[index]
    assert tum["depth_scale"] == second["tum_scale"]
    assert (out / "kitchen.npz").is_file()  # the other format's scene is untouched


# -- refusals, one line each ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scene(tmp_path_factory.mktemp("rec") / "desk", 3, seed=3)


def _refused(*argv: str, out: Path, says: str) -> None:
    ran = cli("convert", "--quiet", *argv, str(out))
    assert ran.code == 2, ran.err
    assert len(ran.error_lines) == 1 and says in ran.error_lines[0], ran.err
    assert "Traceback" not in ran.err


def test_no_colour_stream_or_an_empty_index_is_refused_before_writing(tmp_path: Path) -> None:
    depth_only = write_scene(tmp_path / "depth_only", 3, depth_only=True)
    _refused(str(depth_only), out=tmp_path / "o1", says="expected a colour stream")
    empty = write_scene(tmp_path / "empty", 1)
    (empty / "INDEX.txt").write_text("")
    _refused(
        str(empty), out=tmp_path / "o2", says="expected at least one d-*.pgm depth entry, got 0"
    )
    # Colour and accelerometer records without a depth frame: said as every reader says it,
    # not "an empty recording" (trial AP D5).
    colour_only = write_scene(tmp_path / "colour_only", 3)
    index = colour_only / "INDEX.txt"
    kept = [n for n in index.read_text().split() if not n.startswith("d-")]
    index.write_text("\n".join(kept) + "\n")
    _refused(
        str(colour_only),
        out=tmp_path / "o4",
        says=f"INDEX.txt: expected at least one d-*.pgm depth entry, got {len(kept)} other entries",
    )
    _refused("sample", out=tmp_path / "o3", says="--depth-only writes the depth alone")
    assert not any((tmp_path / o).exists() for o in ("o1", "o2", "o3", "o4"))


def _nyu_changed(path: Path, **changes: Any) -> Path:
    """NYU's two cameras and their pose (no distortion), with ``changes`` to
    ``StereoCalibration``'s fields, as JSON at ``path``."""
    nyu = dv.StereoCalibration.nyu()
    fields = {"rotation": nyu.rotation, "translation": nyu.translation} | changes
    path.write_text(dv.StereoCalibration(nyu.depth, nyu.colour, **fields).to_json())
    return path


def test_a_calibration_that_cannot_fit_is_refused(recording: Path, tmp_path: Path) -> None:
    nyu = dv.StereoCalibration.nyu()
    small = _nyu_changed(tmp_path / "small.json", width=320, height=240)
    mm = _nyu_changed(tmp_path / "mm.json", translation=tuple(1000 * v for v in nyu.translation))
    cases = [
        (small, "expected a calibration for 640x480 frames, got one for 320x240"),
        (mm, "expected the translation in metres"),
        (tmp_path / "gone.yaml", "gone.yaml: no such file"),
    ]
    for n, (calibration, says) in enumerate(cases, 1):
        _refused(
            str(recording), "--calibration", str(calibration), out=tmp_path / f"o{n}", says=says
        )
    assert not any((tmp_path / o).exists() for o in ("o1", "o2", "o3", "o4"))


def test_a_second_run_into_the_same_output_is_refused_while_the_first_holds_it(
    recording: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with claimed(out, ExportError):  # the first run, as far as the second can tell
        _refused(str(recording), out=out, says="another depthview run is writing it")
    assert cli("convert", "--quiet", str(recording), str(out)).code == 0


def test_a_bad_scheduler_address_is_one_line(recording: Path, tmp_path: Path) -> None:
    _refused(
        str(recording),
        "--scheduler",
        "bogus",
        out=tmp_path / "out",
        says="--scheduler bogus: expected a Dask scheduler",
    )
    assert not (tmp_path / "out").exists()


# -- TUM's units and the camera file ---------------------------------------------------------------
def test_tum_scenes_hold_5000_per_metre_and_reopen_with_their_camera(
    recording: Path, tmp_path: Path
) -> None:
    def far(mm: np.ndarray) -> np.ndarray:
        out = mm.copy()
        out[0, :10] = 14000  # 14 m: past TUM's 65535 / 5000 = 13.1 m
        out[1, :3] = 13000
        return out

    dv.convert(recording, tmp_path / "tum", step=far)
    dv.convert(recording, tmp_path / "mm", tum_scale=1000)
    dv.convert(recording, tmp_path / "mcap", format="mcap")
    scene = tmp_path / "tum" / "desk"
    (line,) = _lines(tmp_path / "tum")
    assert line["depth_scale"] == 5000 and line["depth_over_range"] == 3 * 10
    from PIL import Image

    name = next(
        t.split()[1] for t in (scene / "depth.txt").read_text().splitlines() if t[0] != "#"
    )  # the first frame
    fifths = np.asarray(Image.open(scene / name)).astype(np.int64)
    mm = np.asarray(Image.open(tmp_path / "mm" / "desk" / name)).astype(np.int64)
    assert fifths[0, :10].tolist() == [0] * 10 and fifths[1, :3].tolist() == [65000] * 3
    np.testing.assert_array_equal(fifths[2:], mm[2:] * 5)
    # The camera file, in ORB-SLAM's form, holds the colour camera the .mcap carries.
    text = (scene / "camera.yaml").read_text()
    assert text.startswith("%YAML:1.0") and "DepthMapFactor: 5000.0" in text
    from depthview.datasets.frames import Aligner, colour_camera

    want = colour_camera(Aligner("libfreenect", dv.Registration.default()), 640, 480)
    with dv.open(str(scene)) as src:
        got = src.intrinsics
        frame = next(iter(src))
        np.testing.assert_allclose(
            np.nan_to_num(dv.to_metres(frame.depth, frame.depth_format))[2:],
            mm[2:] / 1000,
            atol=1e-6,
        )
    assert (got.fx, got.fy, got.cx, got.cy) == pytest.approx(
        (want.fx, want.fy, want.cx, want.cy), abs=1e-5
    )
    assert got.fx == pytest.approx(575.8, abs=0.1)
    assert "camera.yaml" in src.units_note


def test_associate_rule_from_the_command_line_matches_tums_script(tmp_path: Path) -> None:
    depth_t, colour_t = write_timed(
        tmp_path / "rec", [0, 33, 66, 100, 133, 166], [5, 20, 70, 140, 200]
    )
    ran = cli(
        "convert",
        "--quiet",
        "--pairing",
        "associate",
        "--max-dt",
        "0.02",
        str(tmp_path / "rec"),
        str(tmp_path / "out"),
    )
    assert ran.code == 0, ran.err
    rows = [
        r.split() for r in (tmp_path / "out" / "rec" / "associations.txt").read_text().splitlines()
    ]
    got = {round(float(d), 6): round(float(c), 6) for c, _, d, _ in rows}
    match = brute_associate(depth_t, colour_t, 0.02)
    assert got == {
        round(depth_t[k], 6): round(colour_t[j], 6) for k, j in enumerate(match) if j >= 0
    }
    assert len(set(got.values())) == len(got)
    (line,) = _lines(tmp_path / "out")
    assert line["pairing"] == "associate" and line["pairs_dropped"] == len(depth_t) - len(got)


def test_a_missing_colour_file_gives_way_to_the_next_within_max_dt(tmp_path: Path) -> None:
    """The issue's first case: the nearest colour frame is missing; the next one, 30 ms
    away, is well inside --max-dt and serves the depth frame."""
    _, colour_t = write_timed(tmp_path / "rec", [0, 33, 66], [2, 35, 68], missing={1})
    s = dv.convert(tmp_path / "rec", tmp_path / "out", format="npz", max_dt=0.05)
    assert s.pairs_kept == 3 and s.pairs_dropped == 0 and s.bad_frames == 0
    z = np.load(tmp_path / "out" / "rec.npz")
    assert np.round(z["rgb_times"], 6).tolist() == [
        round(colour_t[0], 6),
        round(colour_t[0], 6),
        round(colour_t[2], 6),
    ]
    (line,) = _lines(tmp_path / "out")
    assert line["bad_records"]["video"] == 1  # type: ignore[index]


def test_metric_input_without_calibration_is_labelled_not_aligned(
    recording: Path, tmp_path: Path
) -> None:
    """A TUM folder (millimetre-like depth, no registration of its own) is written as it
    came, and the manifest says so rather than "libfreenect"."""
    dv.convert(recording, tmp_path / "first")
    shutil.copytree(tmp_path / "first" / "desk", tmp_path / "tum_desk")
    dv.convert(tmp_path / "tum_desk", tmp_path / "second")
    (line,) = _lines(tmp_path / "second")
    assert line["calibration"] == "none" and str(line["alignment"]).startswith("not aligned")
    # the option asked for is named as an option, never as what aligned the depth
    assert "calibration" not in line["params"] and "calibration_option" in line["params"]  # type: ignore[operator]
    a = (tmp_path / "first" / "desk" / "depth").iterdir()
    for f in a:
        assert f.read_bytes() != b""
        from PIL import Image

        np.testing.assert_array_equal(
            np.asarray(Image.open(f)),
            np.asarray(Image.open(tmp_path / "second" / "tum_desk" / "depth" / f.name)),
        )


def test_a_folder_and_its_zip_give_the_same_scenes_down_to_the_depth_limit(
    tmp_path: Path,
) -> None:
    root = tmp_path / "in"
    write_scene(root / "a", 1)
    write_scene(root / "x" / "y" / "b", 1)  # two folders down
    write_scene(root / "x" / "c", 1)
    write_scene(root.joinpath(*[f"l{k}" for k in range(MAX_DEPTH - 1)], "deepest"), 1)
    write_scene(root.joinpath(*[f"l{k}" for k in range(MAX_DEPTH)], "too_deep"), 1)
    (root / "x" / "c" / "inner").mkdir()  # nothing inside a recording is looked at
    write_scene(root / "x" / "c" / "inner" / "d", 1)
    want = ["a", "deepest", "c", "b"]  # in path order: a, l0/../deepest, x/c, x/y/b
    with pytest.warns(UserWarning, match=r"1 recording\(s\) more than 4 .*too_deep") as said:
        assert [s.name for s in find_scenes([str(root)])] == want
    assert len(said) == 1  # one line per input
    archive = zip_folder(root, tmp_path / "in.zip")  # members under in/, as unzipped
    with pytest.warns(UserWarning, match=r"1 recording\(s\) more than 4 .*too_deep"):
        assert [s.name for s in find_scenes([str(archive)])] == want
    ran = cli("convert", "--quiet", str(root), str(tmp_path / "all"))
    assert ran.code == 0 and "4 scene(s) converted" in ran.out, ran.err
    assert "too_deep" in ran.err and ran.err.count("\n") == 1, ran.err
    only_deep = tmp_path / "only_deep"
    write_scene(only_deep.joinpath(*[f"l{k}" for k in range(MAX_DEPTH)], "far"), 1)
    ran = cli("convert", "--quiet", str(only_deep), str(tmp_path / "none"))
    assert ran.code == 2 and "far" in ran.error_lines[0], ran.err
    nested = [s.name for s in find_scenes([str(root / "x")])]
    assert nested == ["c", "b"]
    ran = cli("convert", "--quiet", str(root / "x"), str(tmp_path / "out"))
    assert ran.code == 0 and "2 scene(s) converted" in ran.out, ran.err


def test_info_names_a_zip_of_recordings_for_what_it_is(tmp_path: Path) -> None:
    write_scene(tmp_path / "in" / "a", 1)
    archive = zip_folder(tmp_path / "in", tmp_path / "recs.zip")
    ran = cli("info", str(archive))
    assert ran.code == 2 and len(ran.error_lines) == 1, ran.err
    assert "a zip of 1 recording(s)" in ran.err and "not a .npz" in ran.err
    assert "depthview convert" in ran.err


def test_a_7scenes_folder_is_written_as_it_came_with_its_file_names_and_camera(
    tmp_path: Path,
) -> None:
    """7-Scenes: millimetres, not aligned to its colour camera, no times. Without a
    calibration the depth is written as it came (in TUM's units), the manifest says it was
    not aligned and links each frame to its file, and the scene keeps 7-Scenes' camera."""
    from PIL import Image

    seq = tmp_path / "seq-01"
    seq.mkdir()
    rng = np.random.default_rng(7)
    depths = []
    for i in range(3):
        d = rng.integers(500, 4000, (480, 640)).astype(np.uint16)
        depths.append(d)
        Image.fromarray(d).save(seq / f"frame-{i:06d}.depth.png")
        Image.fromarray(colour(i)).save(seq / f"frame-{i:06d}.color.png")
    s = dv.convert(seq, tmp_path / "out")
    assert s.done == ["seq-01"], s.failed
    (line,) = _lines(tmp_path / "out")
    assert line["calibration"] == "none" and str(line["alignment"]).startswith("not aligned")
    assert "calibration" not in line["params"]  # type: ignore[operator]
    assert "made up" in str(line["times"])
    files = [Path(f).name for _, f in line["input_files"]]  # type: ignore[union-attr]
    assert files == [f"frame-{i:06d}.depth.png" for i in range(3)]
    scene = tmp_path / "out" / "seq-01"
    rows = [r.split() for r in (scene / "associations.txt").read_text().splitlines()]
    for (_, _, _, depth_file), want in zip(rows, depths, strict=True):
        stored = np.asarray(Image.open(scene / depth_file)).astype(np.int64)
        np.testing.assert_array_equal(stored, want.astype(np.int64) * 5)  # as it came, 5000/m
    with dv.open(str(scene)) as src:
        k = src.intrinsics
    assert (k.fx, k.fy, k.cx, k.cy) == pytest.approx((585.0, 585.0, 320.0, 240.0))
    assert "not aligned" in (scene / "camera.yaml").read_text()  # it says whose camera it is


def test_depth_only_output_is_written_when_asked_for(tmp_path: Path) -> None:
    """A recording without colour is refused unless --depth-only, which writes its depth
    frames alone, in millimetres through libfreenect's table (TUM's 5000 per metre), with
    the depth camera in camera.yaml, and its accelerometer readings (trial X: they were
    left out); dv.open reads the scene back."""
    from PIL import Image

    rec = write_scene(tmp_path / "depth_only", 3, depth_only=True)
    ran = cli("convert", "--quiet", "--depth-only", str(rec), str(tmp_path / "out"))
    assert ran.code == 0, ran.err
    scene = tmp_path / "out" / "depth_only"
    got = sorted(p.name for p in scene.iterdir())
    assert got == ["accelerometer.txt", "camera.yaml", "depth", "depth.txt"]
    (line,) = _lines(tmp_path / "out")
    assert line["accel_left_out"] == 0
    assert len((scene / "accelerometer.txt").read_text().splitlines()) == 3 + 3  # 3 comments
    assert line["pairs_kept"] == 3 and line["alignment"].startswith("not aligned: depth-only")  # type: ignore[union-attr]
    names = [t.split()[1] for t in (scene / "depth.txt").read_text().splitlines() if t[0] != "#"]
    raw = [
        np.frombuffer(d, "<u2", offset=len(pnm_header("P5"))).reshape(480, 640)
        for d in sample_depths()[:3]
    ]
    for name, r in zip(names, raw, strict=True):
        # libfreenect's millimetre table (dv.to_mm, checked against libfreenect itself in
        # test_registration_libfreenect) applied to the raw frame read here with numpy.
        mm = dv.to_mm(r)
        got = np.asarray(Image.open(scene / name)).astype(np.int64)
        np.testing.assert_array_equal(got, mm.astype(np.int64) * 5)
    with dv.open(str(scene)) as src:
        assert src.length == 3 and not src.has_video
    assert (
        cli(
            "convert", "--quiet", "--depth-only", "--format", "npz", str(rec), str(tmp_path / "o2")
        ).code
        == 2
    )


def test_a_broken_accelerometer_record_is_counted_as_itself(tmp_path: Path) -> None:
    """Its depth frame is kept (it is in associations.txt), so it is no bad frame: the
    record is counted under bad_records["accel"]."""
    rec = write_scene(tmp_path / "rec", 3)
    accel = sorted(rec.glob("a-*"))
    accel[1].write_bytes(b"\x00\x01")  # too short for libfreenect's tilt struct
    s = dv.convert(rec, tmp_path / "out")
    assert s.pairs_kept == 3 and s.bad_frames == 0
    (line,) = _lines(tmp_path / "out")
    assert line["bad_records"]["accel"] == 1  # type: ignore[index]
    assert line["frames"] == line["pairs_kept"] == 3
    assert len((tmp_path / "out" / "rec" / "associations.txt").read_text().splitlines()) == 3


def test_associate_on_a_source_pairs_one_to_one(tmp_path: Path) -> None:
    """Any source (here a TUM folder, where one colour frame served two depth frames) is
    paired by TUM's rule after a first pass over its times."""
    write_scene(tmp_path / "in" / "desk", 6, video_every=2)
    dv.convert(tmp_path / "in" / "desk", tmp_path / "first")
    s = dv.convert(tmp_path / "first" / "desk", tmp_path / "second", pairing="associate")
    assert s.done == ["desk"]
    rows = [
        r.split()
        for r in (tmp_path / "second" / "desk" / "associations.txt").read_text().splitlines()
    ]
    assert len({r[0] for r in rows}) == len(rows)  # no colour time twice
    (line,) = _lines(tmp_path / "second")
    assert line["frames"] == 6 and line["pairs_kept"] + line["pairs_dropped"] == 6  # type: ignore[operator]


# -- the new-user trial's findings (issue 21, second trial) ----------------------------------------
def _depth_files(scene: Path) -> list[str]:
    return sorted(p.name for p in (scene / "depth").iterdir())


@pytest.mark.parametrize("how", [(), ("--pairing", "associate"), ("--chunk", "1")])
def test_depth_frames_at_one_time_are_one_file_the_others_dropped_with_a_reason(
    tmp_path: Path, how: tuple[str, ...]
) -> None:
    """Two depth frames with the same host time (TUM names depth files by time) used to
    write one PNG over the other while the manifest counted both kept. ``--chunk 1`` puts
    the two in different units."""
    src = tmp_path / "dup"
    write_timed(src, [0, 0, 33, 66], [1, 34, 67])
    out = tmp_path / "out"
    ran = cli("convert", "--quiet", str(src), str(out), *how)
    assert ran.code == 0, ran.err
    (line,) = _lines(out)
    files = _depth_files(out / "dup")
    listed = [t.split()[1] for t in (out / "dup" / "depth.txt").read_text().splitlines()[3:]]
    assert line["pairs_kept"] == len(files) == len(listed) == len(set(listed)) == 3
    assert line["pairs_dropped"] == 1
    (dropped,) = line["dropped"]  # type: ignore[misc]
    assert "same time" in dropped["reason"]
    assert line["frames"] == 4
    assets = [t.split()[3] for t in (out / "dup" / "associations.txt").read_text().splitlines()]
    assert len(assets) == len(set(assets)) == 3


def test_a_scene_damaged_after_it_was_written_is_redone_not_reused(tmp_path: Path) -> None:
    src = write_scene(tmp_path / "rec", 3)
    out = tmp_path / "out"
    assert cli("convert", "--quiet", str(src), str(out)).code == 0
    first = tree_hash(out)
    victim = sorted((out / "rec" / "depth").iterdir())[1]
    victim.unlink()
    ran = cli("convert", "--quiet", str(src), str(out))
    assert ran.code == 0, ran.err
    assert "0 already complete" in ran.out and "1 scene(s) converted" in ran.out, ran.out
    assert victim.name in ran.err  # said why
    assert tree_hash(out) == first  # as written the first time
    sorted((out / "rec" / "rgb").iterdir())[0].write_bytes(b"overwritten")
    ran = cli("convert", "--quiet", str(src), str(out))
    assert ran.code == 0 and "1 scene(s) converted" in ran.out, ran.out + ran.err
    assert tree_hash(out) == first


def test_overwrite_replaces_what_convert_wrote_and_keeps_a_users_files(tmp_path: Path) -> None:
    src = write_scene(tmp_path / "rec", 3)
    out = tmp_path / "out"
    assert cli("convert", "--quiet", str(src), str(out)).code == 0
    (out / "rec" / "mine.txt").write_text("my notes\n")
    (out / "rec" / "depth" / "mine.txt").write_text("mine too\n")
    ran = cli("convert", "--quiet", str(src), str(out), "--tum-scale", "1000", "--overwrite")
    assert ran.code == 0, ran.err
    assert (out / "rec" / "mine.txt").read_text() == "my notes\n"
    assert (out / "rec" / "depth" / "mine.txt").read_text() == "mine too\n"
    (line,) = _lines(out)
    assert line["depth_scale"] == 1000.0
    assert len(_depth_files(out / "rec")) == 3 + 1


def _converted_then_added(tmp_path: Path, line: str) -> tuple[Path, Path, Path]:
    """A scene converted to ``out``, then ``line`` added to its manifest by hand: (the
    scene, out, the manifest)."""
    src = write_scene(tmp_path / "rec", 2)
    out = tmp_path / "out"
    assert cli("convert", "--quiet", str(src), str(out)).code == 0
    manifest = out / "manifest.jsonl"
    manifest.write_text(manifest.read_text() + line)
    return src, out, manifest


def test_a_manifest_line_that_is_not_json_is_refused_naming_it(tmp_path: Path) -> None:
    src, out, _ = _converted_then_added(tmp_path, "my own note, not json\n")
    before = tree_hash(out)
    ran = cli("convert", "--quiet", str(src), str(out), "--format", "npz")
    assert ran.code == 2, ran.err
    assert len(ran.error_lines) == 1 and "manifest.jsonl:2" in ran.error_lines[0], ran.err
    assert tree_hash(out) == before


def test_a_second_manifest_line_for_a_scene_is_refused_naming_it(tmp_path: Path) -> None:
    """Trial AB (D5, LOST): a hand-added line for a scene and format the manifest already
    listed replaced the line convert wrote (its checksums, counts, fingerprint), silently,
    at the next run of another scene. It is refused, naming both lines; nothing changes."""
    _, out, manifest = _converted_then_added(tmp_path, '{"scene": "rec", "format": "tum"}\n')
    other = write_scene(tmp_path / "other", 2)
    before = tree_hash(out)
    ran = cli("convert", "--quiet", str(other), str(out))
    assert ran.code == 2, ran.err
    assert ran.error_lines == [
        f"depthview: error: {manifest}:2: a second line for scene 'rec', format tum (the "
        "first is line 1); the manifest has one line per scene and format: remove the one "
        "that is not right"
    ]
    assert tree_hash(out) == before


def test_an_interrupted_run_leaves_no_temporary_scene(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (KeyboardInterrupt) in the middle of a scene: its hidden folder goes. The
    interrupt is raised from the writer (where a real Ctrl-C lands, at a known frame); the
    trial's ``int@`` case sends a real SIGINT to the command."""
    import depthview.datasets.job as job

    src = write_scene(tmp_path / "rec", 4)
    out = tmp_path / "out"
    real = job.TumWriter.write
    calls = []

    def write(self: object, *args: object) -> object:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # where the user's Ctrl-C lands: mid-scene
        return real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(job.TumWriter, "write", write)
    with pytest.raises(KeyboardInterrupt):
        dv.convert(src, out)
    assert len(calls) == 3
    assert not [p for p in out.rglob("*") if "partial" in p.name], list(out.rglob("*"))


def test_a_scheduler_from_the_environment_is_named_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = write_scene(tmp_path / "rec", 2)
    out = tmp_path / "out"
    ran = cli("convert", "--quiet", str(src), str(out), "--scheduler", "tcp://127.0.0.1:99999")
    assert ran.code == 2 and "port from 1 to 65535" in ran.error_lines[0], ran.err
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:0")
    ran = cli("convert", "--quiet", str(src), str(out))
    assert ran.code == 2, ran.err
    assert ran.error_lines[0].count("DASK_SCHEDULER_ADDRESS") == 1, ran.err
    assert "--scheduler" not in ran.error_lines[0], ran.err
    assert not out.exists()


@pytest.mark.parametrize("how", ["utf-8 bytes, no flag", "latin-1 bytes + Info-ZIP Unicode Path"])
def test_a_zip_members_name_without_the_utf8_flag_is_read_as_its_maker_meant(
    tmp_path: Path, how: str
) -> None:
    """Info-ZIP writes names as the system's bytes without the UTF-8 flag, and the name in
    UTF-8 in its Unicode Path extra field (0x7075); Python reads such names as cp437."""
    import struct
    import zipfile
    import zlib

    src = write_scene(tmp_path / "in" / "sp ace X", 2)
    meant = "sp ace é"
    stored = meant.encode("utf-8") if how.startswith("utf-8") else meant.encode("latin-1")
    holder = b"sp ace " + b"X" * (len(stored) - 7)
    archive = tmp_path / "in.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(src.iterdir()):
            info = zipfile.ZipInfo(f"{holder.decode()}/{path.name}")
            if not how.startswith("utf-8"):
                raw = f"{meant}/{path.name}".encode("latin-1")  # as cp437: "sp ace Θ"
                utf8 = f"{meant}/{path.name}".encode()
                body = struct.pack("<BI", 1, zlib.crc32(raw)) + utf8
                info.extra = struct.pack("<HH", 0x7075, len(body)) + body
            zf.writestr(info, path.read_bytes())
    data = archive.read_bytes()
    archive.write_bytes(data.replace(holder + b"/", stored + b"/"))
    assert [s.name for s in find_scenes([str(archive)])] == [meant]
    ran = cli("convert", "--quiet", str(archive), str(tmp_path / "out"))
    assert ran.code == 0, ran.err
    assert (tmp_path / "out" / meant / "depth.txt").is_file()


def test_an_npz_scene_keeps_the_camera_of_its_aligned_depth(tmp_path: Path) -> None:
    """The .npz holds depth aligned to the colour image: reopened, it says the colour
    camera (what camera.yaml says for TUM), not the Kinect depth camera's defaults."""
    from depthview.datasets.frames import Aligner, colour_camera

    src = write_scene(tmp_path / "desk", 2)
    assert cli("convert", "--quiet", str(src), str(tmp_path / "out"), "--format", "npz").code == 0
    want = colour_camera(Aligner("libfreenect", dv.Registration.default()), 640, 480)
    with np.load(tmp_path / "out" / "desk.npz") as z:
        np.testing.assert_allclose(z["intrinsics"], [want.fx, want.fy, want.cx, want.cy])
    with dv.open(str(tmp_path / "out" / "desk.npz")) as opened:
        got = opened.intrinsics
        note = opened.units_note
    assert (got.fx, got.fy, got.cx, got.cy) == pytest.approx(
        (want.fx, want.fy, want.cx, want.cy), abs=1e-5
    )
    assert got.fx == pytest.approx(575.8, abs=0.1) and "intrinsics array" in note
    ran = cli("info", str(tmp_path / "out" / "desk.npz"))
    assert ran.code == 0 and "575.8" in ran.out, ran.out


def test_units_that_are_a_guess_are_said_and_recorded(tmp_path: Path) -> None:
    """A folder of 16-bit PNGs with nothing that says their units (a TUM frame without its
    lists) is read as millimetres by convention: convert says so before it writes, and the
    scene's manifest line keeps the guess; --depth-format removes it (trial of issue 21)."""
    from PIL import Image

    scene = tmp_path / "frame"
    scene.mkdir()
    Image.fromarray(np.full((480, 640), 9001, np.uint16)).save(scene / "TUM_depth.png")
    Image.fromarray(colour(0)).save(scene / "TUM_color.png")
    ran = cli("convert", "--quiet", str(scene), str(tmp_path / "out"))
    assert ran.code == 0, ran.err
    first = ran.err.splitlines()[0]
    assert first.startswith("depthview: warning:") and "units are a guess" in first, ran.err
    (line,) = _lines(tmp_path / "out")
    assert "millimetres" in str(line["units_guess"])
    said = cli("convert", "--quiet", "--depth-format", "tum", str(scene), str(tmp_path / "tum"))
    assert said.code == 0, said.err
    assert "units are a guess" not in said.err
    (line,) = _lines(tmp_path / "tum")
    assert "units_guess" not in line


def test_a_scene_deleted_or_damaged_since_is_redone_and_said(tmp_path: Path) -> None:
    """README: a scene reused must hold every file its manifest line lists; one deleted or
    changed since is redone, a warning naming it. Trial AD (D6): a scene whose whole folder
    was deleted was redone without a word."""
    src = write_scene(tmp_path / "rec", 2)
    out = tmp_path / "out"
    assert cli("convert", "--quiet", str(src), str(out)).code == 0
    depth = sorted((out / "rec" / "depth").iterdir())[0]
    depth.unlink()
    ran = cli("convert", "--quiet", str(src), str(out))
    assert ran.code == 0 and f"{out / 'rec'}: redoing the scene: {depth} is missing" in ran.err
    shutil.rmtree(out / "rec")
    ran = cli("convert", "--quiet", str(src), str(out))
    assert ran.code == 0, ran.err
    assert f"{out / 'rec'}: redoing the scene: it is missing (manifest.jsonl lists it)" in ran.err
    assert depth.exists()


def test_a_scene_folder_that_is_a_link_is_never_written_through(tmp_path: Path) -> None:
    """Trial AD (D14, LOST): a scene whose folder in OUT is a symbolic link (moved to
    another disk, or a link to the source itself) was redone through it: the user's notes
    beside it went, rmtree then refused the link, and the manifest had lost the scene's
    line. Reused as it is, fine; to be written again, refused before anything changes."""
    src = write_scene(tmp_path / "rec", 2)
    out = tmp_path / "out"
    assert cli("convert", "--quiet", str(src), str(out)).code == 0
    moved = tmp_path / "elsewhere"
    shutil.move(out / "rec", moved)
    (moved / "notes.txt").write_text("mine\n")
    (out / "rec").symlink_to(moved)
    ran = cli("convert", "--quiet", str(src), str(out))
    assert ran.code == 0 and "1 already complete" in ran.out, ran.err
    before, manifest = tree_hash(moved), (out / "manifest.jsonl").read_bytes()
    for extra in (["--max-dt", "0.02", "--overwrite"], []):
        if not extra:  # a file of it changed: redone on its own
            png = sorted((moved / "depth").iterdir())[0]
            png.write_bytes(png.read_bytes() + b"\0")
            before = tree_hash(moved)
        ran = cli("convert", "--quiet", str(src), str(out), *extra)
        assert ran.code == 2, ran.err
        assert ran.error_lines == [
            f"depthview: error: {out / 'rec'}: is a symbolic link to {moved}: a scene is "
            "written again in its own folder of OUT, never through a link (it would change "
            "the folder it points to); remove the link, or convert into another OUT"
        ], ran.err
        assert tree_hash(moved) == before and (out / "manifest.jsonl").read_bytes() == manifest


def test_files_linked_out_of_a_recording_are_bad_as_in_every_command(tmp_path: Path) -> None:
    """Trial AJ (D12): ``convert`` read a recording's depth frame and colour image that are
    symbolic links out of it, while info, record and export refuse such a file as broken
    ("expected a file inside the recording, got a link to ..."). Convert opens them the same
    way now: from the folder and from a zip that stores the links (``zip -y``), each is in
    ``bad`` with its kind, and a link to a file of the same recording is still read."""
    import stat
    import zipfile

    outside = write_scene(tmp_path / "outside", 4)
    rec = tmp_path / "in" / "rec"
    shutil.copytree(outside, rec)
    frame = sorted(rec.glob("d-*"))[1]
    image = sorted(rec.glob("r-*"))[2]
    inner = sorted(rec.glob("r-*"))[3]
    for path in (frame, image):
        path.unlink()
        path.symlink_to(outside / path.name)
    inner.unlink()
    inner.symlink_to(sorted(rec.glob("r-*"))[0].name)  # inside the recording: read
    ran = cli("info", str(rec))
    assert ran.code == 0, ran.err
    assert "broken_frames: 1" in ran.out and "broken_records: 1" in ran.out, ran.out

    archive = tmp_path / "in.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(rec.iterdir()):
            if path.is_symlink():  # as ``zip -y`` stores a link: its target, mode S_IFLNK
                info = zipfile.ZipInfo(f"rec/{path.name}")
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                zf.writestr(info, str(path.readlink()))
            else:
                zf.write(path, f"rec/{path.name}")

    for source, where in ((rec, str(rec)), (archive, f"{archive}:rec")):
        out = tmp_path / f"out-{source.name}"
        ran = cli("convert", "--quiet", str(source), str(out))
        assert ran.code == 0, ran.err
        (line,) = _lines(out)
        assert line["bad"] == [
            {
                "kind": kind,
                "file": f"{where}/{path.name}",
                "reason": f"{where}/{path.name}: expected a file inside the recording, "
                f"got a link to {outside / path.name}",
            }
            for kind, path in (("depth", frame), ("video", image))
        ]
        assert line["bad_frames"] == 1 and line["bad_records"]["video"] == 1  # type: ignore[index]
        assert line["frames"] == 4 and line["pairs_kept"] + len(line["dropped"]) == 3  # type: ignore[arg-type,operator]
