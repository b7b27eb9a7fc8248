"""A failed control stops the run: exit non-zero, a clear message, nothing published."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import RUN_PIPELINE_CLI, query

from audience_pipeline import pipeline
from audience_pipeline.dbt_invoke import DbtSetup, run_dbt
from audience_pipeline.errors import ControlFailure

pytestmark = pytest.mark.slow  # runs dbt

PROJECT_DIR = Path(__file__).resolve().parent.parent


def test_a_row_lost_between_file_and_models_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulate a pre-step that loses a line: the reconciliation control must catch it."""
    original = pipeline.load_landing_folder

    def losing_one_booking(con: duckdb.DuckDBPyConnection, *args: object, **kwargs: object):
        loaded = original(con, *args, **kwargs)
        # row k of the stored lines is line k + 1 of the file: this loses line 2
        con.execute("delete from landing.bookings__lines where rowid = 1")
        return loaded

    monkeypatch.setattr(pipeline, "load_landing_folder", losing_one_booking)
    output_dir = tmp_path / "out"
    with pytest.raises(ControlFailure) as failure:
        pipeline.run_pipeline(
            input_dir=PROJECT_DIR / "seeds",
            output_dir=output_dir,
            as_of="2026-11-26",
            database=tmp_path / "audience.duckdb",
            quiet=True,
        )
    assert "assert_raw_rows_reconcile_per_input_file" in str(failure.value)
    assert not output_dir.exists() or not any(output_dir.iterdir())


