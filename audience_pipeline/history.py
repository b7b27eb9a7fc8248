"""Run history: every published run, kept in the ``history`` schema of the run's database.

The tables are created (``create ... if not exists``) before dbt runs, so the dbt project can
declare them as the source ``history`` even on the very first run. Every run belongs to a
*destination* (``--destination NAME``, else the output folder's resolved path) and is compared
only with earlier runs of the same destination: the model ``audience_previous_run`` picks, of
the runs published to it dated before the build's as-of date, the one published last, and
``audience_changes`` and the deltas (``audience_entered``, ``audience_left``,
``audience_updated``) compare with it. A run is
recorded only after its outputs were published, so the history lists exactly the runs whose
audience reached the campaign platform.

Databases written before destinations are migrated by :func:`ensure_history_tables`: their runs
get the output folder they recorded as destination, and their audiences (in ``run_audience``)
the published customers without values (the addresses were not kept).

The tables with a row per customer and run (``run_decisions``, ``run_audience``) have no
primary-key index: their grain (one row per run and customer) holds because each run's id is
new (the key of ``published_runs``, written in the same transaction), its customers are unique
in the marts it copies (dbt's controls, before anything is published), and :func:`record_run`
refuses a copy whose row count is not the run's. An index of every customer of every run kept
cost more than the copy itself (at 10 million bookings 3.1 s against 0.9 s per run, and more
with every run kept); databases written with it are rebuilt without it once.

Tables (the dbt source ``history`` documents every column):

- ``published_runs``: one row per published run: as-of date, when, where from and to, counts,
  controls, the drift guard's outcome and any acceptance of an expected change, destination,
  how many consent channels, customers' withholding events and suppressed customers the run
  kept, and the output folder's generation it published (recorded just before the switch);
- ``run_input_files``: per run and input file, its fingerprint (name, path, size, SHA-256)
  and row counts;
- ``run_layer_counts``: per run, the row count of every table of every layer;
- ``run_exclusions``: per run, customers per decision reason, in rule order;
- ``run_controls``: per run, every control (dbt data and unit tests, drift checks) and outcome;
- ``run_consent_channels``: per run and consent channel, how rules 5 and 6 read it, its
  counts and how it compared with the previous run (``audience_consent_channel_changes``), so
  the next run can say which channels are new and ``audience history`` which run first read one;
- ``run_decisions``: per run and customer, the decision reason (``eligible`` = published)
  and the event withholding consent that was their latest email event, if any, with its
  instant (so the next run can tell an opt-out gone from the export: ``audience_lost_opt_outs``),
  and whether they were suppressed, through which day (``audience_lost_suppressions``);
- ``run_audience``: per run and published customer, the values published (customer_id, email
  and the other columns of ``eligible_audience.csv``): what the destination's platform holds;
- ``run_membership`` (a view): per run, the customers published in the audience.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import duckdb

from audience_pipeline.channels import channel_without_addresses
from audience_pipeline.database import open_database
from audience_pipeline.errors import PipelineError, UsageError
from audience_pipeline.publish import current_generation, resolve_output_dir
from audience_pipeline.redaction import without_addresses


class GuardCheck(Protocol):
    """One check of the drift guard, as the history records it (drift.DriftCheck)."""

    @property
    def control(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def detail(self) -> str: ...


class GuardOutcome(Protocol):
    """The drift guard's outcome, as the history records it (drift.DriftResult).

    Declared here so that the history does not import the guard, which reads the history.
    """

    @property
    def status(self) -> str: ...
    @property
    def accepted_reason(self) -> str | None: ...
    @property
    def checks(self) -> Sequence[GuardCheck]: ...


HISTORY_SCHEMA = "history"

#: Layers whose tables are counted for ``run_layer_counts``, in flow order.
LAYERS = ("landing", "staging", "intermediate", "marts")

TABLES: dict[str, str] = {
    "published_runs": """
        run_id integer primary key,
        published_at timestamp not null,
        as_of_date date not null,
        input_dir varchar,
        output_dir varchar,
        customers bigint not null,
        eligible bigint not null,
        previous_run_id integer,
        entered bigint,
        left_audience bigint,
        stayed bigint,
        controls_passed integer not null,
        controls_failed integer not null,
        drift_status varchar not null,
        drift_acceptance_reason varchar,
        destination varchar,
        recent_booking_days integer,
        counted_booking_statuses varchar,
        min_recent_bookings integer,
        non_email_channels varchar,
        consent_channel_count integer,
        withholding_customer_count bigint,
        suppressed_customer_count bigint,
        generation integer,
        switched boolean
    """,
    "run_input_files": """
        run_id integer not null,
        input_file varchar not null,
        file_name varchar,
        file_path varchar,
        byte_count bigint,
        sha256 varchar,
        raw_rows bigint not null,
        accepted_rows bigint not null,
        rejected_rows bigint not null,
        duplicate_rows bigint not null,
        encoding varchar,
        delimiter varchar,
        primary key (run_id, input_file)
    """,
    "run_layer_counts": """
        run_id integer not null,
        layer varchar not null,
        relation_name varchar not null,
        row_count bigint not null,
        primary key (run_id, layer, relation_name)
    """,
    "run_exclusions": """
        run_id integer not null,
        decision_reason varchar not null,
        exclusion_step integer not null,
        customers bigint not null,
        primary key (run_id, decision_reason)
    """,
    "run_controls": """
        run_id integer not null,
        control varchar not null,
        control_type varchar not null,
        status varchar not null,
        failing_rows bigint,
        detail varchar
    """,
    "run_consent_channels": """
        run_id integer not null,
        channel varchar,
        channel_reading varchar not null,
        event_count bigint not null,
        email_event_count bigint not null,
        customer_count bigint not null,
        channel_change varchar,
        withholding_event_count bigint
    """,
    "run_decisions": """
        run_id integer not null,
        customer_id bigint not null,
        decision_reason varchar not null,
        withholding_event_id varchar,
        withholding_event_ts_utc timestamp,
        is_suppressed boolean,
        suppressed_through date,
        suppressed_address_hash varchar
    """,
    "run_audience": """
        run_id integer not null,
        customer_id bigint not null,
        email varchar,
        first_name varchar,
        home_state varchar,
        loyalty_tier varchar,
        bookings_last_365_days bigint,
        total_spend_last_365_days decimal(38,2),
        last_booking_date date
    """,
    "forgotten_runs": """
        run_id integer primary key,
        as_of_date date not null,
        recorded_at timestamp not null,
        output_dir varchar,
        destination varchar,
        generation integer,
        forgotten_at timestamp not null,
        forgotten_because varchar
    """,
}

#: Why a run was forgotten (``forgotten_runs.forgotten_because``): its own switch failed, so
#: the run forgot itself; or it was stopped between its record and its switch (killed, a
#: machine that went down), and the next run to its destination found its folder not holding it.
SWITCH_FAILED = "switch_failed"
STOPPED_BEFORE_SWITCH = "stopped_before_switch"

#: Tables that hold a recorded run's rows: what forgetting a run never published deletes
#: (``forgotten_runs`` keeps the trace that it was recorded, then forgotten).
RUN_TABLES = tuple(table for table in TABLES if table != "forgotten_runs")

#: Tables with a row per customer and run: what retention prunes (run-level counts stay).
PER_CUSTOMER_TABLES = ("run_decisions", "run_audience")

#: Columns added to tables after their first release: existing databases gain them (null for
#: the runs recorded before), see :func:`ensure_history_tables`.
ADDED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "published_runs": (
        ("recent_booking_days", "integer"),
        ("counted_booking_statuses", "varchar"),
        ("min_recent_bookings", "integer"),
        ("non_email_channels", "varchar"),
        ("consent_channel_count", "integer"),
        ("withholding_customer_count", "bigint"),
        ("suppressed_customer_count", "bigint"),
        ("generation", "integer"),
        ("switched", "boolean"),
    ),
    "run_input_files": (("encoding", "varchar"), ("delimiter", "varchar")),
    "forgotten_runs": (("forgotten_because", "varchar"),),
    "run_consent_channels": (
        ("channel_change", "varchar"),
        ("withholding_event_count", "bigint"),
    ),
    "run_decisions": (
        ("withholding_event_id", "varchar"),
        ("withholding_event_ts_utc", "timestamp"),
        ("is_suppressed", "boolean"),
        ("suppressed_through", "date"),
        ("suppressed_address_hash", "varchar"),
    ),
}

#: The rules' parameters a run recorded (``published_runs``), as ``reconciliation.json`` says them.
RULE_PARAMETER_COLUMNS = (
    "recent_booking_days",
    "counted_booking_statuses",
    "min_recent_bookings",
    "non_email_channels",
)

#: Columns of ``run_audience`` copied from ``marts.eligible_audience`` (all but run_id).
AUDIENCE_COLUMNS = (
    "customer_id",
    "email",
    "first_name",
    "home_state",
    "loyalty_tier",
    "bookings_last_365_days",
    "total_spend_last_365_days",
    "last_booking_date",
)

VIEWS: dict[str, str] = {
    "run_membership": (
        "select run_id, customer_id from history.run_decisions where decision_reason = 'eligible'"
    ),
}


def _history_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of a history table, in order ([] when it does not exist)."""
    rows = con.execute(
        "select column_name from duckdb_columns() "
        "where database_name = current_database() and schema_name = ? and table_name = ? "
        "order by column_index",
        [HISTORY_SCHEMA, table],
    ).fetchall()
    return [name for (name,) in rows]


