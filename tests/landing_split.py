"""The pre-step's lines split as the staging models split them, for tests that look at the split.

The split is the dbt macro ``landing_rows`` (macros/inputs/landing_rows.sql). ``load_and_split``
runs the DuckDB pre-step (``landing.load_landing_folder``) on a connection, compiles the macro
with dbt for each file's layout (the project is parsed once per test session; a compile takes
a fraction of a second and is cached per layout) and defines ``landing_split.<input file>``:
one row per data line, exactly the rows the base models read.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from audience_pipeline.dbt_invoke import environment_values
from audience_pipeline.landing import LoadedFile, landing_layout, load_landing_folder
from audience_pipeline.project import PROJECT_DIR

SPLIT_SCHEMA = "landing_split"
_WORK = Path(tempfile.mkdtemp(prefix="audience-landing-split-"))  # dbt's target and logs
atexit.register(shutil.rmtree, _WORK, ignore_errors=True)


def _cli_args(database: str) -> list[str]:
    return [
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(_WORK / "target"),
        "--vars",
        json.dumps({"raw_input": "landing"}),
        "--log-path",
        str(_WORK / "logs"),
        "--log-level",
        "none",
    ]


def _base_environment(database: str) -> dict[str, str]:
    return {"AUDIENCE_DUCKDB_PATH": database, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


@cache
def _manifest(database: str) -> Any:
    from dbt.cli.main import dbtRunner

    with environment_values(_base_environment(database)):
        outcome = dbtRunner().invoke(["parse", *_cli_args(database)])
    assert outcome.success, f"dbt parse failed: {outcome.exception}"
    return outcome.result


@cache
def _compiled(database: str, input_file: str, layout_json: str) -> str:
    from dbt.cli.main import dbtRunner

    macro_call = "{{ audience.landing_rows('" + input_file + "') }}"
    environment = {**_base_environment(database), "AUDIENCE_LANDING_LAYOUT": layout_json}
    with environment_values(environment):
        outcome = dbtRunner(manifest=_manifest(database)).invoke(
            ["compile", "--inline", macro_call, *_cli_args(database)]
        )
    assert outcome.success, f"dbt compile failed: {outcome.exception}"
    return str(outcome.result.results[0].node.compiled_code)


def split_landing(con: duckdb.DuckDBPyConnection, loaded: Sequence[LoadedFile]) -> None:
    """Define ``landing_split.<input file>`` for every loaded file (the macro's rows)."""
    database = con.execute("select current_database()").fetchone()[0]
    profile_path = ":memory:" if database == "memory" else str(database)
    con.execute(f"create schema if not exists {SPLIT_SCHEMA}")
    for item in loaded:
        # the split depends on the header's order and the delimiter only
        layout = json.loads(landing_layout([item]))[item.input_file]
        key = {item.input_file: {"columns": layout["columns"], "delimiter": layout["delimiter"]}}
        sql = _compiled(profile_path, item.input_file, json.dumps(key, sort_keys=True))
        con.execute(f"create or replace view {SPLIT_SCHEMA}.{item.input_file} as {sql}")


def load_and_split(
    con: duckdb.DuckDBPyConnection, folder: Path, contract: Any, **options: Any
) -> list[LoadedFile]:
    """``landing.load_landing_folder``, then ``split_landing`` of what it loaded."""
    loaded = load_landing_folder(con, folder, contract, **options)
    split_landing(con, loaded)
    return loaded
