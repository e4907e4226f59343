"""Writers never touch their input: the one check every writer makes before it writes.

An output that is an input, holds one (a folder around it) or lies inside one (a file in a
recording folder) is refused before anything is written, so ``record REC REC --overwrite``
or a snapshot into the folder being played cannot damage what is being read. Paths are
compared after resolving symbolic links and ``..``. Sources list what they read in
``Source.inputs``; the command line adds the SOURCE arguments that name files.

Every file a writer makes is written under a temporary name beside it and renamed into
place when complete (``atomic``, ``write_atomic``), so a file that exists is whole.

``--overwrite`` replaces what this run writes and touches nothing else, in every command
(``check_target``, ``FolderOutput``): a file output is replaced when the new one is
complete; a folder output's frames (the files of the writer's own names) are written into
a hidden folder inside it and moved into place when the run ends, the earlier run's frames
this run did not write again removed then, and every other file left as it was. A run that
fails leaves the folder as it was. A folder that holds another kind of output (a recording,
an export's frames) is refused rather than mixed (``other_output``). An OUT that is a
symbolic link is refused with ``--overwrite`` (``refuse_link``): replacing through it would
replace another place's files.

Two runs never write one output at once (``claimed``): the second is refused in one line
at the start, rather than the two mixing their files or one failing at the end.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from .errors import DepthviewError


def _real(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(os.path.expanduser(os.fspath(path))))


def overlap(
    out: str | os.PathLike[str],
    inputs: Iterable[str | os.PathLike[str]],
    *,
    contains: bool = True,
) -> str | None:
    """How ``out`` meets one of ``inputs`` ("is", "contains", "is inside"), else None.
    ``contains=False`` allows a folder around an input (one that only receives new files
    of the writer's own names, such as the viewer's snapshot folder). By path, and by the
    files themselves (device and inode): one folder reached by two paths (a bind mount)
    is one (trial AD: ``record bind/rec rec --overwrite`` replaced its own source)."""
    target = _real(out)
    target_chain = _file_chain(target)
    target_id = _file_id(target)
    for given in inputs:
        source = _real(given)
        source_id = _file_id(source)
        if target == source or (target_id is not None and target_id == source_id):
            return f"is the input {given}"
        if contains and (
            source.is_relative_to(target) or (target_id and target_id in _file_chain(source))
        ):
            return f"contains the input {given}"
        if target.is_relative_to(source) or (source_id and source_id in target_chain):
            return f"is inside the input {given}"
    return None


def _file_id(path: Path) -> tuple[int, int] | None:
    """The file a path names (device, inode), None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _file_chain(path: Path) -> set[tuple[int, int]]:
    """The files of the folders around ``path`` (its parents that exist), not its own."""
    return {i for i in map(_file_id, path.parents) if i is not None}


@contextlib.contextmanager
def claimed(out: str | os.PathLike[str], error: type[DepthviewError]) -> Iterator[None]:
    """Hold ``out`` for this run: a second run writing the same output at once is refused in
    one line (``error``) before it writes anything, rather than mixing its frames with this
    run's or renaming this run's files away. The lock is the kernel's (flock on a file
    named after the output's real path, in a private folder under the system's temporary
    folder): nothing is left beside the output, and a killed run leaves no stale lock."""
    name = hashlib.sha256(os.fsencode(_real(out))).hexdigest()[:40]
    try:
        folder = Path(tempfile.gettempdir()) / f"depthview-{os.getuid()}-outputs"
        folder.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:  # no private temporary folder: run unguarded, as before
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise error(
                f"{out}: another depthview run is writing it; wait for that run to end"
            ) from None
        yield
    finally:
        os.close(fd)


def check_output(
    out: str | os.PathLike[str],
    inputs: Iterable[str | os.PathLike[str]],
    error: type[DepthviewError] = DepthviewError,
    what: str = "output",
    *,
    contains: bool = True,
) -> None:
    """Raise ``error`` naming ``out`` when it is, contains or is inside an input."""
    how = overlap(out, inputs, contains=contains)
    if how is not None:
        raise error(
            f"{out}: expected {_article(what)} apart from the input, got one that {how}; "
            "nothing was written"
        )


def _article(what: str) -> str:
    """``"an output"``, ``"a folder"``; an option's name (``--screenshot``) as it is."""
    if what.startswith("-"):
        return what
    return f"{'an' if what[:1].lower() in 'aeiou' else 'a'} {what}"


def partial_path(path: Path) -> Path:
    """The temporary name ``path`` is written under until complete (hidden, beside it)."""
    return path.with_name(f".{path.name}.partial")


@contextlib.contextmanager
def atomic(path: Path) -> Iterator[Path]:
    """Yield a temporary name beside ``path``; rename it to ``path`` only when complete
    (removed on any failure)."""
    tmp = partial_path(path)
    try:
        yield tmp
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.replace(tmp, path)