def default_destination(output_dir: Path | str) -> str:
    """The destination of a run that names none: the output folder's resolved path."""
    return str(resolve_output_dir(Path(output_dir)))


def _recorded_destination(output_dir: str | None) -> str | None:
    """The destination a run recorded before destinations existed belongs to: its folder."""
    if not output_dir:
        return output_dir
    try:
        return default_destination(output_dir)
    except (PipelineError, OSError):
        return output_dir


def ensure_history_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the history schema, tables and views when they do not exist yet.

    Databases from before destinations are migrated in place (one transaction):
    ``published_runs`` gains ``destination``, each run getting the output folder it recorded;
    ``run_audience`` is created and gets the published members of every recorded run, without
    values (they were not kept): the next run's deltas then remove those who left by
    customer_id and add everyone else again.
    """
    con.execute(f"create schema if not exists {HISTORY_SCHEMA}")
    had_runs = bool(_history_columns(con, "published_runs"))
    had_audiences = bool(_history_columns(con, "run_audience"))
    needs_destination = had_runs and "destination" not in _history_columns(con, "published_runs")
    with _transaction(con):
        for name, columns in TABLES.items():
            con.execute(f"create table if not exists {HISTORY_SCHEMA}.{name} ({columns})")
        for name in ADDED_COLUMNS:
            _add_missing_columns(con, name)
        if needs_destination:
            con.execute(
                f"alter table {HISTORY_SCHEMA}.published_runs add column destination varchar"
            )
        if had_runs:
            folders = con.execute(
                f"select distinct output_dir from {HISTORY_SCHEMA}.published_runs "
                "where destination is null"
            ).fetchall()
            for (folder,) in folders:
                con.execute(
                    f"update {HISTORY_SCHEMA}.published_runs set destination = ? "
                    "where destination is null and output_dir is not distinct from ?",
                    [_recorded_destination(folder), folder],
                )
        _drop_per_customer_keys(con)
        if had_runs and not had_audiences:
            con.execute(
                f"""
                insert into {HISTORY_SCHEMA}.run_audience (run_id, customer_id)
                select run_id, customer_id
                from {HISTORY_SCHEMA}.run_decisions
                where decision_reason = 'eligible'
                """
            )
        for name, query in VIEWS.items():
            con.execute(f"create view if not exists {HISTORY_SCHEMA}.{name} as {query}")


def _add_missing_columns(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Give ``table`` the columns added to it after its first release (``ADDED_COLUMNS``)."""
    present = _history_columns(con, table)
    for column, column_type in ADDED_COLUMNS.get(table, ()):
        if column not in present:
            con.execute(f"alter table {HISTORY_SCHEMA}.{table} add column {column} {column_type}")


