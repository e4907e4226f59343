"""``manifest.jsonl``: one line per scene and format (``outputs.claimed`` keeps two runs
out of one output folder).

Lines of scenes and formats a run does not touch are kept as they were; a line is
rewritten only for what the run wrote.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from ..errors import ExportError
from ..outputs import own_file, sha256_file, why_not_written, write_atomic

MANIFEST = "manifest.jsonl"

#: A line's key: (scene, format).
Key = tuple[str, str]


def key_of(line: dict[str, Any]) -> Key:
    return str(line["scene"]), str(line.get("format", "tum"))


def read_manifest(out: Path) -> dict[Key, dict[str, Any]]:
    """The manifest's lines by (scene, format). A line that is not a scene's JSON object, or
    a second one for a scene and format, is refused (``ExportError`` naming file:line):
    rewriting the manifest would lose it."""
    path = out / MANIFEST
    lines: dict[Key, dict[str, Any]] = {}
    numbers: dict[Key, int] = {}
    if not path.is_file():
        return lines
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExportError(
                f"{path}:{number}: expected a JSON line per scene, got {exc.msg}; mend or "
                "remove that line"
            ) from None
        if not (isinstance(line, dict) and isinstance(line.get("scene"), str)):
            raise ExportError(
                f'{path}:{number}: expected a JSON object with a "scene", got '
                f"{type(line).__name__}; mend or remove that line"
            )
        key = key_of(line)
        if key in lines:  # rewriting would keep one of the two: refused, not chosen (trial AB)
            first = numbers[key]
            raise ExportError(
                f"{path}:{number}: a second line for scene {key[0]!r}, format {key[1]} (the "
                f"first is line {first}); the manifest has one line per scene and format: "
                "remove the one that is not right"
            )
        lines[key], numbers[key] = line, number
    return lines


def damage(final: Path, line: dict[str, Any]) -> str:
    """What differs between a written scene (a folder, or one file) and the checksums its
    manifest line recorded, in a few words; "" when every file is there as written."""
    files = line.get("files")
    if not isinstance(files, dict) or not files:
        return "its manifest line lists no files"
    for name, digest in sorted(files.items()):
        path = final if final.is_file() and name == final.name else final / name
        if not path.is_file():
            return f"{path} is missing"
        if sha256_file(path) != digest:
            return f"{path} changed since it was written"
    return ""


def append_line(out: Path, line: dict[str, Any]) -> None:
    """Add one line for good (flushed to disk) before its scene is renamed into place (to
    this dataset's own manifest: ``own_file``)."""
    own_file(out / MANIFEST)
    with open(out / MANIFEST, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _text(lines: dict[Key, dict[str, Any]]) -> str:
    return "".join(json.dumps(lines[k], sort_keys=True) + "\n" for k in sorted(lines))


def rewrite(out: Path, lines: dict[Key, dict[str, Any]]) -> None:
    """The manifest as ``lines`` (one per scene and format, in order), renamed into place
    when whole: a failure leaves the manifest as it was, and no temporary file, and is one
    ``ExportError`` naming the manifest."""
    path = out / MANIFEST
    try:
        write_atomic(path, _text(lines).encode("utf-8"))
    except OSError as exc:
        raise ExportError(f"{path}: cannot write ({why_not_written(exc)})") from None


def put_in_order(out: Path, lines: dict[Key, dict[str, Any]]) -> None:
    """The manifest's lines in order of scene and format at the end of a run (they are
    appended as scenes finish): rewritten only when out of order. Where that fails (a full
    disk), every line is still there in the order written: said, not a failed run (trial
    AB: a complete, listed scene was reported as not written)."""
    path = out / MANIFEST
    text = _text(lines)
    try:
        if path.read_text(encoding="utf-8") == text:
            return
        write_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        warnings.warn(
            f"{path}: its lines stay in the order the scenes finished (cannot sort them: "
            f"{why_not_written(exc)})",
            stacklevel=2,
        )


__all__ = [
    "MANIFEST",
    "Key",
    "append_line",
    "damage",
    "key_of",
    "put_in_order",
    "read_manifest",
    "rewrite",
]
