"""``audience explain`` says which build the destination holds.

The database keeps the latest build, published or not; the destination holds the run published
there last, whatever its as-of date. A build the drift guard stopped on the same day as the
published run is said to be unpublished, with the published run's decision beside it, and a
backfill published last (an earlier as-of date, accepted) is the run the destination holds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import AS_OF, PROJECT_DIR

from audience_pipeline.drift import DriftFailure
from audience_pipeline.errors import UsageError
from audience_pipeline.explain import explain
from audience_pipeline.pipeline import run_pipeline

pytestmark = pytest.mark.slow  # runs the pipeline

SEEDS = PROJECT_DIR / "seeds"
#: eligible in the sample as of AS_OF
CUSTOMER = 1001
NOT_PUBLISHED = "note: the latest run was not published"


def test_a_stopped_build_and_a_backfill_published_last_are_told_apart(tmp_path: Path) -> None:
    database, output_dir = tmp_path / "audience.duckdb", tmp_path / "out"
    common = {"database": database, "output_dir": output_dir, "quiet": True}
    run_pipeline(SEEDS, as_of=AS_OF, **common)
    text = explain(database, CUSTOMER)
    assert f"latest published run: #1 as of {AS_OF}" in text
    assert "Decision: ELIGIBLE" in text and NOT_PUBLISHED not in text
    # a blank consent_status (customer 1142's deciding event) reads as "-", as in the list
    blank_status = explain(database, 1142)
    assert "): - at " in blank_status and "None" not in blank_status

    # the same day again, with an opt-out for the customer: the drift guard stops the rerun,
    # whose build stays in the database while the destination keeps run #1
    opted_out = tmp_path / "landing"
    shutil.copytree(SEEDS, opted_out, ignore=shutil.ignore_patterns("*.yml"))
    with (opted_out / "consent_events.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"CE-990001,{CUSTOMER},email,OPT_OUT,2026-11-20T00:00:00Z,web\n")
    with pytest.raises(DriftFailure):
        run_pipeline(opted_out, as_of=AS_OF, **common)
    text = explain(database, CUSTOMER)
    assert "Decision: EXCLUDED by rule 6, not_opted_in" in text
    assert (
        f"{NOT_PUBLISHED} (a control or the drift guard stopped it, it stopped before its "
        "folder switched to it, or it is still running); "
        "this explains that run. The destination holds run #1, whose decision for this "
        "customer was: eligible"
    ) in text

    # a later date, then a backfill of an earlier one, accepted: the backfill is published last
    run_pipeline(SEEDS, as_of="2027-01-15", **common)
    run_pipeline(SEEDS, as_of="2026-12-01", accept_drift="backfill", **common)
    text = explain(database, CUSTOMER)
    assert "latest published run: #3 as of 2026-12-01" in text
    assert f"Customer {CUSTOMER}: latest run, as of 2026-12-01" in text
    assert NOT_PUBLISHED not in text


def test_a_folder_published_under_a_name_is_explained_with_that_name(tmp_path: Path) -> None:
    database, named_folder = tmp_path / "audience.duckdb", tmp_path / "brand-x"
    run_pipeline(
        SEEDS,
        as_of=AS_OF,
        database=database,
        output_dir=named_folder,
        destination="brand-x",
        quiet=True,
    )
    text = explain(database, CUSTOMER, output_dir=named_folder)
    assert "  destination: brand-x\n" in text
    assert f"latest published run: #1 as of {AS_OF}" in text
    for asked in ({"destination": "brand-z"}, {"output_dir": tmp_path / "elsewhere"}):
        with pytest.raises(UsageError, match=r"no run to .* \(its destinations: brand-x\)"):
            explain(database, CUSTOMER, **asked)
