"""The run report's template, rendered from hand-built facts (fast: no dbt run, no browser).

The facts have the shape ``collect_report_facts`` returns (a second published run that lost
two customers); one test builds them with ``collect_report_facts`` itself from a tiny DuckDB
database. tests/test_report_browser.py checks the real pipeline's pages in Chromium.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import duckdb
import pytest

from audience_pipeline.drift import DriftCheck, DriftResult
from audience_pipeline.reconciliation import consent_channels
from audience_pipeline.redaction import removed_address
from audience_pipeline.report import channels_shown, collect_report_facts, render_report

HOSTILE = '<script>alert("x")</script> & co'


def control(name: str, status: str = "pass", type_: str = "data_test", detail: str = "") -> dict:
    return {"control": name, "type": type_, "status": status, "detail": detail}


@pytest.fixture
def facts() -> dict[str, Any]:
    """A second published run: 1,234 rows in, 100 customers, 60 published (2 in, 4 out)."""
    return {
        "parameters": [
            {"name": "recent_booking_days", "value": "180", "previous": "365", "changed": True},
            {
                "name": "counted_booking_statuses",
                "value": "COMPLETED",
                "previous": None,
                "changed": False,
            },
            {"name": "min_recent_bookings", "value": "1", "previous": "1", "changed": False},
        ],
        "run": {
            "run_id": 2,
            "as_of_date": "2027-01-15",
            "drift_status": "accepted",
            "drift_acceptance_reason": HOSTILE,
            "destination": "/data/published/crm",
            "stopped": False,
        },
        "files": [
            {"input_file": "bookings", "raw": 1000, "accepted": 990, "rejected": 8, "duplicate": 2},
            {"input_file": "customers", "raw": 234, "accepted": 230, "rejected": 4, "duplicate": 0},
        ],
        "rejected_reasons": [
            {"input_file": "bookings", "reason": HOSTILE, "rows": 8},
            {"input_file": "bookings", "reason": "duplicate of an earlier line", "rows": 2},
            {"input_file": "customers", "reason": "invalid customer_id", "rows": 4},
        ],
        "consent_channels": [
            {
                "channel": None,
                "reading": "possibly_email",
                "events": 3,
                "email_events": 1,
                "withholding_events": 1,
                "customers": 2,
                "change": "seen_before",
                "previous_reading": "possibly_email",
            },
            {
                "channel": "email",
                "reading": "email",
                "events": 1200,
                "email_events": 1200,
                "withholding_events": 240,
                "customers": 99,
                "change": "seen_before",
                "previous_reading": "email",
            },
            {
                "channel": HOSTILE,
                "reading": "possibly_email",
                "events": 1,
                "email_events": 1,
                "withholding_events": 1,
                "customers": 1,
                "change": "new",
                "previous_reading": None,
            },
        ],
        "consent_channels_not_shown": 0,
        "customers": 100,
        "eligible": 60,
        "waterfall": [
            {
                "step": 1,
                "reason": "inactive",
                "description": "The current snapshot is not active",
                "before": 100,
                "removed": 30,
                "after": 70,
            },
            {
                "step": 2,
                "reason": "not_opted_in",
                "description": "The latest email consent event is not OPT_IN",
                "before": 70,
                "removed": 10,
                "after": 60,
            },
        ],
        "change": {
            "previous_run_id": 1,
            "previous_as_of_date": "2026-11-26",
            "entered": 2,
            "left": 4,
            "stayed": 58,
            "left_by_reason": [{"reason": "not_opted_in", "customers": 4}],
            "entered_by_previous_reason": [
                {"reason": "inactive", "customers": 1},
                {"reason": "new_customer", "customers": 1},
            ],
            "previous_eligible": 62,
            "current_eligible": 60,
        },
        "deltas": {
            "entered": 3,
            "left": 5,
            "updated": 7,
            "left_by_reason": [
                {"reason": "email_changed", "rows": 1},
                {"reason": "not_opted_in", "rows": 4},
            ],
        },
        "trend": [
            {"run_id": 1, "as_of_date": "2026-11-26", "customers": 99, "eligible": 62},
            {"run_id": 2, "as_of_date": "2027-01-15", "customers": 100, "eligible": 60},
        ],
        "controls": [
            control("unique_customers_customer_id"),
            control("assert_total_spend_reconciles"),
            control("audience_change", "accepted", "drift_guard", "62 -> 60 customers: 9.7%"),
            control("input_rows:bookings", "pass", "drift_guard", HOSTILE),
        ],
    }


def test_values_from_the_data_are_escaped(facts: dict[str, Any]) -> None:
    page = render_report(facts)
    assert "<script" not in page.lower()
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co"
    # the rejection reason, the acceptance reason, a drift check's detail and a channel
    assert page.count(escaped) == 4
    assert f"<td>{escaped}</td>" in page
    assert f"Change accepted by a person: “{escaped}”" in page
    # in an attribute too
    facts["files"][0]["input_file"] = HOSTILE
    assert f'data-input-file="{escaped}"' in render_report(facts)


def test_rendering_is_deterministic(facts: dict[str, Any]) -> None:
    first = render_report(facts)
    assert render_report(copy.deepcopy(facts)) == first
    assert first.endswith("</html>\n")


@pytest.mark.parametrize(
    "element",
    [
        '<div class="value" id="kpi-rows-in" data-value="1234">1,234</div>',
        '<div class="value" id="kpi-customers" data-value="100">100</div>',
        '<div class="value" id="kpi-published" data-value="60">60</div>',
        '<td class="num" id="change-previous" data-value="62">\n      62</td>',
        '<td class="num" id="change-entered">2</td>',
        '<td class="num" id="change-left">4</td>',
        '<span id="controls-passed">2</span> of\n  <span id="controls-total">2</span>',
        '<rect class="waterfall-bar waterfall-end" data-key="published" data-value="60" ',
        '<circle class="trend-point" data-run-id="2" data-value="60" ',
        '<tr class="entered-reason" data-reason="new_customer"><td>entered: new customer</td>',
        '<code id="destination">/data/published/crm</code>',
        '<td class="num" id="delta-entered">3</td>',
        '<td class="num" id="delta-left">5</td>',
        '<td class="num" id="delta-updated">7</td>',
        '<tr class="delta-left-reason" data-reason="email_changed">',
        '<tr class="consent-channel reading-possibly_email change-seen_before"><td>(blank)</td>'
        '<td>possibly email</td><td class="num" data-metric="events">3</td>'
        '<td class="num" data-metric="email-events">1</td>',
        '<td>email</td><td>email</td><td class="num" data-metric="events">1,200</td>',
    ],
)
def test_numbers_sit_in_their_elements(facts: dict[str, Any], element: str) -> None:
    assert element in render_report(facts)


def test_the_waterfall_rows_add_up(facts: dict[str, Any]) -> None:
    page = render_report(facts)
    steps = re.findall(
        r'data-metric="before">([\d,]+)</td><td class="num" data-metric="removed">([\d,]+)</td>'
        r'<td class="num" data-metric="after">([\d,]+)</td>',
        page,
    )
    assert steps == [("100", "30", "70"), ("70", "10", "60")]


def test_a_first_run_has_nothing_to_compare(facts: dict[str, Any]) -> None:
    facts["change"] = {
        **facts["change"],
        "previous_run_id": None,
        "previous_as_of_date": None,
        "previous_eligible": None,
        "left_by_reason": [],
        "entered_by_previous_reason": [],
    }
    facts["rejected_reasons"] = []
    page = render_report(facts)
    assert 'id="no-previous-run"' in page and 'id="change-table"' not in page
    assert '<tr><td colspan="3">No row was rejected.</td></tr>' in page


def test_the_page_is_one_file(facts: dict[str, Any]) -> None:
    page = render_report(facts).lower()
    assert "<style>\n:root {" in page and "#controls-table col.control" in page
    for marker in ("http://", "https://", "<script", "<link", "<img", "url(", "@import"):
        assert marker not in page, marker


def test_collected_facts_redact_addresses_and_render() -> None:
    """collect_report_facts on a tiny database: its facts render; no address reaches the page."""
    con = duckdb.connect()
    con.execute(
        """
        create schema marts;
        create table marts.rejected_customers as
            select * from (values ('rejected', 'invalid customer_id'), ('duplicate', null))
            as t(disposition, reason);
        create table marts.audience_exclusion_summary as
            select * from (values ('inactive', 1, 3), ('eligible', 99, 7))
            as t(decision_reason, exclusion_step, customers);
        create table marts.customer_audience_decisions as
            select * from (values ('inactive', 'The current snapshot is not active'))
            as t(decision_reason, exclusion_description);
        create table marts.audience_changes as
            select 'stayed' as change_type, null::int as previous_run_id,
                null::date as previous_as_of_date, 'eligible' as decision_reason,
                null::int as exclusion_step, null as previous_decision_reason
            from range(7);
        create table marts.audience_previous_run as
            select '/out/crm' as destination, date '2026-11-26' as as_of_date,
                null::int as previous_run_id, null::date as previous_as_of_date;
        """
    )
    drift = DriftResult(
        checks=(DriftCheck("input_rows:customers", "customers", 20, 12, 0.4, 0.2, "accepted", ""),),
        accepted_reason="asked by ann.smith@example.com <it's fine>",
    )
    report = {
        "as_of_date": "2026-11-26",
        "customers": 10,
        "eligible": 7,
        "input_files": {"customers": {"raw": 12, "accepted": 10, "rejected": 1, "duplicate": 1}},
        "controls": [{"control": "unique_id", "type": "data_test", "status": "pass"}],
        "destination": "/out/crm",
        "deltas": {"entered": 7, "left": 0, "updated": 0, "left_by_reason": {}},
        "consent_channels": [],
    }
    facts = collect_report_facts(con, report=report, drift=drift, run_id=1)
    removed = removed_address("ann.smith@example.com")
    assert facts["run"]["drift_acceptance_reason"] == f"asked by {removed} <it's fine>"
    page = render_report(facts)
    assert "example.com" not in page and not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", page)
    assert f"“asked by {removed} &lt;it&#39;s fine&gt;”" in page
    assert 'id="kpi-rows-in" data-value="12">12<' in page
    assert (
        '<td class="num" data-metric="removed">3</td><td class="num" data-metric="after">7' in page
    )
    assert "<td>duplicate of an earlier line</td>" in page


def test_the_parameters_in_force_and_a_change_since_the_previous_run_are_shown(
    facts: dict[str, Any],
) -> None:
    page = render_report(facts)
    assert '<span id="parameter-recent_booking_days">180</span>' in page
    assert "(was 365 in the previous run)" in page
    assert page.count("in the previous run)") == 1  # unchanged ones say nothing


def test_a_stopped_run_says_it_published_nothing(facts: dict[str, Any]) -> None:
    assert 'id="stopped"' not in render_report(facts)
    facts["run"]["stopped"] = True
    page = render_report(facts)
    assert "<title>Stopped audience run (would have been #2) as of 2027-01-15</title>" in page
    assert '<p id="stopped"><strong>This run was stopped and published nothing</strong>' in page


def test_the_trend_marks_this_run_wherever_its_date_puts_it(facts: dict[str, Any]) -> None:
    facts["trend"].append({"run_id": 3, "as_of_date": "2027-02-01", "customers": 1, "eligible": 9})
    page = render_report(facts)
    assert re.search(r'data-run-id="2" data-value="60" cx="[\d.]+" cy="[\d.]+" r="6"', page)
    assert re.search(r'data-run-id="3" data-value="9" cx="[\d.]+" cy="[\d.]+" r="4"', page)


def test_the_page_lists_the_channels_that_count_first_and_at_most_thirty(
    facts: dict[str, Any],
) -> None:
    email = {"channel": "email", "reading": "email", "events": 9, "email_events": 9}
    others = [
        {
            "channel": f"c{index:02d}",
            "reading": "possibly_email",
            "events": 5,
            "email_events": index,
            "change": "new" if index == 3 else "seen_before",
            "previous_reading": None if index == 3 else "possibly_email",
        }
        for index in range(40)
    ]
    shown, not_shown = channels_shown([email, *others])
    # a channel new since the previous run first, then the most counted
    assert [channel["channel"] for channel in shown[:3]] == ["c03", "c39", "c38"]
    assert len(shown) == 30 and email not in shown and not_shown == 11
    facts["consent_channels"] = [
        {**channel, "withholding_events": channel["email_events"], "customers": 1}
        for channel in shown
    ]
    facts["consent_channels_not_shown"] = not_shown
    page = render_report(facts)
    assert page.count('class="consent-channel ') == 30
    assert page.count('<td class="channel-change">new</td>') == 1
    assert re.search(r"11\s+more channels, in <code>reconciliation.json</code>", page)


def test_each_channel_says_how_it_compares_with_the_previous_run(
    facts: dict[str, Any],
) -> None:
    base = {
        "reading": "not_email",
        "events": 2,
        "email_events": 0,
        "withholding_events": 0,
        "customers": 1,
    }
    facts["consent_channels"] = [
        {
            **base,
            "channel": "sms",
            "change": "read_differently",
            "previous_reading": "possibly_email",
        },
        {**base, "channel": "push", "change": "new", "previous_reading": None},
        {**base, "channel": "post", "change": None, "previous_reading": None},
        {**base, "channel": "mms\x07", "change": "seen_before", "previous_reading": "not_email"},
    ]
    page = render_report(facts)
    cells = re.findall(r'<td class="channel-change">(.*?)</td>', page, flags=re.DOTALL)
    assert cells == [
        "read differently (was possibly email)",
        "new",
        "nothing to compare with",
        "seen before",
    ]
    assert "<td>mms?</td>" in page and "\x07" not in page  # a control character as ?
    assert page.count('class="consent-channel reading-not_email change-new"') == 1


def test_a_channel_shaped_like_an_address_is_not_shown() -> None:
    """A channel is free text from the export: an address written there never leaves."""
    con = duckdb.connect()
    con.execute(
        """
        create schema marts;
        create table marts.audience_consent_channel_changes as
            select * from (values
                ('ann.smith@example.com', 'possibly_email', 2, 1, 1, 2, 'new', null),
                (null, 'possibly_email', 1, 1, 1, 1, null, null),
                ('email', 'email', 5, 5, 2, 4, 'seen_before', 'email')
            ) as t(channel, channel_reading, event_count, email_event_count,
                withholding_event_count, customer_count, channel_change,
                previous_channel_reading);
        """
    )
    channels = consent_channels(con)
    removed = removed_address("ann.smith@example.com")
    assert [channel["channel"] for channel in channels] == [None, removed, "email"]
    assert channels[1] == {
        "channel": removed,
        "reading": "possibly_email",
        "events": 2,
        "email_events": 1,
        "withholding_events": 1,
        "customers": 2,
        "change": "new",
        "previous_reading": None,
    }
