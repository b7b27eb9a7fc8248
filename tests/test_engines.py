"""The same project on DuckDB, PostgreSQL and Spark publishes the same results on the sample.

``scripts/test_engines.sh`` builds the committed sample with ``dbt build`` (seeds, models,
data tests, and the unit tests that cover every invalid form of the data contract) on each
engine, and once more on PostgreSQL with the raw rows already in the warehouse
(``raw_input: warehouse``: text tables loaded there, no seeds, no file read by dbt). These
tests then read the published models back from each engine and compare them, row for row and
value for value, with DuckDB's: the audience, every rejected and duplicate row with its line,
reason and raw values, the exclusion counts, each customer's decision and the per-file
reconciliation. A second check runs the contract's value rules (the same dbt macros the
staging models use, compiled for each engine) on a battery of tricky texts and compares every
parsed value with DuckDB's.

Skipped unless ``AUDIENCE_ENGINE_TESTS=1`` (set by the script, which also starts PostgreSQL
and exports its connection settings). ``AUDIENCE_ENGINES`` limits the engines compared.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
ENGINE_DIR = Path(os.environ.get("AUDIENCE_ENGINE_DIR", PROJECT_DIR / "target" / "engines"))
EXPECTED_AUDIENCE = (
    PROJECT_DIR / "tests" / "expected" / "sample_2026-11-26" / "eligible_audience.csv"
)

pytestmark = [
    pytest.mark.engines,
    pytest.mark.skipif(
        os.environ.get("AUDIENCE_ENGINE_TESTS") != "1",
        reason="engine comparison: run scripts/test_engines.sh (sets AUDIENCE_ENGINE_TESTS=1)",
    ),
]

CONTRACT: dict[str, list[str]] = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())[
    "vars"
]["input_files"]

#: Every compared model and the columns that order its rows (its grain).
COMPARED_MODELS: dict[str, tuple[str, ...]] = {
    "eligible_audience": ("customer_id",),
    "audience_exclusion_summary": ("decision_reason",),
    "customer_audience_decisions": ("customer_id",),
    "reconciliation_input_files": ("input_file",),
    "audience_build_parameters": ("as_of_date",),
    "audience_consent_channels": ("channel",),
    **{f"rejected_{name}": ("source_line",) for name in CONTRACT},
}

#: Columns that name where the rows came from: the seeds or a warehouse table, by design.
#: (Tables already in the warehouse were read from no file: no path, encoding or delimiter.)
ORIGIN_COLUMNS: dict[str, set[str]] = {
    "reconciliation_input_files": {"file_path", "encoding", "delimiter"}
}

#: The raw values each rejected_<file> model repeats as they arrived.
RAW_VALUE_COLUMNS: dict[str, set[str]] = {
    f"rejected_{name}": set(columns) for name, columns in CONTRACT.items()
}

SELECTED = set(os.environ.get("AUDIENCE_ENGINES", "duckdb postgres spark").split())
#: Engines compared with DuckDB: name -> (dbt target, where the raw rows came from).
OTHER_ENGINES: dict[str, tuple[str, str]] = {
    name: spec
    for name, spec in {
        "postgres": ("postgres", "seeds"),
        "postgres_warehouse": ("postgres", "warehouse"),
        "spark": ("spark", "seeds"),
    }.items()
    if spec[0] in SELECTED
}

Rows = list[tuple[Any, ...]]
Table = tuple[tuple[str, ...], Rows]


def normalize(value: Any) -> Any:
    """One spelling per value whatever the driver returned: exact decimals without trailing
    zeros, dates and timestamps as ISO text."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def blank_as_null(row: tuple[Any, ...], positions: set[int]) -> tuple[Any, ...]:
    return tuple(
        None if i in positions and isinstance(value, str) and not value.strip() else value
        for i, value in enumerate(row)
    )


# ------------------------------------------------------------------------------ engines


class Engine(Protocol):
    def query(self, sql: str) -> Table: ...

    def load_texts(self, table: str, rows: list[tuple[str, str | None]]) -> None:
        """Create `table` (id text, v text) holding `rows`, visible to `query`."""


