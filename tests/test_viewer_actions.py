"""Actions and the key table, without a window: state in, effects out."""

from __future__ import annotations

import inspect

import pytest

from depthview.frame import VideoFormat
from depthview.viewer import actions, keys
from depthview.viewer.actions import Facts
from depthview.viewer.state import ViewState


def all_actions() -> dict[str, actions.Action]:
    """Every public function of ``actions`` with the action signature."""
    found = {}
    for name, fn in inspect.getmembers(actions, inspect.isfunction):
        mine = fn.__module__ == actions.__name__ and not name.startswith("_")
        if mine and list(inspect.signature(fn).parameters) == ["state", "facts", "arg"]:
            found[name] = fn
    return found


def test_every_key_has_an_action_and_every_action_a_key_or_a_reason() -> None:
    bound = {b.action for b in (*keys.CHAR_KEYS.values(), *keys.SPECIAL_KEYS.values())}
    every = set(all_actions().values())
    assert len(every) >= 30
    assert bound <= every  # the table holds action functions, nothing else
    missing = every - bound - set(keys.NOT_ON_KEYS)
    assert not missing, sorted(f.__name__ for f in missing)
    assert all(reason for reason in keys.NOT_ON_KEYS.values())
    assert not set(keys.NOT_ON_KEYS) & bound  # a reason only where there is no key


def test_video_format_cycles_only_what_the_source_offers() -> None:
    state = ViewState(video_format=VideoFormat.RGB)
    facts = Facts(video_formats=(VideoFormat.RGB, VideoFormat.IR_8BIT))
    assert actions.video_format(state, facts, 0) == [actions.SetVideoFormat(VideoFormat.IR_8BIT)]
    state.video_format = VideoFormat.IR_8BIT
    assert actions.video_format(state, facts, 0) == [actions.SetVideoFormat(VideoFormat.RGB)]
    only_rgb = Facts(source_name="rec", video_formats=(VideoFormat.RGB,))
    (say,) = actions.video_format(state, only_rgb, 0)
    assert isinstance(say, actions.Say) and "RGB only" in say.text
    (say,) = actions.video_format(state, Facts(source_name="rec", video_formats=()), 0)
    assert say == actions.Say("unsupported: rec cannot change the video format (it has no video)")


def test_step_on_a_recording_asks_for_the_frame_and_clamps() -> None:
    state = ViewState()
    facts = Facts(seekable=True, length=20, frame_index=18)
    assert actions.step(state, facts, +1) == [actions.Pause(True), actions.Seek(19)]
    last = [actions.Pause(True), actions.Say("frame 20/20 is the last frame")]
    assert actions.step(state, facts, +1) == last
    assert state.paused and state.seek_target == 19
    live = Facts(source_name="kinect", seekable=False)
    assert actions.step(ViewState(), live, +1) == [actions.Pause(True), actions.Seek(None)]
    assert "cannot step back" in actions.step(ViewState(), live, -1)[-1].text  # type: ignore[union-attr]


def test_orbit_pan_zoom_and_reset() -> None:
    state = ViewState()
    actions.orbit(state, Facts(drag=(10, -30)), 0)
    assert (state.camera.yaw, state.camera.pitch) == pytest.approx((-3.0, -9.0))
    actions.orbit(state, Facts(drag=(0, 10_000)), 0)
    assert state.camera.pitch == 89.0  # never over the top
    actions.zoom(state, Facts(), -1)
    assert state.camera.distance == pytest.approx(2.0 / 0.9)
    for _ in range(1500):  # trial AA: the wheel turned out without end overflowed
        actions.zoom(state, Facts(), -1)
    assert state.camera.distance == 100.0  # ten times a Kinect's range
    actions.zoom(state, Facts(), -(10**9))
    assert state.camera.distance == 100.0
    actions.zoom(state, Facts(), 10**9)
    assert state.camera.distance == 0.05
    actions.zoom(state, Facts(), -1)
    assert state.camera.distance == pytest.approx(0.05 / 0.9)
    actions.point_size(state, Facts(), +1)
    assert state.camera.point_size == 1.5
    actions.reset_view(state, Facts(), 0)
    assert (state.camera.yaw, state.camera.pitch, state.camera.distance) == (0.0, 0.0, 2.0)
    assert state.camera.point_size == 1.5  # the user's point size stays


def test_measuring_takes_two_points_and_starts_again() -> None:
    state = ViewState()
    actions.measure_mode(state, Facts(), 0)
    a = Facts(depth_pixel=(1, 2), point=(0.0, 0.0, 1.0))
    b = Facts(depth_pixel=(3, 4), point=(0.3, 0.4, 1.0))
    actions.click(state, a, 0)
    actions.click(state, b, 0)
    assert state.distance() == pytest.approx(0.5)
    assert isinstance(actions.click(state, Facts(), 0)[0], actions.Say)  # no reading there
    actions.click(state, a, 0)
    assert len(state.measure) == 1
