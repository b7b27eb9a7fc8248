"""Why is this customer (not) in the audience? One customer's rules, in words, without SQL.

``python scripts/run_pipeline.py --explain CUSTOMER_ID [--database FILE]`` reads the database
of the latest run and prints, for that customer, every rule in the order the pipeline applies
it, with the facts it looked at and its outcome: the snapshot chosen, the consent event that
decided, the matching suppressions, the recent bookings, the other holders of the address, and
the change against the previous published run.

The output shows the customer's own data (email, lines of the input files) to the person who
asked for it; it is printed, never written into the published outputs or the logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from audience_pipeline.errors import PipelineError
from audience_pipeline.history import history_exists

#: The rules in the order they are applied: (step, decision code, what it checks).
RULES: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "data_quality_hold",
        "no rejected customers or consent_events row of this customer, no broken line naming it",
    ),
    (2, "inactive", "the current snapshot is active"),
    (3, "missing_email", "the current snapshot has an email address"),
    (4, "invalid_email", "the email address is valid"),
    (5, "no_email_consent", "at least one consent event on the email channel"),
    (6, "not_opted_in", "the latest email consent event is OPT_IN"),
    (7, "suppressed", "no active suppression matches the customer id or email"),
    (8, "no_recent_booking", "a completed booking in the 365 days up to the as-of date"),
    (9, "shared_address_blocked", "nobody holding the address opted out or is suppressed by id"),
    (10, "duplicate_email", "first among the eligible holders of the address"),
)

_MAX_LISTED = 10


class CustomerNotFound(PipelineError):
    """The customer is not in the latest run's customers file."""


@dataclass(frozen=True)
class RuleOutcome:
    """One rule for one customer: did it pass, and what did it look at."""

    step: int
    code: str
    checks: str
    outcome: str  # pass, FAIL (decides), fail, not applied
    facts: tuple[str, ...]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> dict[str, Any] | None:
    rows = _rows(con, sql, params)
    return rows[0] if rows else None


def _ts(value: object) -> str:
    return "-" if value is None else f"{value} UTC"


def _amount(value: object) -> str:
    """An exact decimal without trailing zeros beyond the cents."""
    if not isinstance(value, Decimal):
        return str(value)
    cents = value.quantize(Decimal("0.01"))
    return f"{cents:f}" if cents == value else f"{value.normalize():f}"


def _flag(value: object) -> str:
    return "yes" if value else "no"


def _listed(lines: list[str]) -> list[str]:
    if len(lines) <= _MAX_LISTED:
        return lines
    return [*lines[:_MAX_LISTED], f"... and {len(lines) - _MAX_LISTED} more"]


def _hold_facts(con: duckdb.DuckDBPyConnection, customer_id: int) -> list[str]:
    named_by = "(? in (salvaged_customer_id, salvaged_customer_id_from_end))"
    rejected = _rows(
        con,
        f"""
        select 'customers.csv' as file_name, source_line, rejection_reason
        from staging.stg_exports__customers_checked
        where (customer_id = ? and disposition = 'rejected') or {named_by}
        union all
        select 'consent_events.csv', source_line, rejection_reason
        from staging.stg_exports__consent_events_checked
        where (customer_id = ? and disposition = 'rejected') or {named_by}
        order by file_name, source_line
        """,
        [customer_id] * 4,
    )
    if not rejected:
        return [
            "no rejected customers or consent_events row carries this customer_id, and no such"
            " line that could not be split names it"
        ]
    return _listed(
        [
            f"{r['file_name']} line {r['source_line']} rejected: {r['rejection_reason']}"
            for r in rejected
        ]
    )


def _snapshot_facts(con: duckdb.DuckDBPyConnection, customer_id: int) -> list[str]:
    chosen = _one(
        con,
        """
        select snapshot_source_line, updated_at_utc, is_active, accepted_snapshot_count
        from intermediate.int_customers_deduplicated
        where customer_id = ?
        """,
        [customer_id],
    )
    snapshots = _rows(
        con,
        """
        select source_line, disposition, rejection_reason, duplicate_of_line, updated_at_utc,
            is_active, email_normalized
        from staging.stg_exports__customers_checked
        where customer_id = ?
        order by source_line
        """,
        [customer_id],
    )
    facts = []
    if chosen is None or chosen["snapshot_source_line"] is None:
        facts.append("no accepted snapshot: every customers row of this customer was rejected")
    else:
        facts.append(
            f"current snapshot: customers.csv line {chosen['snapshot_source_line']} "
            f"(updated {_ts(chosen['updated_at_utc'])}), active: {_flag(chosen['is_active'])}; "
            f"latest updated_at wins, a tie goes to the inactive one"
        )
    lines = []
    for row in snapshots:
        mark = (
            "chosen"
            if chosen and row["source_line"] == chosen["snapshot_source_line"]
            else row["disposition"]
        )
        why = (
            f" ({row['rejection_reason']})"
            if row["disposition"] == "rejected"
            else f" (of line {row['duplicate_of_line']})"
            if row["disposition"] == "duplicate"
            else ""
        )
        lines.append(
            f"  line {row['source_line']}: {mark}{why}, updated {_ts(row['updated_at_utc'])}, "
            f"active: {_flag(row['is_active'])}, email: {row['email_normalized'] or '-'}"
        )
    if lines:
        facts.append("snapshots in customers.csv:")
        facts.extend(_listed(lines))
    return facts


