"""Where ``convert``'s units run, chosen at the edge: this process, local worker processes
(``workers=N``), or an existing Dask cluster (``scheduler="tcp://host:8786"`` or
``DASK_SCHEDULER_ADDRESS``). Dask (the ``cluster`` extra) is imported only for the last
two. Units go to Dask as plain function calls (``job.run_unit``), so a worker that dies
takes nothing with it: the scheduler runs its units again elsewhere.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import signal
import threading
import uuid
import warnings
from collections.abc import Callable, Generator, Iterator
from typing import Any

from ..errors import DepthviewError
from .job import Unit, UnitResult, run_unit

#: What adds Dask.
INSTALL = "pip install 'depthview[cluster]'"
#: The module each local worker runs as it starts (``_worker_setup``).
WORKER_SETUP = "depthview.datasets._worker_setup"
#: Times Dask retries a unit that raised (a worker dying is not counted: Dask reschedules).
RETRIES = 1


def scheduler_address(scheduler: str | None) -> str | None:
    """The scheduler to use: the argument, else ``DASK_SCHEDULER_ADDRESS``, else None."""
    return scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None


def address_option(scheduler: str | None) -> str:
    """How the user gave the scheduler's address, for an error line: the option or the
    environment variable."""
    return "--scheduler" if scheduler else "DASK_SCHEDULER_ADDRESS"


def check_address(scheduler: str | None) -> None:
    """Refuse at once an address whose port cannot be one (0 or past 65535), naming where
    it came from; anything else is Dask's to judge when it connects."""
    address = scheduler_address(scheduler)
    if address is None:
        return
    tail = address.rsplit("/", 1)[-1]
    _, colon, port = tail.rpartition(":")
    if colon and port and not (port.isdigit() and 0 < int(port) <= 65535):
        raise DepthviewError(
            f"{address_option(scheduler)} {address}: expected a port from 1 to 65535, got {port}"
        )


def have_dask() -> bool:
    """Whether the ``dask`` extra is installed, found without importing it (importing
    ``distributed`` takes a second or more: every command's help would pay it)."""
    try:
        return importlib.util.find_spec("distributed") is not None
    except (ImportError, ValueError):
        return False


def cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def capped_workers(workers: int | None) -> int | None:
    """``workers``, at most one per core: more processes than cores only share them (and
    each holds a scene's buffers), so the run goes on with one per core and says so."""
    n = cores()
    if workers is not None and workers > n:
        warnings.warn(
            f"--workers {workers}: this machine has {n} core(s); running {n} worker(s)",
            stacklevel=2,
        )
        return n
    return workers


def describe(workers: int | None, scheduler: str | None) -> str:
    address = scheduler_address(scheduler)
    if address:
        return f"Dask cluster at {address}"
    if workers and workers > 1 and have_dask():
        return f"{workers} local worker processes (Dask)"
    return "one process"


def run(
    units: list[Unit],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    on_frame: Callable[[], object] | None = None,
) -> Generator[tuple[Unit, UnitResult | DepthviewError], None, None]:
    """Each unit with its result (or the ``DepthviewError`` that stopped it), as units
    finish. Anything else a unit raises is a bug and propagates. ``on_frame`` is called for
    each frame written when units run in this process (Dask reports whole units)."""
    address = scheduler_address(scheduler)
    check_address(scheduler)
    if address is None and not (workers and workers > 1):
        yield from _in_process(units, on_frame)
        return
    if not have_dask():
        if address is not None:
            raise DepthviewError(
                f"{address_option(scheduler)} {address}: Dask is not installed; {INSTALL}"
            )
        warnings.warn(
            f"convert: running in one process: {workers} workers need Dask; {INSTALL}",
            stacklevel=2,
        )
        yield from _in_process(units, on_frame)
        return
    yield from _dask(units, address, workers, address_option(scheduler))


def _in_process(
    units: list[Unit], on_frame: Callable[[], object] | None
) -> Iterator[tuple[Unit, UnitResult | DepthviewError]]:
    for unit in units:
        yield unit, _guarded(unit, on_frame)


def _guarded(
    unit: Unit, on_frame: Callable[[], object] | None = None
) -> UnitResult | DepthviewError:
    try:
        return run_unit(unit, on_frame)
    except DepthviewError as exc:
        return exc


def _dask(
    units: list[Unit], address: str | None, workers: int | None, option: str = "--scheduler"
) -> Iterator[tuple[Unit, UnitResult | DepthviewError]]:
    _quiet_dask()
    dask: Any = importlib.import_module("distributed")  # typed loosely: an optional extra
    cluster: Any = None
    if address is None:
        try:
            with _ctrl_c_after():
                cluster = dask.LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    memory_limit=0,
                    preload=[WORKER_SETUP],  # workers ignore Ctrl-C: it is this process's
                )
        except KeyboardInterrupt:
            if cluster is not None:
                cluster.close()
            raise
        client = dask.Client(cluster)
    else:
        try:
            client = dask.Client(address, timeout="20s")
        except (OSError, ValueError, TypeError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DepthviewError(
                f"{option} {address}: expected a Dask scheduler there "
                f"(tcp://HOST:8786), got {reason}"
            ) from None
    try:
        token = uuid.uuid4().hex[:8]
        keys = [f"depthview-convert-{token}-{u.scene.name}-{u.chunk}" for u in units]
        futures = client.map(_guarded_unit, units, key=keys, retries=RETRIES, pure=False)
        by_key = dict(zip(keys, units, strict=True))
        for future in dask.as_completed(futures):
            yield by_key[future.key], future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _quiet_dask() -> None:
    """Dask's own log lines (a cancelled task on Ctrl-C, a worker restarted) are not the
    user's business (a worker losing the scheduler as the cluster closes is logged as an
    error): critical ones only, here and in the workers (which read the environment),
    unless the user configured Dask's logging. A failure that matters reaches this process
    as an exception anyway."""
    import logging

    if "DASK_LOGGING__DISTRIBUTED" not in os.environ:
        os.environ["DASK_LOGGING__DISTRIBUTED"] = "critical"
        logging.getLogger("distributed").setLevel(logging.CRITICAL)


@contextlib.contextmanager
def _ctrl_c_after() -> Iterator[None]:
    """While the local cluster starts, Ctrl-C is blocked here so that the worker processes
    it spawns start with it blocked (the signal mask is inherited across exec; the workers
    then ignore it, ``_worker_setup``): the terminal sends Ctrl-C to the whole process
    group, and only this process should act on it, not each worker with a traceback. A
    Ctrl-C typed meanwhile (or sent to this process alone) is not lost: it stays pending
    and is raised here once the cluster has started (and so is closed as after any)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are the main thread's: nothing to change
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)  # a pending Ctrl-C lands now


def _guarded_unit(unit: Unit) -> UnitResult | DepthviewError:
    """What a Dask worker runs (module level, so it pickles by reference)."""
    return _guarded(unit)


__all__ = ["INSTALL", "describe", "have_dask", "run", "scheduler_address"]