def _drop_per_customer_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild, without their primary key, the per-customer tables of older databases.

    DuckDB cannot drop a constraint, so the table is copied into one created from ``TABLES``
    (columns in the same order) and takes the old one's name; the caller's transaction makes
    it all or nothing.
    """
    keyed = {
        table
        for (table,) in con.execute(
            """
            select table_name
            from duckdb_constraints()
            where schema_name = ? and constraint_type = 'PRIMARY KEY'
            """,
            [HISTORY_SCHEMA],
        ).fetchall()
    }
    for table in PER_CUSTOMER_TABLES:
        if table not in keyed:
            continue
        rebuilt = f"{HISTORY_SCHEMA}.{table}__rebuilt"
        columns = ", ".join(_history_columns(con, table))
        con.execute(f"create table {rebuilt} ({TABLES[table]})")
        con.execute(
            f"insert into {rebuilt} ({columns}) select {columns} from {HISTORY_SCHEMA}.{table}"
        )
        con.execute(f"drop table {HISTORY_SCHEMA}.{table}")
        con.execute(f"alter table {rebuilt} rename to {table}")


def _copied_rows(cursor: duckdb.DuckDBPyConnection) -> int:
    """The number of rows an ``insert`` just wrote (DuckDB returns it as its one row)."""
    row = cursor.fetchone()
    return int(row[0]) if row else 0


def history_exists(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the database holds the history tables."""
    row = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
        [HISTORY_SCHEMA, "published_runs"],
    ).fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class PublishedRun:
    """What the history knows about one published run (counts only)."""

    run_id: int
    as_of_date: str
    published_at: str
    customers: int
    eligible: int
    drift_status: str
    drift_acceptance_reason: str | None
    raw_rows: dict[str, int]
    destination: str | None = None


def published_run(con: duckdb.DuckDBPyConnection, run_id: int | None) -> PublishedRun | None:
    """Published run ``run_id`` as the history recorded it; None for None or an unknown id."""
    if run_id is None or not history_exists(con):
        return None
    row = con.execute(
        """
        select run_id, as_of_date, published_at, customers, eligible, drift_status,
            drift_acceptance_reason, destination
        from history.published_runs
        where run_id = ?
        """,
        [run_id],
    ).fetchone()
    if row is None:
        return None
    run_id, as_of, published_at, customers, eligible, drift_status, reason, destination = row
    raw_rows = dict(
        con.execute(
            "select input_file, raw_rows from history.run_input_files where run_id = ?",
            [run_id],
        ).fetchall()
    )
    return PublishedRun(
        run_id=run_id,
        as_of_date=str(as_of),
        published_at=str(published_at),
        customers=customers,
        eligible=eligible,
        drift_status=drift_status,
        drift_acceptance_reason=reason,
        raw_rows=raw_rows,
        destination=destination,
    )


@dataclass(frozen=True)
class Comparison:
    """What a build is compared with (the model ``audience_previous_run``).

    ``previous``: of the runs published to the destination dated before the build's as-of
    date, the one published last; ``latest``: the destination's run of the latest as-of date,
    whatever its date.
    """

    destination: str | None
    as_of_date: str
    previous: PublishedRun | None
    latest: PublishedRun | None


def build_comparison(con: duckdb.DuckDBPyConnection) -> Comparison:
    """The built database's destination, as-of date, previous and latest published runs."""
    row = con.execute(
        "select destination, as_of_date, previous_run_id, latest_run_id "
        "from marts.audience_previous_run"
    ).fetchone()
    if row is None:
        raise PipelineError("marts.audience_previous_run is empty: the build did not complete")
    destination, as_of, previous_run_id, latest_run_id = row
    return Comparison(
        destination=destination,
        as_of_date=str(as_of),
        previous=published_run(con, previous_run_id),
        latest=published_run(con, latest_run_id),
    )


def _destination_expression(con: duckdb.DuckDBPyConnection) -> str:
    """SQL for a run's destination, also in a database not yet migrated (read-only)."""
    if "destination" in _history_columns(con, "published_runs"):
        return "coalesce(destination, output_dir)"
    return "output_dir"


def destination_runs(con: duckdb.DuckDBPyConnection, destination: str) -> list[dict[str, Any]]:
    """Runs published to ``destination``, latest first (by as-of date, then run id); a run
    stopped before its folder switched to it is not among them (``runs_never_published``)."""
    if not history_exists(con):
        return []
    never = runs_never_published(con)
    cursor = con.execute(
        f"""
        select run_id, as_of_date, published_at, eligible
        from history.published_runs
        where {_destination_expression(con)} = ?
        order by as_of_date desc, run_id desc
        """,
        [destination],
    )
    names = [column[0] for column in cursor.description]
    runs = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return [run for run in runs if run["run_id"] not in never]


