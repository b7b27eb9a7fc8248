"""The sample-build benchmark's measurements: a cold dbt command and what it reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audience_tools.benchmark import dbt_node_timings, dbt_worker_threads
from audience_tools.dbt_fixed_cost import (
    ColdRun,
    FixedCostResult,
    cold_dbt,
    to_markdown,
    write_one_model_project,
)


def test_the_models_built_at_once_are_dbt_s_worker_threads(tmp_path: Path) -> None:
    """The reports say how many nodes ran at once from run_results.json, not from a guess."""
    assert dbt_node_timings(tmp_path).threads is None  # no run_results.json
    results = [
        {"unique_id": "operation.p.hook", "thread_id": "main", "execution_time": 0.1},
        {"unique_id": "model.p.a", "thread_id": "Thread-1 (worker)", "execution_time": 2.0},
        {"unique_id": "model.p.b", "thread_id": "Thread-2 (worker)", "execution_time": 1.0},
        {"unique_id": "test.p.c", "thread_id": "Thread-1 (worker)", "execution_time": 0.5},
    ]
    (tmp_path / "run_results.json").write_text(json.dumps({"results": results}))
    timings = dbt_node_timings(tmp_path)
    assert timings.threads == 2
    assert timings.seconds_by_type == {"operation": 0.1, "model": 3.0, "test": 0.5}
    assert timings.slowest[0] == ("model.p.a", 2.0)
    assert dbt_worker_threads(results[:2]) == 1
    assert dbt_worker_threads(results[:1]) is None


@pytest.mark.slow
def test_a_cold_build_reports_what_it_executed(tmp_path: Path) -> None:
    project = write_one_model_project(tmp_path / "project")

    run = cold_dbt(["build"], project, tmp_path / "scratch")

    assert run.exit_code == 0
    assert run.nodes_by_type == {"model": 1, "test": 1}
    assert run.execution_seconds is not None
    assert 0 < run.execution_seconds < run.wall_seconds
    # cold means cold: the scratch folder held the only database and target folder
    assert (tmp_path / "scratch" / "audience.duckdb").is_file()
    assert not (project / "target").exists()


@pytest.mark.slow
def test_a_failed_command_is_named_in_the_report(tmp_path: Path) -> None:
    project = write_one_model_project(tmp_path / "project")
    (project / "models" / "one.sql").write_text("select from nowhere\n")

    failed = cold_dbt(["build"], project, tmp_path / "scratch")
    result = FixedCostResult(
        runs={
            "dbt build (sample)": [ColdRun(wall_seconds=1.0, exit_code=0)],
            "dbt build (one-model project)": [failed],
        }
    )

    assert failed.exit_code != 0
    assert not result.all_succeeded
    assert "Failed: dbt build (one-model project)" in to_markdown(result, {}, "today")


def test_medians_are_taken_over_every_round() -> None:
    result = FixedCostResult(
        runs={
            "dbt build (sample)": [
                ColdRun(wall_seconds=seconds, exit_code=0, execution_seconds=seconds / 2)
                for seconds in (12.0, 30.0, 11.0)
            ]
        }
    )

    assert result.median_wall("dbt build (sample)") == 12.0
    assert result.median_execution("dbt build (sample)") == 6.0
    assert "12.00, 30.00, 11.00" in to_markdown(result, {}, "today")