def _consent_facts(con: duckdb.DuckDBPyConnection, customer_id: int) -> tuple[list[str], str]:
    resolved = _one(
        con,
        """
        select email_event_count, latest_event_id, latest_event_source_line,
            latest_event_ts_utc, latest_consent_status, is_opted_in
        from intermediate.int_email_consent_resolved
        where customer_id = ?
        """,
        [customer_id],
    )
    events = _rows(
        con,
        """
        select source_line, event_id, channel, consent_status, event_ts_utc, disposition,
            rejection_reason
        from staging.stg_exports__consent_events_checked
        where customer_id = ?
        order by event_ts_utc desc nulls last, source_line
        """,
        [customer_id],
    )
    if resolved is None:
        deciding = "no accepted consent event on the email channel"
    else:
        deciding = (
            f"deciding event: {resolved['latest_event_id']} (consent_events.csv line "
            f"{resolved['latest_event_source_line']}): {resolved['latest_consent_status']} at "
            f"{_ts(resolved['latest_event_ts_utc'])}, of {resolved['email_event_count']} email "
            "event(s); the latest decides, on a tie anything but OPT_IN wins"
        )
    lines = [
        f"  line {e['source_line']}: {e['event_id'] or '-'}, channel {e['channel'] or '-'}, "
        f"{e['consent_status'] or '-'} at {_ts(e['event_ts_utc'])}, {e['disposition']}"
        + (f" ({e['rejection_reason']})" if e["rejection_reason"] else "")
        + (
            " <- decides"
            if resolved and e["source_line"] == resolved["latest_event_source_line"]
            else ""
        )
        for e in events
    ]
    facts = ["consent events of this customer (latest first):", *_listed(lines)] if lines else []
    return facts, deciding


def _suppression_facts(
    con: duckdb.DuckDBPyConnection, customer_id: int, email: str | None, as_of: object
) -> list[str]:
    rows = _rows(
        con,
        """
        select source_line, suppression_reason, suppressed_from, suppressed_until,
            is_open_ended, has_unreadable_dates,
            case when customer_id = ? then 'customer_id' else 'email' end as matched_on,
            has_unreadable_dates
                or (suppressed_from <= ? and (is_open_ended or suppressed_until >= ?))
                as is_active_on_as_of
        from staging.stg_exports__suppressions
        where customer_id = ? or (email_normalized is not null and email_normalized = ?)
        order by source_line
        """,
        [customer_id, as_of, as_of, customer_id, email],
    )
    unsplittable = _rows(
        con,
        """
        select source_line, rejection_reason,
            case when ? in (salvaged_customer_id, salvaged_customer_id_from_end)
                then 'customer_id' else 'email' end as matched_on
        from staging.stg_exports__suppressions_checked
        where ? in (salvaged_customer_id, salvaged_customer_id_from_end)
            or ? in (salvaged_email_normalized, salvaged_email_normalized_from_end)
        order by source_line
        """,
        [customer_id, customer_id, email],
    )
    if not rows and not unsplittable:
        return ["no suppression names this customer_id or email address"]
    return [
        "suppressions naming this customer_id or email address:",
        *_listed(
            [
                f"  suppressions.csv line {r['source_line']}: by {r['matched_on']}, "
                f"{r['suppression_reason'] or '-'}, from {r['suppressed_from'] or '-'} until "
                f"{'open-ended' if r['is_open_ended'] else r['suppressed_until'] or '-'}"
                + (", dates unreadable (still suppresses)" if r["has_unreadable_dates"] else "")
                + (" -> ACTIVE on the as-of date" if r["is_active_on_as_of"] else " -> not active")
                for r in rows
            ]
            + [
                f"  suppressions.csv line {r['source_line']}: may name this {r['matched_on']}, "
                f"rejected: {r['rejection_reason']} -> ACTIVE (a line that cannot be read "
                "still suppresses)"
                for r in unsplittable
            ]
        ),
    ]


