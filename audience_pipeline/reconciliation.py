"""The reconciliation report: every raw row and every customer accounted for."""

from __future__ import annotations

from typing import Any

import duckdb

from audience_pipeline.channels import channel_without_addresses
from audience_pipeline.dbt_invoke import NodeResult
from audience_pipeline.drift import DriftResult
from audience_pipeline.errors import ControlFailure
from audience_pipeline.history import delta_counts
from audience_pipeline.redaction import without_addresses

#: Drift checks listed only when they fail or are accepted: passing (or not applicable), they
#: name the destination's latest published run, which a rerun of the same day changes (to that
#: day's earlier publication), and a rerun writes the same bytes.
LISTED_WHEN_NOT_PASSED = frozenset({"as_of_order"})


def file_counts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Raw / accepted / rejected / duplicate rows per input file, from the dbt mart, with the
    file's size, checksum, ignored columns, and the encoding and delimiter it was read with."""
    rows = con.execute(
        """
        select input_file, raw_rows, accepted_rows, rejected_rows, duplicate_rows,
            byte_count, sha256, extra_columns, encoding, delimiter
        from marts.reconciliation_input_files
        order by input_file
        """
    ).fetchall()
    return {
        name: {
            "raw": raw,
            "accepted": accepted,
            "rejected": rejected,
            "duplicate": duplicate,
            "bytes": byte_count,
            "sha256": sha256,
            "extra_columns_ignored": [c for c in (extra or "").split(",") if c],
            "encoding": encoding,
            "delimiter": delimiter,
        }
        for (
            name,
            raw,
            accepted,
            rejected,
            duplicate,
            byte_count,
            sha256,
            extra,
            encoding,
            delimiter,
        ) in rows
    }


def decision_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int, dict[str, int]]:
    """Customers, eligible customers, and excluded customers per reason (rule order)."""
    rows = con.execute(
        """
        select decision_reason, customers
        from marts.audience_exclusion_summary
        order by exclusion_step
        """
    ).fetchall()
    counts = dict(rows)
    eligible = counts.pop("eligible")
    return eligible + sum(counts.values()), eligible, counts


def rule_parameters(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The rules' parameters the build used (``marts.audience_build_parameters``, one row)."""
    row = con.execute(
        """
        select recent_booking_days, counted_booking_statuses, min_recent_bookings,
            non_email_channels, booking_window_start_date
        from marts.audience_build_parameters
        """
    ).fetchone()
    if row is None:
        raise ControlFailure("marts.audience_build_parameters has no row: the build is incomplete")
    days, statuses, minimum, channels, window_start = row
    return {
        "recent_booking_days": days,
        "counted_booking_statuses": statuses.split(","),
        "min_recent_bookings": minimum,
        "non_email_channels": channels.split(",") if channels else [],
        "booking_window_start_date": window_start.isoformat(),
    }


def consent_channels(con: duckdb.DuckDBPyConnection, compared: bool = True) -> list[dict[str, Any]]:
    """Each consent channel as rules 5 and 6 read it, against the previous run to the
    destination (``marts.audience_consent_channel_changes``): ``email``, ``not_email`` or
    ``possibly_email``, with its events, those read as email events, those of them withholding
    consent (every status but OPT_IN) and its customers, and
    ``change`` (``new``, ``read_differently``, ``seen_before``, or None when there is nothing
    to compare with) with the previous run's reading; blank (None) first. Not ``compared`` (a
    stopped run whose comparison was not built), ``marts.audience_consent_channels`` is read
    and ``change`` is None. A channel is free text from the export: anything in it shaped like
    an address is removed."""
    comparison = (
        "channel_change, previous_channel_reading from marts.audience_consent_channel_changes"
        if compared
        else "null, null from marts.audience_consent_channels"
    )
    rows = con.execute(
        f"""
        select channel, channel_reading, event_count, email_event_count,
            withholding_event_count, customer_count, {comparison}
        order by channel nulls first
        """
    ).fetchall()
    return [
        {
            "channel": channel_without_addresses(channel),
            "reading": reading,
            "events": int(events),
            "email_events": int(email_events),
            "withholding_events": int(withholding_events),
            "customers": int(customers),
            "change": change,
            "previous_reading": previous_reading,
        }
        for (
            channel,
            reading,
            events,
            email_events,
            withholding_events,
            customers,
            change,
            previous_reading,
        ) in rows
    ]


def control_outcomes(controls: tuple[NodeResult, ...]) -> list[dict[str, Any]]:
    """Every dbt test and unit test with its outcome, sorted by name."""
    return [
        {
            "control": control.name,
            "type": "unit_test" if control.resource_type == "unit_test" else "data_test",
            "status": control.status,
            "failing_rows": control.failures,
        }
        for control in sorted(controls, key=lambda node: node.unique_id)
    ]


def acceptance_reason_shown(drift: DriftResult) -> str | None:
    """The acceptance reason as the report and ``audience history`` show it: only for a run
    whose failing checks the guard accepted, with anything shaped like an address removed."""
    if drift.status != "accepted" or not drift.accepted_reason:
        return None
    return without_addresses(drift.accepted_reason)


def drift_check_outcomes(drift: DriftResult) -> list[dict[str, str]]:
    """The guard's checks in its order, each with its outcome and detail, as the report's
    Controls table shows them; a check of ``LISTED_WHEN_NOT_PASSED`` only when it failed or
    was accepted."""
    return [
        {"control": check.control, "outcome": check.outcome, "detail": check.detail}
        for check in drift.checks
        if check.control not in LISTED_WHEN_NOT_PASSED or check.outcome in {"fail", "accepted"}
    ]


def drift_guard_outcome(drift: DriftResult) -> dict[str, Any]:
    """The drift guard's outcome: its status (``passed``, ``accepted`` or ``failed``), the
    previous run to the destination it compared with (None on the first run there), the
    acceptance reason (:func:`acceptance_reason_shown`) and its checks
    (:func:`drift_check_outcomes`)."""
    previous = (
        None
        if drift.previous_run_id is None
        else {"run_id": drift.previous_run_id, "as_of_date": drift.previous_as_of_date}
    )
    return {
        "status": drift.status,
        "previous_run": previous,
        "acceptance_reason": acceptance_reason_shown(drift),
        "checks": drift_check_outcomes(drift),
    }


def build_report(
    con: duckdb.DuckDBPyConnection,
    as_of: str,
    controls: tuple[NodeResult, ...],
    destination: str | None = None,
    compared_channels: bool = True,
    *,
    drift: DriftResult,
) -> dict[str, Any]:
    """The content of ``reconciliation.json``: of a published run, or of a stopped one (its
    would-be outputs, kept for diagnosis).

    ``deltas`` counts the rows of the delta files against the destination's previous published
    run (``history.delta_counts``). ``compared_channels``: whether the channels' comparison
    with the previous run was built (see :func:`consent_channels`). ``drift_guard`` is the
    guard's outcome for this build (:func:`drift_guard_outcome`).
    """
    customers, eligible, excluded = decision_counts(con)
    outcomes = control_outcomes(controls)
    return {
        "as_of_date": as_of,
        "rule_parameters": rule_parameters(con),
        "consent_channels": consent_channels(con, compared_channels),
        "destination": destination,
        "input_files": file_counts(con),
        "customers": customers,
        "eligible": eligible,
        "excluded": excluded,
        "deltas": delta_counts(con),
        "controls": outcomes,
        "controls_passed": sum(1 for item in outcomes if item["status"] == "pass"),
        "controls_failed": sum(1 for item in outcomes if item["status"] != "pass"),
        "drift_guard": drift_guard_outcome(drift),
    }
