"""The drift guard: its arithmetic (no database), and a real run it stops (audit scenario)."""

from __future__ import annotations

import math
import subprocess

import pytest
from audit_helpers import Scenario, run_scenario
from conftest import RUN_PIPELINE_CLI

from audience_pipeline.drift import (
    ChannelEvents,
    DriftCheck,
    DriftFailure,
    DriftThresholds,
    LostExclusions,
    evaluate_drift,
)
from audience_pipeline.history import PublishedRun
from audience_pipeline.redaction import removed_address

FILES = {"bookings": 100, "consent_events": 50, "customers": 40, "suppressions": 10}


def previous_run(eligible: int = 100, raw_rows: dict[str, int] | None = None) -> PublishedRun:
    return PublishedRun(
        run_id=7,
        as_of_date="2026-11-26",
        published_at="2026-11-26 06:00:00",
        customers=200,
        eligible=eligible,
        drift_status="passed",
        drift_acceptance_reason=None,
        raw_rows=dict(FILES if raw_rows is None else raw_rows),
    )


def outcomes(result) -> dict[str, str]:
    return {check.control: check.outcome for check in result.checks}


def test_first_run_checks_only_that_no_file_is_empty() -> None:
    result = evaluate_drift(None, eligible=70, entered=70, left=0, raw_rows=FILES)
    not_compared = {
        "audience_change",
        "email_consent_channels",
        "lost_opt_outs",
        "lost_suppressions",
    }
    assert {outcomes(result)[control] for control in not_compared} == {"not_applicable"}
    assert {o for c, o in outcomes(result).items() if c not in not_compared} == {"pass"}
    assert result.status == "passed"

    empty = evaluate_drift(None, eligible=0, entered=0, left=0, raw_rows={**FILES, "customers": 0})
    assert outcomes(empty)["input_rows:customers"] == "fail"
    assert empty.failed


def test_audience_change_is_entered_plus_left_over_the_previous_audience() -> None:
    at_limit = evaluate_drift(previous_run(), eligible=100, entered=10, left=10, raw_rows=FILES)
    assert outcomes(at_limit)["audience_change"] == "pass"  # exactly 20% is allowed
    assert at_limit.checks[0].share == pytest.approx(0.2)

    over = evaluate_drift(previous_run(), eligible=79, entered=0, left=21, raw_rows=FILES)
    assert outcomes(over)["audience_change"] == "fail"
    assert "100 -> 79 customers: 0 entered, 21 left = 21.0%" in over.describe()

    swap = evaluate_drift(previous_run(), eligible=100, entered=15, left=15, raw_rows=FILES)
    assert outcomes(swap)["audience_change"] == "fail", "a swap at constant size is a change"

    looser = evaluate_drift(
        previous_run(),
        eligible=100,
        entered=15,
        left=15,
        raw_rows=FILES,
        thresholds=DriftThresholds(max_audience_change=0.5),
    )
    assert not looser.failed


def test_from_an_empty_audience_any_entry_is_infinite_drift() -> None:
    result = evaluate_drift(
        previous_run(eligible=0), eligible=15, entered=15, left=0, raw_rows=FILES
    )
    assert math.isinf(result.checks[0].share)
    assert result.failed
    few = evaluate_drift(previous_run(eligible=0), eligible=5, entered=5, left=0, raw_rows=FILES)
    assert math.isinf(few.checks[0].share)
    assert not few.failed, "under the minimum of customers moved"
    same = evaluate_drift(
        previous_run(eligible=0),
        eligible=0,
        entered=0,
        left=0,
        raw_rows=FILES,
        allow_empty_audience=True,
    )
    assert not same.failed