class DuckDBEngine:
    def __init__(self) -> None:
        import duckdb

        path = os.environ.get(
            "AUDIENCE_ENGINE_DUCKDB_PATH", str(ENGINE_DIR / "duckdb" / "audience.duckdb")
        )
        self.con = duckdb.connect(path, read_only=True)
        self.scratch = duckdb.connect()

    def query(self, sql: str) -> Table:
        con = self.scratch if "audience_value_battery" in sql else self.con
        cursor = con.execute(sql)
        return tuple(d[0].lower() for d in cursor.description), cursor.fetchall()

    def load_texts(self, table: str, rows: list[tuple[str, str | None]]) -> None:
        self.scratch.execute(f"create or replace table {table} (id varchar, v varchar)")
        self.scratch.executemany(f"insert into {table} values (?, ?)", rows)

    def close(self) -> None:
        self.con.close()
        self.scratch.close()


class PostgresEngine:
    def __init__(self, database: str) -> None:
        import psycopg2

        self.con = psycopg2.connect(
            host=os.environ.get("AUDIENCE_PG_HOST", "localhost"),
            port=int(os.environ.get("AUDIENCE_PG_PORT", "5432")),
            user=os.environ.get("AUDIENCE_PG_USER", "audience"),
            password=os.environ.get("AUDIENCE_PG_PASSWORD", ""),
            dbname=database,
        )

    def query(self, sql: str) -> Table:
        with self.con.cursor() as cursor:
            cursor.execute(sql)
            return tuple(d[0].lower() for d in cursor.description), cursor.fetchall()

    def load_texts(self, table: str, rows: list[tuple[str, str | None]]) -> None:
        with self.con.cursor() as cursor:
            cursor.execute(f"create temporary table {table} (id text, v text)")
            cursor.executemany(f"insert into {table} values (%s, %s)", rows)

    def close(self) -> None:
        self.con.close()


def spark_session_parameters() -> dict[str, str]:
    """The `spark` profile's session parameters, rendered as dbt renders them, so the test
    opens the metastore and warehouse folder the build wrote."""
    import jinja2

    environment = jinja2.Environment()
    environment.globals["env_var"] = lambda name, default=None: os.environ.get(name, default)
    profile = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())
    parameters = profile["audience"]["outputs"]["spark"]["server_side_parameters"]
    return {key: environment.from_string(str(value)).render() for key, value in parameters.items()}


class SparkEngine:
    def __init__(self) -> None:
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.enableHiveSupport()
        for key, value in spark_session_parameters().items():
            builder = builder.config(key, value)
        self.spark = builder.getOrCreate()
        self.spark.sparkContext.setLogLevel("ERROR")

    def query(self, sql: str) -> Table:
        frame = self.spark.sql(sql)
        return tuple(column.lower() for column in frame.columns), [
            tuple(row) for row in frame.collect()
        ]

    def load_texts(self, table: str, rows: list[tuple[str, str | None]]) -> None:
        frame = self.spark.createDataFrame(rows, schema="id string, v string")
        frame.createOrReplaceTempView(table)

    def close(self) -> None:
        self.spark.stop()


def open_engine(name: str) -> Engine:
    if name == "duckdb":
        return DuckDBEngine()
    if name == "postgres":
        return PostgresEngine(os.environ.get("AUDIENCE_PG_DATABASE", "audience"))
    if name == "postgres_warehouse":
        return PostgresEngine(
            os.environ.get("AUDIENCE_PG_WAREHOUSE_DATABASE", "audience_warehouse")
        )
    if name == "spark":
        return SparkEngine()
    raise ValueError(name)


class Engines:
    """Connections opened on first use and kept for the module (Spark starts in seconds)."""

    def __init__(self) -> None:
        self.open: dict[str, Engine] = {}
        self.tables: dict[tuple[str, str], Table] = {}

    def __getitem__(self, name: str) -> Engine:
        if name not in self.open:
            self.open[name] = open_engine(name)
        return self.open[name]

    def model(self, engine: str, model: str) -> Table:
        """The published model, its rows in grain order, every value normalized."""
        if (engine, model) not in self.tables:
            columns, rows = self[engine].query(f"select * from marts.{model}")
            keys = [columns.index(column) for column in COMPARED_MODELS[model]]
            normalized = [tuple(normalize(value) for value in row) for row in rows]
            normalized.sort(key=lambda row: tuple((row[i] is None, row[i]) for i in keys))
            self.tables[engine, model] = (columns, normalized)
        return self.tables[engine, model]

    def close(self) -> None:
        for engine in self.open.values():
            engine.close()