class FolderRun(NamedTuple):
    """The latest run recorded for an output folder: its id, the destination it recorded, and
    the folder's generation it published with whether the folder was seen switched to it
    (``None`` for runs recorded before the history kept them)."""

    run_id: int
    destination: str
    generation: int | None
    switched: bool | None


def folder_latest_run(con: duckdb.DuckDBPyConnection, output_dir: Path | str) -> FolderRun | None:
    """The latest run recorded for ``output_dir`` (``None`` when no run was published there)."""
    if not history_exists(con):
        return None
    folders = sorted({str(Path(output_dir).absolute()), _recorded_destination(str(output_dir))})
    destination = _destination_expression(con)
    settled = (
        "generation, switched"
        if "switched" in _history_columns(con, "published_runs")
        else "null, null"
    )
    row = con.execute(
        f"""
        select run_id, {destination}, {settled} from history.published_runs
        where list_contains(?, output_dir) or list_contains(?, {destination})
        order by run_id desc
        limit 1
        """,
        [folders, folders],
    ).fetchone()
    if row is None or row[1] is None:
        return None
    return FolderRun(int(row[0]), str(row[1]), row[2], row[3])


def _stopped_before_the_switch(latest: FolderRun | None) -> bool:
    """Whether the folder's latest run was recorded before the switch and not seen switched."""
    return latest is not None and latest.generation is not None and latest.switched is False


def folder_destination(con: duckdb.DuckDBPyConnection, output_dir: Path | str) -> str:
    """The destination of the runs published to ``output_dir``: the one the latest of them
    recorded (a name given with ``--destination``), else the folder's resolved path."""
    latest = folder_latest_run(con, output_dir)
    return latest.destination if latest is not None else default_destination(output_dir)


@dataclass(frozen=True)
class RunDestination:
    """Where a run publishes: its output folder and its destination, and whether that
    destination was named (``--destination``) or is the folder's resolved path by default."""

    output_dir: Path
    destination: str
    named: bool


def require_folder_destination(con: duckdb.DuckDBPyConnection, run: RunDestination) -> None:
    """Refuse a run to a folder whose latest run was published to another destination.

    The platform reading a folder applies the delta files it finds there. A run under another
    destination is compared with another history: a forgotten ``--destination`` makes a first
    run (everyone entered, nobody left), so whoever left since the folder's latest run would
    stay on the platform. Raises UsageError naming the option and how to go on deliberately;
    the folder's own path given with ``--destination`` is that deliberate choice.
    """
    latest = folder_latest_run(con, run.output_dir)
    if latest is None or latest.destination == run.destination:
        return
    run_id, recorded = latest.run_id, latest.destination
    own = default_destination(run.output_dir)
    if run.named and run.destination == own:
        return
    last = f"{own} was last published as destination {recorded} (run #{run_id})"
    if not run.named:
        raise UsageError(
            f"argument --output-dir: {last}; give --destination {recorded} to continue it, "
            f"or --destination {own} to start a new history there"
        )
    go_on = (
        "give no --destination to continue it"
        if recorded == own
        else f"give --destination {recorded} to continue it"
    )
    raise UsageError(
        f"argument --destination: {last}, not {run.destination}; {go_on}, or publish "
        f"{run.destination} to a folder of its own (a folder is fed one destination's deltas)"
    )


def forget_run_never_published(con: duckdb.DuckDBPyConnection, output_dir: Path) -> int | None:
    """Settle the run recorded last for ``output_dir`` if it was stopped around its switch.

    A run is recorded just before the folder switches to its generation (``record_run``'s
    ``generation``) and marked once it has (``mark_switched``). A run stopped in between
    (``kill -9``, a machine that went down) is recorded but not marked: when the folder holds
    its generation, the switch happened and it is marked now; otherwise it was never
    published (the folder, and whatever read it, still holds what it held before) and its rows
    are deleted from every history table, so the next run is compared with the run the folder
    holds. A run once marked is never forgotten (a folder removed by hand forgets nothing).
    Returns the forgotten run's id, or ``None``.
    """
    latest = folder_latest_run(con, output_dir)
    if latest is None or not _stopped_before_the_switch(latest):
        return None
    if current_generation(output_dir) == latest.generation:
        mark_switched(con, latest.run_id)
        return None
    forget_run(con, latest.run_id, STOPPED_BEFORE_SWITCH)
    return latest.run_id


def forget_runs_never_published(
    con: duckdb.DuckDBPyConnection, output_dir: Path, destination: str
) -> list[tuple[int, str]]:
    """Settle, as ``forget_run_never_published`` does, the run's own output folder and every
    other folder whose latest run of ``destination`` was recorded but not seen switched: a run
    to another folder of the destination is compared with the destination's runs, so one never
    published there must not be its previous run. Safe because the caller holds the
    database's lock (no run of this database is between its record and its switch). Returns
    the forgotten runs' ids and folders."""
    folders = [str(output_dir), *_folders_with_unmarked_runs(con, destination)]
    forgotten: list[tuple[int, str]] = []
    for folder in folders:
        run_id = forget_run_never_published(con, Path(folder))
        if run_id is not None:
            forgotten.append((run_id, folder))
    return forgotten


def _folders_with_unmarked_runs(
    con: duckdb.DuckDBPyConnection, destination: str | None = None
) -> list[str]:
    """The output folders a run was recorded for but not seen switched to (of ``destination``,
    or of any), sorted."""
    if not history_exists(con) or "switched" not in _history_columns(con, "published_runs"):
        return []
    rows = con.execute(
        f"""
        select distinct output_dir from history.published_runs
        where switched = false and generation is not null and output_dir is not null
            and (? is null or {_destination_expression(con)} = ?)
        order by output_dir
        """,
        [destination, destination],
    ).fetchall()
    return [str(folder) for (folder,) in rows]