def test_small_lists_need_a_minimum_of_customers_moved_to_fail() -> None:
    """6 customers, one entered and one left (33%): noise, not drift, by default."""
    small = evaluate_drift(previous_run(eligible=6), eligible=6, entered=1, left=1, raw_rows=FILES)
    assert outcomes(small)["audience_change"] == "pass"
    assert small.checks[0].share == pytest.approx(1 / 3)
    assert "limit 20.0%, from 10 customers moved" in small.checks[0].detail
    strict = evaluate_drift(
        previous_run(eligible=6),
        eligible=6,
        entered=1,
        left=1,
        raw_rows=FILES,
        thresholds=DriftThresholds(min_audience_change=2),
    )
    assert outcomes(strict)["audience_change"] == "fail"
    at_minimum = evaluate_drift(
        previous_run(eligible=40), eligible=40, entered=5, left=5, raw_rows=FILES
    )
    assert outcomes(at_minimum)["audience_change"] == "fail"  # 10 moved, 25%
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError):
            DriftThresholds(min_audience_change=bad)


def test_a_run_dated_before_the_destinations_latest_fails_unless_accepted() -> None:
    latest = previous_run()  # as of 2026-11-26
    earlier = evaluate_drift(
        None, eligible=70, entered=70, left=0, raw_rows=FILES, as_of="2026-11-25", latest=latest
    )
    assert outcomes(earlier)["as_of_order"] == "fail"
    assert (
        "as_of_order: as of 2026-11-25, before the latest run published to this destination "
        "(run #7, as of 2026-11-26)" in earlier.describe()
    )
    for as_of in ("2026-11-26", "2026-11-27"):  # a rerun of the same day, or the next day
        later = evaluate_drift(
            latest, eligible=100, entered=0, left=0, raw_rows=FILES, as_of=as_of, latest=latest
        )
        assert outcomes(later)["as_of_order"] == "pass", as_of
    first = evaluate_drift(
        None, eligible=70, entered=70, left=0, raw_rows=FILES, as_of="2026-11-25"
    )
    assert outcomes(first)["as_of_order"] == "not_applicable"
    accepted = evaluate_drift(
        None,
        eligible=70,
        entered=70,
        left=0,
        raw_rows=FILES,
        as_of="2026-11-25",
        latest=latest,
        accept_reason="backfill of a missed day",
    )
    assert outcomes(accepted)["as_of_order"] == "accepted" and not accepted.failed


def test_a_rerun_of_a_published_day_fails_when_its_audience_differs_unless_accepted() -> None:
    latest = previous_run()  # as of 2026-11-26
    rerun = {"raw_rows": FILES, "as_of": "2026-11-26", "latest": latest, "same_day_run_id": 7}
    differs = evaluate_drift(
        latest,
        eligible=100,
        entered=0,
        left=0,
        rerun_differences={"not_in_this_audience": 1, "values_changed": 2},
        **rerun,
    )
    assert outcomes(differs)["same_day_rerun"] == "fail"
    assert (
        "same_day_rerun: a rerun of 2026-11-26, whose audience differs from run #7 published to "
        "this destination for that day (1 not in this audience, 2 values changed)"
        in differs.describe()
    )
    assert "eligible_audience.csv (a full sync)" in differs.describe()
    same = evaluate_drift(latest, eligible=100, entered=0, left=0, **rerun)
    assert outcomes(same)["same_day_rerun"] == "pass" and not same.failed
    accepted = evaluate_drift(
        latest,
        eligible=100,
        entered=0,
        left=0,
        rerun_differences={"email_changed": 1},
        accept_reason="a corrected consent export",
        **rerun,
    )
    assert outcomes(accepted)["same_day_rerun"] == "accepted" and not accepted.failed


def test_an_empty_audience_fails_unless_allowed_and_accept_drift_does_not_do() -> None:
    empty = evaluate_drift(None, eligible=0, entered=0, left=0, raw_rows=FILES, customers=15)
    assert outcomes(empty)["audience_empty"] == "fail"
    assert "nobody of 15 customers is eligible" in empty.describe()
    accepted = evaluate_drift(
        None, eligible=0, entered=0, left=0, raw_rows=FILES, accept_reason="it is fine"
    )
    assert outcomes(accepted)["audience_empty"] == "fail"
    allowed = evaluate_drift(
        None, eligible=0, entered=0, left=0, raw_rows=FILES, allow_empty_audience=True
    )
    assert outcomes(allowed)["audience_empty"] == "pass" and not allowed.failed


