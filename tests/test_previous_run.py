"""Which run a run is compared with: of the runs published to its destination dated before it,
the one published last, which the folder and the platform hold. After an accepted backfill the
next day's delta files apply to the backfill's audience; with --keep-runs a rerun of the last
day is still compared with the customers of the run before it, and a previous run whose
customers were pruned fails the deltas' control instead of reading as an empty audience."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import PROJECT_DIR

from audience_pipeline.errors import ControlFailure
from audience_pipeline.pipeline import run_pipeline

pytestmark = pytest.mark.slow  # runs the pipeline

SEEDS = PROJECT_DIR / "seeds"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _audience(output_dir: Path) -> dict[str, str]:
    return {row["customer_id"]: row["email"] for row in _rows(output_dir / "eligible_audience.csv")}


def _applied(platform: dict[str, str], output_dir: Path) -> dict[str, str]:
    """The platform's list after the folder's delta files: left, then entered (README)."""
    after = dict(platform)
    for row in _rows(output_dir / "audience_left.csv"):
        after.pop(row["customer_id"], None)
    for row in _rows(output_dir / "audience_entered.csv"):
        after[row["customer_id"]] = row["email"]
    return after


def test_after_an_accepted_backfill_the_next_deltas_apply_to_the_backfill(tmp_path: Path) -> None:
    out = tmp_path / "out"
    common = {"database": tmp_path / "audience.duckdb", "quiet": True}
    run_pipeline(SEEDS, out, as_of="2026-11-26", **common)
    run_pipeline(SEEDS, out, as_of="2027-01-15", **common)
    backfill = run_pipeline(SEEDS, out, as_of="2026-12-01", accept_drift="backfill", **common)
    platform = _audience(out)  # synced in full from the backfill, as the README says
    next_day = run_pipeline(SEEDS, out, as_of="2027-01-16", **common)
    assert next_day.drift is not None and backfill.run_id is not None
    assert next_day.drift.previous_run_id == backfill.run_id
    assert _applied(platform, out) == _audience(out)


def test_a_rerun_of_the_last_day_with_keep_runs_1_is_compared_with_the_day_before(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    common = {"database": tmp_path / "audience.duckdb", "quiet": True, "keep_runs": 1}
    run_pipeline(SEEDS, out, as_of="2026-11-26", **common)
    first = run_pipeline(SEEDS, out, as_of="2027-01-15", **common)
    published = {name: (out / name).read_bytes() for name in ("audience_left.csv",)}
    rerun = run_pipeline(SEEDS, out, as_of="2027-01-15", **common)
    assert rerun.drift is not None and rerun.drift.previous_run_id == 1
    assert {name: (out / name).read_bytes() for name in published} == published
    assert first.report["deltas"] == rerun.report["deltas"]
    # the next day keeps the rerun and the run it compared with; run 1 loses its customers, so
    # a run dated back before the kept runs, compared with it, would read an empty audience:
    # the deltas' control stops it, accepted or not
    run_pipeline(SEEDS, out, as_of="2027-01-16", **common)
    with pytest.raises(ControlFailure, match="assert_audience_deltas_reconcile"):
        run_pipeline(SEEDS, out, as_of="2026-12-01", accept_drift="backfill", **common)