def runs_never_published(con: duckdb.DuckDBPyConnection) -> set[int]:
    """The runs recorded for a folder but stopped before it switched to them (a generation the
    folder does not hold), until the next run to the folder forgets them: what
    ``forget_run_never_published`` will forget, read without writing (history, explain)."""
    never: set[int] = set()
    for output_dir in _folders_with_unmarked_runs(con):
        latest = folder_latest_run(con, output_dir)
        if (
            latest is not None
            and _stopped_before_the_switch(latest)
            and current_generation(Path(output_dir)) != latest.generation
        ):
            never.add(latest.run_id)
    return never


def mark_switched(con: duckdb.DuckDBPyConnection, run_id: int) -> None:
    """The output folder switched to the run's generation: it is published."""
    con.execute("update history.published_runs set switched = true where run_id = ?", [run_id])


def forget_run(con: duckdb.DuckDBPyConnection, run_id: int, because: str) -> None:
    """Delete a run recorded but never published from every table of runs, and keep its trace
    in ``forgotten_runs`` with ``because`` (``SWITCH_FAILED`` or ``STOPPED_BEFORE_SWITCH``), in
    one transaction: its number is not given to another run."""
    with _transaction(con):
        con.execute(  # a database whose runs predate the table, or its last column
            f"create table if not exists {HISTORY_SCHEMA}.forgotten_runs "
            f"({TABLES['forgotten_runs']})"
        )
        _add_missing_columns(con, "forgotten_runs")
        con.execute(
            f"""
            insert into {HISTORY_SCHEMA}.forgotten_runs
                (run_id, as_of_date, recorded_at, output_dir, destination, generation,
                forgotten_at, forgotten_because)
            select run_id, as_of_date, published_at, output_dir, destination, generation, ?, ?
            from {HISTORY_SCHEMA}.published_runs
            where run_id = ?
            """,
            [dt.datetime.now(dt.UTC).replace(tzinfo=None), because, run_id],
        )
        for table in RUN_TABLES:
            con.execute(f"delete from {HISTORY_SCHEMA}.{table} where run_id = ?", [run_id])


