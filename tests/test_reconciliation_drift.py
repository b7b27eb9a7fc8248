"""reconciliation.json records the drift guard's outcome: its status, the run it compared with,
the acceptance reason as the report shows it, and its checks (plain results, and the audit
scenario's stopped and accepted runs)."""

from __future__ import annotations

import json

import pytest
from audit_helpers import ACCEPT_REASON, AS_OF_DATES, Scenario, run_scenario

from audience_pipeline.drift import DriftCheck, DriftResult
from audience_pipeline.reconciliation import drift_guard_outcome
from audience_pipeline.redaction import removed_address


def check(control: str, outcome: str, detail: str = "") -> DriftCheck:
    return DriftCheck(control, "subject", None, 0, None, None, outcome, detail or control)


def test_an_accepted_run_records_the_reason_without_addresses() -> None:
    drift = DriftResult(
        checks=(
            check("audience_change", "accepted", "100 -> 60 customers"),
            check("audience_empty", "pass", "60 of 149 customers eligible"),
        ),
        accepted_reason="asked by ann.smith@example.com",
        previous_run_id=2,
        previous_as_of_date="2027-01-15",
    )
    assert drift_guard_outcome(drift) == {
        "status": "accepted",
        "previous_run": {"run_id": 2, "as_of_date": "2027-01-15"},
        "acceptance_reason": f"asked by {removed_address('ann.smith@example.com')}",
        "checks": [
            {"control": "audience_change", "outcome": "accepted", "detail": "100 -> 60 customers"},
            {
                "control": "audience_empty",
                "outcome": "pass",
                "detail": "60 of 149 customers eligible",
            },
        ],
    }


def test_a_reason_is_shown_only_when_the_guard_accepted_a_check() -> None:
    """As in the report and audience history: a reason given where every check passed, or
    where the failing check cannot be accepted, is no acceptance."""
    passed = DriftResult(checks=(check("audience_change", "pass"),), accepted_reason="why")
    stopped = DriftResult(checks=(check("audience_empty", "fail"),), accepted_reason="why")
    assert drift_guard_outcome(passed)["acceptance_reason"] is None
    assert drift_guard_outcome(stopped)["status"] == "failed"
    assert drift_guard_outcome(stopped)["acceptance_reason"] is None


def test_a_first_run_compared_with_no_run() -> None:
    drift = DriftResult(checks=(check("audience_change", "not_applicable"),))
    outcome = drift_guard_outcome(drift)
    assert (outcome["status"], outcome["previous_run"]) == ("passed", None)


def test_as_of_order_is_listed_only_when_it_failed_or_was_accepted() -> None:
    """Passing, it names the destination's latest run, which a rerun of the day changes: the
    rerun's outcome is the same as the first run's."""
    first = DriftResult(checks=(check("as_of_order", "not_applicable", "first published run"),))
    rerun = DriftResult(checks=(check("as_of_order", "pass", "not before run #1"),))
    assert drift_guard_outcome(first) == drift_guard_outcome(rerun)
    assert drift_guard_outcome(rerun)["checks"] == []
    backfill = DriftResult(checks=(check("as_of_order", "fail", "before run #3"),))
    assert drift_guard_outcome(backfill)["checks"] == [
        {"control": "as_of_order", "outcome": "fail", "detail": "before run #3"}
    ]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return run_scenario(tmp_path_factory)


def _outcomes(guard: dict) -> dict[str, str]:
    return {item["control"]: item["outcome"] for item in guard["checks"]}


@pytest.mark.slow
def test_a_stopped_runs_reconciliation_lists_the_failed_checks(scenario: Scenario) -> None:
    (kept,) = (scenario.work / ".out.diagnostics").iterdir()
    guard = json.loads((kept / "reconciliation.json").read_text(encoding="utf-8"))["drift_guard"]
    assert guard["status"] == "failed"
    assert guard["previous_run"] == {"run_id": 2, "as_of_date": AS_OF_DATES[1]}
    assert guard["acceptance_reason"] is None
    failed = {control for control, outcome in _outcomes(guard).items() if outcome == "fail"}
    assert {"audience_change", "input_rows:bookings"} <= failed
    (bookings,) = (item for item in guard["checks"] if item["control"] == "input_rows:bookings")
    assert bookings["detail"] == "bookings: 333 -> 166 rows, lost 50.2%; limit 20.0%"


@pytest.mark.slow
def test_the_accepted_runs_reconciliation_says_it_was_accepted_and_why(
    scenario: Scenario,
) -> None:
    published = json.loads((scenario.output_dir / "reconciliation.json").read_text("utf-8"))
    assert published["as_of_date"] == AS_OF_DATES[2]
    guard = published["drift_guard"]
    assert guard["status"] == "accepted"
    assert guard["previous_run"] == {"run_id": 2, "as_of_date": AS_OF_DATES[1]}
    assert guard["acceptance_reason"] == ACCEPT_REASON
    assert _outcomes(guard)["audience_change"] == "accepted"
    assert "fail" not in _outcomes(guard).values()
    # the checks are the report's: the same ones, in the same order
    drift = scenario.results[3].drift
    shown = [check.control for check in drift.checks if check.control != "as_of_order"]
    assert [item["control"] for item in guard["checks"]] == shown
    # the earlier runs to the destination passed, the first compared with nothing
    assert scenario.results[1].report["drift_guard"]["previous_run"] is None
    assert scenario.results[1].report["drift_guard"]["status"] == "passed"
