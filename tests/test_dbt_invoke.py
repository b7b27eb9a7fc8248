"""The project is parsed while the pre-step runs; dbt builds with that manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from audience_pipeline import dbt_invoke, pipeline

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _run_sample(tmp_path: Path) -> pipeline.RunResult:
    return pipeline.run_pipeline(
        input_dir=PROJECT_DIR / "seeds",
        output_dir=tmp_path / "out",
        as_of="2026-11-26",
        database=tmp_path / "audience.duckdb",
        quiet=True,
    )


def test_build_runs_with_the_manifest_parsed_during_the_pre_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed_over: list[object] = []
    original = dbt_invoke.run_dbt

    def recording_run_dbt(*args: object, **kwargs: object) -> dbt_invoke.DbtRun:
        handed_over.append(kwargs.get("manifest"))
        return original(*args, **kwargs)

    monkeypatch.setattr(pipeline, "run_dbt", recording_run_dbt)
    result = _run_sample(tmp_path)
    assert result.report["controls_failed"] == 0
    (manifest,) = handed_over
    assert manifest is not None
    assert "model.audience.eligible_audience" in manifest.nodes


def test_a_failed_background_parse_falls_back_to_dbt_parsing_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dbt_invoke, "_parse_project", lambda cli_args: None)
    result = _run_sample(tmp_path)
    assert result.report["controls_failed"] == 0
    assert result.report["eligible"] == 70
