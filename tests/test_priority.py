"""The pre-step yields the CPU to dbt's parse: ``audience_pipeline.priority``.

A job run at a lower priority runs in a thread whose nice value is raised, and so do the
threads it starts (DuckDB's workers); the thread that asked, and the build that follows, keep
the run's own priority.
"""

from __future__ import annotations

import gc
import hashlib
import os
import signal
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from audience_pipeline import fingerprint_process, pipeline
from audience_pipeline.priority import (
    YIELDING_NICENESS,
    _Job,
    lower_thread_priority,
    run_at_lower_priority,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
MAIN_NICENESS = os.getpriority(os.PRIO_PROCESS, 0)
LOWERED = MAIN_NICENESS + YIELDING_NICENESS

pytestmark = [
    pytest.mark.skipif(
        sys.platform != "linux", reason="a thread has a priority of its own on Linux only"
    ),
    pytest.mark.skipif(LOWERED > 19, reason="the tests already run at a low priority"),
]


def niceness(thread_id: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, thread_id)


def process_niceness() -> dict[int, int]:
    """The nice value of every thread of this process, by thread id."""
    values = {}
    for entry in os.listdir("/proc/self/task"):
        try:
            values[int(entry)] = niceness(int(entry))
        except OSError:  # the thread ended meanwhile
            continue
    return values


def in_thread(target) -> object:
    """Run ``target()`` in a new thread; return what it returned (or raise what it raised)."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = target()
        except BaseException as error:  # handed back to the test
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]


def test_a_lowered_thread_passes_its_priority_on_and_the_caller_keeps_its_own() -> None:
    def lowered() -> tuple[int, int, int]:
        before = niceness(threading.get_native_id())
        assert lower_thread_priority()
        after = niceness(threading.get_native_id())
        started = in_thread(lambda: niceness(threading.get_native_id()))
        return before, after, started  # type: ignore[return-value]

    assert in_thread(lowered) == (MAIN_NICENESS, LOWERED, LOWERED)
    assert niceness(threading.get_native_id()) == MAIN_NICENESS


def test_the_job_and_duckdb_workers_run_lower_and_the_connection_is_closed(
    tmp_path: Path,
) -> None:
    database = tmp_path / "job.duckdb"
    seen: dict[str, object] = {}

    def work(con: duckdb.DuckDBPyConnection) -> int:
        seen["job"] = niceness(threading.get_native_id())
        seen["threads"] = process_niceness()
        seen["con"] = con
        con.execute("create table numbers as select range as n from range(1000)")
        return int(con.execute("select count(*) from numbers").fetchone()[0])

    assert run_at_lower_priority(work, database, {"threads": "2"}) == 1000
    assert seen["job"] == LOWERED
    # the job's thread and DuckDB's workers, started as the job connected
    threads = seen["threads"]
    assert isinstance(threads, dict)
    assert sum(value == LOWERED for value in threads.values()) >= 2
    with pytest.raises(duckdb.ConnectionException):
        seen["con"].execute("select 1")  # type: ignore[attr-defined]
    # closed, so the file opens again; and no lowered thread is left behind
    with duckdb.connect(str(database)) as con:
        assert con.execute("select count(*) from numbers").fetchone() == (1000,)
    assert LOWERED not in process_niceness().values()


def test_what_the_job_raises_is_raised_to_the_caller(tmp_path: Path) -> None:
    def failing(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("select * from no_such_table")

    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        run_at_lower_priority(failing, tmp_path / "job.duckdb", {})


def test_an_interrupted_job_stops_its_query_and_one_not_started_does_not_start(
    tmp_path: Path,
) -> None:
    started = threading.Event()

    def endless(con: duckdb.DuckDBPyConnection) -> None:
        started.set()
        con.execute("select count(*) from range(1000000000000) a")

    job = _Job(endless, tmp_path / "long.duckdb", {"threads": "1"})
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            job.run()
        except BaseException as error:  # inspected below
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(30)
    deadline = time.monotonic() + 30  # uninterrupted, the query runs for minutes
    while thread.is_alive() and time.monotonic() < deadline:
        job.interrupt()
        thread.join(0.1)
    assert not thread.is_alive()
    assert isinstance(outcome["error"], duckdb.InterruptException)

    called = []
    never = _Job(called.append, tmp_path / "never.duckdb", {})
    never.interrupt()
    with pytest.raises(duckdb.InterruptException):
        in_thread(never.run)
    assert called == []


def test_the_build_runs_at_the_run_s_own_priority(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The pre-step runs lower; once it is done, no thread of the run is left there.

    Every file is fingerprinted in a process of its own here, as large files are.
    """
    monkeypatch.setattr(fingerprint_process, "OWN_PROCESS_BYTES", 0)
    # threads an earlier test left lowered (DuckDB's workers of a database a kept traceback
    # still holds open, say) are not this run's
    gc.collect()
    lowered_before = {tid for tid, value in process_niceness().items() if value != MAIN_NICENESS}
    at_pre_step: list[int] = []
    load = pipeline.load_landing_folder

    def loading(*args, **kwargs):
        at_pre_step.append(niceness(threading.get_native_id()))
        return load(*args, **kwargs)

    monkeypatch.setattr(pipeline, "load_landing_folder", loading)
    at_build: dict[int, int] = {}
    original = pipeline.watched_build

    def watched(*args, **kwargs):
        at_build.update(process_niceness())
        return original(*args, **kwargs)

    monkeypatch.setattr(pipeline, "watched_build", watched)
    database = tmp_path / "audience.duckdb"
    seeds = PROJECT_DIR / "seeds"
    pipeline.run_pipeline(
        seeds, tmp_path / "out", as_of="2026-11-26", database=database, quiet=True
    )
    assert at_pre_step == [LOWERED]
    assert at_build
    lowered_at_build = {tid for tid, value in at_build.items() if value != MAIN_NICENESS}
    assert lowered_at_build - lowered_before == set()
    assert at_build[threading.get_native_id()] == MAIN_NICENESS
    with duckdb.connect(str(database), read_only=True) as con:
        checksums = dict(
            con.execute("select file_path, sha256 from landing.input_files").fetchall()
        )
    assert checksums == {
        str(path.resolve()): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in seeds.glob("*.csv")
    }


def test_ctrl_c_while_waiting_interrupts_the_job_and_is_raised(tmp_path: Path) -> None:
    """The caller's Ctrl-C stops the job's query at once, instead of waiting for it to end.

    Ctrl-C is pressed again every 0.2 s until the job's query is interrupted, as a person
    would: in the full suite a single press was once lost and the query ran to its end
    (minutes; Python drops a KeyboardInterrupt raised while a finalizer runs, the likely
    cause). A press is made under a lock the job takes to record its interruption, so none
    lands after it."""
    started = threading.Event()
    pressing = threading.Lock()
    ended: list[type[BaseException]] = []

    def endless(con: duckdb.DuckDBPyConnection) -> None:
        started.set()
        try:
            con.execute("select count(*) from range(1000000000000) a")
        except BaseException as error:  # recorded, then raised on
            with pressing:
                ended.append(type(error))
            raise

    def press_ctrl_c() -> None:
        if not started.wait(30):
            return
        for _ in range(150):
            with pressing:
                if ended:
                    return
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
            time.sleep(0.2)

    # the handler Python starts with, whatever an earlier test left
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer = threading.Thread(target=press_ctrl_c, daemon=True)
        timer.start()
        began = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            run_at_lower_priority(endless, tmp_path / "long.duckdb", {"threads": "1"})
        timer.join(5)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert ended == [duckdb.InterruptException]
    assert time.monotonic() - began < 30


def test_one_ctrl_c_stops_the_job_wherever_it_lands_and_the_handler_is_put_back(
    tmp_path: Path,
) -> None:
    """A single press, made while the job's Python work runs between two queries (no query to
    interrupt then), is recorded rather than raised where it lands: the job's next query is
    interrupted, KeyboardInterrupt is raised once the job ended, and the caller's own SIGINT
    handler is in place again."""
    between = threading.Event()
    ended: list[type[BaseException]] = []

    def two_steps(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("select 1").fetchall()
        between.set()
        time.sleep(0.5)  # Python work: the press lands here
        try:  # about 20 s uninterrupted, so a press that is lost fails the test, not hangs it
            con.execute("select sum(a.range % 7) from range(6000000000) a").fetchall()
        except BaseException as error:  # recorded, then raised on
            ended.append(type(error))
            raise

    def press_once() -> None:
        if between.wait(30):
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    presses: list[int] = []

    def callers_handler(signum: int, frame: object) -> None:
        presses.append(signum)

    previous = signal.signal(signal.SIGINT, callers_handler)
    try:
        timer = threading.Thread(target=press_once, daemon=True)
        timer.start()
        began = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            run_at_lower_priority(two_steps, tmp_path / "long.duckdb", {"threads": "1"})
        timer.join(5)
        restored = signal.getsignal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert ended == [duckdb.InterruptException]
    assert time.monotonic() - began < 30
    assert presses == []  # the press went to the job, not to the handler put back after it
    assert restored is callers_handler