@pytest.fixture(scope="module")
def engines() -> Iterator[Engines]:
    opened = Engines()
    yield opened
    opened.close()


# ------------------------------------------------------------------------------ the sample


def test_duckdb_publishes_the_expected_sample_audience(engines: Engines) -> None:
    """The reference side of the comparison is itself right: DuckDB's audience is the
    committed expected audience, so agreeing with it means agreeing with the spec."""
    with EXPECTED_AUDIENCE.open(newline="", encoding="utf-8") as handle:
        expected_ids = sorted(int(row["customer_id"]) for row in csv.DictReader(handle))
    columns, rows = engines.model("duckdb", "eligible_audience")
    assert [row[columns.index("customer_id")] for row in rows] == expected_ids
    assert expected_ids


def test_the_sample_exercises_the_quarantine(engines: Engines) -> None:
    """Rejected and duplicate rows in every file, so the comparison covers line numbers,
    reasons and raw values, not empty tables."""
    for name in CONTRACT:
        assert engines.model("duckdb", f"rejected_{name}")[1], f"no rejected {name} rows"
    columns, rows = engines.model("duckdb", "reconciliation_input_files")
    assert sum(row[columns.index("rejected_rows")] for row in rows) > 0
    assert sum(row[columns.index("duplicate_rows")] for row in rows) > 0


@pytest.mark.parametrize("model", list(COMPARED_MODELS))
@pytest.mark.parametrize("engine", list(OTHER_ENGINES))
def test_engine_agrees_with_duckdb(engine: str, model: str, engines: Engines) -> None:
    expected_columns, expected_rows = engines.model("duckdb", model)
    actual_columns, actual_rows = engines.model(engine, model)
    assert actual_columns == expected_columns, f"{engine}: the columns of {model} differ"

    origin = OTHER_ENGINES[engine][1]
    skipped = ORIGIN_COLUMNS.get(model, set()) if origin == "warehouse" else set()
    kept = [i for i, column in enumerate(expected_columns) if column not in skipped]
    expected = [tuple(row[i] for i in kept) for row in expected_rows]
    actual = [tuple(row[i] for i in kept) for row in actual_rows]
    if origin == "seeds":
        # dbt-duckdb loads seeds with DuckDB's CSV reader and keeps a cell of spaces as it is;
        # the other adapters load seeds through dbt's agate reader, which turns a cell that is
        # blank after trimming into null. The value rules treat both as blank, so only the
        # echo of such a raw value differs; the warehouse path compares it exactly.
        raw = {
            position
            for position, i in enumerate(kept)
            if expected_columns[i] in RAW_VALUE_COLUMNS.get(model, set())
        }
        expected = [blank_as_null(row, raw) for row in expected]
        actual = [blank_as_null(row, raw) for row in actual]
    if actual != expected:
        names = [expected_columns[i] for i in kept]
        only_duckdb = [dict(zip(names, row, strict=True)) for row in expected if row not in actual]
        only_engine = [dict(zip(names, row, strict=True)) for row in actual if row not in expected]
        pytest.fail(
            f"{engine} and duckdb disagree on {model} ({len(actual)} rows vs {len(expected)}):\n"
            f"  only on duckdb: {only_duckdb[:5]}\n  only on {engine}: {only_engine[:5]}"
        )


# ------------------------------------------------------------------------------ value rules

#: Unicode's space separators (category Zs), which the value rules trim.
SPACE_SEPARATORS = tuple(
    chr(code) for code in range(0x110000) if unicodedata.category(chr(code)) == "Zs"
)