def test_missing_input_file_exits_non_zero_naming_the_file(tmp_path: Path) -> None:
    input_dir = tmp_path / "landing"
    shutil.copytree(PROJECT_DIR / "seeds", input_dir)
    (input_dir / "suppressions.csv").unlink()
    completed = subprocess.run(
        [
            *RUN_PIPELINE_CLI,
            "--input-dir",
            str(input_dir),
            "--as-of",
            "2026-11-26",
            "--output-dir",
            str(tmp_path / "out"),
            "--database",
            str(tmp_path / "audience.duckdb"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert "suppressions.csv: file not found" in completed.stderr
    assert not (tmp_path / "out" / "eligible_audience.csv").exists()


def _built_sample(tmp_path: Path) -> DbtSetup:
    """The committed sample built by dbt (models and data tests) into a new database."""
    setup = DbtSetup(
        database=tmp_path / "audience.duckdb",
        dbt_vars={"as_of_date": "2026-11-26"},
        target_path=tmp_path / "target",
        log_path=tmp_path / "logs",
    )
    built = run_dbt(["build", "--exclude-resource-type", "unit_test"], setup)
    assert built.success, built.error
    return setup


def _failures(setup: DbtSetup, control: str, columns: str) -> list[tuple[object, ...]]:
    """``control`` run again, which must fail, and the rows it stored (``--store-failures``)."""
    checked = run_dbt(["test", "--select", control, "--store-failures"], setup)
    assert not checked.success
    ((schema,),) = query(
        setup.database,
        "select table_schema from information_schema.tables where table_name = ?",
        [control],
    )
    return query(setup.database, f'select {columns} from "{schema}".{control}')


def test_ineligible_customers_slipped_into_the_audience_fail_the_control(tmp_path: Path) -> None:
    """Each excluded customer forced into the published audience is caught, with its rule."""
    setup = _built_sample(tmp_path)
    expected = {
        "data_quality_hold": "on data-quality hold",
        "inactive": "inactive",
        "not_opted_in": "latest email consent is not OPT_IN",
        "suppressed": "suppressed",
        "no_recent_booking": "fewer recent bookings that count",
    }
    with duckdb.connect(str(setup.database)) as con:
        slipped = {}
        for reason in expected:
            row = con.execute(
                "select min(customer_id) from marts.customer_audience_decisions "
                "where decision_reason = ? and email_normalized is not null",
                [reason],
            ).fetchone()
            assert row is not None and row[0] is not None, f"the sample has no {reason} customer"
            slipped[int(row[0])] = reason
        con.execute(
            """
            insert into marts.eligible_audience
            select customer_id, email_normalized, first_name, home_state, loyalty_tier,
                bookings_last_365_days, total_spend_last_365_days,
                coalesce(last_booking_date, date '2026-01-01')
            from marts.customer_audience_decisions
            where customer_id in (select unnest(?))
            """,
            [list(slipped)],
        )

    found = _failures(setup, "assert_audience_has_no_ineligible_member", "customer_id, violation")
    violations: dict[int, set[str]] = {}
    for customer_id, violation in found:
        violations.setdefault(int(customer_id), set()).add(violation)
    assert set(violations) == set(slipped)
    for customer_id, reason in slipped.items():
        assert any(expected[reason] in v for v in violations[customer_id]), (reason, violations)


def test_a_member_named_by_a_mangled_suppression_id_fails_the_control(tmp_path: Path) -> None:
    """A published customer whom an active suppression's unreadable customer_id names in its
    digits is caught: the control re-derives rule 7's reading from staging."""
    setup = _built_sample(tmp_path)
    with duckdb.connect(str(setup.database)) as con:
        (member,) = con.execute("select min(customer_id) from marts.eligible_audience").fetchone()
        # the sample's suppression ` 12a` (active since 2026-02-02) now names a published member
        (line,) = con.execute(
            "select source_line from staging.stg_exports__suppressions_checked "
            "where customer_id_in_digits is not null"
        ).fetchone()
        con.execute(
            "update staging.stg_exports__suppressions_checked set customer_id_in_digits = ? "
            "where source_line = ?",
            [member, line],
        )

    found = _failures(setup, "assert_audience_has_no_ineligible_member", "customer_id, violation")
    assert found == [(member, "id in the digits of a suppression whose customer_id cannot be read")]


def test_members_named_inside_a_suppressions_row_fail_the_control(tmp_path: Path) -> None:
    """Published customers whom an active suppression names in another form (an address
    written inside its fields, an id in its email column) are caught: the control re-derives
    those readings of rule 7 from staging."""
    setup = _built_sample(tmp_path)
    with duckdb.connect(str(setup.database)) as con:
        (by_address, address), (by_id, _) = con.execute(
            "select customer_id, email from marts.eligible_audience order by customer_id limit 2"
        ).fetchall()
        (line,) = con.execute(
            "select min(source_line) from staging.stg_exports__suppressions_checked "
            "where disposition = 'accepted' and suppressed_from <= date '2026-11-26' "
            "and suppressed_until is null and not has_unreadable_dates"
        ).fetchone()
        con.execute(
            "update staging.stg_exports__suppressions_checked "
            "set addresses_in_fields = ?, customer_id_in_email = ? where source_line = ?",
            [address, by_id, line],
        )

    found = _failures(setup, "assert_audience_has_no_ineligible_member", "customer_id, violation")
    assert sorted(found) == [
        (by_address, "address written inside the fields of an active suppression"),
        (by_id, "id written in the email column of an active suppression"),
    ]


#: rule 9's blocking facts in int_email_address_holders, and how the control words each one
BLOCKING_REASONS = {
    "has_latest_consent_other_than_opt_in": "latest email consent is not OPT_IN",
    "has_rejected_consent_event": "a consent_events row was rejected",
    "is_suppressed_by_customer_id": "suppressed by customer_id",
}


def test_a_blocked_address_slipped_into_the_audience_fails_the_control(tmp_path: Path) -> None:
    """Customers left out on a blocked address (rule 9), forced into the audience, are caught
    with each holder that blocks it and why, even once the intermediate models' facts about
    those holders are wiped: the control re-derives them from staging."""
    setup = _built_sample(tmp_path)
    facts = ", ".join(f"holders.{flag}" for flag in BLOCKING_REASONS)
    with duckdb.connect(str(setup.database)) as con:
        blocked = con.execute(
            f"""
            select decisions.customer_id, holders.customer_id, {facts}
            from marts.customer_audience_decisions as decisions
            inner join intermediate.int_email_address_holders as holders
                on decisions.email_normalized = holders.email_normalized
            where decisions.decision_reason = 'shared_address_blocked'
                and holders.is_blocking_address
            """
        ).fetchall()
        expected = {
            (published, holder, BLOCKING_REASONS[flag])
            for published, holder, *flags in blocked
            for flag, is_set in zip(BLOCKING_REASONS, flags, strict=True)
            if is_set
        }
        assert {reason for _, _, reason in expected} == set(BLOCKING_REASONS.values()), (
            "the sample blocks addresses for each of rule 9's reasons"
        )
        con.execute(
            """
            insert into marts.eligible_audience
            select customer_id, email_normalized, first_name, home_state, loyalty_tier,
                bookings_last_365_days, total_spend_last_365_days, last_booking_date
            from marts.customer_audience_decisions
            where customer_id in (select unnest(?))
            """,
            [sorted({published for published, _, _ in expected})],
        )
        # the facts the decisions hold about the blocking holders no longer block anyone
        con.execute(
            """
            update intermediate.int_customers_evaluated
            set is_opted_in = true,
                has_rejected_consent_event = false,
                is_suppressed_by_customer_id = false
            where customer_id in (select unnest(?))
            """,
            [sorted({holder for _, holder, _ in expected})],
        )

    found = _failures(
        setup,
        "assert_no_published_address_is_blocked",
        "published_customer_id, blocking_customer_id, reason",
    )
    assert {(int(published), int(holder), reason) for published, holder, reason in found} == (
        expected
    )


def test_a_published_figure_that_bookings_do_not_add_up_to_fails_the_control(
    tmp_path: Path,
) -> None:
    """A count, a spend (by a cent) and a date changed in the audience are each caught, with
    the published and the recomputed value side by side."""
    setup = _built_sample(tmp_path)
    with duckdb.connect(str(setup.database)) as con:
        members = con.execute(
            "select customer_id, bookings_last_365_days, total_spend_last_365_days, "
            "last_booking_date from marts.eligible_audience order by customer_id limit 3"
        ).fetchall()
        assert len(members) == 3, "the sample publishes an audience"
        (counted, _, _, _), (spent, _, spend, _), (dated, _, _, last_date) = members
        con.execute(
            "update marts.eligible_audience set bookings_last_365_days = "
            "bookings_last_365_days + 1 where customer_id = ?",
            [counted],
        )
        con.execute(
            "update marts.eligible_audience set total_spend_last_365_days = "
            "total_spend_last_365_days + 0.01 where customer_id = ?",
            [spent],
        )
        con.execute(
            "update marts.eligible_audience set last_booking_date = "
            "last_booking_date - interval 1 day where customer_id = ?",
            [dated],
        )

    found = _failures(
        setup,
        "assert_audience_spend_matches_bookings",
        "customer_id, published_bookings, recomputed_bookings, published_spend, "
        "recomputed_spend, published_last_booking_date, recomputed_last_booking_date",
    )
    by_customer = {int(row[0]): row[1:] for row in found}
    assert set(by_customer) == {counted, spent, dated}
    assert by_customer[counted][0] == by_customer[counted][1] + 1
    assert by_customer[spent][2:4] == (spend + Decimal("0.01"), spend)
    assert by_customer[dated][4:6] == (last_date - dt.timedelta(days=1), last_date)


def test_a_line_lost_from_a_published_quarantine_fails_the_control(tmp_path: Path) -> None:
    """A rejected line missing from ``rejected_<file>`` is caught, naming the file."""
    setup = _built_sample(tmp_path)
    with duckdb.connect(str(setup.database)) as con:
        (quarantined,) = con.execute("select count(*) from marts.rejected_bookings").fetchone()
        assert quarantined > 1, "the sample quarantines bookings"
        con.execute(
            "delete from marts.rejected_bookings "
            "where source_line = (select max(source_line) from marts.rejected_bookings)"
        )

    found = _failures(
        setup,
        "assert_every_line_not_accepted_is_published",
        "input_file, not_accepted_rows, quarantined_rows",
    )
    assert found == [("bookings", quarantined, quarantined - 1)]


def test_a_repeated_or_missing_key_fails_the_primary_key_test(tmp_path: Path) -> None:
    """Each repeated value is reported with its row count, rows without one as one null row."""
    setup = _built_sample(tmp_path)
    with duckdb.connect(str(setup.database)) as con:
        lines = [
            line
            for (line,) in con.execute(
                "select source_line from marts.rejected_bookings order by source_line limit 3"
            ).fetchall()
        ]
        assert len(lines) == 3, "the sample quarantines at least three bookings"
        repeated, blanked = lines[0], lines[1:]
        for _ in range(2):
            con.execute(
                "insert into marts.rejected_bookings "
                "select * from marts.rejected_bookings where source_line = ? limit 1",
                [repeated],
            )
        con.execute(
            "update marts.rejected_bookings set source_line = null "
            "where source_line in (select unnest(?))",
            [blanked],
        )

    found = _failures(setup, "primary_key_rejected_bookings_source_line", "key_value, row_count")
    assert sorted(found, key=lambda row: (row[0] is None, row[0])) == [
        (repeated, 3),
        (None, 2),
    ]


def test_a_member_published_twice_fails_the_unique_control(tmp_path: Path) -> None:
    """eligible_audience has no key index: its grain is the `unique` test's to hold."""
    setup = _built_sample(tmp_path)
    with duckdb.connect(str(setup.database)) as con:
        (member,) = con.execute("select min(customer_id) from marts.eligible_audience").fetchone()
        con.execute(
            """
            insert into marts.eligible_audience
            select * replace ('second.' || email as email)
            from marts.eligible_audience
            where customer_id = ?
            """,
            [member],
        )

    found = _failures(setup, "unique_eligible_audience_customer_id", "unique_field, n_records")
    assert found == [(member, 2)]