def test_input_loss_fails_beyond_the_threshold_and_growth_never_does() -> None:
    rows = {**FILES, "bookings": 79, "consent_events": 500}
    result = evaluate_drift(previous_run(), eligible=100, entered=0, left=0, raw_rows=rows)
    assert outcomes(result)["input_rows:bookings"] == "fail"
    assert outcomes(result)["input_rows:consent_events"] == "pass"
    assert "bookings: 100 -> 79 rows, lost 21.0%; limit 20.0%" in result.describe()

    result = evaluate_drift(
        previous_run(),
        eligible=100,
        entered=0,
        left=0,
        raw_rows={**FILES, "bookings": 60},
        thresholds=DriftThresholds(max_input_loss=0.5),
    )
    assert not result.failed


def test_an_accepted_change_passes_and_says_so() -> None:
    result = evaluate_drift(
        previous_run(),
        eligible=50,
        entered=0,
        left=50,
        raw_rows={**FILES, "suppressions": 0},
        accept_reason="  new consent policy  ",
    )
    assert not result.failed
    assert result.status == "accepted"
    assert result.accepted_reason == "new consent policy"
    assert outcomes(result)["audience_change"] == "accepted"
    assert outcomes(result)["input_rows:suppressions"] == "accepted"
    assert outcomes(result)["input_rows:bookings"] == "pass"


def test_email_events_lost_on_a_consent_channel_fail_unless_accepted() -> None:
    """A channel whose email events (its opt-outs among them) are no longer read fails, however
    small a part of the file it is: gone from the export, or now read as not email."""
    unchanged = {"eligible": 100, "entered": 0, "left": 0, "raw_rows": FILES}
    email_events = {
        "email": ChannelEvents(1000, 990, "email"),  # 1% fewer: within the limit
        "newsletter": ChannelEvents(40, 0),  # gone from the export
        "news-sms": ChannelEvents(12, 0, "not_email"),  # listed in non_email_channels since
        "promo": ChannelEvents(10, 7, "possibly_email"),  # 30% fewer
        "web": ChannelEvents(5, 9, "possibly_email"),  # growth never fails
    }
    lost = evaluate_drift(previous_run(), email_events=email_events, **unchanged)
    check = next(c for c in lost.checks if c.control == "email_consent_channels")
    assert check.outcome == "fail" and lost.failed
    assert (check.previous, check.current, check.share) == (1067, 1006, 1.0)
    assert check.detail == (
        "email events lost on 3 consent channel(s) since the previous run to this destination "
        "(newsletter: 40 -> 0 email events, lost 100.0%, gone from the export; news-sms: 12 -> 0 "
        "email events, lost 100.0%, now read as not email (var non_email_channels); promo: 10 -> "
        "7 email events, lost 30.0%, fewer in the export); limit 20.0%: an opt-out that is no "
        "longer read no longer excludes"
    )
    kept = {"email": ChannelEvents(1000, 990, "email"), "web": ChannelEvents(5, 9)}
    passed = evaluate_drift(previous_run(), email_events=kept, **unchanged)
    assert outcomes(passed)["email_consent_channels"] == "pass" and not passed.failed
    assert "2 consent channel(s) the previous run read email events on: 1005 -> 999" in next(
        c.detail for c in passed.checks if c.control == "email_consent_channels"
    )
    # the threshold is the input loss's: 30% fewer passes at 0.3, fails at 0.29
    promo = {"promo": ChannelEvents(10, 7, "possibly_email")}
    for limit, outcome in ((0.3, "pass"), (0.29, "fail")):
        result = evaluate_drift(
            previous_run(),
            email_events=promo,
            thresholds=DriftThresholds(max_input_loss=limit),
            **unchanged,
        )
        assert outcomes(result)["email_consent_channels"] == outcome
    accepted = evaluate_drift(
        previous_run(), email_events=email_events, accept_reason="newsletter retired", **unchanged
    )
    assert outcomes(accepted)["email_consent_channels"] == "accepted" and not accepted.failed
    # a previous run that kept no channels, or read no email event: nothing lost
    older = evaluate_drift(previous_run(), email_events=None, **unchanged)
    assert outcomes(older)["email_consent_channels"] == "not_applicable"
    assert "recorded before the history kept its consent channels" in next(
        c.detail for c in older.checks if c.control == "email_consent_channels"
    )
    none = evaluate_drift(previous_run(), email_events={}, **unchanged)
    assert outcomes(none)["email_consent_channels"] == "pass"


