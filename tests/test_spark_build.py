"""The parts of ``audience run --target spark`` that need no Spark (spark_build.py).

The files are checked before the build with the DuckDB pre-step's own checks: every kind of
unusable file must fail with the very message DuckDB's pre-step gives. The models Spark hands
back are read into the database so that nothing is left from an earlier run. (The whole path
on Spark is compared with DuckDB in tests/test_spark_landing.py.)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from conftest import COLUMNS, CONTRACT, write_landing_folder
from landing_damages import DAMAGES, assert_described_alike, assert_refused_alike

from audience_pipeline.dbt_invoke import DbtRun, NodeResult
from audience_pipeline.errors import InputFileError, PipelineError, UsageError
from audience_pipeline.history import RunDestination, ensure_history_tables
from audience_pipeline.landing import load_landing_folder
from audience_pipeline.landing_folder import RemoteFolder
from audience_pipeline.pipeline import run_pipeline
from audience_pipeline.spark_build import (
    combined,
    import_exported_models,
    inspect_landing_folder,
    require_folder_destination_before_build,
)


@pytest.mark.parametrize(("input_file", "damage"), DAMAGES)
def test_a_file_is_refused_with_the_message_duckdb_gives(
    tmp_path: Path, input_file: str, damage: Callable[[Path], None]
) -> None:
    write_landing_folder(tmp_path)
    damage(tmp_path / f"{input_file}.csv")
    with pytest.raises(InputFileError) as on_duckdb:
        load_landing_folder(duckdb.connect(), tmp_path, CONTRACT)
    with pytest.raises(InputFileError) as before_spark:
        inspect_landing_folder(tmp_path, CONTRACT)
    assert str(before_spark.value) == str(on_duckdb.value)
    assert f"{input_file}.csv" in str(before_spark.value)


def _in_memory_store(folder: Path) -> RemoteFolder:
    """A copy of ``folder`` in fsspec's memory store, as a remote landing folder (a URL)."""
    import fsspec

    store = fsspec.filesystem("memory")
    root = f"/landing-{uuid.uuid4().hex}"
    for path in folder.iterdir():
        store.pipe(f"{root}/{path.name}", path.read_bytes())
    return RemoteFolder(f"memory:/{root}")


@pytest.mark.parametrize(("input_file", "damage"), DAMAGES)
def test_a_remote_file_is_refused_with_the_message_a_local_one_gets(
    tmp_path: Path, input_file: str, damage: Callable[[Path], None]
) -> None:
    write_landing_folder(tmp_path)
    damage(tmp_path / f"{input_file}.csv")
    assert_refused_alike(tmp_path, _in_memory_store(tmp_path))


def test_a_remote_folder_is_described_as_a_local_one_with_its_urls(tmp_path: Path) -> None:
    write_landing_folder(tmp_path)
    path = tmp_path / "customers.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert_described_alike(tmp_path, _in_memory_store(tmp_path))


def test_duckdb_refuses_a_remote_folder_by_name(tmp_path: Path) -> None:
    write_landing_folder(tmp_path)
    remote = _in_memory_store(tmp_path)
    with pytest.raises(PipelineError, match="--target spark") as refused:
        run_pipeline(remote, tmp_path / "out", "2026-11-26", database=tmp_path / "a.duckdb")
    assert str(remote) in str(refused.value)
    assert not (tmp_path / "out").exists()


def test_a_usable_folder_is_described_as_the_duckdb_pre_step_describes_it(tmp_path: Path) -> None:
    write_landing_folder(tmp_path)
    path = tmp_path / "customers.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # CRLF lines count once
    on_duckdb = load_landing_folder(duckdb.connect(), tmp_path, CONTRACT)
    before_spark = inspect_landing_folder(tmp_path, CONTRACT)
    assert before_spark == on_duckdb
    assert [item.input_file for item in before_spark] == list(COLUMNS)


def _export(folder: Path, schema: str, name: str, sql: str) -> None:
    target = folder / schema / name
    target.mkdir(parents=True)
    duckdb.connect().execute(f"copy ({sql}) to '{target / 'part-0.parquet'}' (format parquet)")


def test_exported_models_replace_whatever_an_earlier_run_left(tmp_path: Path) -> None:
    export = tmp_path / "export"
    _export(export, "marts", "eligible_audience", "select 1 as customer_id")
    _export(export, "staging", "stg_exports__bookings", "select 'B-1' as booking_id")
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.stale_model as select 1 as x")
    con.execute("create schema history")
    con.execute("create table history.published_runs as select 1 as run_id")
    imported = import_exported_models(con, export)
    assert imported == ["staging.stg_exports__bookings", "marts.eligible_audience"]
    assert con.execute("select customer_id from marts.eligible_audience").fetchall() == [(1,)]
    tables = {
        (schema, name)
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables()"
        ).fetchall()
    }
    assert ("marts", "stale_model") not in tables, "nothing is left from an earlier run"
    assert ("history", "published_runs") in tables, "the history is never touched"


def _node(name: str, status: str) -> NodeResult:
    return NodeResult(
        unique_id=f"test.audience.{name}",
        resource_type="test",
        name=name,
        status=status,
        failures=0,
        execution_time=0.0,
        message=None,
    )


def test_the_two_builds_are_one_run() -> None:
    engine = DbtRun(success=True, nodes=(_node("a", "pass"),), error=None)
    history = DbtRun(success=False, nodes=(_node("b", "fail"),), error="b failed")
    run = combined(engine, history)
    assert not run.success
    assert [node.name for node in run.controls] == ["a", "b"]
    assert run.error == "b failed"
    assert combined(engine, None) is engine


def test_a_machine_without_spark_is_told_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from audience_pipeline import spark_build
    from audience_pipeline.errors import PipelineError

    monkeypatch.setattr(spark_build.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(PipelineError, match="needs the spark extra"):
        spark_build.require_spark()
    monkeypatch.undo()
    monkeypatch.setattr(spark_build.shutil, "which", lambda name: None)
    if spark_build.importlib.util.find_spec("pyspark") is not None:
        with pytest.raises(PipelineError, match="needs Java 17"):
            spark_build.require_spark()


def test_a_folder_published_under_a_name_is_checked_before_spark_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audience_pipeline import spark_build

    write_landing_folder(tmp_path / "landing")
    database, folder = tmp_path / "audience.duckdb", tmp_path / "b"
    with duckdb.connect(str(database)) as con:
        ensure_history_tables(con)
        con.execute(
            "insert into history.published_runs (run_id, published_at, as_of_date, output_dir, "
            "customers, eligible, controls_passed, controls_failed, drift_status, destination) "
            "values (1, now(), '2026-11-25', ?, 3, 2, 5, 0, 'passed', 'brand-b')",
            [str(folder)],
        )
    monkeypatch.setattr(spark_build, "require_spark", lambda: None)

    def started(*args: object) -> None:
        raise AssertionError("the build started")

    monkeypatch.setattr(spark_build, "project_parsed_meanwhile", started)
    with pytest.raises(UsageError, match=r"^argument --output-dir: .* as destination brand-b"):
        run_pipeline(tmp_path / "landing", folder, "2026-11-26", database=database, target="spark")
    assert not folder.exists()
    # a database not created yet holds no history, and is not created by the check
    absent = tmp_path / "new.duckdb"
    require_folder_destination_before_build(
        absent, {}, RunDestination(folder, str(folder), named=False)
    )
    assert not absent.exists()
