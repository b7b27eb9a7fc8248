"""Deltas for the campaign platform: entered / left / updated against the destination's
previous published run, over three daily runs of a hand-made landing folder.

Day 1 publishes 14 members. Day 2's exports move them in every way the rules allow: one
changes address, one leaves for each rule (1 to 10), one is gone from the exports, two enter.
Day 3 changes one member's loyalty tier and brings one back. Then day 3 is run again (the
same bytes), and once more after the previous run's recorded audience was corrupted: the
invariant control stops it.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from conftest import make_row, write_landing_folder

from audience_pipeline.drift import DriftFailure, DriftThresholds
from audience_pipeline.errors import ControlFailure
from audience_pipeline.pipeline import run_pipeline

pytestmark = pytest.mark.slow  # runs the pipeline

DAYS = ("2026-11-26", "2026-12-10", "2026-12-20")
DELTA_FILES = ("audience_entered.csv", "audience_left.csv", "audience_updated.csv")
#: The scenario moves most of a small list on purpose: the drift guard is not under test here.
LOOSE = DriftThresholds(max_audience_change=100.0)


def customer(customer_id: int, **values: str) -> dict[str, str]:
    defaults = {"email": f"c{customer_id}@example.com", "first_name": f"Name{customer_id}"}
    return make_row("customers", customer_id=str(customer_id), **{**defaults, **values})


def booking(customer_id: int, **values: str) -> dict[str, str]:
    return make_row(
        "bookings", booking_id=f"B-{customer_id}", customer_id=str(customer_id), **values
    )


def consent(customer_id: int, status: str = "OPT_IN", **values: str) -> dict[str, str]:
    return make_row(
        "consent_events",
        event_id=f"E-{customer_id}-{status}",
        customer_id=str(customer_id),
        consent_status=status,
        **values,
    )


def day_rows(day: int) -> dict[str, list[dict[str, str]]]:
    """The four exports on day 1, 2 or 3 (each day's full files, as a daily export is)."""
    members = [*range(101, 113), 114, 115]
    customers = [customer(i) for i in members if not (day >= 2 and i == 107)]
    customers.append(customer(113))
    bookings = [booking(i) for i in [*members, 113] if i != 105 and not (day >= 2 and i == 107)]
    bookings.append(booking(105, booking_date="2025-12-01"))  # out of the window after day 1
    consents = [consent(i) for i in members if not (day >= 2 and i in {107, 110})]
    suppressions = [make_row("suppressions", customer_id="999", email="x999@example.com")]
    later = "2026-12-01T00:00:00Z"
    if day >= 2:
        customers += [
            customer(102, email="c102.new@example.com", updated_at=later),  # new address
            customer(106, is_active="false", updated_at=later),  # inactive
            customer(108, email="", updated_at=later),  # missing_email
            customer(109, email="not-an-email", updated_at=later),  # invalid_email
            customer(111, updated_at="yesterday"),  # a rejected row: data_quality_hold
            customer(120, email="c112@example.com"),  # 112's address, a later booking
            customer(121, email="c114@example.com"),  # 114's address, opted out
        ]
        bookings += [booking(120, booking_date="2026-11-01")]
        consents += [
            consent(103, "OPT_OUT", event_ts=later),  # not_opted_in
            consent(113),  # enters
            consent(120),
            consent(121, "OPT_OUT"),  # blocks 114's address: shared_address_blocked
        ]
        suppressions.append(
            make_row("suppressions", customer_id="104", email="", suppressed_from="2026-12-01")
        )
    if day >= 3:
        customers.append(customer(101, loyalty_tier="Platinum", updated_at=later))
        consents.append(consent(103, "OPT_IN", event_ts="2026-12-15T00:00:00Z"))  # back in
    return {
        "customers": customers,
        "bookings": bookings,
        "consent_events": consents,
        "suppressions": suppressions,
    }


@dataclass
class Runs:
    work: Path
    database: Path
    output_dir: Path
    published: dict[int, dict[str, bytes]] = field(default_factory=dict)
    rerun: dict[str, bytes] = field(default_factory=dict)
    failure: ControlFailure | None = None
    after_failure: dict[str, bytes] = field(default_factory=dict)


def read_outputs(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    work = tmp_path_factory.mktemp("deltas")
    result = Runs(work, work / "audience.duckdb", work / "out")
    for day, as_of in enumerate(DAYS, start=1):
        landing = work / f"day{day}"
        write_landing_folder(landing, day_rows(day), baseline=False)
        run_pipeline(
            landing,
            result.output_dir,
            as_of=as_of,
            database=result.database,
            quiet=True,
            drift_thresholds=LOOSE,
        )
        result.published[day] = read_outputs(result.output_dir)
    # day 3 again: compared with day 2 again, the same bytes
    run_pipeline(
        work / "day3",
        result.output_dir,
        as_of=DAYS[2],
        database=result.database,
        quiet=True,
        drift_thresholds=LOOSE,
    )
    result.rerun = read_outputs(result.output_dir)
    # the recorded audience of day 2 loses a member who stayed: the deltas no longer add up
    with duckdb.connect(str(result.database)) as con:
        con.execute("delete from history.run_audience where run_id = 2 and customer_id = 115")
    try:
        run_pipeline(
            work / "day3",
            result.output_dir,
            as_of=DAYS[2],
            database=result.database,
            quiet=True,
            drift_thresholds=LOOSE,
        )
    except ControlFailure as error:
        result.failure = error
    result.after_failure = read_outputs(result.output_dir)
    return result


def test_the_first_run_to_a_destination_has_everyone_entered(runs: Runs) -> None:
    first = runs.published[1]
    assert first["audience_entered.csv"] == first["eligible_audience.csv"]
    assert first["audience_left.csv"] == b"customer_id,email,left_reason\n"
    assert rows(first["audience_updated.csv"]) == []
    assert len(rows(first["eligible_audience.csv"])) == 14
    deltas = json.loads(first["reconciliation.json"])["deltas"]
    assert (deltas["previous_run_id"], deltas["entered"], deltas["left"]) == (None, 14, 0)


def test_departures_name_the_rule_and_the_address_the_platform_knows(runs: Runs) -> None:
    left = {int(row["customer_id"]): row for row in rows(runs.published[2]["audience_left.csv"])}
    assert {customer: row["left_reason"] for customer, row in left.items()} == {
        102: "email_changed",
        103: "not_opted_in",
        104: "suppressed",
        105: "no_recent_booking",
        106: "inactive",
        107: "not_in_inputs",
        108: "missing_email",
        109: "invalid_email",
        110: "no_email_consent",
        111: "data_quality_hold",
        112: "duplicate_email",
        114: "shared_address_blocked",
    }
    # the address as last published, not the current one (108 has none now, 109 a bad one)
    assert all(row["email"] == f"c{customer}@example.com" for customer, row in left.items())
    assert list(left) == sorted(left)


def test_entries_have_the_audience_columns_and_an_address_change_is_a_new_entry(
    runs: Runs,
) -> None:
    day2 = runs.published[2]
    header = day2["eligible_audience.csv"].splitlines()[0]
    for name in ("audience_entered.csv", "audience_updated.csv"):
        assert day2[name].splitlines()[0] == header, name
    entered = {int(row["customer_id"]): row["email"] for row in rows(day2["audience_entered.csv"])}
    assert entered == {
        102: "c102.new@example.com",
        113: "c113@example.com",
        120: "c112@example.com",
    }
    audience = {row["customer_id"]: row for row in rows(day2["eligible_audience.csv"])}
    for row in rows(day2["audience_entered.csv"]):
        assert row == audience[row["customer_id"]]
    assert rows(day2["audience_updated.csv"]) == []
    deltas = json.loads(day2["reconciliation.json"])["deltas"]
    assert deltas["previous_run_id"] == 1 and deltas["previous_as_of_date"] == DAYS[0]
    assert (deltas["entered"], deltas["left"], deltas["updated"]) == (3, 12, 0)
    assert deltas["left_by_reason"]["email_changed"] == 1


def test_an_updated_tier_is_an_update_and_a_return_an_entry(runs: Runs) -> None:
    day3 = runs.published[3]
    updated = rows(day3["audience_updated.csv"])
    assert [(row["customer_id"], row["loyalty_tier"], row["email"]) for row in updated] == [
        ("101", "Platinum", "c101@example.com")
    ]
    assert [row["customer_id"] for row in rows(day3["audience_entered.csv"])] == ["103"]
    assert rows(day3["audience_left.csv"]) == []
    report = day3["run_report.html"].decode("utf-8")
    assert '<td class="num" id="delta-updated">1</td>' in report
    assert "c101@example.com" not in report  # the report stays counts only


def test_previous_plus_entered_minus_left_is_the_audience(runs: Runs) -> None:
    """The invariant, checked here on the files (the control checks it in the database)."""
    for day in (2, 3):
        previous = {
            row["customer_id"]: row["email"]
            for row in rows(runs.published[day - 1]["eligible_audience.csv"])
        }
        for row in rows(runs.published[day]["audience_left.csv"]):
            assert previous.pop(row["customer_id"]) == row["email"]
        for row in rows(runs.published[day]["audience_entered.csv"]):
            assert row["customer_id"] not in previous
            previous[row["customer_id"]] = row["email"]
        current = {
            row["customer_id"]: row["email"]
            for row in rows(runs.published[day]["eligible_audience.csv"])
        }
        assert previous == current, day


def test_a_rerun_publishes_byte_identical_deltas(runs: Runs) -> None:
    for name in (*DELTA_FILES, "eligible_audience.csv", "reconciliation.json"):
        assert runs.rerun[name] == runs.published[3][name], name


def test_a_corrupted_previous_audience_fails_the_invariant_control(runs: Runs) -> None:
    assert runs.failure is not None, "the run with a corrupted history was published"
    message = str(runs.failure)
    assert "assert_audience_deltas_reconcile: fail" in message
    assert runs.after_failure == runs.rerun  # nothing was published
    kept = sorted((runs.work / ".out.diagnostics").iterdir())
    assert len(kept) == 1 and str(kept[0]) in message
    entered = rows((kept[0] / "audience_entered.csv").read_bytes())
    assert "115" in {row["customer_id"] for row in entered}
    assert "c115@example.com" not in message  # the message names the folder, not the data


def test_a_corrected_rerun_of_a_published_day_stops_until_accepted(tmp_path: Path) -> None:
    """Day 2's deltas add 113. A corrected day 2 export has 113 opting out: its deltas would be
    against day 1 again and could not remove 113 from a platform that applied the first ones,
    so the drift guard stops it; accepted, it publishes and records the acceptance."""
    database, output_dir = tmp_path / "audience.duckdb", tmp_path / "out"

    def run(name: str, exports: dict[str, list[dict[str, str]]], as_of: str, **options: str):
        landing = tmp_path / name
        write_landing_folder(landing, exports, baseline=False)
        return run_pipeline(
            landing,
            output_dir,
            as_of=as_of,
            database=database,
            quiet=True,
            drift_thresholds=LOOSE,
            **options,
        )

    run("day1", day_rows(1), DAYS[0])
    run("day2", day_rows(2), DAYS[1])
    first = read_outputs(output_dir)
    assert "113" in {row["customer_id"] for row in rows(first["audience_entered.csv"])}
    corrected = day_rows(2)
    corrected["consent_events"].append(consent(113, "OPT_OUT", event_ts="2026-12-05T00:00:00Z"))
    with pytest.raises(DriftFailure) as stopped:
        run("day2-corrected", corrected, DAYS[1])
    message = str(stopped.value)
    assert (
        f"same_day_rerun: a rerun of {DAYS[1]}, whose audience differs from run #2 published "
        "to this destination for that day (1 not in this audience)" in message
    )
    assert "--accept-drift" in message
    assert read_outputs(output_dir) == first  # nothing published
    result = run("day2-corrected", corrected, DAYS[1], accept_drift="corrected consent export")
    checks = {check.control: check.outcome for check in result.drift.checks}
    assert checks["same_day_rerun"] == "accepted"
    published = read_outputs(output_dir)["eligible_audience.csv"]
    assert "113" not in {row["customer_id"] for row in rows(published)}
    # the same corrected export once more: identical to the accepted run, so it passes
    again = run("day2-corrected", corrected, DAYS[1])
    assert {c.control: c.outcome for c in again.drift.checks}["same_day_rerun"] == "pass"