def test_opt_outs_lost_fail_however_many_opt_ins_came_instead() -> None:
    """A channel's events withholding consent (every status but OPT_IN) are checked apart from
    its email events: opt-outs gone and as many opt-ins arrived leave the email events as they
    were, and still fail. A previous run that did not keep them is checked on email events."""
    unchanged = {"eligible": 100, "entered": 0, "left": 0, "raw_rows": FILES}

    def check(email_events: dict[str | None, ChannelEvents], limit: float = 0.2) -> DriftCheck:
        result = evaluate_drift(
            previous_run(),
            email_events=email_events,
            thresholds=DriftThresholds(max_input_loss=limit),
            **unchanged,
        )
        return next(c for c in result.checks if c.control == "email_consent_channels")

    swapped = {"email": ChannelEvents(100, 100, "email", 40, 28)}  # 12 opt-outs now opt-ins
    failed = check(swapped)
    assert failed.outcome == "fail" and failed.share == pytest.approx(0.3)
    assert failed.detail == (
        "email events lost on 1 consent channel(s) since the previous run to this destination "
        "(email: 100 -> 100 email events; 40 -> 28 of them withholding consent (every status "
        "but OPT_IN), lost 30.0%, fewer withholding consent in the export (opt-ins do not make "
        "up for opt-outs)); limit 20.0%: an opt-out that is no longer read no longer excludes"
    )
    assert check(swapped, limit=0.3).outcome == "pass"
    # both lost: the email events' loss is named, and the opt-outs' too when it is larger
    both = check({"promo": ChannelEvents(10, 5, "possibly_email", 10, 5)})
    assert "(promo: 10 -> 5 email events, lost 50.0%, fewer in the export)" in both.detail
    more = check({"email": ChannelEvents(100, 75, "email", 40, 10)})
    assert (
        "(email: 100 -> 75 email events, lost 25.0%; 40 -> 10 of them withholding consent "
        "(every status but OPT_IN), lost 75.0%, fewer withholding consent in the export"
    ) in more.detail
    fewer_opt_ins = check({"email": ChannelEvents(100, 70, "email", 40, 40)})
    assert "email: 100 -> 70 email events, lost 30.0%, fewer in the export)" in (
        fewer_opt_ins.detail
    )
    grown = check({"email": ChannelEvents(100, 110, "email", 40, 45)})
    assert grown.outcome == "pass"
    assert grown.detail == (
        "1 consent channel(s) the previous run read email events on: 100 -> 110 email events, "
        "40 -> 45 of them withholding consent, none lost more than 20.0%"
    )
    not_kept = check({"email": ChannelEvents(100, 100, "email", None, 0)})
    assert not_kept.outcome == "pass"
    assert not_kept.detail == (
        "1 consent channel(s) the previous run read email events on: 100 -> 100 email events, "
        "none lost more than 20.0%"
    )


