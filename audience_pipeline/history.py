"""Run history: every published run, kept in the ``history`` schema of the run's database.

The tables are created (``create ... if not exists``) before dbt runs, so the dbt project can
declare them as the source ``history`` even on the very first run; the model
``audience_changes`` compares the current decisions with the latest published run recorded
here. A run is recorded only after its outputs were published, so the history lists exactly
the runs whose audience reached the campaign platform.

Tables (the dbt source ``history`` documents every column):

- ``published_runs``: one row per published run: as-of date, when, where from and to, counts,
  controls, the drift guard's outcome and any acceptance of an expected change;
- ``run_input_files``: per run and input file, its fingerprint (name, path, size, SHA-256)
  and row counts;
- ``run_layer_counts``: per run, the row count of every table of every layer;
- ``run_exclusions``: per run, customers per decision reason, in rule order;
- ``run_controls``: per run, every control (dbt data and unit tests, drift checks) and outcome;
- ``run_decisions``: per run and customer, the decision reason (``eligible`` = published);
- ``run_membership`` (a view): per run, the customers published in the audience.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb

from audience_pipeline.errors import PipelineError


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
        drift_acceptance_reason varchar
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
    "run_decisions": """
        run_id integer not null,
        customer_id bigint not null,
        decision_reason varchar not null,
        primary key (run_id, customer_id)
    """,
}

VIEWS: dict[str, str] = {
    "run_membership": (
        "select run_id, customer_id from history.run_decisions where decision_reason = 'eligible'"
    ),
}


def ensure_history_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the history schema, tables and views when they do not exist yet."""
    con.execute(f"create schema if not exists {HISTORY_SCHEMA}")
    for name, columns in TABLES.items():
        con.execute(f"create table if not exists {HISTORY_SCHEMA}.{name} ({columns})")
    for name, query in VIEWS.items():
        con.execute(f"create view if not exists {HISTORY_SCHEMA}.{name} as {query}")


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


def latest_run(con: duckdb.DuckDBPyConnection) -> PublishedRun | None:
    """The latest published run, or None when nothing was published from this database."""
    if not history_exists(con):
        return None
    row = con.execute(
        """
        select run_id, as_of_date, published_at, customers, eligible, drift_status,
            drift_acceptance_reason
        from history.published_runs
        order by run_id desc
        limit 1
        """
    ).fetchone()
    if row is None:
        return None
    run_id, as_of, published_at, customers, eligible, drift_status, reason = row
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
    )


def next_run_id(con: duckdb.DuckDBPyConnection) -> int:
    """The id the next published run gets (runs are numbered 1, 2, ...)."""
    if not history_exists(con):
        return 1
    row = con.execute("select coalesce(max(run_id), 0) + 1 from history.published_runs").fetchone()
    return int(row[0]) if row else 1


def audience_trend(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Published runs in order: run id, as-of date, customers and audience size."""
    if not history_exists(con):
        return []
    rows = con.execute(
        "select run_id, as_of_date, customers, eligible from history.published_runs order by run_id"
    ).fetchall()
    return [
        {"run_id": run_id, "as_of_date": str(as_of), "customers": customers, "eligible": eligible}
        for run_id, as_of, customers, eligible in rows
    ]


def change_counts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Entered / left / stayed against the previous published run, from ``audience_changes``.

    ``left_by_reason`` counts the customers who left per the rule that now excludes them;
    ``entered_by_previous_reason`` counts those who entered per what excluded them before.
    """
    totals = dict(
        con.execute(
            "select change_type, count(*) from marts.audience_changes group by change_type"
        ).fetchall()
    )
    previous = con.execute(
        "select any_value(previous_run_id), any_value(previous_as_of_date) "
        "from marts.audience_changes"
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


def record_run(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: int,
    report: dict[str, Any],
    drift: GuardOutcome,
    published_at: dt.datetime,
    input_dir: str,
    output_dir: str,
) -> None:
    """Record a published run (one transaction): fingerprints, counts, controls, membership."""
    try:
        ensure_history_tables(con)
        changes = change_counts(con)
        with _transaction(con):
            con.execute(
                "insert into history.published_runs values "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                ],
            )
            con.execute(
                """
                insert into history.run_input_files
                select ?, input_file, regexp_extract(file_path, '[^/\\\\]*$'), file_path,
                    byte_count, sha256, raw_rows, accepted_rows, rejected_rows, duplicate_rows
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
            con.execute(
                """
                insert into history.run_decisions
                select ?, customer_id, decision_reason from marts.customer_audience_decisions
                """,
                [run_id],
            )
    except duckdb.Error as error:
        raise PipelineError(
            f"the outputs were published to {output_dir}, but recording run #{run_id} in the "
            f"history failed ({error}); the next run will compare with the run before it"
        ) from error


def read_published_runs(database: Path, output_dir: str | None = None) -> list[dict[str, Any]]:
    """The published runs in ``database`` (read-only), by destination, then as-of date.

    ``output_dir`` (a resolved path) keeps the runs published to that folder only.
    """
    if not database.is_file():
        raise PipelineError(f"no database at {database}: nothing was run there yet")
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error as error:
        raise PipelineError(f"cannot open {database}: {error}") from error
    try:
        if not history_exists(con):
            return []
        cursor = con.execute(
            """
            select run_id, as_of_date, published_at, input_dir, output_dir, customers,
                eligible, previous_run_id, entered, left_audience as "left", stayed,
                controls_passed, controls_failed, drift_status, drift_acceptance_reason
            from history.published_runs
            where ? is null or output_dir = ?
            order by output_dir, as_of_date, run_id
            """,
            [output_dir, output_dir],
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
