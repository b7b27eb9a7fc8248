"""The project is parsed while the pre-step runs; dbt builds with that manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import PROJECT_DIR, run_and_read_outputs

from audience_pipeline import builds, dbt_invoke

pytestmark = pytest.mark.slow  # runs dbt

SAMPLE = PROJECT_DIR / "seeds"


def test_build_runs_with_the_manifest_parsed_during_the_pre_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed_over: list[object] = []
    original = dbt_invoke.run_dbt

    def recording_run_dbt(*args: object, **kwargs: object) -> dbt_invoke.DbtRun:
        handed_over.append(kwargs.get("manifest"))
        return original(*args, **kwargs)

    monkeypatch.setattr(builds, "run_dbt", recording_run_dbt)
    published = run_and_read_outputs(SAMPLE, tmp_path)
    assert published.reconciliation["controls_failed"] == 0
    (manifest,) = handed_over
    assert manifest is not None
    assert "model.audience.eligible_audience" in manifest.nodes
    # the parse writes no manifest.json (--no-write-json); the build leaves dbt's artifacts
    target = tmp_path / "a.work" / "target"
    written = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert "model.audience.eligible_audience" in written["nodes"]
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
    assert results["args"]["which"] == "build"


def test_a_failed_background_parse_falls_back_to_dbt_parsing_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dbt_invoke, "_parse_project", lambda cli_args: None)
    published = run_and_read_outputs(SAMPLE, tmp_path)
    assert published.reconciliation["controls_failed"] == 0
    assert len(published.audience) == 70