def test_any_customer_published_without_the_opt_out_that_excluded_them_fails() -> None:
    """One customer is enough (no share): the first five are named by id, with the event, the
    event printable and without addresses (free text from the export); accepted, it passes."""
    unchanged = {"eligible": 100, "entered": 1, "left": 0, "raw_rows": FILES}
    one = evaluate_drift(
        previous_run(), lost_opt_outs=LostExclusions(1, ((42, "CE-1"),)), **unchanged
    )
    check = next(c for c in one.checks if c.control == "lost_opt_outs")
    assert (check.outcome, check.current) == ("fail", 1) and one.failed
    assert check.detail == (
        "1 customer(s) published, themselves or at their address, "
        "whose opt-out the previous run to this destination read is no "
        "longer read (gone from the export, quarantined, re-dated or turned into an opt-in): "
        "customer 42 (event CE-1), in the "
        "model audience_lost_opt_outs; an opt-out that is no longer read no longer excludes"
    )
    shown = (*((customer, f"CE-{customer}") for customer in range(1, 5)), (5, "a@example.com\nx"))
    many = evaluate_drift(previous_run(), lost_opt_outs=LostExclusions(12, shown), **unchanged)
    detail = next(c.detail for c in many.checks if c.control == "lost_opt_outs")
    assert (
        "customer 4 (event CE-4), customer 5 "
        f"(event {removed_address('a@example.com')}?x) and 7 more,"
    ) in detail
    blank = evaluate_drift(
        previous_run(), lost_opt_outs=LostExclusions(1, ((7, None),)), **unchanged
    )
    assert "customer 7 (an event with a blank id), in the model" in next(
        c.detail for c in blank.checks if c.control == "lost_opt_outs"
    )
    accepted = evaluate_drift(
        previous_run(),
        lost_opt_outs=LostExclusions(1, ((42, "CE-1"),)),
        accept_reason="CE-1 was entered in error",
        **unchanged,
    )
    assert outcomes(accepted)["lost_opt_outs"] == "accepted" and not accepted.failed
    none = evaluate_drift(previous_run(), lost_opt_outs=LostExclusions(compared=40), **unchanged)
    check = next(c for c in none.checks if c.control == "lost_opt_outs")
    assert (check.outcome, check.current) == ("pass", 0)
    assert check.detail == (
        "no customer published, themselves or at their address, "
        "whose opt-out the previous run to this destination read is no "
        "longer read (40 customer(s) whose latest email event withheld consent in that run)"
    )
    first = evaluate_drift(None, lost_opt_outs=LostExclusions(), **unchanged)
    check = next(c for c in first.checks if c.control == "lost_opt_outs")
    assert check.outcome == "not_applicable"
    assert check.detail == "first published run to this destination: nothing to compare with"


def test_lost_opt_outs_has_nothing_to_compare_with_a_run_that_kept_no_withholding_events() -> None:
    """A previous run recorded before the history kept each customer's withholding event
    lists nobody, and the check says it compared nothing rather than that nothing was lost."""
    result = evaluate_drift(
        previous_run(),
        lost_opt_outs=LostExclusions(compared=None),
        eligible=100,
        entered=0,
        left=0,
        raw_rows=FILES,
    )
    check = next(c for c in result.checks if c.control == "lost_opt_outs")
    assert check.outcome == "not_applicable" and not result.failed
    assert check.detail == (
        "the previous run to this destination was recorded before the history kept each "
        "customer's withholding event: nothing to compare with"
    )


