"""Why is this customer (not) in the audience? One customer's rules, in words, without SQL.

``python scripts/run_pipeline.py --explain CUSTOMER_ID [--database FILE]`` reads the database
of the latest run and prints, for that customer, every rule in the order the pipeline applies
it, with the facts it looked at and its outcome: the snapshot chosen, the consent event that
decided, the matching suppressions, the recent bookings, the other holders of the address, and
the change against the previous published run.

Every rule lives in the dbt project, once, and this module only reads what the run's models
say: the rules' numbers, descriptions and what each checks come from the macro
``exclusion_reasons()`` through ``marts.audience_exclusion_summary``; whether a booking counts
(``intermediate.int_bookings_evaluated``), whether a suppression is active on the as-of date
(``intermediate.int_suppressions_evaluated``) and whether a holder blocks an address
(``intermediate.int_email_address_holders``) come from the models that apply those rules. The
independent re-derivations of the rules are the controls (``tests/assert_*.sql``) and the
plain-Python reference (``tests/reference/``), not this.

The output shows the customer's own data (email, lines of the input files) to the person who
asked for it; it is printed, never written into the published outputs or the logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from audience_pipeline.channels import channel_label
from audience_pipeline.database import open_database
from audience_pipeline.drift import LOST_OPT_OUTS, LOST_SUPPRESSIONS
from audience_pipeline.errors import PipelineError, UsageError
from audience_pipeline.history import (
    destination_runs,
    destinations_named,
    folder_destination,
    latest_destination,
    recorded_destinations,
)

_MAX_LISTED = 10


class CustomerNotFound(UsageError):
    """The customer is not in the latest run's customers file (a bad argument: exit 2)."""


@dataclass(frozen=True)
class Rule:
    """One rule as the run's database describes it (macro ``exclusion_reasons()``)."""

    step: int
    code: str
    checks: str
    description: str


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


def _as_arrived(con: duckdb.DuckDBPyConnection, input_file: str, source_line: int) -> str:
    """The raw value behind a rejected row's reason, as it arrived (``marts.rejected_<file>``).

    The values of the columns the reason names (``booking_amount '5..0'``); for a line that could
    not be split, the line as read (bytes that are not valid text shown ``\\xNN``).
    """
    row = _one(
        con, f"select * from marts.rejected_{input_file} where source_line = ?", [source_line]
    )
    if row is None:
        return ""
    columns = [c for c in row if c not in {"source_line", "disposition", "reason", "raw_line"}]
    named = [c for c in columns if re.search(rf"\b{c}\b", row["reason"] or "")]
    values = [(c, row[c]) for c in named if row[c] is not None]
    if values:
        return "; " + ", ".join(f"{c} '{value}'" if value else f"{c} blank" for c, value in values)
    if row["raw_line"] is not None:
        return f"; the line as read: '{row['raw_line']}'"
    return ""


def _not_accepted_facts(
    con: duckdb.DuckDBPyConnection, input_file: str, customer_id: int, heading: str
) -> list[str]:
    """The customer's rejected and duplicate rows of one file: line, reason, raw value.

    Rows whose customer_id can be read as this customer's; the rule never saw them.
    """
    rows = _rows(
        con,
        f"""
        select source_line, disposition, rejection_reason, duplicate_of_line
        from staging.stg_exports__{input_file}_checked
        where customer_id = ? and disposition <> 'accepted'
        order by source_line
        """,
        [customer_id],
    )
    if not rows:
        return []
    lines = [
        f"  {input_file}.csv line {r['source_line']} "
        + (
            f"rejected: {r['rejection_reason']}" + _as_arrived(con, input_file, r["source_line"])
            if r["disposition"] == "rejected"
            else f"duplicate of line {r['duplicate_of_line']} (counted once)"
        )
        for r in rows
    ]
    return [heading, *_listed(lines)]


