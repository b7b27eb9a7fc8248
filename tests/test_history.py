"""Run history and audience changes, across the audit scenario's runs (tests/audit_helpers.py).

Expected changes come from the plain-Python reference of the rules (tests/reference/), run on
the same files for each as-of date: an independent check of ``audience_changes``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from audit_helpers import ACCEPT_REASON, AS_OF_DATES, SEEDS, Scenario, run_scenario
from reference import audience_rules as reference

from audience_pipeline.cli import never_published_line
from audience_pipeline.errors import PipelineError
from audience_pipeline.history import (
    STOPPED_BEFORE_SWITCH,
    SWITCH_FAILED,
    TABLES,
    ensure_history_tables,
    read_published_runs,
    record_run,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return run_scenario(tmp_path_factory)


@pytest.fixture
def con(scenario: Scenario):
    connection = duckdb.connect(str(scenario.database), read_only=True)
    yield connection
    connection.close()


def expected_decisions(as_of: str) -> dict[int, str]:
    return reference.evaluate_dir(SEEDS, date.fromisoformat(as_of)).decisions


def members(decisions: dict[int, str]) -> set[int]:
    return {customer for customer, reason in decisions.items() if reason == "eligible"}


def test_only_published_runs_are_recorded_in_order(con) -> None:
    rows = con.execute(
        "select run_id, as_of_date::varchar, eligible, drift_status, drift_acceptance_reason, "
        "previous_run_id from history.published_runs order by run_id"
    ).fetchall()
    assert rows == [
        (1, AS_OF_DATES[0], 70, "passed", None, None),
        (2, AS_OF_DATES[1], 64, "passed", None, 1),
        (3, AS_OF_DATES[2], len(members(expected_decisions(AS_OF_DATES[2]))), "accepted",
         ACCEPT_REASON, 2),
    ]  # fmt: skip


def test_input_file_fingerprints_match_the_files(con) -> None:
    rows = con.execute(
        "select input_file, file_name, byte_count, sha256, raw_rows "
        "from history.run_input_files where run_id = 2 order by input_file"
    ).fetchall()
    assert [row[0] for row in rows] == ["bookings", "consent_events", "customers", "suppressions"]
    for input_file, file_name, byte_count, sha256, raw_rows in rows:
        data = (SEEDS / f"{input_file}.csv").read_bytes()
        assert file_name == f"{input_file}.csv"
        assert byte_count == len(data)
        assert sha256 == hashlib.sha256(data).hexdigest()
        assert raw_rows == len(list(csv.reader(io.StringIO(data.decode("utf-8"))))) - 1


def test_layer_counts_cover_every_layer_and_match_the_published_audience(
    con, scenario: Scenario
) -> None:
    counts = {
        (layer, name): rows
        for layer, name, rows in con.execute(
            "select layer, relation_name, row_count from history.run_layer_counts where run_id = 3"
        ).fetchall()
    }
    assert {layer for layer, _ in counts} == {"landing", "staging", "intermediate", "marts"}
    published = scenario.audiences[3].decode("utf-8").count("\n") - 1
    assert counts[("marts", "eligible_audience")] == published
    # customer_audience_decisions is a view over int_customers_arbitrated: views are not counted
    assert ("marts", "customer_audience_decisions") not in counts
    assert counts[("intermediate", "int_customers_arbitrated")] == 151
    # the landing layer stores each file's lines once (the header too); its split rows are a
    # view over them
    assert counts[("landing", "bookings__lines")] == 333 + 1


def test_exclusions_and_controls_are_recorded(con, scenario: Scenario) -> None:
    exclusions = dict(
        con.execute(
            "select decision_reason, customers from history.run_exclusions where run_id = 2"
        ).fetchall()
    )
    expected = expected_decisions(AS_OF_DATES[1])
    assert sum(exclusions.values()) == len(expected) == 151
    for reason, customers in exclusions.items():
        assert customers == sum(1 for value in expected.values() if value == reason), reason

    tests = con.execute(
        "select status, count(*) from history.run_controls "
        "where run_id = 3 and control_type = 'data_test' group by all"
    ).fetchall()
    report = scenario.results[3].report
    assert tests == [("pass", report["controls_passed"])]
    assert report["controls_passed"] > 70  # every data test of the project passed
    drift = dict(
        con.execute(
            "select control, status from history.run_controls "
            "where run_id = 3 and control_type = 'drift_guard'"
        ).fetchall()
    )
    assert drift["audience_change"] == "accepted"
    assert set(drift) == {
        "audience_change",
        "audience_empty",
        "as_of_order",
        "same_day_rerun",
        "email_consent_channels",
        "lost_opt_outs",
        "lost_suppressions",
        "input_rows:bookings",
        "input_rows:consent_events",
        "input_rows:customers",
        "input_rows:suppressions",
    }


def test_runs_record_their_destination_and_what_they_published(con, scenario: Scenario) -> None:
    destinations = con.execute("select distinct destination from history.published_runs").fetchall()
    # the output folder's path: the folder itself is a link to the current generation
    assert destinations == [(str(scenario.work.resolve() / scenario.output_dir.name),)]
    for run_id, audience in scenario.audiences.items():
        published = [
            (int(row["customer_id"]), row["email"], row["loyalty_tier"] or None)
            for row in csv.DictReader(io.StringIO(audience.decode("utf-8")))
        ]
        recorded = con.execute(
            "select customer_id, email, loyalty_tier from history.run_audience "
            "where run_id = ? order by customer_id",
            [run_id],
        ).fetchall()
        assert recorded == published, run_id


def test_membership_is_the_published_audience_of_each_run(con, scenario: Scenario) -> None:
    for run_id, audience in scenario.audiences.items():
        published = {
            int(row["customer_id"]) for row in csv.DictReader(io.StringIO(audience.decode("utf-8")))
        }
        recorded = {
            row[0]
            for row in con.execute(
                "select customer_id from history.run_membership where run_id = ?", [run_id]
            ).fetchall()
        }
        assert recorded == published, run_id
        assert recorded == members(expected_decisions(AS_OF_DATES[run_id - 1])), run_id


def test_changes_match_the_reference_between_consecutive_runs(con) -> None:
    for run_id in (2, 3):
        before = members(expected_decisions(AS_OF_DATES[run_id - 2]))
        now_decisions = expected_decisions(AS_OF_DATES[run_id - 1])
        now = members(now_decisions)
        row = con.execute(
            "select entered, left_audience, stayed from history.published_runs where run_id = ?",
            [run_id],
        ).fetchone()
        assert row == (len(now - before), len(before - now), len(now & before)), run_id
        if run_id == 2:
            assert row[:2] == (2, 8)  # 7 left for no_recent_booking, 1 for suppressed

    # the model in the database compares the last build (run 3) with run 2
    changes = {
        customer: (change, description)
        for customer, change, description in con.execute(
            "select customer_id, change_type, change_description from marts.audience_changes"
        ).fetchall()
    }
    expected = {customer: ("left", f"left: {now_decisions[customer]}") for customer in before - now}
    expected |= {customer: ("stayed", "stayed") for customer in now & before}
    previous_decisions = expected_decisions(AS_OF_DATES[1])
    expected |= {
        customer: ("entered", f"entered: was {previous_decisions[customer]}")
        for customer in now - before
    }
    assert changes == expected


def test_first_run_has_everyone_entered_and_drift_not_applicable(scenario: Scenario) -> None:
    first = scenario.results[1]
    assert first.run_id == 1
    audience_check = next(c for c in first.drift.checks if c.control == "audience_change")
    assert audience_check.outcome == "not_applicable"
    assert first.drift.status == "passed"


def test_history_tables_are_documented_as_a_dbt_source() -> None:
    """The source `history` in models/marts/_marts__sources.yml lists the real columns."""
    import yaml
    from audit_helpers import PROJECT_DIR

    document = yaml.safe_load(
        (PROJECT_DIR / "models" / "marts" / "_marts__sources.yml").read_text(encoding="utf-8")
    )
    source = next(s for s in document["sources"] if s["name"] == "history")
    documented = {t["name"]: [c["name"] for c in t["columns"]] for t in source["tables"]}
    for table, ddl in TABLES.items():
        columns = [
            line.strip().split()[0]
            for line in ddl.strip().splitlines()
            if line.strip() and not line.strip().startswith("primary key")
        ]
        assert documented[table] == columns, table
    assert documented["run_membership"] == ["run_id", "customer_id"]


@dataclass
class _Passed:
    """A drift guard's outcome without checks (what record_run reads of it)."""

    status: str = "passed"
    accepted_reason: str | None = None
    checks: tuple[()] = ()


