"""depthview's exceptions, one per failure family.

::

    DepthviewError                 anything depthview raises on purpose
    ├── SourceError                a source cannot be opened or stopped delivering
    │   ├── NotMyFormat            internal: a backend declines a URI (the registry tries the next)
    │   ├── BrokenFile             one file of a folder cannot be decoded (truncated, not an
    │   │                          image): its frame is skipped, its colour left out, said
    │   ├── ValuesPastFormat       stored values the said units cannot hold (millimetres read as
    │   │                          raw disparity): the units are wrong, not the file
    │   └── SourceTimeout          a live device sent no frame within the timeout
    ├── UnsupportedControl         this source (or this libfreenect build) cannot do that control
    ├── RecordingError             writing a recording failed (disk full, unwritable, not empty)
    ├── ExportError                an export cannot be written (bad range, existing output)
    └── SinkError                  a Rerun/Foxglove sink cannot start or send (bad target,
                                   missing extra, port taken)

A record a source leaves out, going on without it, is a warning (``LeftOut``, a
``UserWarning`` naming its kind and file), not an error.

Bad arguments to the pure functions (wrong dtype, shape, unknown palette) are plain
``ValueError``/``TypeError`` with an "expected ..., got ..." message, as numpy users expect.
The command line turns every ``DepthviewError`` into one line on stderr and exit code 2,
in its own words (``cli_words``: ``depth_format='mm'`` is ``--depth-format mm``), as the
viewer shows a failed source.
"""

from __future__ import annotations

import re


class DepthviewError(Exception):
    """Base of every error depthview raises on purpose."""


class SourceError(DepthviewError):
    """A source cannot be opened, or it failed while delivering frames."""


class NotMyFormat(SourceError):
    """A backend does not recognise the URI or content; the registry tries the next one."""


class BrokenFile(SourceError):
    """One file of a source cannot be decoded (truncated, not an image). A folder's other
    frames are fine: its depth frame is skipped and its colour image left out, each with a
    warning, as a recording's broken frame is; a lone file is refused. ``path``: the file
    (for a tool that lists broken files: convert's manifest)."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path

    def __reduce__(self) -> tuple[type[BrokenFile], tuple[str, str | None]]:
        return type(self), (str(self), self.path)  # whole from a Dask worker too


class LeftOut(UserWarning):
    """The warning for a record a source left out (a folder's broken colour image): its
    ``kind`` (``video``) and ``path``, for a tool that lists them (convert's manifest)."""

    def __init__(self, message: str, kind: str, path: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.path = path


class ValuesPastFormat(SourceError):
    """Stored values the units said or guessed cannot hold: the units are wrong, not the
    file. ``found`` is what was found, without the advice, for a command whose advice
    differs (a recording holds raw disparity only)."""

    def __init__(self, found: str, advice: str) -> None:
        super().__init__(f"{found}; {advice}")
        self.found = found
        self.advice = advice

    def __reduce__(self) -> tuple[type[ValuesPastFormat], tuple[str, str]]:
        return type(self), (self.found, self.advice)  # whole from a Dask worker too


class SourceTimeout(SourceError):
    """A live source delivered no frame within its timeout."""


class UnsupportedControl(DepthviewError):
    """The source cannot perform this control (a recording, the demo, or a libfreenect build
    that lacks the call)."""


class RecordingError(DepthviewError):
    """Writing a recording failed; what was indexed before the failure stays valid."""


class ExportError(DepthviewError):
    """An export cannot be written."""


class SinkError(DepthviewError):
    """A Rerun or Foxglove sink cannot start or send: a bad target, a missing extra (the
    message names the ``pip install`` line), a port in use."""


#: The library's option words in a message (not a ``.npz``'s depth_format array, nor the
#: PNG marker's key ``depthview.depth_format``: names in files, not options).
_OPTION_WORD = re.compile(
    r"(?<!\.)\b(depth_format|depth_scale)(?! array)(?:=(?:'([^']*)'|([^\s,;)]+)))?"
)


#: Keywords named without a value (``frames=``) and their options: export's ``stop=`` is
#: the END of ``--range``.
_KEYWORD = re.compile(r"\b(frames|stop)=(?=[\s:,;)]|$)")
_KEYWORD_OPTION = {"frames": "--frames", "stop": "--range"}


def cli_words(message: str) -> str:
    """A library message in the command line's words: ``depth_format='mm'`` is
    ``--depth-format mm`` to someone who typed options, not Python."""

    def option(match: re.Match[str]) -> str:
        value = match[2] if match[2] is not None else match[3]
        flag = "--" + match[1].replace("_", "-")
        return flag if value is None else f"{flag} {value}"

    message = _KEYWORD.sub(lambda match: _KEYWORD_OPTION[match[1]], message)
    return _OPTION_WORD.sub(option, message)
