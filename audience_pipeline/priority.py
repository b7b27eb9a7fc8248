"""DuckDB work that yields the CPU: a job in a thread of lower OS priority.

A run imports dbt and parses the project (a few seconds of pure Python, on one core) while the
pre-step loads the files (DuckDB on every core). The build needs both, and on a machine with
few cores the parse ended last: at 10M bookings on two cores the pre-step was done after
6.0-6.7 s and the parse after 7.6-8.4 s, with a core idle in between. Run at a lower priority
(Linux's nice value, which a thread has of its own and passes on to the threads it starts,
DuckDB's workers among them), the pre-step takes what the parse leaves of the cores; with the
large files' fingerprints in a process of their own (``fingerprint_process.py``), both were
done after 6.7-7.0 s (bench/README.md). On an idle core the job runs as fast as before.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Generic, TypeVar

import duckdb

from audience_pipeline.database import open_database

T = TypeVar("T")

#: How much lower than the run the pre-step's threads run (a nice value; 19 is the lowest).
YIELDING_NICENESS = 10

_INTERRUPT_EVERY_SECONDS = 0.1


def lower_thread_priority(increment: int = YIELDING_NICENESS) -> bool:
    """Raise the calling thread's nice value by ``increment``; the threads it starts inherit it.

    Linux only, where each thread has a priority of its own (elsewhere the call would lower
    the whole process). Returns whether the OS took the new value (it keeps 19 at most); an OS
    that refuses leaves the thread as it was.
    """
    if sys.platform != "linux":
        return False
    thread = threading.get_native_id()
    try:
        niceness = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, niceness + increment)
    except OSError:
        return False
    return True


class _Job(Generic[T]):
    """One DuckDB job on a connection of its own, opened in the job's thread."""

    def __init__(
        self,
        work: Callable[[duckdb.DuckDBPyConnection], T],
        database: Path,
        config: Mapping[str, str],
    ) -> None:
        self._work = work
        self._database = database
        self._config = dict(config)
        self._lock = threading.Lock()
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._stopped = False

    def run(self) -> T:
        lower_thread_priority()
        # DuckDB starts its worker threads as the database opens, here, so they inherit the
        # priority (the run has no other connection to the database open at this point)
        con = open_database(self._database, config=self._config)
        try:
            with self._lock:
                if self._stopped:
                    raise duckdb.InterruptException("interrupted before it started")
                self._connection = con
            return self._work(con)
        finally:
            with self._lock:
                self._connection = None
            con.close()

    def interrupt(self) -> None:
        with self._lock:
            self._stopped = True
            if self._connection is not None:
                self._connection.interrupt()


def run_at_lower_priority(
    work: Callable[[duckdb.DuckDBPyConnection], T],
    database: Path,
    config: Mapping[str, str],
) -> T:
    """``work(con)`` on a new connection to ``database``, in a thread of lower priority.

    The connection is opened with ``config`` and closed when ``work`` returns or raises; what
    ``work`` raises is raised here. Interrupted (Ctrl-C, once or more), the job's queries are
    interrupted until it ends, then KeyboardInterrupt is raised; Python work of the job between
    two queries (transcoding a file) ends its step first. Called from the main thread, Ctrl-C
    only records the press while the job runs (see :class:`_CtrlC`), so no press can land
    where it would leave the job running; elsewhere a press raises where it lands.
    """
    job = _Job(work, database, config)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lower-priority") as executor:
        future: Future[T] | None = None
        try:
            with _CtrlC() as pressed:
                future = executor.submit(job.run)
                while not future.done():
                    if pressed.is_set():
                        job.interrupt()
                    wait([future], timeout=_INTERRUPT_EVERY_SECONDS)
            if pressed.is_set():
                raise KeyboardInterrupt
            return future.result()
        except KeyboardInterrupt:
            _interrupt_until_done(job, future)
            raise


class _CtrlC:
    """While in the block, Ctrl-C (SIGINT) sets the event it gives instead of raising
    KeyboardInterrupt anywhere in the caller: the caller checks it between waits. Python runs
    signal handlers in the main thread only, so elsewhere the block changes nothing (and the
    event stays clear). The handler found is put back on leaving."""

    def __init__(self) -> None:
        self._pressed = threading.Event()
        self._previous: signal.Handlers | Callable[..., object] | int | None = None
        self._installed = False

    def __enter__(self) -> threading.Event:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._press)
            self._installed = True
        return self._pressed

    def __exit__(self, *exc_info: object) -> None:
        if self._installed:
            # None: the handler found was not set from Python; Python's own is the nearest
            previous = self._previous if self._previous is not None else signal.default_int_handler
            signal.signal(signal.SIGINT, previous)

    def _press(self, signum: int, frame: object) -> None:
        self._pressed.set()


def _interrupt_until_done(job: _Job[T], future: Future[T] | None) -> None:
    """Interrupt every query the job still starts, until it gives up (more Ctrl-C included)."""
    while True:
        try:
            job.interrupt()
            if future is None or future.done():
                return
            wait([future], timeout=_INTERRUPT_EVERY_SECONDS)
        except KeyboardInterrupt:
            continue