@pytest.mark.parametrize("miscounted", ["customers", "eligible"])
def test_a_copy_of_the_wrong_size_is_not_recorded(
    scenario: Scenario, tmp_path: Path, miscounted: str
) -> None:
    """The per-customer tables have no key: record_run checks the copy against the run's counts."""
    database = tmp_path / "copy.duckdb"
    shutil.copy(scenario.database, database)
    con = duckdb.connect(str(database))
    customers, eligible = con.execute(
        "select count(*), count(*) filter (where decision_reason = 'eligible') "
        "from marts.customer_audience_decisions"
    ).fetchone()
    counts = {"customers": customers, "eligible": eligible}
    counts[miscounted] += 1
    recorded = con.execute("select count(*) from history.published_runs").fetchone()
    report = {
        "as_of_date": AS_OF_DATES[-1],
        **counts,
        "controls_passed": 0,
        "controls_failed": 0,
        "controls": [],
    }
    with pytest.raises(PipelineError, match="copied"):
        record_run(
            con,
            run_id=99,
            report=report,
            drift=_Passed(),
            published_at=datetime.now(),
            input_dir="in",
            output_dir=str(tmp_path / "out"),
        )
    # nothing of the run stays: not its row, its decisions nor its audience
    assert con.execute("select count(*) from history.published_runs").fetchone() == recorded
    for table in ("run_decisions", "run_audience", "run_controls"):
        assert con.execute(
            f"select count(*) from history.{table} where run_id = 99"
        ).fetchone() == (0,)
    con.close()