def disk_full(exc: BaseException) -> bool:
    """Whether a write failed for want of room: no space, a quota, a file too large."""
    return getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def why_not_written(exc: OSError) -> str:
    """Why writing a file failed, in the user's words: "disk full" (``disk_full``), else the
    system's reason ("Permission denied")."""
    return "disk full" if disk_full(exc) else exc.strerror or str(exc)


def write_atomic(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` under a temporary name, renamed when complete; its sha256."""
    with atomic(path) as tmp:
        tmp.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def refuse_appending_through_link(path: Path, error: type[DepthviewError]) -> None:
    """A file that a run adds to in place (a recording's INDEX.txt, a dataset's manifest)
    and that is a symbolic link is refused in one line: adding through it would change the
    file it points to, another folder's or the input's own (trial V)."""
    if path.is_symlink():
        raise error(
            f"{path}: is a symbolic link to {os.path.realpath(path)}: nothing is added to a "
            "file through a link (it would change that file); remove the link"
        )


def own_file(path: Path) -> None:
    """Make the file at ``path`` this folder's own before it is changed in place (appended
    to): one with other hard links (``cp -al`` makes a copy whose every file is the original
    folder's too) is copied and renamed over itself, so the change reaches no other folder
    (trial V: ``record --append`` into a hard-linked copy of its source appended to the
    source's INDEX.txt). Nothing for a file of one link, or none."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
        write_atomic(path, path.read_bytes())


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_target(
    out: Path,
    *,
    folder: bool,
    overwrite: bool,
    what: str,
    error: type[DepthviewError] = DepthviewError,
    adds: bool = False,
) -> None:
    """Refuse an output that exists (unless ``overwrite``), is of the wrong kind, or cannot
    be written (a folder that is not writable, or that cannot be looked into): one
    ``error`` line naming ``out``. A file's folder must exist; a folder output is made
    later, with its parents. ``what`` says what is written (``--format png16``). With
    ``overwrite``, an ``out`` that is a symbolic link is refused (``refuse_link``).
    ``adds``: the run only adds files of new names to the folder (a snapshot folder, a
    dataset), so one that holds files is fine, and nothing is replaced through a link."""
    try:
        refuse_dangling_link(out, error)
        if overwrite:
            refuse_link(out, error)
        _check_target(out, folder, overwrite or adds, what, error)
    except OSError as exc:
        raise error(f"{out}: cannot write there ({exc.strerror or exc})") from None


def refuse_link(out: str | os.PathLike[str], error: type[DepthviewError]) -> None:
    """``--overwrite`` replaces files under the name given and never through a symbolic
    link: a link to a folder would have this run replace another folder's files (a
    "latest" link to a recording someone keeps), and a link to a file would be replaced
    by a file, the link lost. An ``out`` that is a link, to a file or a folder, is refused
    in one line naming where it points, before anything is written."""
    path = Path(os.path.expanduser(os.fspath(out)))
    if path.is_symlink():
        real = os.path.realpath(path)
        raise error(
            f"{out}: is a symbolic link to {real}: --overwrite does not replace files "
            f"through a link; give {real} itself, or remove the link"
        )


def refuse_dangling_link(out: str | os.PathLike[str], error: type[DepthviewError]) -> None:
    """An ``out`` that is a symbolic link to nothing is neither new nor there: writing
    would replace the link the user keeps with a file, or fail with "File exists". Refused
    in one line naming where it points, with or without ``--overwrite``."""
    path = Path(os.path.expanduser(os.fspath(out)))
    try:
        dangling = path.is_symlink() and not path.exists()
    except OSError:  # a folder that cannot be looked into: said where it is written
        return
    if dangling:
        raise error(
            f"{out}: is a symbolic link to {os.readlink(path)}, which does not exist; "
            "give another name, or remove the link"
        )


def _check_target(
    out: Path, folder: bool, overwrite: bool, what: str, error: type[DepthviewError]
) -> None:
    base = out if folder else out.parent
    existing = _nearest_existing(base)
    if folder and existing == out and not out.is_dir():
        raise error(f"{out}: expected a folder for {what}, got {kind_of(out)}")
    need = os.W_OK | os.X_OK | (os.R_OK if existing == out else 0)  # R: to look inside
    if not existing.is_dir() or not os.access(existing, need):
        raise error(f"{out}: cannot write into {existing} (not a writable folder)")
    if not folder and existing != base:
        raise error(f"{out}: the folder {base} does not exist")
    if folder:
        if out.is_dir() and _has_entries(out) and not overwrite:
            raise error(f"{out}: exists and is not empty; use --overwrite")
    elif out.is_dir():
        raise error(f"{out}: expected a file name for {what}, got a folder")
    elif out.exists() and not out.is_file():  # a FIFO, a device: nothing an export wrote
        raise error(f"{out}: expected a regular file to write {what} to, got {kind_of(out)}")
    elif out.exists() and not overwrite:
        raise error(f"{out}: exists; use --overwrite")


def kind_of(path: Path) -> str:
    """What a path that is not a folder is, in words ("a file", "a named pipe")."""
    return file_kind(path.stat().st_mode)


def file_kind(mode: int) -> str:
    """What a file of ``st_mode`` ``mode`` is, in words ("a named pipe")."""
    for test, words in (
        (stat.S_ISREG, "a file"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return words
    return "something other than a file or folder"


def _nearest_existing(path: Path) -> Path:
    """``path`` or its nearest folder that exists; a folder that cannot be looked into
    (mode 000) stands for what is inside it."""
    for p in (path, *path.parents):
        try:
            if p.exists() or p == Path(p.anchor):
                return p
        except PermissionError:
            return p.parent
    return Path(path.anchor)


def _has_entries(folder: Path) -> bool:
    """Anything in ``folder`` besides what a killed run of ours left (``STAGING``)."""
    return any(entry.name != STAGING for entry in folder.iterdir())


#: The hidden folder inside a folder output that a run's files are written into.
STAGING = ".depthview.partial"


def other_output(out: Path, others: Mapping[str, Callable[[Path], bool]]) -> str | None:
    """Which other kind of depthview output the folder ``out`` holds (``others``: each
    kind's words, and the test of its files), or None. ``--overwrite`` and
    ``--append`` would mix this run's files into it, and a reader would take the folder for
    one of the two: the caller refuses instead."""
    try:
        files = [entry for entry in out.iterdir() if entry.is_file()]
    except OSError:  # not a folder, or not readable: said where it is written
        return None
    return next((words for words, is_theirs in others.items() if any(map(is_theirs, files))), None)


class FolderOutput:
    """A folder output written so that ``--overwrite`` replaces this run's files only.

    ``files()`` makes the hidden ``STAGING`` folder inside ``out`` (and ``out``, with its
    parents) and returns it: write there. ``commit()`` moves what was written into ``out``
    (replacing files of the same name) and removes the files of an earlier run that
    ``is_ours`` names and this run did not write; nothing else in ``out`` is touched.
    ``abandon()`` removes what this run wrote (and ``out`` when this run made it and it is
    empty), leaving the folder as it was."""

    def __init__(self, out: Path, is_ours: Callable[[Path], bool]) -> None:
        self.out = out
        self.is_ours = is_ours
        self.staging = out / STAGING
        self._made = not out.exists()
        self._started = False

    def has_earlier(self) -> bool:
        """Whether ``out`` holds files of an earlier run (what ``commit`` would replace)."""
        return self.out.is_dir() and any(
            self.is_ours(entry) and entry.is_file() for entry in self.out.iterdir()
        )

    def files(self) -> Path:
        if not self._started:  # a killed run's staging is emptied: none of it is this run's
            self.out.mkdir(parents=True, exist_ok=True)
            if self.staging.is_dir() and not self.staging.is_symlink():
                shutil.rmtree(self.staging)
            else:
                self.staging.unlink(missing_ok=True)
            self.staging.mkdir()
            self._started = True
        return self.staging

    def commit(self) -> int:
        """Move this run's files into place; how many."""
        if not self.staging.is_dir():
            self._remove_if_made()
            return 0
        written = sorted(os.listdir(self.staging))
        for name in written:  # checked first, so that nothing is half moved
            if (self.out / name).is_dir():
                raise IsADirectoryError(errno.EISDIR, "a folder is there", str(self.out / name))
        for name in written:
            os.replace(self.staging / name, self.out / name)
        new = set(written)
        for entry in self.out.iterdir():
            if entry.name not in new and self.is_ours(entry) and entry.is_file():
                entry.unlink()
        self.staging.rmdir()
        self._remove_if_made()
        return len(written)

    def shown(self, path: Path) -> Path:
        """The user's name for ``path``: a file in the hidden staging folder by the name it
        will have in ``out`` (errors name what the user asked for, not ``STAGING``)."""
        try:
            return self.out / path.relative_to(self.staging)
        except ValueError:
            return path

    def abandon(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        self._remove_if_made()

    def _remove_if_made(self) -> None:
        if self._made and self.out.is_dir() and not any(self.out.iterdir()):
            self.out.rmdir()


__all__ = [
    "STAGING",
    "FolderOutput",
    "atomic",
    "check_output",
    "check_target",
    "claimed",
    "file_kind",
    "kind_of",
    "overlap",
    "own_file",
    "partial_path",
    "refuse_appending_through_link",
    "refuse_dangling_link",
    "refuse_link",
    "sha256_file",
    "write_atomic",
]