def _booking_facts(
    con: duckdb.DuckDBPyConnection, customer_id: int, decision: dict[str, Any]
) -> list[str]:
    as_of = decision["as_of_date"]
    rows = _rows(
        con,
        """
        select source_line, booking_id, booking_date, booking_amount, booking_status,
            upper(trim(booking_status)) = 'COMPLETED'
                and booking_date > ? - interval 365 day and booking_date <= ? as is_counted
        from staging.stg_exports__bookings
        where customer_id = ?
        order by booking_date desc, source_line
        """,
        [as_of, as_of, customer_id],
    )
    count = decision["bookings_last_365_days"] or 0
    facts = [
        f"{count} completed booking(s) with {as_of} - 365 days < booking_date <= {as_of}"
        + (
            f": total {_amount(decision['total_spend_last_365_days'])}, "
            f"last {decision['last_booking_date']}"
            if count
            else ""
        )
    ]
    if rows:
        facts.append("accepted bookings of this customer (latest first):")
        facts.extend(
            _listed(
                [
                    f"  bookings.csv line {r['source_line']}: {r['booking_id']}, "
                    f"{r['booking_date']}, {_amount(r['booking_amount'])}, {r['booking_status']}"
                    + (" (counted)" if r["is_counted"] else " (not counted)")
                    for r in rows
                ]
            )
        )
    return facts


def _address_facts(
    con: duckdb.DuckDBPyConnection, customer_id: int, email: str | None
) -> tuple[list[str], list[str]]:
    if not email:
        return ["no address"], ["no address"]
    holders = _rows(
        con,
        """
        select customer_id, decision_reason, has_email_consent, is_opted_in,
            is_suppressed_by_customer_id, has_rejected_consent_event, last_booking_date
        from marts.customer_audience_decisions
        where email_normalized = ? and customer_id <> ?
        order by customer_id
        """,
        [email, customer_id],
    )
    if not holders:
        return ["no other customer holds this address"], ["no other customer holds this address"]
    blocking = []
    for holder in holders:
        why = []
        if holder["has_email_consent"] and not holder["is_opted_in"]:
            why.append("latest email consent is not OPT_IN")
        if holder["is_suppressed_by_customer_id"]:
            why.append("suppressed by customer_id")
        if holder["has_rejected_consent_event"]:
            why.append("has a rejected consent event")
        if why:
            blocking.append(f"  customer {holder['customer_id']} blocks it: {', '.join(why)}")
    block_facts = (
        ["other holders who block the address:", *_listed(blocking)]
        if blocking
        else [f"{len(holders)} other holder(s), none of whom blocks the address"]
    )
    competing = [
        f"  customer {h['customer_id']}: {h['decision_reason']}, last booking "
        f"{h['last_booking_date'] or '-'}"
        for h in holders
        if h["decision_reason"] in {"eligible", "duplicate_email"}
    ]
    duplicate_facts = (
        [
            "other eligible holders (latest last booking wins, then lowest id):",
            *_listed(competing),
        ]
        if competing
        else ["no other eligible holder of the address"]
    )
    return block_facts, duplicate_facts


def evaluate_rules(decision: dict[str, Any]) -> list[tuple[int, str, str, bool | None]]:
    """(step, code, checks, passed) per rule; passed is None when the rule was not applied."""
    individual = {
        "data_quality_hold": not decision["is_on_hold"],
        "inactive": bool(decision["is_active"]),
        "missing_email": bool(decision["has_email"]),
        "invalid_email": bool(decision["has_valid_email"]),
        "no_email_consent": bool(decision["has_email_consent"]),
        "not_opted_in": bool(decision["is_opted_in"]),
        "suppressed": not decision["is_suppressed"],
        "no_recent_booking": bool(decision["bookings_last_365_days"]),
    }
    reached_address_rules = all(individual.values())
    results: list[tuple[int, str, str, bool | None]] = []
    for step, code, checks in RULES:
        if code in individual:
            passed: bool | None = individual[code]
        elif not reached_address_rules:
            passed = None
        elif code == "shared_address_blocked":
            passed = not decision["is_address_blocked"]
        else:  # duplicate_email: applies to customers whose address is not blocked
            passed = (
                None
                if decision["is_address_blocked"]
                else (decision["decision_reason"] != "duplicate_email")
            )
        results.append((step, code, checks, passed))
    return results


