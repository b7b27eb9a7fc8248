"""The sample-build benchmark's measurements: a cold dbt command and what it reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from audience_tools.dbt_fixed_cost import (
    ColdRun,
    FixedCostResult,
    cold_dbt,
    to_markdown,
    write_one_model_project,
)


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