#: Texts every engine must parse exactly as DuckDB does: the forms of the unit tests plus the
#: edges where engines differ (exponent sizes, rounding past 12 places, fractions past
#: microseconds, calendar edges, Unicode digits and spaces, a trailing line break).
# fmt: off
VALUE_BATTERY: tuple[str | None, ...] = (
    # ids
    "0", " 012 ", "123456789012345678", "1234567890123456789", "12a", "-12", "+12", "12.0",
    "1 2", "١٢", "12\n", "", "   ", None,
    # ids padded by each Unicode space separator (trimmed), and by what is not a space (kept)
    *(f"{space}7{space}" for space in SPACE_SEPARATORS),
    "\t7", "7\t", "\u200b7", "7\ufeff", "\u00857", "\u00a0\u00a0", "\u3000 \u2003",
    # dates
    "2026-02-28", "2026-02-30", "2023-02-29", "2024-02-29", "1900-02-29", "2000-02-29",
    "0000-01-01", "0001-01-01", "9999-12-31", "2026-13-01", "2026-00-10", "2026-01-00",
    "2026-01-32", "2026-04-31", "26/11/2026", "2026-3-1", "2026-01-01\n", "2026-01-01x",
    # timestamps
    "2026-03-01T10:00:00+02:00", "2026-03-01T10:00:00-05:00", "2026-03-01T10:00:00Z",
    "2026-03-01 10:00:00", "2026-03-01T10:00:00.250", "2026-03-01T10:00",
    "2026-03-01T00:30:00+01:00", "2026-02-28T21:00:00-05:00", "2026-03-01 10:15:30.5+05:30",
    "2026-03-01+02:00", "2026-03-01T10:00Z", "2024-02-29T23:59:59", "2025-12-31T23:30-00:45",
    "2026-01-01 23:59:59.9Z", "2026-01-01 01:00:00.123456", "2026-03-01T10:00:00.9999999Z",
    "2026-03-01T10:00:00.1234565999+00:00", "2026-12-31T23:59:59.999999-00:01",
    "2026-03-01T24:00:00", "2026-03-01T10:60:00", "2026-03-01T10:00:60",
    "2026-03-01T10:00:00+24:00", "2026-03-01T10:00:00+02:60", "2026-03-01T10:00:00+0200",
    "2026-03-01T10:00:00z", "2026-03-01t10:00:00", "2026-03-01T10", "2026-03-01T10:00:00.",
    "2026-03-01T10:00:00 +02:00", "2026-02-30T10:00:00Z", "2026-03-01T10:00:00Z\n",
    "0000-01-01T00:00:00Z", "0001-01-01T01:30:00+01:00", "9999-12-31T22:59:59-01:00",
    # amounts
    "0", "-0", "-0.00", "+5", "12.50", "12.345", "0.000000000001", "0.0000000000005",
    "12.3456789012345", "9999999999999999.99", "9999999999999999.9999999999995",
    "10000000000000000", "00000000000000000000001.5", "1e5", "1E3", "1e+3", "1.5e3",
    "1e15", "1e16", "9.99e15", "-0e5", "-0.0e-3", "-1e-5", "123e-20", "1e-9999", "1e00001",
    "5e-99999", "1e9999", "1e99999", "-1", "1.", ".5", "NaN", "Infinity", "-Infinity",
    "1_000", "1,234.50", "$10", "1e", "e5", "0e32767", "0e32768", "1e-32768", "1e-32769",
    "-0e-32768", "1e-2001", "123.456e-2000", "1e-0000000000000000000009999", "1e32767",
    "100000000000000000e-20", "1000000000000000000e-20", "100000000000000000000000000e-20",
    "0000000000000000000000000000000000000001e1", "1.0000000000005e1", "1.00000000000049e1",
    "123.4567890123456789e2", "5.5e-13", "4.9999999999999e-12", "0.0000000000000000000001e21",
    "0.0000000000000000000001e20", "0.0000000000000000000001000e21", "0.001e18", "0.001e19",
    "0.0e99", "-0.0e50", "12.0e16", "0.0000000000000000000001e28", "0.1e27",
    # amounts: SQL numeric literals with a leading or trailing point, and what stays invalid
    "5.", "+.5", "-.0", "-0.", "-.5", "-5.", "+5.", "00.5", ".5e2", "5.e2", "5.E-1", ".0e99",
    "0.e99", "-.0e5", ".000000000000000001", "9999999999999999.", ".9999999999999999999",
    "10000000000000000.", ".", "5..0", "+.", "e5", ".e5", "-.", "5.5.", "..5",
    # emails
    "a@b.co", "Ann@Example.COM", "a@b", "a@.b.co", "a@b.co.", "@b.co", "a@@b.co", "a@b@c.co",
    "a b@c.co", "a\tb@c.co", "a\u00a0b@c.co", "a\u2003b@c.co", "a@b\nc.co", "a@b.co\n",
    "émile@exämple.de", "ÉMILE@EXAMPLE.DE",
    "\u00a0a@b.co\u202f", "\u3000Ann@Example.COM ", "\ta@b.co",
    # flags
    "1", "true", "TRUE", " t ", "Yes", "y", "Y", "0", "false", "no", "active", "2", "F",
    "\u00a0yes\u2009", "\ttrue",
)
# fmt: on

