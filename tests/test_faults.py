"""Faults, through the real command line: killed runs, concurrent runs, reruns.

A first run publishes the committed sample (``seeds/``, as of 2026-11-26) into an output
folder. Then runs against the same database and output folder are killed with SIGKILL:

- during the dbt build (when dbt reports it started building an intermediate model),
- during the publish, at the pause points of ``audience_pipeline.publish``
  (``AUDIENCE_TEST_PAUSE_BEFORE``): after the new generation's first file is written, and after
  the new generation is complete but before the switch.

After each kill the published files must be byte-identical to the first run's, and the final
run must succeed, publish byte-identical outputs again (same inputs, same as-of date) and clear
what the killed runs left. A run paused in the publish also stands for "a run in progress"
while second runs against the same database or output folder must fail fast.

The tests share the output folder and run in file order; each leaves it as it found it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import RUN_PIPELINE_CLI, query

pytestmark = pytest.mark.slow  # runs dbt end to end

PROJECT_DIR = Path(__file__).resolve().parent.parent
SAMPLE = PROJECT_DIR / "seeds"
AS_OF = "2026-11-26"
TIMEOUT = 120  # seconds; a sample run takes about 10


def command(output_dir: Path, database: Path, *extra: str, as_of: str = AS_OF) -> list[str]:
    return [
        *RUN_PIPELINE_CLI,
        "--input-dir",
        str(SAMPLE),
        "--as-of",
        as_of,
        "--output-dir",
        str(output_dir),
        "--database",
        str(database),
        *extra,
    ]


STARTED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def no_run_left_behind() -> Iterator[None]:
    """A test that fails half-way must not leave a paused run holding the locks."""
    yield
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.wait(TIMEOUT)


def _interruptible() -> None:
    """In the child: Ctrl-C's default, whatever started the tests (nohup, a background job
    ignores SIGINT, and a run started so keeps ignoring it, as the README says)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Run:
    """A pipeline run in a subprocess whose merged stdout/stderr is read line by line."""

    def __init__(self, args: list[str], pause_before: str | None = None) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("AUDIENCE_TEST_PAUSE_BEFORE", None)
        if pause_before:
            env["AUDIENCE_TEST_PAUSE_BEFORE"] = pause_before
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=PROJECT_DIR,
            preexec_fn=_interruptible,
        )
        STARTED.append(self.process)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """Block until a line matches ``pattern``; fail if the run ends first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                pytest.fail(f"no line matched {pattern!r} in {timeout}s:\n{self.output}")
            if line is None:
                pytest.fail(f"the run ended before {pattern!r}:\n{self.output}")
            self.lines.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    def kill(self) -> int:
        self.process.send_signal(signal.SIGKILL)
        return self.process.wait(TIMEOUT)

    def finish(self) -> int:
        code = self.process.wait(TIMEOUT)
        while (line := self._queue.get(timeout=TIMEOUT)) is not None:
            self.lines.append(line)
        return code

    @property
    def output(self) -> str:
        return "".join(self.lines)


@dataclass
class Published:
    work: Path
    output_dir: Path
    database: Path
    files: dict[str, bytes]
    generation: str


#: The documented outputs: byte-identical for the same inputs and as-of date. (The run report,
#: run_report.html, names its run number and the trend of the runs, so it differs on a rerun.)
DOCUMENTED = (
    "eligible_audience.csv",
    "reconciliation.json",
    "rejected_bookings.csv",
    "rejected_consent_events.csv",
    "rejected_customers.csv",
    "rejected_suppressions.csv",
)


def read_outputs(output_dir: Path) -> dict[str, bytes]:
    return {name: (output_dir / name).read_bytes() for name in DOCUMENTED}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """The first run: publishes the sample; later runs must leave exactly this in place."""
    work = tmp_path_factory.mktemp("faults")
    output_dir, database = work / "out", work / "audience.duckdb"
    completed = subprocess.run(
        command(output_dir, database, "--quiet"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return Published(work, output_dir, database, read_outputs(output_dir), os.readlink(output_dir))


@pytest.fixture
def unchanged(published: Published) -> Iterator[None]:
    """After the test: the published outputs are exactly those of the first run."""
    yield
    assert os.readlink(published.output_dir) == published.generation
    assert read_outputs(published.output_dir) == published.files


def test_first_run_publishes_the_documented_files(published: Published) -> None:
    assert {path.name for path in published.output_dir.iterdir()} >= set(DOCUMENTED)
    assert published.files["eligible_audience.csv"].count(b"\n") == 71  # header + 70


def test_kill_during_the_dbt_build_leaves_the_previous_outputs(
    published: Published, unchanged: None
) -> None:
    run = Run(command(published.output_dir, published.database, "--verbose"))
    run.wait_for(r"START sql table model intermediate\.")
    assert run.kill() == -signal.SIGKILL
    assert "publish ..." not in run.output


def test_kill_while_writing_the_new_generation_leaves_the_previous_outputs(
    published: Published, unchanged: None
) -> None:
    run = Run(command(published.output_dir, published.database), pause_before="publish-write")
    pid = int(run.wait_for(r"pause point publish-write: pid (\d+) waiting").group(1))
    staging = published.work / ".out.generations" / f".staging-{pid}"
    assert (staging / "eligible_audience.csv").is_file()  # the new set is half written
    assert run.kill() == -signal.SIGKILL


def test_kill_just_before_the_switch_leaves_the_previous_outputs(
    published: Published, unchanged: None
) -> None:
    run = Run(command(published.output_dir, published.database), pause_before="publish-switch")
    run.wait_for(r"pause point publish-switch: pid \d+ waiting")
    generations = sorted(path.name for path in (published.work / ".out.generations").iterdir())
    assert len(generations) >= 2  # the complete new generation is there, not switched to
    assert run.kill() == -signal.SIGKILL


def test_a_second_run_fails_fast_while_one_is_running(
    published: Published, unchanged: None
) -> None:
    first = Run(command(published.output_dir, published.database), pause_before="publish-switch")
    pid = int(first.wait_for(r"pause point publish-switch: pid (\d+) waiting").group(1))
    other_out, other_db = published.work / "other_out", published.work / "other.duckdb"
    cases = {
        "database": command(published.output_dir, published.database, "--quiet"),
        "output folder": command(published.output_dir, other_db, "--quiet"),
        "database ": command(other_out, published.database, "--quiet"),
    }
    try:
        for what, args in cases.items():
            started = time.monotonic()
            second = subprocess.run(
                args, capture_output=True, text=True, timeout=TIMEOUT, check=False
            )
            seconds = time.monotonic() - started
            assert second.returncode == 1, second.stderr
            assert f"the {what.strip()} " in second.stderr
            assert f"is locked by another run (pid {pid}," in second.stderr
            assert "wait for that run to finish" in second.stderr
            assert seconds < 15, f"took {seconds:.1f}s to refuse"
            assert "dbt build" not in second.stderr
        assert not other_out.exists()
    finally:
        os.kill(pid, signal.SIGUSR1)  # let the first run go on
    assert first.finish() == 0, first.output
    # it published the same inputs again: the same bytes, in a new generation
    assert read_outputs(published.output_dir) == published.files
    published.generation = os.readlink(published.output_dir)


def test_ctrl_c_during_the_dbt_build_is_an_interrupted_run(
    published: Published, unchanged: None
) -> None:
    """dbt turns Ctrl-C into a failed build: the run still ends as interrupted (130), not as
    a failed control (exit 1, diagnostics kept)."""
    run = Run(command(published.output_dir, published.database, "--verbose"))
    run.wait_for(r"START sql table model intermediate\.")
    run.process.send_signal(signal.SIGINT)
    assert run.finish() == 130, run.output
    assert "interrupted; nothing was published" in run.output
    assert "the run failed" not in run.output
    assert not (published.work / ".out.diagnostics").exists()


def test_ctrl_c_while_writing_the_new_generation_publishes_nothing(
    published: Published, unchanged: None
) -> None:
    """Writing the outputs (seconds at volume) is not yet publishing: Ctrl-C there ends the run
    as interrupted (130) at once, removes what it wrote, and records nothing."""
    before = recorded_run_ids(published.database)
    run = Run(command(published.output_dir, published.database), pause_before="publish-write")
    pid = int(run.wait_for(r"pause point publish-write: pid (\d+) waiting").group(1))
    staging = published.work / ".out.generations" / f".staging-{pid}"
    assert (staging / "eligible_audience.csv").is_file()
    os.kill(pid, signal.SIGINT)
    assert run.finish() == 130, run.output
    assert "interrupted; nothing was published" in run.output
    assert "history: record the run" not in run.output
    assert not staging.exists()
    assert os.readlink(published.output_dir) == published.generation
    assert recorded_run_ids(published.database) == before


def test_ctrl_c_once_the_run_is_recorded_completes_the_publish(
    published: Published, unchanged: None
) -> None:
    """Once the history has recorded the run, just before the output folder switches, Ctrl-C
    (or SIGTERM) waits until the switch is done, so the folder and the history agree."""
    run = Run(command(published.output_dir, published.database), pause_before="publish-switch")
    pid = int(run.wait_for(r"pause point publish-switch: pid (\d+) waiting").group(1))
    assert os.readlink(published.output_dir) == published.generation  # not switched yet
    os.kill(pid, signal.SIGINT)
    os.kill(pid, signal.SIGTERM)
    time.sleep(1)
    assert run.process.poll() is None  # neither stopped it
    os.kill(pid, signal.SIGUSR1)
    assert run.finish() == 0, run.output
    assert "an interrupt arrived during the publish" in run.output
    recorded = re.search(r"recorded as run #(\d+)", run.output)
    assert recorded is not None
    assert recorded_run_ids(published.database)[-1] == int(recorded.group(1))
    switched = os.readlink(published.output_dir)
    assert switched != published.generation
    assert read_outputs(published.output_dir) == published.files  # same inputs, same bytes
    published.generation = switched


def test_a_run_killed_after_its_record_before_the_switch_is_forgotten(
    published: Published, unchanged: None
) -> None:
    """kill -9 between the history's record and the switch: the history holds a run the folder
    never switched to. The next run forgets it (says so) and is compared with the run the folder
    holds, not with the one never published (whose delta files never reached the platform):
    the history's last run is the generation the folder switched to."""
    before = recorded_run_ids(published.database)
    killed = killed_at_the_switch_then_run_again(published.output_dir, published.database)
    assert killed not in before  # recorded, never published
    runs = recorded_run_ids(published.database)
    assert runs == [*before, killed + 1]  # the forgotten run's number is not given again
    recorded = query(
        published.database,
        "select generation from history.published_runs where run_id = ?",
        [killed + 1],
    )
    switched = int(os.readlink(published.output_dir).rsplit("g", 1)[1])
    assert recorded == [(switched,)]  # the history's last run is the one the folder holds
    assert read_outputs(published.output_dir) == published.files
    published.generation = os.readlink(published.output_dir)