def test_runs_forgotten_before_the_history_kept_why_are_read_then_migrated(tmp_path: Path) -> None:
    """A database whose ``forgotten_runs`` predates ``forgotten_because``: read as it is (the
    reason unknown, null), and the next run's migration gives the table the column."""
    database = tmp_path / "audience.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema history")
        for name, columns in TABLES.items():
            if name == "forgotten_runs":
                columns = columns.replace(",\n        forgotten_because varchar", "")
            con.execute(f"create table history.{name} ({columns})")
        con.execute(
            "insert into history.forgotten_runs values (1, date '2026-11-26', "
            "timestamp '2026-11-26 10:00:00', '/data/a', 'crm', 2, timestamp '2026-11-27 09:00:00')"
        )
        assert "forgotten_because" not in _columns(con, "forgotten_runs")
    (run,) = read_published_runs(database)
    assert (run["published"], run["forgotten_because"]) == (False, None)
    assert never_published_line(run).endswith("never published, forgotten at 2026-11-27 09:00:00")
    with duckdb.connect(str(database)) as con:
        ensure_history_tables(con)
        assert "forgotten_because" in _columns(con, "forgotten_runs")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'history' and table_name = ?",
            [table],
        ).fetchall()
    ]


@pytest.mark.parametrize(
    ("because", "forgotten_at", "said"),
    [
        (None, None, " stopped before its folder switched to it: never published; the next run"),
        (STOPPED_BEFORE_SWITCH, datetime(2026, 11, 27, 9), "forgotten by the next run to its"),
        (SWITCH_FAILED, datetime(2026, 11, 26, 10), ": its folder's switch failed: never"),
    ],
)
def test_a_run_never_published_is_listed_with_why(
    because: str | None, forgotten_at: datetime | None, said: str
) -> None:
    run = {
        "run_id": 4,
        "as_of_date": date(2026, 11, 26),
        "published_at": datetime(2026, 11, 26, 10),
        "forgotten_at": forgotten_at,
        "forgotten_because": because,
    }
    line = never_published_line(run)
    assert line.startswith("  run #4 (as of 2026-11-26, recorded 2026-11-26 10:00:00)")
    assert said in line