def test_any_customer_published_on_a_suppression_not_ended_fails() -> None:
    """One customer is enough: named with the suppression's last day (or none); accepted, it
    passes; against a run that kept no suppressions, nothing is compared."""
    unchanged = {"eligible": 100, "entered": 2, "left": 0, "raw_rows": FILES}
    lost = LostExclusions(2, ((7, None), (42, "2026-12-31")), compared=21)
    result = evaluate_drift(previous_run(), lost_suppressions=lost, **unchanged)
    check = next(c for c in result.checks if c.control == "lost_suppressions")
    assert (check.outcome, check.current, check.subject) == ("fail", 2, "suppressions")
    assert result.failed
    assert check.detail == (
        "2 customer(s) published, themselves or at their address, "
        "whom the previous run to this destination held suppressed "
        "with no end or through a day not yet past (gone from the export, quarantined, "
        "shortened, or no longer naming them): customer 7 (suppressed with no "
        "end), customer 42 (suppressed through 2026-12-31), in the model "
        "audience_lost_suppressions; a suppression that is no longer read no longer excludes"
    )
    # a customer not published whose address another holder is published at is named with them
    at_address = LostExclusions(1, ((9, None),), compared=21, published_as=((9, 10),))
    shared = evaluate_drift(previous_run(), lost_suppressions=at_address, **unchanged)
    assert "customer 9 (suppressed with no end; customer 10 is published at their address)" in next(
        c.detail for c in shared.checks if c.control == "lost_suppressions"
    )
    accepted = evaluate_drift(
        previous_run(), lost_suppressions=lost, accept_reason="lifted by support", **unchanged
    )
    assert outcomes(accepted)["lost_suppressions"] == "accepted" and not accepted.failed
    none = evaluate_drift(
        previous_run(), lost_suppressions=LostExclusions(compared=21), **unchanged
    )
    assert next(c.detail for c in none.checks if c.control == "lost_suppressions") == (
        "no customer published, themselves or at their address, "
        "whom the previous run to this destination held suppressed with "
        "no end or through a day not yet past (21 customer(s) suppressed in that run)"
    )
    not_kept = evaluate_drift(
        previous_run(), lost_suppressions=LostExclusions(compared=None), **unchanged
    )
    check = next(c for c in not_kept.checks if c.control == "lost_suppressions")
    assert check.outcome == "not_applicable"
    assert check.detail == (
        "the previous run to this destination was recorded before the history kept each "
        "customer's suppression: nothing to compare with"
    )


def test_a_lost_channel_is_named_without_addresses_and_printable() -> None:
    email_events = {"ops@example.com\nlist": ChannelEvents(8, 0), None: ChannelEvents(3, 0)}
    result = evaluate_drift(
        previous_run(), eligible=100, entered=0, left=0, raw_rows=FILES, email_events=email_events
    )
    detail = next(c.detail for c in result.checks if c.control == "email_consent_channels")
    assert "ops@example.com" not in detail and "\n" not in detail
    assert f"({removed_address('ops@example.com')}?list: 8 -> 0 email events" in detail
    assert "; (blank): 3 -> 0 email events, lost 100.0%, gone from the export)" in detail


def test_thresholds_must_be_shares() -> None:
    for bad in (-0.1, math.nan, math.inf):
        with pytest.raises(ValueError):
            DriftThresholds(max_audience_change=bad)


def test_bad_threshold_on_the_command_line_exits_2() -> None:
    completed = subprocess.run(
        [
            *RUN_PIPELINE_CLI,
            "--input-dir",
            "x",
            "--output-dir",
            "y",
            "--max-audience-change",
            "-1",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert "--max-audience-change" in completed.stderr


@pytest.mark.slow
def test_a_run_that_drifts_publishes_nothing_and_names_each_check(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    scenario: Scenario = run_scenario(tmp_path_factory)
    error = scenario.drift_error
    assert isinstance(error, DriftFailure), "the shrunk run was not stopped by the drift guard"
    message = str(error)
    assert "audience_change:" in message
    assert "of the previous audience (run #2, as of 2027-01-15); limit 20.0%" in message
    assert "input_rows:bookings: bookings: 333 -> 166 rows, lost 50.2%" in message
    assert "--accept-drift" in message
    # the outputs are still run #2's, byte for byte
    assert scenario.after_failure["eligible_audience.csv"] == scenario.audiences[2]
    assert scenario.after_failure["run_report.html"].decode("utf-8") == scenario.reports[2]
    # what it would have published is beside the output folder, and the message says where
    (kept,) = (scenario.work / ".out.diagnostics").iterdir()
    assert f"are in {kept} for diagnosis" in message
    assert kept.name.endswith("-as-of-2027-06-01")
    left = (kept / "audience_left.csv").read_text(encoding="utf-8").splitlines()
    assert left[0] == "customer_id,email,left_reason" and len(left) > 20
    assert not any(line.split(",")[1] in message for line in left[1:])
    # and the accepted rerun published, recording why
    accepted = scenario.results[3]
    assert accepted.run_id == 3
    assert accepted.drift.status == "accepted"