def explain_customer(con: duckdb.DuckDBPyConnection, customer_id: int) -> str:
    """The explanation for one customer of the run built in ``con``, as text."""
    decision = _one(
        con, "select * from marts.customer_audience_decisions where customer_id = ?", [customer_id]
    )
    lines: list[str] = []
    latest = None
    if history_exists(con):
        latest = _one(
            con,
            "select run_id, as_of_date, published_at from history.published_runs "
            "order by run_id desc limit 1",
            [],
        )
    if decision is None:
        as_of = _one(
            con, "select max(as_of_date) as as_of from marts.customer_audience_decisions", []
        )
        message = (
            f"customer {customer_id} is not in the customers file of the latest run"
            f" (as of {as_of['as_of'] if as_of else '?'})"
        )
        if latest:
            was = _one(
                con,
                "select decision_reason from history.run_decisions "
                "where run_id = ? and customer_id = ?",
                [latest["run_id"], customer_id],
            )
            if was:
                message += (
                    f"; in published run #{latest['run_id']} (as of {latest['as_of_date']}) "
                    f"the decision was: {was['decision_reason']}"
                )
        raise CustomerNotFound(message)

    as_of = decision["as_of_date"]
    lines.append(f"Customer {customer_id}: latest run, as of {as_of}")
    if latest:
        lines.append(
            f"  latest published run: #{latest['run_id']} as of {latest['as_of_date']}, "
            f"published {str(latest['published_at'])[:19]} UTC"
        )
        if str(latest["as_of_date"]) != str(as_of):
            lines.append(
                "  note: the latest run was not published (a control or the drift guard "
                "stopped it, or it is still running); this explains that run"
            )
    else:
        lines.append("  no published run recorded in this database yet")
    if decision["decision"] == "eligible":
        lines.append("Decision: ELIGIBLE (in the audience)")
    else:
        lines.append(
            f"Decision: EXCLUDED by rule {decision['exclusion_step']}, "
            f"{decision['decision_reason']}: {decision['exclusion_description']}"
        )
    change = _one(
        con,
        "select change_description, previous_run_id, previous_as_of_date, "
        "previous_decision_reason from marts.audience_changes where customer_id = ?",
        [customer_id],
    )
    if change and change["previous_run_id"] is not None:
        lines.append(
            f"Change against published run #{change['previous_run_id']} (as of "
            f"{change['previous_as_of_date']}): {change['change_description']}"
        )
    elif change:
        lines.append("Change: entered (no previous published run to compare with)")
    else:
        previous = _one(
            con,
            "select any_value(previous_run_id) as run_id from marts.audience_changes",
            [],
        )
        if previous and previous["run_id"] is not None:
            lines.append(
                f"Change against published run #{previous['run_id']}: none (not in either audience)"
            )

    email = decision["email_normalized"]
    consent_facts, deciding = _consent_facts(con, customer_id)
    block_facts, duplicate_facts = _address_facts(con, customer_id, email)
    facts_by_code: dict[str, list[str]] = {
        "data_quality_hold": _hold_facts(con, customer_id),
        "inactive": _snapshot_facts(con, customer_id),
        "missing_email": [f"email: {email or '-'}"],
        "invalid_email": [
            f"{email} is {'a valid' if decision['has_valid_email'] else 'not a valid'} address"
            if email
            else "no address to check"
        ],
        "no_email_consent": consent_facts or ["no consent event names this customer_id"],
        "not_opted_in": [deciding],
        "suppressed": _suppression_facts(con, customer_id, email, as_of),
        "no_recent_booking": _booking_facts(con, customer_id, decision),
        "shared_address_blocked": block_facts,
        "duplicate_email": duplicate_facts,
    }

    lines.append("")
    lines.append("Rules in the order they are applied (the first that fails decides):")
    decided = False
    outcomes = evaluate_rules(decision)
    for step, code, checks, passed in outcomes:
        if passed is None:
            outcome = "not applied (an earlier rule excluded the customer)"
        elif passed:
            outcome = "pass"
        elif not decided:
            outcome = "FAIL <- decides"
            decided = True
        else:
            outcome = "fail (an earlier rule already decided)"
        lines.append(f"{step:>3}. {code} [{outcome}]: {checks}")
        for fact in facts_by_code[code]:
            lines.append(f"       {fact}")
    first_failure = next((code for _, code, _, passed in outcomes if passed is False), "eligible")
    if first_failure != decision["decision_reason"]:
        lines.append(
            f"note: the rules above point to {first_failure}, but the run decided "
            f"{decision['decision_reason']}; the run's decision is what was published"
        )
    return "\n".join(lines) + "\n"


def explain(database: Path, customer_id: int) -> str:
    """Open the latest run's database read-only and explain one customer."""
    if not database.is_file():
        raise PipelineError(f"no run found: {database} does not exist (run the pipeline first)")
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error as error:
        raise PipelineError(f"cannot open {database}: {error}") from error
    try:
        return explain_customer(con, customer_id)
    except duckdb.CatalogException as error:
        raise PipelineError(
            f"{database} does not hold a complete run ({error}); run the pipeline first"
        ) from error
    finally:
        con.close()
