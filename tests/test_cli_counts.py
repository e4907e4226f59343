"""``--frames`` and ``--seconds`` get one answer in every command (issue 22, trial G's brief):
``--seconds 1e30`` and a 20-digit ``--frames`` were taken (run until stopped) while
``--frames 1e30`` was refused. One check (``_checks.FRAMES``, ``_checks.DURATION``), one
stated bound, one line naming the option, exit 2, nothing written. The commands are found
from the parser itself, so a new command with ``--frames`` is checked too."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from _helpers_cli import cli
from depthview.cli import build_parser

FRAMES_RULE = "expected a whole number of frames >= 1 and <= 1000000000"
SECONDS_RULE = "expected a finite number of seconds > 0 and <= 1000000"
#: What each option's refusal says (``--model-every`` is seconds, as ``--seconds``).
RULES = {"--frames": FRAMES_RULE, "--seconds": SECONDS_RULE, "--model-every": SECONDS_RULE}
BAD = ["0", "-1", "nan", "inf", "-inf", "1e30", "99999999999999999999", "1" * 400, "", "abc"]
BAD_FRAMES = [*BAD, "1.5", "1000000001", "1e9.5"]
BAD_SECONDS = [*BAD, "1000001", "1e7"]


def _options() -> list[tuple[str, str]]:
    """(command, option) for every subcommand that takes one of ``RULES``' options."""
    parser, _ = build_parser()
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = []
    for command, p in sub.choices.items():
        for action in p._actions:
            found += [(command, o) for o in action.option_strings if o in RULES]
    return sorted(found)


OPTIONS = _options()


def test_every_command_with_frames_or_seconds_is_found() -> None:
    assert {c for c, o in OPTIONS if o == "--frames"} >= {"view", "record", "export", "stream"}
    assert {"scan"} <= {c for c, o in OPTIONS if o == "--frames"}
    assert ("record", "--seconds") in OPTIONS


def _argv(command: str, out: Path) -> list[str]:
    """A run that would start if its numbers were good: a real source and an output."""
    return {
        "view": ["view", "sample"],
        "record": ["record", "sample", str(out / "r")],
        "export": ["export", "sample", str(out / "x.npz")],
        "stream": ["stream", "sample", "--to", "foxglove:0"],
        "scan": ["scan", "sample", str(out / "m.ply"), "--no-window"],
    }.get(command, [command, "sample"])


@pytest.mark.parametrize(("command", "option"), OPTIONS)
def test_the_same_bad_number_gets_the_same_answer(
    command: str, option: str, tmp_path: Path
) -> None:
    """Every bad value: exit 2, one line ``argument OPTION: <the rule>, got 'VALUE'`` (the
    same rule, word for word, in every command), and the output folder left empty."""
    out = tmp_path / "out"
    out.mkdir()
    for value in BAD_FRAMES if option == "--frames" else BAD_SECONDS:
        ran = cli(*_argv(command, out), f"{option}={value}")
        assert ran.code == 2, (command, option, value, ran.err)
        assert len(ran.error_lines) == 1, ran.err
        assert "Traceback" not in ran.err
        shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:30]}..."
        line = f"depthview {command}: error: argument {option}: {RULES[option]}, got {shown}"
        assert ran.error_lines[0].startswith(line), ran.err
        assert list(out.iterdir()) == []


@pytest.mark.parametrize(("command", "option"), OPTIONS)
def test_the_bounds_themselves_and_exponents_are_taken(command: str, option: str) -> None:
    """The upper bound is a value, and ``1e3`` is a thousand frames as it is a thousand
    seconds (it was refused for --frames only)."""
    parser, _ = build_parser()
    argv = _argv(command, Path("unused"))
    dest = option.lstrip("-").replace("-", "_")
    top = "1000000000" if option == "--frames" else "1e6"
    for value, want in ((top, float(top)), ("1e3", 1000.0), ("7", 7.0)):
        args = parser.parse_args([*argv, option, value])
        got = getattr(args, dest)
        assert got == want and (type(got) is int) == (option == "--frames"), (value, got)


def test_a_billion_frames_runs_to_the_end_of_the_source(tmp_path: Path) -> None:
    """The bound is no promise to stop early: ``--frames 1000000000`` on the shipped sample
    exports and records its 20 frames, as no ``--frames`` does."""
    ran = cli("export", "sample", str(tmp_path / "x.npz"), "--frames", "1000000000", "--quiet")
    assert ran.code == 0 and "exported 20 frames" in ran.err, ran.err
    ran = cli("record", "sample", str(tmp_path / "r"), "--frames", "1e9", "--seconds", "1e6")
    assert ran.code == 0 and "recorded 20 frames" in ran.out, (ran.out, ran.err)