def _earlier_address_suppressions(
    con: duckdb.DuckDBPyConnection, customer_id: int, email: str | None
) -> list[str]:
    """Suppressions naming an address the customer held in another customers row (not the
    current snapshot's): information only, since rule 7 matches the id and current address."""
    rows = _rows(
        con,
        """
        with earlier as (
            select email_normalized, min(source_line) as customers_line
            from staging.stg_exports__customers_checked
            where customer_id = ? and email_normalized is not null
                and email_normalized <> coalesce(?, '') and disposition <> 'duplicate'
            group by email_normalized
        )
        select suppressions.source_line, earlier.email_normalized, earlier.customers_line,
            suppressions.disposition, suppressions.rejection_reason,
            suppressions.suppressed_from, suppressions.suppressed_until
        from staging.stg_exports__suppressions_checked as suppressions
        inner join earlier
            on earlier.email_normalized in (
                suppressions.email_normalized,
                suppressions.salvaged_email_normalized,
                suppressions.salvaged_email_normalized_from_end
            )
        order by suppressions.source_line, earlier.email_normalized
        """,
        [customer_id, email],
    )
    if not rows:
        return []
    lines = [
        f"  suppressions.csv line {r['source_line']} names {r['email_normalized']} "
        f"(customers.csv line {r['customers_line']}), {r['disposition']}"
        + (f" ({r['rejection_reason']})" if r["rejection_reason"] else "")
        + f", from {r['suppressed_from'] or '-'} until {r['suppressed_until'] or '-'}"
        for r in rows
    ]
    return [
        "suppressions of an address on another of this customer's customers rows, not the "
        "current snapshot (information only: the rule matches the customer_id and the current "
        "address):",
        *_listed(lines),
    ]


def read_rules(con: duckdb.DuckDBPyConnection) -> tuple[Rule, ...]:
    """The rules in the order they are applied, numbered and worded as the run's models say."""
    rows = _rows(
        con,
        """
        select exclusion_step, decision_reason, rule_checks, exclusion_description
        from marts.audience_exclusion_summary
        where decision_reason <> 'eligible'
        order by exclusion_step
        """,
        [],
    )
    return tuple(
        Rule(
            step=row["exclusion_step"],
            code=row["decision_reason"],
            checks=row["rule_checks"],
            description=row["exclusion_description"],
        )
        for row in rows
    )


