"""DuckDB's resources (audience_pipeline/settings.py): defaults that follow the machine, options
and environment variables that take precedence, and a run under a small memory limit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from audience_pipeline.errors import UsageError
from audience_pipeline.settings import (
    DEFAULT_DBT_THREADS,
    MEMORY_SHARE,
    EngineSettings,
    default_memory_limit,
    default_threads,
    engine_settings,
    machine_memory_bytes,
)

AS_OF = "2026-11-26"


def test_the_default_memory_limit_is_a_share_of_the_machine() -> None:
    total = machine_memory_bytes()
    assert total is not None and total > 0
    limit_mb = int(default_memory_limit().removesuffix("MB"))
    assert limit_mb == max(256, int(total * MEMORY_SHARE / 1e6))


def test_the_default_threads_are_the_cores_this_process_may_use() -> None:
    assert default_threads() == len(os.sched_getaffinity(0))


def test_environment_variables_override_the_defaults_and_arguments_override_both(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AUDIENCE_DUCKDB_MEMORY_LIMIT", "3GB")
    monkeypatch.setenv("AUDIENCE_DUCKDB_THREADS", "3")
    monkeypatch.setenv("AUDIENCE_DBT_THREADS", "4")
    from_environment = EngineSettings()
    assert (
        from_environment.memory_limit,
        from_environment.threads,
        from_environment.dbt_threads,
    ) == ("3GB", 3, 4)
    explicit = EngineSettings(memory_limit="1GB", threads=1, dbt_threads=2, temp_directory=tmp_path)
    database = tmp_path / "a.duckdb"
    assert explicit.connection_config(database) == {
        "memory_limit": "1GB",
        "threads": "1",
        "temp_directory": str(tmp_path),
        "preserve_insertion_order": "true",
    }
    # dbt's connection (profiles.yml) gets the same resources
    assert explicit.environment(database)["AUDIENCE_DUCKDB_MEMORY_LIMIT"] == "1GB"
    assert explicit.environment(database)["AUDIENCE_DUCKDB_THREADS"] == "1"
    assert explicit.environment(database)["AUDIENCE_DBT_THREADS"] == "2"


def test_dbt_builds_one_model_at_a_time_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDIENCE_DBT_THREADS", raising=False)
    assert EngineSettings().dbt_threads == DEFAULT_DBT_THREADS == 1


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AUDIENCE_DBT_THREADS", "two"),
        ("AUDIENCE_DUCKDB_THREADS", "0"),
        ("AUDIENCE_DUCKDB_MEMORY_LIMIT", "4"),
    ],
)
def test_a_bad_environment_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(UsageError, match=f"^{variable}: expected .*'{value}'"):
        EngineSettings()


@pytest.mark.parametrize(
    ("variable", "value", "option"),
    [
        ("AUDIENCE_DBT_THREADS", "two", {"dbt_threads": 2}),
        ("AUDIENCE_DUCKDB_THREADS", "0", {"threads": 1}),
        ("AUDIENCE_DUCKDB_MEMORY_LIMIT", "4", {"memory_limit": "1GB"}),
    ],
)
def test_an_option_replaces_a_bad_environment_variable_unread(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, option: dict[str, object]
) -> None:
    monkeypatch.setenv(variable, value)
    settings = engine_settings(**option)  # type: ignore[arg-type]
    ((name, given),) = option.items()
    assert getattr(settings, name) == given
    with pytest.raises(UsageError, match=f"^{variable}: "):
        engine_settings()


def test_the_spill_folder_defaults_to_beside_the_database(tmp_path: Path) -> None:
    settings = EngineSettings(temp_directory=None)
    database = tmp_path / "audience.duckdb"
    assert settings.spill_directory(database) == tmp_path / "audience.duckdb.tmp"


def _audience(*args: str, cwd: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "audience_pipeline", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]


@pytest.mark.slow
def test_a_small_memory_limit_publishes_the_same_files(tmp_path: Path) -> None:
    """--memory-limit wins over the machine-sized default; DuckDB spills instead of failing."""
    _audience(
        "generate", "--customers", "20000", "--seed", "3", "--as-of", AS_OF, "--out", "land",
        cwd=tmp_path,
    )  # fmt: skip
    small = ["--memory-limit", "64MB", "--threads", "1", "--dbt-threads", "2"]
    for name, limits in (("default", []), ("small", small)):
        _audience(
            "run", "--input-dir", "land", "--as-of", AS_OF, "--output-dir", f"out_{name}",
            "--database", f"{name}.duckdb", "--quiet", *limits,
            cwd=tmp_path,
        )  # fmt: skip
    # dbt's own log says how many models it built at once
    for name, dbt_threads in (("default", DEFAULT_DBT_THREADS), ("small", 2)):
        log = (tmp_path / f"{name}.work" / "logs" / "dbt.log").read_text(encoding="utf-8")
        assert f"Concurrency: {dbt_threads} threads" in log, name
    for published in sorted((tmp_path / "out_default").glob("*.csv")):
        assert (tmp_path / "out_small" / published.name).read_bytes() == published.read_bytes()