def recorded_destinations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every destination a run was published to from this database, sorted."""
    if not history_exists(con):
        return []
    rows = con.execute(
        f"select distinct {_destination_expression(con)} as destination "
        "from history.published_runs order by destination"
    ).fetchall()
    return [str(row[0]) for row in rows if row[0] is not None]


def database_destinations(database: Path) -> list[str]:
    """:func:`recorded_destinations` of ``database``, opened read-only."""
    con = open_database(database, read_only=True)
    try:
        return recorded_destinations(con)
    finally:
        con.close()


def destinations_named(destinations: list[str]) -> str:
    """The destinations a database holds, for a message about one it does not: at most five."""
    if not destinations:
        return "no run published in this database yet"
    named = ", ".join(destinations[:5])
    more = len(destinations) - 5
    return f"its destinations: {named}" + (f" and {more:,} more" if more > 0 else "")


def latest_destination(con: duckdb.DuckDBPyConnection) -> str | None:
    """The destination of the latest run published from this database (highest run id)."""
    if not history_exists(con):
        return None
    row = con.execute(
        f"select {_destination_expression(con)} from history.published_runs "
        "order by run_id desc limit 1"
    ).fetchone()
    return row[0] if row else None


def next_run_id(con: duckdb.DuckDBPyConnection) -> int:
    """The id the next published run gets (runs are numbered 1, 2, ... in each database; a
    forgotten run's number is not given again)."""
    if not history_exists(con):
        return 1
    forgotten = (
        "union all select run_id from history.forgotten_runs"
        if _history_columns(con, "forgotten_runs")
        else ""
    )
    row = con.execute(
        f"select coalesce(max(run_id), 0) + 1 from (select run_id from history.published_runs "
        f"{forgotten})"
    ).fetchone()
    return int(row[0]) if row else 1


def audience_trend(con: duckdb.DuckDBPyConnection, destination: str | None) -> list[dict[str, Any]]:
    """Runs published to ``destination``, by as-of date then run id: id, date, sizes."""
    if destination is None or not history_exists(con):
        return []
    rows = con.execute(
        """
        select run_id, as_of_date, customers, eligible
        from history.published_runs
        where destination = ?
        order by as_of_date, run_id
        """,
        [destination],
    ).fetchall()
    return [
        {"run_id": run_id, "as_of_date": str(as_of), "customers": customers, "eligible": eligible}
        for run_id, as_of, customers, eligible in rows
    ]


def change_counts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Entered / left / stayed against the previous published run, from ``audience_changes``.

    The previous run is the one ``audience_previous_run`` picked (the destination's latest
    before the build's as-of date). ``left_by_reason`` counts the customers who left per the
    rule that now excludes them; ``entered_by_previous_reason`` counts those who entered per
    what excluded them before.
    """
    totals = dict(
        con.execute(
            "select change_type, count(*) from marts.audience_changes group by change_type"
        ).fetchall()
    )
    previous = con.execute(
        "select previous_run_id, previous_as_of_date from marts.audience_previous_run"
    ).fetchone()
    left_by_reason = con.execute(
        """
        select coalesce(decision_reason, 'not_in_customers_file') as reason, count(*)
        from marts.audience_changes
        where change_type = 'left'
        group by all
        order by min(coalesce(exclusion_step, 99)), reason
        """
    ).fetchall()
    entered_by_reason = con.execute(
        """
        select coalesce(previous_decision_reason, 'new_customer') as reason, count(*)
        from marts.audience_changes
        where change_type = 'entered'
        group by all
        order by reason
        """
    ).fetchall()
    previous_run_id, previous_as_of = previous if previous else (None, None)
    return {
        "previous_run_id": previous_run_id,
        "previous_as_of_date": str(previous_as_of) if previous_as_of else None,
        "entered": int(totals.get("entered", 0)),
        "left": int(totals.get("left", 0)),
        "stayed": int(totals.get("stayed", 0)),
        "left_by_reason": [{"reason": r, "customers": n} for r, n in left_by_reason],
        "entered_by_previous_reason": [{"reason": r, "customers": n} for r, n in entered_by_reason],
    }


def delta_counts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Rows of the delta files against the previous published run (counts only).

    ``left_by_reason`` counts ``audience_left`` per ``left_reason`` (a rule code,
    ``not_in_inputs`` or ``email_changed``), sorted by reason.
    """
    previous = con.execute(
        "select previous_run_id, previous_as_of_date from marts.audience_previous_run"
    ).fetchone()
    previous_run_id, previous_as_of = previous if previous else (None, None)
    counts = {
        name: int(row[0])
        if (row := con.execute(f"select count(*) from marts.{name}").fetchone())
        else 0
        for name in ("audience_entered", "audience_left", "audience_updated")
    }
    left_by_reason = con.execute(
        "select left_reason, count(*) from marts.audience_left group by all order by left_reason"
    ).fetchall()
    return {
        "previous_run_id": previous_run_id,
        "previous_as_of_date": str(previous_as_of) if previous_as_of else None,
        "entered": counts["audience_entered"],
        "left": counts["audience_left"],
        "updated": counts["audience_updated"],
        "left_by_reason": {reason: int(count) for reason, count in left_by_reason},
    }


def layer_counts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """(layer, table, rows) for every table of the landing, staging, intermediate, marts layers.

    Views are skipped: each one reads a table that is counted already (in the landing layer,
    ``<file>__lines`` holds the file's lines, header included, that the view ``<file>`` splits).
    """
    tables = con.execute(
        """
        select schema_name, table_name
        from duckdb_tables()
        where database_name = current_database() and schema_name in ?
        order by schema_name, table_name
        """,
        [list(LAYERS)],
    ).fetchall()
    counts = []
    for schema, table in sorted(tables, key=lambda item: (LAYERS.index(item[0]), item[1])):
        row = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
        counts.append((schema, table, int(row[0]) if row else 0))
    return counts


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Commit what the block wrote, or roll it all back."""
    con.execute("begin transaction")
    try:
        yield
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def recorded_parameters(report: dict[str, Any]) -> tuple[Any, ...]:
    """The rules' parameters of ``reconciliation.json`` as ``published_runs`` stores them."""
    parameters = report.get("rule_parameters") or {}
    statuses = parameters.get("counted_booking_statuses")
    channels = parameters.get("non_email_channels")
    return (
        parameters.get("recent_booking_days"),
        ",".join(statuses) if statuses else None,
        parameters.get("min_recent_bookings"),
        ",".join(channels) if channels is not None else None,
    )


def rule_parameters_of_run(
    con: duckdb.DuckDBPyConnection, run_id: int | None
) -> dict[str, Any] | None:
    """The rules' parameters a recorded run used; None when it recorded none (older runs)."""
    if run_id is None or not history_exists(con):
        return None
    if not set(RULE_PARAMETER_COLUMNS) <= set(_history_columns(con, "published_runs")):
        return None
    row = con.execute(
        f"select {', '.join(RULE_PARAMETER_COLUMNS)} from history.published_runs where run_id = ?",
        [run_id],
    ).fetchone()
    return None if row is None else _recorded_parameters(tuple(row))


def _recorded_parameters(row: tuple[Any, ...]) -> dict[str, Any] | None:
    """``RULE_PARAMETER_COLUMNS``' values as ``reconciliation.json`` says them (None: none)."""
    if all(value is None for value in row):
        return None
    days, statuses, minimum, channels = row
    recorded: dict[str, Any] = {
        "recent_booking_days": days,
        "counted_booking_statuses": statuses.split(",") if statuses else [],
        "min_recent_bookings": minimum,
    }
    # a run recorded before non_email_channels was kept has none ('' is the empty list)
    if channels is not None:
        recorded["non_email_channels"] = channels.split(",") if channels else []
    return recorded


def parameter_text(value: Any) -> str:
    """A rule parameter's value as the report and ``audience history`` show it."""
    return (", ".join(value) or "none") if isinstance(value, list) else str(value)


def record_run(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: int,
    report: dict[str, Any],
    drift: GuardOutcome,
    published_at: dt.datetime,
    input_dir: str,
    output_dir: str,
    destination: str | None = None,
    generation: int | None = None,
) -> None:
    """Record a published run (one transaction): fingerprints, counts, controls, consent
    channels as read (``run_consent_channels``), membership and the audience as published
    (``run_audience``) to ``destination`` (by default the output folder's resolved path).

    ``generation``: the output folder's generation the run publishes, recorded just before
    the folder switches to it (``publish.stage_outputs``), so that a run stopped in between is
    known to the next one (``forget_run_never_published``)."""
    destination = destination or default_destination(output_dir)
    try:
        ensure_history_tables(con)
        changes = change_counts(con)
        with _transaction(con):
            channels = _copied_rows(
                con.execute(
                    """
                    insert into history.run_consent_channels (
                        run_id, channel, channel_reading, event_count, email_event_count,
                        customer_count, channel_change, withholding_event_count
                    )
                    select ?, channel, channel_reading, event_count, email_event_count,
                        customer_count, channel_change, withholding_event_count
                    from marts.audience_consent_channel_changes
                    """,
                    [run_id],
                )
            )
            decisions = _copied_rows(
                con.execute(
                    """
                    insert into history.run_decisions (
                        run_id, customer_id, decision_reason, withholding_event_id,
                        withholding_event_ts_utc, is_suppressed, suppressed_through,
                        suppressed_address_hash
                    )
                    select ?, customer_id, decision_reason, withholding_event_id,
                        withholding_event_ts_utc, is_suppressed, suppressed_through,
                        suppressed_address_hash
                    from marts.customer_audience_decisions
                    """,
                    [run_id],
                )
            )
            # what the run kept of withholding events and suppressions, counted on the rows
            # just copied (the decisions are a view: reading it again costs a join per customer)
            row = con.execute(
                "select count(withholding_event_ts_utc), count(*) filter (where is_suppressed) "
                "from history.run_decisions where run_id = ?",
                [run_id],
            ).fetchone()
            withholding_customers, suppressed_customers = (
                (int(row[0]), int(row[1])) if row else (0, 0)
            )
            con.execute(
                """
                insert into history.published_runs (
                    run_id, published_at, as_of_date, input_dir, output_dir, customers,
                    eligible, previous_run_id, entered, left_audience, stayed,
                    controls_passed, controls_failed, drift_status, drift_acceptance_reason,
                    destination, recent_booking_days, counted_booking_statuses,
                    min_recent_bookings, non_email_channels, consent_channel_count,
                    withholding_customer_count, suppressed_customer_count, generation, switched
                )
                values (
                    ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
                )
                """,
                [
                    run_id,
                    published_at.replace(tzinfo=None),
                    report["as_of_date"],
                    input_dir,
                    output_dir,
                    report["customers"],
                    report["eligible"],
                    changes["previous_run_id"],
                    changes["entered"],
                    changes["left"],
                    changes["stayed"],
                    report["controls_passed"],
                    report["controls_failed"],
                    drift.status,
                    drift.accepted_reason,
                    destination,
                    *recorded_parameters(report),
                    channels,
                    withholding_customers,
                    suppressed_customers,
                    generation,
                    generation is None,  # recorded before the switch: marked by mark_switched
                ],
            )
            con.execute(
                """
                insert into history.run_input_files (
                    run_id, input_file, file_name, file_path, byte_count, sha256, raw_rows,
                    accepted_rows, rejected_rows, duplicate_rows, encoding, delimiter
                )
                select ?, input_file, regexp_extract(file_path, '[^/\\\\]*$'), file_path,
                    byte_count, sha256, raw_rows, accepted_rows, rejected_rows, duplicate_rows,
                    encoding, delimiter
                from marts.reconciliation_input_files
                """,
                [run_id],
            )
            con.executemany(
                "insert into history.run_layer_counts values (?, ?, ?, ?)",
                [[run_id, *item] for item in layer_counts(con)],
            )
            con.execute(
                """
                insert into history.run_exclusions
                select ?, decision_reason, exclusion_step, customers
                from marts.audience_exclusion_summary
                """,
                [run_id],
            )
            controls = [
                [run_id, c["control"], c["type"], c["status"], c["failing_rows"], None]
                for c in report["controls"]
            ] + [
                [run_id, check.control, "drift_guard", check.outcome, None, check.detail]
                for check in drift.checks
            ]
            if controls:
                con.executemany(
                    "insert into history.run_controls values (?, ?, ?, ?, ?, ?)", controls
                )
            columns = ", ".join(AUDIENCE_COLUMNS)
            members = _copied_rows(
                con.execute(
                    f"insert into history.run_audience (run_id, {columns}) "
                    f"select ?, {columns} from marts.eligible_audience",
                    [run_id],
                )
            )
            # the grain of the per-customer tables (see the module's docstring)
            if (decisions, members) != (report["customers"], report["eligible"]):
                raise duckdb.ConstraintException(
                    f"it copied {decisions:,} decisions and {members:,} members, the run "
                    f"counted {report['customers']:,} customers and {report['eligible']:,} eligible"
                )
    except duckdb.Error as error:
        raise PipelineError(
            f"the outputs were published to {output_dir}, but recording run #{run_id} in the "
            f"history failed ({error}); the next run will compare with the run before it"
        ) from error


def prune_runs(con: duckdb.DuckDBPyConnection, destination: str, keep: int) -> int:
    """Keep the per-customer rows of ``destination``'s ``keep`` runs published last only,
    and of the run a rerun of the last published day compares with.

    A run is compared with the run published last among those dated before it (the model
    ``audience_previous_run``): the next day's run with the run published last, which is kept,
    and a rerun of that day with the run published last before that day, kept too, so it is
    compared with the customers that run published, not with none. Every run keeps its row in
    ``published_runs`` and its counts, controls and file fingerprints. Returns how many
    per-customer rows were deleted (DuckDB reuses their space for later runs).
    """
    if keep < 1:
        raise ValueError("keep must be >= 1")
    pruned = [
        run_id
        for (run_id,) in con.execute(
            f"""
            with runs as (
                select run_id, as_of_date
                from history.published_runs
                where {_destination_expression(con)} = ?
            ),
            last_day as (
                select as_of_date from runs order by run_id desc limit 1
            ),
            before_last_day as (
                select max(runs.run_id) as run_id
                from runs
                inner join last_day
                    on runs.as_of_date < last_day.as_of_date
            ),
            ranked as (
                select run_id, row_number() over (order by run_id desc) as position
                from runs
            )
            select ranked.run_id
            from ranked
            left join before_last_day
                on ranked.run_id = before_last_day.run_id
            where ranked.position > ? and before_last_day.run_id is null
            order by ranked.run_id
            """,
            [destination, keep],
        ).fetchall()
    ]
    if not pruned:
        return 0
    deleted = 0
    with _transaction(con):
        for table in PER_CUSTOMER_TABLES:
            row = con.execute(
                f"select count(*) from history.{table} where list_contains(?, run_id)", [pruned]
            ).fetchone()
            deleted += int(row[0]) if row else 0
            con.execute(f"delete from history.{table} where list_contains(?, run_id)", [pruned])
    return deleted


def _with_parameters(run: dict[str, Any]) -> dict[str, Any]:
    """``run`` with its ``parameter_*`` columns as one ``rule_parameters`` (None: not kept)."""
    values = tuple(run.pop(f"parameter_{column}") for column in RULE_PARAMETER_COLUMNS)
    return {**run, "rule_parameters": _recorded_parameters(values)}


def _forgotten_runs(
    con: duckdb.DuckDBPyConnection, folders: list[str] | None, destination: str | None
) -> list[dict[str, Any]]:
    """The runs forgotten (``forgotten_runs``) to ``folders`` or ``destination`` (None: any),
    as ``read_published_runs`` gives runs: ``published_at`` is when each was recorded."""
    columns = _history_columns(con, "forgotten_runs")
    if not columns:
        return []
    because = "forgotten_because" if "forgotten_because" in columns else "null"
    cursor = con.execute(
        f"""
        select run_id, as_of_date, recorded_at as published_at, output_dir, destination,
            forgotten_at, {because} as forgotten_because
        from history.forgotten_runs
        where (? is null or list_contains(?, output_dir) or list_contains(?, destination))
            and (? is null or destination = ?)
        """,
        [folders, folders, folders, destination, destination],
    )
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def read_published_runs(
    database: Path, output_dir: str | None = None, destination: str | None = None
) -> list[dict[str, Any]]:
    """The published runs in ``database`` (read-only), by destination, then as-of date and id.

    ``output_dir`` keeps the runs published to that folder (its absolute or resolved path),
    ``destination`` those of that destination. A database from before destinations (not yet
    migrated by a run) reads its output folders as destinations. Each run also gives how many
    consent channels it read and which of them were new against the run before it
    (``new_consent_channels``, by name, a blank channel as null, anything shaped like an
    address removed as ``reconciliation.json`` does); both are null for runs recorded before
    the history kept them. A drift acceptance reason comes with anything shaped like an
    address removed, as the report shows it. ``rule_parameters`` are the rules' parameters
    the run used, as ``reconciliation.json`` says them (null for runs recorded before the
    history kept them). ``published`` is false for a run recorded but
    stopped before its folder switched to it (``runs_never_published``): the next run to the
    folder forgets it, and it is then listed with ``forgotten_at`` and ``forgotten_because``
    (``forgotten_runs``) and nothing but its number, dates, folder and destination. For such
    a run, ``published_at`` is when it was recorded.
    """
    if not database.exists():
        raise PipelineError(f"no database at {database}: nothing was run there yet")
    con = open_database(database, read_only=True)
    try:
        if not history_exists(con):
            return []
        run_columns = _history_columns(con, "published_runs")
        run_destination = (
            "coalesce(destination, output_dir)" if "destination" in run_columns else "output_dir"
        )
        channel_count = (
            "consent_channel_count" if "consent_channel_count" in run_columns else "null"
        )
        parameters = ", ".join(
            f"{column if column in run_columns else 'null'} as parameter_{column}"
            for column in RULE_PARAMETER_COLUMNS
        )
        # the channels new against the run before: [] when compared and none was new, null
        # when nothing was compared (a first run, or one recorded before the comparison)
        channel_changes = (
            """
            select run_id,
                list(channel order by channel nulls last) filter (where channel_change = 'new')
                    as new_channels,
                count(channel_change) as compared
            from history.run_consent_channels
            group by run_id
            """
            if "channel_change" in _history_columns(con, "run_consent_channels")
            else "select null::integer as run_id, null::varchar[] as new_channels, 0 as compared"
        )
        folders = None
        if output_dir is not None:
            folders = sorted({str(Path(output_dir).absolute()), _recorded_destination(output_dir)})
        cursor = con.execute(
            f"""
            with runs as (
                select *, {run_destination} as run_destination
                from history.published_runs
            ),
            channel_changes as ({channel_changes})
            select runs.run_id, as_of_date, published_at, input_dir, output_dir,
                run_destination as destination, customers, eligible, previous_run_id, entered,
                left_audience as "left", stayed, controls_passed, controls_failed, drift_status,
                drift_acceptance_reason, {channel_count} as consent_channel_count, {parameters},
                case
                    when channel_changes.compared > 0
                        then coalesce(channel_changes.new_channels, []::varchar[])
                end as new_consent_channels
            from runs
            left join channel_changes
                on runs.run_id = channel_changes.run_id
            where (? is null or list_contains(?, output_dir) or list_contains(?, run_destination))
                and (? is null or run_destination = ?)
            order by run_destination, as_of_date, runs.run_id
            """,
            [folders, folders, folders, destination, destination],
        )
        names = [column[0] for column in cursor.description]
        runs = [_with_parameters(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]
        names = [name for name in names if not name.startswith("parameter_")]
        names.append("rule_parameters")
        never = runs_never_published(con)
        forgotten = _forgotten_runs(con, folders, destination)
    finally:
        con.close()
    for run in runs:
        run["published"] = run["run_id"] not in never
        run["forgotten_at"] = None
        run["forgotten_because"] = None
        if run["drift_acceptance_reason"] is not None:
            run["drift_acceptance_reason"] = without_addresses(run["drift_acceptance_reason"])
        if run["new_consent_channels"] is not None:
            run["new_consent_channels"] = [
                channel_without_addresses(channel) for channel in run["new_consent_channels"]
            ]
    runs.extend({**dict.fromkeys(names), **run, "published": False} for run in forgotten)
    runs.sort(key=lambda run: (run["destination"], run["as_of_date"], run["run_id"]))
    return runs