def test_a_first_run_killed_before_its_switch_is_forgotten(published: Published) -> None:
    """The first run to a new folder, killed between its record and the switch: the folder
    never existed, so the next run is a first run again (everyone entered), not a run compared
    with one that never reached the platform (nobody entered)."""
    fresh = published.work / "fresh"
    killed_at_the_switch_then_run_again(fresh, published.database)
    recorded = query(
        published.database,
        "select previous_run_id, entered, eligible, switched from history.published_runs "
        "where run_id = ?",
        [recorded_run_ids(published.database)[-1]],
    )
    assert recorded == [(None, 70, 70, True)]


def test_a_run_killed_before_the_switch_of_another_folder_of_its_destination_is_forgotten(
    tmp_path: Path,
) -> None:
    """A destination published to two folders: a run to the second killed between its record
    and its switch never reached the platform, so the next run to the destination, to the first
    folder, forgets it and is compared with the run before it, not with the one never
    published (whose entrants the platform never received)."""
    database, first, second = tmp_path / "audience.duckdb", tmp_path / "a", tmp_path / "b"
    crm = ("--destination", "crm")
    first_run = subprocess.run(
        command(first, database, *crm, "--quiet"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert first_run.returncode == 0, first_run.stderr
    run = Run(command(second, database, *crm, as_of="2026-12-10"), pause_before="publish-switch")
    run.wait_for(r"pause point publish-switch: pid \d+ waiting")
    assert run.kill() == -signal.SIGKILL
    killed = recorded_run_ids(database)[-1]
    next_run = subprocess.run(
        command(first, database, *crm, as_of="2027-01-15"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert next_run.returncode == 0, next_run.stderr
    assert f"run #{killed} was recorded for {second.absolute()}" in next_run.stderr
    (previous,) = query(
        database,
        "select previous_run_id from history.published_runs where run_id = ?",
        [killed + 1],
    )
    assert previous == (killed - 1,)
    assert recorded_run_ids(database) == [killed - 1, killed + 1]


def test_a_run_whose_switch_fails_forgets_itself(tmp_path: Path) -> None:
    """A folder that appears at the output path while the run publishes (another tool, a
    person) makes the switch fail: the run fails naming it, and having recorded itself, it
    forgets itself at once (never published; its number is not given again), which
    ``audience history`` tells apart from a run a later one found stopped."""
    database, output_dir = tmp_path / "audience.duckdb", tmp_path / "out"
    run = Run(command(output_dir, database), pause_before="publish-switch")
    match = run.wait_for(r"pause point publish-switch: pid (\d+) waiting")
    output_dir.mkdir()
    os.kill(int(match.group(1)), signal.SIGUSR1)
    assert run.finish() == 1, run.output  # the run failed (2 is for a command used wrongly)
    assert f"output folder {output_dir} appeared during the publish" in run.output
    (failed,) = query(database, "select run_id, forgotten_because from history.forgotten_runs")
    assert failed[1] == "switch_failed"
    assert recorded_run_ids(database) == []
    runs = json.loads(audience(database, "history", "--format", "json"))
    assert [(r["run_id"], r["published"], r["forgotten_because"]) for r in runs] == [
        (failed[0], False, "switch_failed")
    ]
    table = audience(database, "history")
    assert (
        f"run #{failed[0]} (as of {AS_OF}, recorded " in table
        and ": its folder's switch failed: never published, forgotten by the run itself at "
        in table
    )


def killed_at_the_switch_then_run_again(output_dir: Path, database: Path) -> int:
    """A run killed at the switch (recorded, not published), then the next run, which must
    say it forgot it; returns the killed run's id."""
    run = Run(command(output_dir, database), pause_before="publish-switch")
    run.wait_for(r"pause point publish-switch: pid \d+ waiting")
    assert run.kill() == -signal.SIGKILL
    killed = recorded_run_ids(database)[-1]
    said_never_published(killed, output_dir, database)
    next_run = subprocess.run(
        command(output_dir, database), capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert next_run.returncode == 0, next_run.stderr
    assert f"run #{killed} was recorded for" in next_run.stderr
    assert "(never published): forgotten" in next_run.stderr
    said_forgotten(killed, output_dir, database)
    return killed


def audience(database: Path, *args: str) -> str:
    """``audience ARGS --database DATABASE``'s output (it must exit 0)."""
    completed = subprocess.run(
        [sys.executable, "-m", "audience_pipeline", *args, "--database", str(database)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def said_not_published(killed: int, output_dir: Path, database: Path) -> tuple[dict, str]:
    """``audience history`` lists the killed run as not published, below the table (not a
    row of it); returns the run as JSON and the table."""
    runs = json.loads(
        audience(database, "history", "--output-dir", str(output_dir), "--format", "json")
    )
    (run,) = [run for run in runs if run["run_id"] == killed]
    assert run["published"] is False
    # any other run is published, or was forgotten already (an earlier test's killed run)
    assert all(other["published"] or other["forgotten_at"] for other in runs if other is not run)
    table = audience(database, "history", "--output-dir", str(output_dir))
    assert f"  run #{killed} (as of {AS_OF}, recorded " in table
    assert "stopped before its folder switched to it: never published" in table
    assert not re.search(rf"^#{killed} ", table, re.MULTILINE)
    return run, table


def said_never_published(killed: int, output_dir: Path, database: Path) -> None:
    """Before the next run forgets it, ``audience history`` and ``audience explain`` read the
    killed run as never published (the history holds it; the folder never switched to it)."""
    run, table = said_not_published(killed, output_dir, database)
    assert run["forgotten_at"] is None
    assert "the next run to the folder forgets it" in table
    explained = audience(database, "explain", "1001", "--output-dir", str(output_dir))
    # not published: the destination holds the run before, or (a first run) none yet
    assert re.search(
        "the latest run was not published|no run published to this destination yet", explained
    )
    assert f"holds run #{killed}," not in explained


def said_forgotten(killed: int, output_dir: Path, database: Path) -> None:
    """Once forgotten, the killed run keeps its trace (``forgotten_runs``), and ``audience
    history`` says it was forgotten."""
    run, table = said_not_published(killed, output_dir, database)
    assert run["forgotten_at"] is not None and run["customers"] is None
    assert (
        "stopped before its folder switched to it: never published, forgotten by the next run "
        "to its destination at " in table
    )
    assert run["forgotten_because"] == "stopped_before_switch"
    (trace,) = query(
        database,
        "select as_of_date, output_dir, forgotten_because from history.forgotten_runs "
        "where run_id = ?",
        [killed],
    )
    assert trace == (
        dt.date.fromisoformat(AS_OF),
        str(output_dir.absolute()),
        "stopped_before_switch",
    )


def recorded_run_ids(database: Path) -> list[int]:
    return [
        row[0]
        for row in query(database, "select run_id from history.published_runs order by run_id")
    ]


def test_next_run_succeeds_with_byte_identical_outputs_and_clears_leftovers(
    published: Published, unchanged: None
) -> None:
    generations = published.work / ".out.generations"
    (generations / ".staging-999999").mkdir(exist_ok=True)  # as a killed run leaves them
    (generations / "g999999").mkdir(exist_ok=True)
    completed = subprocess.run(
        command(published.output_dir, published.database, "--quiet"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "published 70 of 151 customers" in completed.stdout
    assert read_outputs(published.output_dir) == published.files
    current = os.readlink(published.output_dir)
    assert current != published.generation
    left = sorted(path.name for path in generations.iterdir())
    assert left == [Path(published.generation).name, Path(current).name]
    assert not list(published.work.glob(".out.link-*"))
    assert (published.work / ".out.lock").read_text() == ""
    assert (published.work / "audience.duckdb.lock").read_text() == ""
    published.generation = current
