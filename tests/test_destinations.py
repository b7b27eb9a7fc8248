"""One history per destination: several destinations in one database, run every day.

Fast: an existing database from before destinations is migrated in place, and one whose
per-customer tables had a primary key is rebuilt without it. Slow (the real
pipeline, one database throughout): the sample, then another landing folder into another
output folder, both publish as first runs; the quickstart again; a run dated before the
destination's latest stops (and passes when accepted); a small list is not blocked by noise;
an empty audience stops unless allowed; a stopped run leaves its would-be outputs beside the
destination and says where.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import RUN_PIPELINE_CLI, make_row, query, write_landing_folder

from audience_pipeline.drift import DriftFailure, DriftThresholds
from audience_pipeline.errors import UsageError
from audience_pipeline.history import (
    PER_CUSTOMER_TABLES,
    TABLES,
    RunDestination,
    ensure_history_tables,
    require_folder_destination,
)
from audience_pipeline.pipeline import run_pipeline

PROJECT_DIR = Path(__file__).resolve().parent.parent
SAMPLE = PROJECT_DIR / "seeds"
SAMPLE_AS_OF = "2026-11-26"

#: published_runs as databases from before destinations have it.
OLD_PUBLISHED_RUNS = TABLES["published_runs"].split(",\n        destination varchar")[0]


def test_a_database_from_before_destinations_is_migrated(tmp_path: Path) -> None:
    database = tmp_path / "old.duckdb"
    con = duckdb.connect(str(database))
    con.execute("create schema history")
    con.execute(f"create table history.published_runs ({OLD_PUBLISHED_RUNS})")
    con.execute(f"create table history.run_decisions ({TABLES['run_decisions']})")
    for run_id, folder in ((1, tmp_path / "crm"), (2, tmp_path / "crm"), (3, tmp_path / "ads")):
        con.execute(
            "insert into history.published_runs values "
            "(?, now(), '2026-11-2' || ?, 'in', ?, 10, 2, null, 2, 0, 0, 5, 0, 'passed', null)",
            [run_id, run_id, str(folder)],
        )
        con.execute(
            "insert into history.run_decisions (run_id, customer_id, decision_reason) "
            "values (?, 1, 'eligible'), (?, 2, 'eligible'), (?, 3, 'inactive')",
            [run_id] * 3,
        )
    ensure_history_tables(con)
    ensure_history_tables(con)  # a second time changes nothing
    assert con.execute(
        "select run_id, destination from history.published_runs order by run_id"
    ).fetchall() == [
        (1, str(tmp_path / "crm")),
        (2, str(tmp_path / "crm")),
        (3, str(tmp_path / "ads")),
    ]
    # the members of every run, without the values (they were not kept)
    assert con.execute(
        "select run_id, count(*), count(email) from history.run_audience group by all order by 1"
    ).fetchall() == [(1, 2, 0), (2, 2, 0), (3, 2, 0)]
    con.close()


def test_per_customer_tables_with_a_primary_key_are_rebuilt_without_it(tmp_path: Path) -> None:
    """Databases written when run_decisions and run_audience had a key keep every row."""
    con = duckdb.connect(str(tmp_path / "keyed.duckdb"))
    con.execute("create schema history")
    con.execute(f"create table history.published_runs ({TABLES['published_runs']})")
    for table in PER_CUSTOMER_TABLES:
        con.execute(
            f"create table history.{table} ({TABLES[table]}, primary key (run_id, customer_id))"
        )
    con.execute(
        "insert into history.published_runs (run_id, published_at, as_of_date, customers, "
        "eligible, controls_passed, controls_failed, drift_status, destination) "
        "values (1, now(), '2026-11-25', 3, 2, 5, 0, 'passed', 'crm')"
    )
    con.execute(
        "insert into history.run_decisions (run_id, customer_id, decision_reason) values "
        "(1, 1, 'eligible'), (1, 2, 'eligible'), (1, 3, 'inactive')"
    )
    con.execute(
        "insert into history.run_audience (run_id, customer_id, email) "
        "values (1, 1, 'a@example.com'), (1, 2, 'b@example.com')"
    )
    before = {
        table: con.execute(f"select * from history.{table} order by all").fetchall()
        for table in PER_CUSTOMER_TABLES
    }

    ensure_history_tables(con)
    ensure_history_tables(con)  # a second time changes nothing

    keyed = {
        table
        for (table,) in con.execute(
            "select table_name from duckdb_constraints() "
            "where schema_name = 'history' and constraint_type = 'PRIMARY KEY'"
        ).fetchall()
    }
    # the run-level tables keep theirs
    assert "published_runs" in keyed and "run_input_files" in keyed
    assert not keyed & set(PER_CUSTOMER_TABLES)
    for table, rows in before.items():
        assert con.execute(f"select * from history.{table} order by all").fetchall() == rows
    assert con.execute(
        "select run_id, customer_id from history.run_membership order by all"
    ).fetchall() == [(1, 1), (1, 2)]
    con.close()


def record_published(con: duckdb.DuckDBPyConnection, run_id: int, folder: Path, name: str) -> None:
    """A published run to ``folder`` under destination ``name``, counts only."""
    con.execute(
        "insert into history.published_runs (run_id, published_at, as_of_date, output_dir, "
        "customers, eligible, controls_passed, controls_failed, drift_status, destination) "
        "values (?, now(), '2026-11-25', ?, 3, 2, 5, 0, 'passed', ?)",
        [run_id, str(folder), name],
    )


def test_a_folder_keeps_the_destination_it_was_last_published_to(tmp_path: Path) -> None:
    folder, moved = tmp_path / "b", tmp_path / "moved"
    own = str(tmp_path.resolve() / "b")
    con = duckdb.connect(str(tmp_path / "audience.duckdb"))
    ensure_history_tables(con)
    record_published(con, 1, folder, own)
    record_published(con, 2, folder, "brand-b")  # named from the second run on
    record_published(con, 3, moved, "brand-b")

    forgotten = RunDestination(folder, own, named=False)
    with pytest.raises(UsageError) as refused:
        require_folder_destination(con, forgotten)
    assert str(refused.value) == (
        f"argument --output-dir: {own} was last published as destination brand-b (run #2); "
        f"give --destination brand-b to continue it, or --destination {own} to start a new "
        "history there"
    )
    with pytest.raises(UsageError, match=r"^argument --destination: .* \(run #2\), not brand-c;"):
        require_folder_destination(con, RunDestination(folder, "brand-c", named=True))
    # its recorded name, the folder's own path given deliberately, a folder never published to
    require_folder_destination(con, RunDestination(folder, "brand-b", named=True))
    require_folder_destination(con, RunDestination(folder, own, named=True))
    require_folder_destination(con, RunDestination(tmp_path / "c", "brand-b", named=True))
    con.close()


def test_a_folder_published_by_default_refuses_a_name(tmp_path: Path) -> None:
    """Also in a database from before destinations: its runs belong to their folders."""
    folder = tmp_path / "crm"
    own = str(tmp_path.resolve() / "crm")
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    con.execute("create schema history")
    con.execute(f"create table history.published_runs ({OLD_PUBLISHED_RUNS})")
    con.execute(
        "insert into history.published_runs values "
        "(1, now(), '2026-11-25', 'in', ?, 10, 2, null, 2, 0, 0, 5, 0, 'passed', null)",
        [str(folder)],
    )
    require_folder_destination(con, RunDestination(folder, own, named=False))
    with pytest.raises(UsageError) as refused:
        require_folder_destination(con, RunDestination(folder, "brand-b", named=True))
    assert str(refused.value) == (
        f"argument --destination: {own} was last published as destination {own} (run #1), "
        "not brand-b; give no --destination to continue it, or publish brand-b to a folder of "
        "its own (a folder is fed one destination's deltas)"
    )
    con.close()


# ---------------------------------------------------------------------------------------------
# The real pipeline: several destinations in one database
# ---------------------------------------------------------------------------------------------


@dataclass
class Day:
    """What the runs of the session left behind."""

    work: Path
    database: Path
    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, Exception] = field(default_factory=dict)
    outputs: dict[str, dict[str, bytes]] = field(default_factory=dict)


def read_outputs(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def small_list(folder: Path, *, leaving: int | None = None, entering: int | None = None) -> None:
    """Six eligible customers (11-16, or with one leaving and one entering)."""
    ids = [i for i in range(11, 17) if i != leaving] + ([entering] if entering else [])
    write_landing_folder(
        folder,
        {
            "customers": [
                make_row("customers", customer_id=str(i), email=f"s{i}@example.com")
                for i in range(11, 18)
            ],
            "bookings": [
                make_row("bookings", booking_id=f"S-{i}", customer_id=str(i)) for i in range(11, 18)
            ],
            "consent_events": [
                make_row("consent_events", event_id=f"S-{i}", customer_id=str(i)) for i in ids
            ],
            "suppressions": [make_row("suppressions")],
        },
        baseline=False,
    )


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Day:
    work = tmp_path_factory.mktemp("destinations")
    state = Day(work, work / "audience.duckdb")

    def run(key: str, input_dir: Path, output: str, as_of: str, **options: Any) -> None:
        options = {"database": state.database, "quiet": True, **options}
        try:
            state.results[key] = run_pipeline(input_dir, work / output, as_of=as_of, **options)
        except DriftFailure as error:
            state.errors[key] = error
        state.outputs[key] = read_outputs(work / output) if (work / output).exists() else {}

    # the quickstart on the sample, then one's own landing folder into another folder
    run("sample", SAMPLE, "sample", SAMPLE_AS_OF)
    own = work / "landing_own"
    write_landing_folder(own)  # 3 customers, 2 eligible
    run("own", own, "crm", "2026-12-01")
    run("sample again", SAMPLE, "sample", SAMPLE_AS_OF)  # the quickstart once more
    # a run dated before the destination's latest
    run("earlier", own, "crm", "2026-11-20")
    run("earlier accepted", own, "crm", "2026-11-20", accept_drift="backfill of a missed day")
    # a small list: one enters and one leaves (2 of 6, 33%)
    first, second = work / "small_1", work / "small_2"
    small_list(first)
    small_list(second, leaving=13, entering=17)
    run("small 1", first, "small", "2026-12-01", destination="newsletter")
    run("small 2", second, "small", "2026-12-02", destination="newsletter")
    run(
        "small strict",
        second,
        "small",
        "2026-12-02",
        destination="newsletter",
        drift_thresholds=DriftThresholds(min_audience_change=2),
    )
    # last month's exports, --as-of forgotten: nobody has a recent booking
    run("empty", own, "empty", "2028-01-01")
    run("empty allowed", own, "empty", "2028-01-01", allow_empty_audience=True)
    return state


def published(day: Day, key: str) -> dict[str, Any]:
    assert key not in day.errors, str(day.errors.get(key))
    return json.loads(day.outputs[key]["reconciliation.json"])


def audience_check(day: Day, key: str) -> str:
    return next(c.outcome for c in day.results[key].drift.checks if c.control == "audience_change")


@pytest.mark.slow
def test_two_destinations_in_one_database_both_publish_as_first_runs(day: Day) -> None:
    sample, own = published(day, "sample"), published(day, "own")
    assert sample["eligible"] == 70 and own["eligible"] == 2
    assert sample["destination"] == str(day.work.resolve() / "sample")
    assert own["destination"] == str(day.work.resolve() / "crm")
    for key in ("sample", "own"):
        assert audience_check(day, key) == "not_applicable", key
        assert published(day, key)["deltas"]["previous_run_id"] is None
    assert own["deltas"]["entered"] == 2  # everyone entered, nothing else in the database counts
    destinations = query(
        day.database, "select run_id, destination from history.published_runs order by run_id"
    )
    assert destinations[:2] == [(1, sample["destination"]), (2, own["destination"])]


@pytest.mark.slow
def test_the_quickstart_again_after_ones_own_data_passes(day: Day) -> None:
    again = published(day, "sample again")
    assert again["eligible"] == 70
    # the same as-of date: compared with no earlier run of the sample, the same bytes
    for name in ("eligible_audience.csv", "reconciliation.json", "audience_entered.csv"):
        assert day.outputs["sample again"][name] == day.outputs["sample"][name], name
    report = day.outputs["sample again"]["run_report.html"].decode("utf-8")
    trend_runs = [int(run) for run in re.findall(r'class="trend-run" data-run-id="(\d+)"', report)]
    assert trend_runs == [1, 3], "the trend shows the sample's runs only, by as-of date"


@pytest.mark.slow
def test_a_run_dated_before_the_destinations_latest_stops_unless_accepted(day: Day) -> None:
    error = day.errors["earlier"]
    assert (
        "as_of_order: as of 2026-11-20, before the latest run published to this destination"
        in str(error)
    )
    assert "--accept-drift" in str(error)
    assert day.outputs["earlier"] == day.outputs["own"]  # nothing published
    accepted = day.results["earlier accepted"]
    assert accepted.drift.status == "accepted"
    checks = {c.control: c.outcome for c in accepted.drift.checks}
    assert checks["as_of_order"] == "accepted"


@pytest.mark.slow
def test_a_small_list_is_not_blocked_by_noise(day: Day) -> None:
    second = published(day, "small 2")
    assert second["destination"] == "newsletter"
    assert (second["deltas"]["entered"], second["deltas"]["left"]) == (1, 1)
    check = next(c for c in day.results["small 2"].drift.checks if c.control == "audience_change")
    assert check.outcome == "pass" and check.share == pytest.approx(2 / 6)
    strict = day.errors["small strict"]
    assert "audience_change: 6 -> 6 customers: 1 entered, 1 left = 33.3%" in str(strict)


@pytest.mark.slow
def test_an_empty_audience_stops_unless_allowed(day: Day) -> None:
    error = day.errors["empty"]
    assert "audience_empty: nobody of 3 customers is eligible" in str(error)
    assert "--allow-empty-audience" in str(error)
    assert day.outputs["empty"] == {}
    allowed = published(day, "empty allowed")
    assert allowed["eligible"] == 0
    assert day.outputs["empty allowed"]["eligible_audience.csv"].count(b"\n") == 1


@pytest.mark.slow
def test_a_stopped_run_leaves_its_would_be_outputs_beside_the_destination(day: Day) -> None:
    message = str(day.errors["earlier"])
    root = day.work / ".crm.diagnostics"
    (kept,) = root.iterdir()
    assert kept.name.endswith("-as-of-2026-11-20")
    assert f"are in {kept} for diagnosis" in message
    names = {path.name for path in kept.iterdir()}
    assert {
        "run_report.html",
        "reconciliation.json",
        "eligible_audience.csv",
        "audience_entered.csv",
        "audience_left.csv",
        "audience_updated.csv",
        "rejected_customers.csv",
        "stopped.txt",
    } <= names
    assert "as_of_order" in (kept / "stopped.txt").read_text(encoding="utf-8")
    report = (kept / "run_report.html").read_text(encoding="utf-8")
    assert "This run was stopped and published nothing" in report
    # never inside the folder the platform reads
    assert not any(name.startswith("stopped") for name in day.outputs["earlier accepted"])
    assert (day.work / ".empty.diagnostics").is_dir()


@pytest.mark.slow
def test_explain_and_history_speak_of_one_destination(day: Day) -> None:
    explain = subprocess.run(
        [*RUN_PIPELINE_CLI, "--explain", "1", "--database", str(day.database)],
        capture_output=True,
        text=True,
        check=False,
    )
    # the latest build is the allowed empty audience: customer 1 of its own landing folder
    assert explain.returncode == 0, explain.stderr
    assert f"  destination: {day.work.resolve() / 'empty'}" in explain.stdout
    assert "Decision: EXCLUDED by rule 8, no_recent_booking" in explain.stdout
    assert "Change" not in explain.stdout  # in neither audience, no earlier run there
    other = subprocess.run(
        [*RUN_PIPELINE_CLI, "--explain", "1", "--database", str(day.database),
         "--output-dir", str(day.work / "crm")],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert other.returncode == 0, other.stderr
    assert f"Change in destination {day.work.resolve() / 'crm'}" in other.stdout
    # the rules are the latest build's, which was for another destination: said up front
    assert (
        f"  note: the latest build in this database was for {day.work.resolve() / 'empty'}, "
        "not for this destination"
    ) in other.stdout.split("Decision:")[0]
    assert "published run #2 (as of 2026-12-01): eligible" in other.stdout
    history = subprocess.run(
        [
            str(Path(RUN_PIPELINE_CLI[0]).with_name("audience")),
            "history",
            "--database",
            str(day.database),
            "--destination",
            "newsletter",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert history.returncode == 0, history.stderr
    runs = json.loads(history.stdout)
    assert [str(run["as_of_date"]) for run in runs] == ["2026-12-01", "2026-12-02"]


@pytest.mark.slow
def test_a_database_from_before_destinations_keeps_working(tmp_path: Path) -> None:
    """A run recorded by the version before destinations (no destination, no published values):
    the next run compares with it, and its deltas remove and re-add every member."""
    landing = tmp_path / "landing"
    write_landing_folder(landing)  # customers 1 and 2 eligible
    database, output_dir = tmp_path / "audience.duckdb", tmp_path / "out"
    run_pipeline(landing, output_dir, as_of="2026-11-26", database=database, quiet=True)
    with duckdb.connect(str(database)) as con:  # what that version left: no destination, ...
        con.execute("drop table history.run_audience")  # ... no run_audience
        con.execute("alter table history.published_runs drop column destination")
    second = run_pipeline(landing, output_dir, as_of="2026-11-27", database=database, quiet=True)
    assert second.drift.previous_run_id == 1
    assert second.report["destination"] == str(tmp_path.resolve() / "out")
    left = (output_dir / "audience_left.csv").read_text(encoding="utf-8").splitlines()
    assert left == ["customer_id,email,left_reason", "1,,email_changed", "2,,email_changed"]
    entered = (output_dir / "audience_entered.csv").read_bytes()
    assert entered == (output_dir / "eligible_audience.csv").read_bytes()


@pytest.mark.slow
def test_a_folder_published_under_a_name_refuses_a_run_without_it(tmp_path: Path) -> None:
    """A forgotten --destination would publish a first run there: everyone entered, nobody
    left, so an opt-out since the folder's last run would never reach the platform."""
    database, folder = tmp_path / "audience.duckdb", tmp_path / "b"
    options: dict[str, Any] = {"database": database, "quiet": True}
    run_pipeline(SAMPLE, folder, as_of=SAMPLE_AS_OF, destination="brand-b", **options)
    before = read_outputs(folder)

    forgotten = subprocess.run(
        [*RUN_PIPELINE_CLI, "--input-dir", str(SAMPLE), "--as-of", "2026-11-27",
         "--output-dir", str(folder), "--database", str(database), "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert forgotten.returncode == 2, forgotten.stderr
    own = tmp_path.resolve() / "b"
    assert forgotten.stderr.splitlines() == [
        f"audience run: argument --output-dir: {own} was last published as destination "
        f"brand-b (run #1); give --destination brand-b to continue it, or --destination {own} "
        "to start a new history there (see audience run --help)"
    ]
    with pytest.raises(UsageError, match=r"^argument --destination: .*, not brand-c; "):
        run_pipeline(SAMPLE, folder, as_of="2026-11-27", destination="brand-c", **options)
    assert read_outputs(folder) == before  # nothing published
    assert query(database, "select count(*) from history.published_runs") == [(1,)]

    again = run_pipeline(SAMPLE, folder, as_of="2026-11-27", destination="brand-b", **options)
    assert again.report["destination"] == "brand-b"
    assert again.drift is not None and again.drift.previous_run_id == 1
    other = run_pipeline(SAMPLE, tmp_path / "c", as_of=SAMPLE_AS_OF, **options)
    assert other.report["destination"] == str(tmp_path.resolve() / "c")