#: Each text goes through every rule (the staging models clean before they parse).
VALUE_RULES_SQL = """
with cleaned as (
    select id, {{ clean_text('v') }} as c from audience_value_battery
)
select
    id,
    {{ parse_id('c') }} as parsed_id,
    {{ parse_date('c') }} as parsed_date,
    {{ parse_timestamp_utc('c') }} as parsed_timestamp_utc,
    {{ parse_amount('c') }} as parsed_amount,
    {{ parse_flag('c') }} as parsed_flag,
    lower(c) as email_normalized,
    {{ is_valid_email('lower(c)') }} as is_valid_email
from cleaned
"""


def compile_for(target: str) -> str:
    """The value rules compiled by dbt for one target (no connection is opened)."""
    work = ENGINE_DIR / "value_rules" / target
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "AUDIENCE_DUCKDB_PATH": str(work / "unused.duckdb"),
    }
    dbt = Path(sys.executable).with_name("dbt")
    completed = subprocess.run(
        [str(dbt), "compile", "--quiet", "--no-populate-cache", "--no-introspect",
         "--target", target, "--target-path", str(work / "target"),
         "--log-path", str(work / "logs"), "--inline", VALUE_RULES_SQL],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def parsed_values(engine: Engine, target: str) -> dict[str, tuple[Any, ...]]:
    engine.load_texts(
        "audience_value_battery", [(str(i), text) for i, text in enumerate(VALUE_BATTERY)]
    )
    columns, rows = engine.query(compile_for(target))
    return {
        repr(VALUE_BATTERY[int(row[0])]): dict(
            zip(columns[1:], (normalize(value) for value in row[1:]), strict=True)
        )
        for row in rows
    }


@pytest.fixture(scope="module")
def duckdb_parsed(engines: Engines) -> dict[str, Any]:
    return parsed_values(engines["duckdb"], "duckdb")


@pytest.mark.parametrize("engine", [name for name in OTHER_ENGINES if name != "postgres_warehouse"])
def test_value_rules_agree_with_duckdb(
    engine: str, engines: Engines, duckdb_parsed: dict[str, Any]
) -> None:
    """The quarantine runs in each warehouse's own SQL; one definition (the dbt macros) is
    compiled for each engine, and every parsed value must equal DuckDB's."""
    parsed = parsed_values(engines[engine], OTHER_ENGINES[engine][0])
    assert len(duckdb_parsed) == len(set(VALUE_BATTERY))
    differences = {
        text: {"duckdb": duckdb_parsed[text], engine: parsed.get(text)}
        for text in duckdb_parsed
        if parsed.get(text) != duckdb_parsed[text]
    }
    assert not differences, f"{engine} parses differently from duckdb: {differences}"


def test_values_are_trimmed_of_every_space_separator_and_nothing_else(
    duckdb_parsed: dict[str, Any],
) -> None:
    """The rule itself, on DuckDB (the engines above must then agree with it): a value padded
    by any Unicode space separator reads as its plain form; a tab, a line break or a
    zero-width character is not a space and leaves the value invalid."""
    padded = {repr(f"{space}7{space}"): duckdb_parsed[repr(f"{space}7{space}")]["parsed_id"]
              for space in SPACE_SEPARATORS}  # fmt: skip
    assert padded == dict.fromkeys(padded, 7)
    for text in ("\t7", "7\t", "\u200b7", "7\ufeff", "\u00857", "12\n"):
        assert duckdb_parsed[repr(text)]["parsed_id"] is None, text
    assert duckdb_parsed[repr("\u00a0\u00a0")]["parsed_id"] is None
    assert duckdb_parsed[repr("\u3000Ann@Example.COM ")]["email_normalized"] == "ann@example.com"
    assert duckdb_parsed[repr("\u00a0yes\u2009")]["parsed_flag"] is True