def _hold_facts(con: duckdb.DuckDBPyConnection, customer_id: int) -> list[str]:
    named_by = (
        "(? in (salvaged_customer_id, salvaged_customer_id_from_end,"
        " salvaged_customer_id_uncut)"
        " or (disposition = 'rejected'"
        " and ? in (customer_id_in_digits, customer_id_before_zero_decimals,"
        " customer_id_before_zero_decimals_from_end)))"
    )
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
        [customer_id] * 6,
    )
    if not rejected:
        return [
            "no rejected customers or consent_events row carries this customer_id or names it"
            " in the digits of an unreadable one, and no such line that could not be split"
            " names it"
        ]
    return _listed(
        [
            f"{r['file_name']} line {r['source_line']} rejected: {r['rejection_reason']}"
            + _as_arrived(con, r["file_name"].removesuffix(".csv"), r["source_line"])
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
        facts.append(
            "no accepted snapshot: every customers row naming this customer was rejected or "
            "could not be read (see rule 1)"
        )
    else:
        facts.append(
            f"current snapshot: customers.csv line {chosen['snapshot_source_line']} "
            f"(updated {_ts(chosen['updated_at_utc'])}), active: {_flag(chosen['is_active'])}; "
            "latest updated_at wins (an active snapshot dated after the as-of date gives way "
            "to one that counts), a tie goes to the inactive one"
        )
    lines = []
    for row in snapshots:
        mark = (
            "chosen"
            if chosen and row["source_line"] == chosen["snapshot_source_line"]
            else row["disposition"]
        )
        why = (
            f" ({row['rejection_reason']}" + _as_arrived(con, "customers", row["source_line"]) + ")"
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
        deciding = "no accepted consent event that counts for email (rule 5 says which count)"
    else:
        deciding = (
            f"deciding event: {resolved['latest_event_id'] or '-'} (consent_events.csv line "
            f"{resolved['latest_event_source_line']}): "
            f"{resolved['latest_consent_status'] or '-'} at "
            f"{_ts(resolved['latest_event_ts_utc'])}, of {resolved['email_event_count']} event(s) "
            "that count; the latest decides, on a tie anything but OPT_IN wins"
        )
    lines = [
        f"  line {e['source_line']}: {e['event_id'] or '-'}, "
        f"channel {channel_label(e['channel'])}, "
        f"{e['consent_status'] or '-'} at {_ts(e['event_ts_utc'])}, {e['disposition']}"
        + (
            f" ({e['rejection_reason']}"
            + _as_arrived(con, "consent_events", e["source_line"])
            + ")"
            if e["rejection_reason"]
            else ""
        )
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
    con: duckdb.DuckDBPyConnection, customer_id: int, email: str | None
) -> list[str]:
    # one row per suppressions line; a line that could not be split has a row per reading
    rows = _rows(
        con,
        """
        select
            source_line,
            case when bool_or(coalesce(customer_id = ?, false)) then 'customer_id'
                else 'email' end as matched_on,
            any_value(suppression_reason) as suppression_reason,
            any_value(suppressed_from) as suppressed_from,
            any_value(suppressed_until) as suppressed_until,
            bool_or(coalesce(is_open_ended, false)) as is_open_ended,
            bool_or(coalesce(has_unreadable_dates, false)) as has_unreadable_dates,
            bool_or(is_unsplittable_line) as is_unsplittable_line,
            bool_or(is_id_read_from_digits) as is_id_read_from_digits,
            bool_or(is_read_within_fields) as is_read_within_fields,
            any_value(line_rejection_reason) as line_rejection_reason,
            bool_or(is_active_on_as_of) as is_active_on_as_of,
            any_value(suppression_inactive_reason) as suppression_inactive_reason
        from intermediate.int_suppressions_evaluated
        where customer_id = ? or (email_normalized is not null and email_normalized = ?)
        group by source_line
        order by source_line
        """,
        [customer_id, customer_id, email],
    )
    other = _not_accepted_facts(
        con,
        "suppressions",
        customer_id,
        "rows of suppressions.csv with this customer_id that the rule did not read:",
    ) + _earlier_address_suppressions(con, customer_id, email)
    if not rows:
        return ["no suppression names this customer_id or email address", *other]
    lines = []
    for r in rows:
        activity = (
            " -> ACTIVE on the as-of date"
            if r["is_active_on_as_of"]
            else f" -> not active ({r['suppression_inactive_reason']})"
        )
        if r["is_unsplittable_line"]:
            lines.append(
                f"  suppressions.csv line {r['source_line']}: may name this {r['matched_on']}, "
                f"rejected: {r['line_rejection_reason']}"
                + (
                    " -> ACTIVE (a line that cannot be read still suppresses)"
                    if r["is_active_on_as_of"]
                    else activity
                )
            )
            continue
        lines.append(
            f"  suppressions.csv line {r['source_line']}: by {r['matched_on']}, "
            f"{r['suppression_reason'] or '-'}, from {r['suppressed_from'] or '-'} until "
            f"{'open-ended' if r['is_open_ended'] else r['suppressed_until'] or '-'}"
            + (", dates unreadable (still suppresses)" if r["has_unreadable_dates"] else "")
            + (
                ", its customer_id cannot be read and its digits name this customer"
                if r["is_id_read_from_digits"]
                else ""
            )
            + (
                ", its fields hold this address inside other text"
                if r["is_read_within_fields"] and r["matched_on"] == "email"
                else ", its email column holds this customer_id"
                if r["is_read_within_fields"]
                else ""
            )
            + activity
        )
    return ["suppressions naming this customer_id or email address:", *_listed(lines), *other]


def _booking_facts(
    con: duckdb.DuckDBPyConnection, customer_id: int, decision: dict[str, Any]
) -> list[str]:
    as_of = decision["as_of_date"]
    rows = _rows(
        con,
        """
        select source_line, booking_id, booking_date, booking_amount, booking_status,
            is_counted_booking, booking_not_counted_reason
        from intermediate.int_bookings_evaluated
        where customer_id = ?
        order by booking_date desc, source_line
        """,
        [customer_id],
    )
    count = decision["bookings_last_365_days"] or 0
    facts = [
        f"{count} booking(s) counted as of {as_of}"
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
                    f"{r['booking_date']}, {_amount(r['booking_amount'])}, "
                    f"{r['booking_status'] or '-'}"
                    + (
                        " (counted)"
                        if r["is_counted_booking"]
                        else f" (not counted: {r['booking_not_counted_reason']})"
                    )
                    for r in rows
                ]
            )
        )
    facts.extend(
        _not_accepted_facts(
            con,
            "bookings",
            customer_id,
            "rejected and duplicate bookings of this customer (never counted):",
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
        select holders.customer_id, decisions.decision_reason, holders.is_current_address,
            holders.has_latest_consent_other_than_opt_in,
            holders.is_suppressed_by_customer_id, holders.has_rejected_consent_event,
            holders.is_blocking_address, decisions.last_booking_date
        from intermediate.int_email_address_holders as holders
        left join marts.customer_audience_decisions as decisions
            on holders.customer_id = decisions.customer_id
        where holders.email_normalized = ? and holders.customer_id <> ?
        order by holders.customer_id
        """,
        [email, customer_id],
    )
    if not holders:
        return ["no other customer holds this address"], ["no other customer holds this address"]
    blocking = []
    for holder in holders:
        if not holder["is_blocking_address"]:
            continue
        why = []
        if holder["has_latest_consent_other_than_opt_in"]:
            why.append("latest email consent is not OPT_IN")
        if holder["is_suppressed_by_customer_id"]:
            why.append("suppressed by customer_id")
        if holder["has_rejected_consent_event"]:
            why.append("has a rejected consent event")
        held = "" if holder["is_current_address"] else " (on a rejected customers row)"
        blocking.append(f"  customer {holder['customer_id']}{held} blocks it: {', '.join(why)}")
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


def evaluate_rules(
    decision: dict[str, Any], rules: tuple[Rule, ...]
) -> list[tuple[Rule, bool | None]]:
    """(rule, passed) per rule, from the decision's facts; passed is None when not applied.

    Rules 1 to 8 look at the customer alone: each has a fact of its own in the decision. Rules
    9 and 10 are applied only to customers who passed those (and rule 10 only when the address
    is not blocked). A rule this module has no fact for passes unless it is the decision.
    """
    individual = {
        "data_quality_hold": not decision["is_on_hold"],
        "inactive": bool(decision["is_active"]),
        "missing_email": bool(decision["has_email"]),
        "invalid_email": bool(decision["has_valid_email"]),
        "no_email_consent": bool(decision["has_email_consent"]),
        "not_opted_in": bool(decision["is_opted_in"]),
        "suppressed": not decision["is_suppressed"],
        "no_recent_booking": bool(decision["has_recent_bookings"]),
    }
    reached_address_rules = all(individual.values())
    results: list[tuple[Rule, bool | None]] = []
    for rule in rules:
        if rule.code in individual:
            passed: bool | None = individual[rule.code]
        elif not reached_address_rules:
            passed = None
        elif rule.code == "shared_address_blocked":
            passed = not decision["is_address_blocked"]
        elif rule.code == "duplicate_email":  # applies to customers whose address is not blocked
            passed = (
                None
                if decision["is_address_blocked"]
                else (decision["decision_reason"] != "duplicate_email")
            )
        else:
            passed = decision["decision_reason"] != rule.code
        results.append((rule, passed))
    return results


def _build_destination(con: duckdb.DuckDBPyConnection) -> str | None:
    """The destination the database's latest build was for (None: a plain dbt build)."""
    try:
        row = _one(con, "select destination from marts.audience_previous_run", [])
    except duckdb.CatalogException:  # built before destinations existed
        return None
    return row["destination"] if row else None


def _build_was_published(con: duckdb.DuckDBPyConnection, runs: list[dict[str, Any]]) -> bool | None:
    """Whether the database's build was published to its destination: a run to it recorded
    after the one published there last when the build started (``audience_previous_run``).
    ``runs`` are the destination's published runs; None when the build predates the column."""
    try:
        row = _one(con, "select last_published_run_id from marts.audience_previous_run", [])
    except duckdb.BinderException:  # built before the model kept it
        return None
    before = (row or {}).get("last_published_run_id") or 0
    return any(run["run_id"] > before for run in runs)


def _decision_in(con: duckdb.DuckDBPyConnection, run: dict[str, Any], customer_id: int) -> str:
    was = _one(
        con,
        "select decision_reason from history.run_decisions where run_id = ? and customer_id = ?",
        [run["run_id"], customer_id],
    )
    return was["decision_reason"] if was else "not in its customers file"


def _change_lines(
    con: duckdb.DuckDBPyConnection,
    customer_id: int,
    destination: str | None,
    build_destination: str | None,
    runs: list[dict[str, Any]],
) -> list[str]:
    """The customer's change since the previous run published to ``destination``.

    For the destination of the database's latest build, the model ``audience_changes`` says it
    (that build against the destination's previous run). For another destination, the
    decisions its two latest published runs recorded are shown side by side.
    """
    if destination is None:
        return []
    if destination != build_destination:
        if not runs:
            return [f"Change in destination {destination}: no run published there"]
        lines = [
            f"Change in destination {destination} (the latest build was for "
            f"{build_destination or 'no destination'}; its published runs say):"
        ]
        for run in runs[:2]:
            lines.append(
                f"  published run #{run['run_id']} (as of {run['as_of_date']}): "
                f"{_decision_in(con, run, customer_id)}"
            )
        return lines
    change = _one(
        con,
        "select change_description, previous_run_id, previous_as_of_date, "
        "previous_decision_reason from marts.audience_changes where customer_id = ?",
        [customer_id],
    )
    if change and change["previous_run_id"] is not None:
        return [
            f"Change against published run #{change['previous_run_id']} (as of "
            f"{change['previous_as_of_date']}): {change['change_description']}"
        ]
    if change:
        return ["Change: entered (no earlier run published to this destination)"]
    previous = _one(con, "select previous_run_id as run_id from marts.audience_previous_run", [])
    if previous and previous["run_id"] is not None:
        return [
            f"Change against published run #{previous['run_id']}: none (not in either audience)"
        ]
    return []


def _row_of_customer(
    con: duckdb.DuckDBPyConnection, model: str, customer_id: int
) -> dict[str, Any] | None:
    """The customer's row in ``model`` (one of the marts listing customers by id), or None,
    also when a database built by an earlier version lacks the model."""
    built = _one(
        con,
        "select count(*) as models from information_schema.tables "
        "where table_schema = 'marts' and table_name = ?",
        [model],
    )
    if not built or not built["models"]:
        return None
    return _one(con, f"select * from marts.{model} where customer_id = ?", [customer_id])


def _lost_opt_out_lines(con: duckdb.DuckDBPyConnection, customer_id: int) -> list[str]:
    """Whether the customer is published without the opt-out the previous run read (the model
    ``audience_lost_opt_outs``)."""
    lines = _other_holders_lost(
        con, LOST_OPT_OUTS.model, LOST_OPT_OUTS.control, customer_id, "opt-out"
    )
    lost = _row_of_customer(con, "audience_lost_opt_outs", customer_id)
    if lost is None:
        return lines
    previous_event = lost["previous_withholding_event_id"] or "(blank id)"
    now_event = lost["latest_consent_event_id"] or "(blank id)"
    published = lost.get("published_customer_id")
    now = (
        f"this run publishes customer {published} at the address the customer holds, which "
        f"that event would block (rule 9); their latest email event now is {now_event} "
        f"({_ts(lost['latest_consent_event_ts_utc'])}), no later"
        if published is not None and published != customer_id
        else f"this run publishes the customer on {now_event} "
        f"({_ts(lost['latest_consent_event_ts_utc'])}), no later"
    )
    return [
        *lines,
        f"Opt-out no longer read: in published run #{lost['previous_run_id']} the latest email "
        f"event was {previous_event} ({_ts(lost['previous_withholding_event_ts_utc'])}), "
        f"withholding consent; {now}, so that event is no longer read. The drift guard "
        "(lost_opt_outs) stops such a run until a person accepts it.",
    ]


def _other_holders_lost(
    con: duckdb.DuckDBPyConnection, model: str, control: str, customer_id: int, what: str
) -> list[str]:
    """The other holders of the customer's address whose ``what`` (an opt-out, a suppression)
    the previous run read and this one does not, while it publishes the customer at their
    address (``model``'s ``published_customer_id``; the drift guard's check ``control``)."""
    if not _has_published_column(con, model):  # not built, or built by an earlier version
        return []
    others = _rows(
        con,
        f"select customer_id from marts.{model} "
        "where published_customer_id = ? and customer_id <> ? order by customer_id",
        [customer_id, customer_id],
    )
    if not others:
        return []
    named = ", ".join(str(row["customer_id"]) for row in others)
    return [
        f"Published at an address whose other holder's {what} is no longer read: customer(s) "
        f"{named} (see `audience explain` for each). The drift guard ({control}) stops "
        "such a run until a person accepts it."
    ]


def _has_published_column(con: duckdb.DuckDBPyConnection, model: str) -> bool:
    """Whether ``model`` was built with ``published_customer_id`` (not by an earlier version)."""
    row = _one(
        con,
        "select count(*) as columns from information_schema.columns where table_schema = "
        "'marts' and table_name = ? and column_name = 'published_customer_id'",
        [model],
    )
    return bool(row and row["columns"])


def _lost_suppression_lines(con: duckdb.DuckDBPyConnection, customer_id: int) -> list[str]:
    """Whether the customer is published although the previous run held them suppressed on a
    suppression that has not ended (the model ``audience_lost_suppressions``)."""
    lines = _other_holders_lost(
        con, LOST_SUPPRESSIONS.model, LOST_SUPPRESSIONS.control, customer_id, "suppression"
    )
    lost = _row_of_customer(con, "audience_lost_suppressions", customer_id)
    if lost is None:
        return lines
    through = lost["previous_suppressed_through"]
    held = "with no end" if through is None else f"through {through}"
    published = lost.get("published_customer_id")
    now = (
        f"this run publishes customer {published} at the address the customer holds, which "
        "that suppression would block (rule 9)"
        if published is not None and published != customer_id
        else "this run publishes them"
    )
    return [
        *lines,
        f"Suppression no longer read: published run #{lost['previous_run_id']} held the "
        f"customer suppressed {held}; {now}, so that suppression is no longer "
        f"read ({LOST_SUPPRESSIONS.how}). The drift guard ({LOST_SUPPRESSIONS.control}) stops "
        "such a run until a person accepts it.",
    ]


def explain_customer(
    con: duckdb.DuckDBPyConnection, customer_id: int, destination: str | None = None
) -> str:
    """The explanation for one customer of the run built in ``con``, as text.

    The change is the one since the previous run published to ``destination`` (default: the
    destination of the latest build, else of the latest published run).
    """
    decision = _one(
        con, "select * from marts.customer_audience_decisions where customer_id = ?", [customer_id]
    )
    lines: list[str] = []
    build_destination = _build_destination(con)
    destination = destination or build_destination or latest_destination(con)
    # the run published last is what the destination holds, whatever its as-of date
    runs = sorted(
        destination_runs(con, destination) if destination is not None else [],
        key=lambda run: run["run_id"],
        reverse=True,
    )
    latest = runs[0] if runs else None
    if decision is None:
        as_of = _one(
            con, "select max(as_of_date) as as_of from marts.customer_audience_decisions", []
        )
        message = (
            f"customer {customer_id} is not in the customers file of the latest run"
            f" (as of {as_of['as_of'] if as_of else '?'})"
        )
        if latest:
            was = _decision_in(con, latest, customer_id)
            if was != "not in its customers file":
                message += (
                    f"; in published run #{latest['run_id']} (as of {latest['as_of_date']}) "
                    f"to {destination} the decision was: {was}"
                )
        raise CustomerNotFound(message)

    as_of = decision["as_of_date"]
    lines.append(f"Customer {customer_id}: latest run, as of {as_of}")
    if destination is not None:
        lines.append(f"  destination: {destination}")
    if destination is not None and destination != build_destination:
        lines.append(
            "  note: the latest build in this database was for "
            f"{build_destination or 'no destination (a plain dbt build)'}, not for this "
            "destination: the decision and the rules below explain that build, whose input "
            "files may not be this destination's; what this destination's published runs "
            "recorded for the customer is under 'Change in destination'"
        )
    if latest:
        lines.append(
            f"  latest published run: #{latest['run_id']} as of {latest['as_of_date']}, "
            f"published {str(latest['published_at'])[:19]} UTC"
        )
        published = _build_was_published(con, runs) if destination == build_destination else True
        if published is None:  # a build from before the model kept the last run: by date
            published = str(latest["as_of_date"]) == str(as_of)
        if not published:
            lines.append(
                "  note: the latest run was not published (a control or the drift guard "
                "stopped it, it stopped before its folder switched to it, or it is still "
                "running); this explains that run. The destination "
                f"holds run #{latest['run_id']}, whose decision for this customer was: "
                f"{_decision_in(con, latest, customer_id)}"
            )
    elif destination is not None:
        lines.append("  no run published to this destination yet")
    else:
        lines.append("  no published run recorded in this database yet")
    if decision["decision"] == "eligible":
        lines.append("Decision: ELIGIBLE (in the audience)")
    else:
        lines.append(
            f"Decision: EXCLUDED by rule {decision['exclusion_step']}, "
            f"{decision['decision_reason']}: {decision['exclusion_description']}"
        )
    lines.extend(_change_lines(con, customer_id, destination, build_destination, runs))
    if destination is not None and destination == build_destination:
        lines.extend(_lost_opt_out_lines(con, customer_id))
        lines.extend(_lost_suppression_lines(con, customer_id))

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
        "suppressed": _suppression_facts(con, customer_id, email),
        "no_recent_booking": _booking_facts(con, customer_id, decision),
        "shared_address_blocked": block_facts,
        "duplicate_email": duplicate_facts,
    }

    lines.append("")
    lines.append("Rules in the order they are applied (the first that fails decides):")
    decided = False
    outcomes = evaluate_rules(decision, read_rules(con))
    for rule, passed in outcomes:
        if passed is None:
            outcome = "not applied (an earlier rule excluded the customer)"
        elif passed:
            outcome = "pass"
        elif not decided:
            outcome = "FAIL <- decides"
            decided = True
        else:
            outcome = "fail (an earlier rule already decided)"
        lines.append(f"{rule.step:>3}. {rule.code} [{outcome}]: {rule.checks}")
        for fact in facts_by_code.get(rule.code, []):
            lines.append(f"       {fact}")
    first_failure = next((rule.code for rule, passed in outcomes if passed is False), "eligible")
    if first_failure != decision["decision_reason"]:
        lines.append(
            f"note: the rules above point to {first_failure}, but the run decided "
            f"{decision['decision_reason']}; the run's decision is what was published"
        )
    return "\n".join(lines) + "\n"


def _check_destination(
    con: duckdb.DuckDBPyConnection, destination: str, output_dir: Path | None
) -> None:
    """A destination asked for must be one runs were published to, or the latest build's: a
    typo is refused naming the destinations there are."""
    known = recorded_destinations(con)
    if destination in known or destination == _build_destination(con):
        return
    option, named = (
        ("--output-dir", f"the folder {output_dir}")
        if output_dir is not None
        else ("--destination", destination)
    )
    raise UsageError(
        f"argument {option}: no run to {named} in this database ({destinations_named(known)})"
    )


def explain(
    database: Path,
    customer_id: int,
    destination: str | None = None,
    output_dir: Path | None = None,
) -> str:
    """Open the latest run's database read-only and explain one customer (the change: since
    the previous run published to ``destination``, or to the destination of the runs published
    to ``output_dir``; by default the latest run's)."""
    if not database.exists():
        raise PipelineError(f"no run found: {database} does not exist (run the pipeline first)")
    con = open_database(database, read_only=True)
    try:
        if output_dir is not None:
            destination = folder_destination(con, output_dir)
        if destination is not None:
            _check_destination(con, destination, output_dir)
        return explain_customer(con, customer_id, destination)
    except duckdb.CatalogException:
        raise PipelineError(
            f"{database} holds no built run to explain (a run that stopped before its build "
            "leaves none); run `audience run` first"
        ) from None
    except duckdb.BinderException:  # a column this version reads is missing
        raise PipelineError(
            f"{database} holds a run built by an earlier version of audience; run `audience "
            "run` again to explain it"
        ) from None
    finally:
        con.close()
