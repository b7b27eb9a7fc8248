"""The run report, rendered in headless Chromium: the funnel adds up on screen, counts only.

Every number is read back from the rendered page (the text a person sees, and the drawn bars'
positions), never from the data that produced it. The reports are those of the audit
scenario's three published runs (tests/audit_helpers.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from audit_helpers import (
    ACCEPT_REASON,
    Scenario,
    personal_values,
    run_scenario,
    screenshot_dir,
)
from chromium import Chromium, chromium

from audience_pipeline.explain import read_rules

pytestmark = pytest.mark.slow

READ_BACK = r"""
(() => {
  const num = (el) => {
    if (!el) return null;
    const text = (el.innerText ?? el.textContent).trim()
      .replace(/[\u2212-]/, '-').replace(/,/g, '');
    return /^-?\d+$/.test(text) ? Number(text) : text;
  };
  const shown = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden'
      && style.display !== 'none';
  };
  const cells = (selector, metrics) => [...document.querySelectorAll(selector)].map((row) => {
    const out = {shown: shown(row), key: row.dataset.reason || row.dataset.inputFile
      || row.dataset.runId || row.dataset.step};
    for (const metric of metrics) out[metric] = num(row.querySelector(`[data-metric=${metric}]`));
    return out;
  });
  const box = (el) => { const b = el.getBoundingClientRect(); return {top: b.top, bottom: b.bottom,
    height: b.height, left: b.left}; };
  return {
    title: document.getElementById('report-title').innerText,
    kpi: Object.fromEntries([...document.querySelectorAll('.kpi .value')].map(
      (el) => [el.id, num(el)])),
    files: cells('#files-table tr.input-file', ['raw', 'accepted', 'rejected', 'duplicate']),
    reasons: cells('#rejected-table tr.rejected-reason', ['rows']),
    start: num(document.querySelector('#waterfall-start [data-metric=after]')),
    end: num(document.querySelector('#waterfall-end [data-metric=after]')),
    steps: cells('#waterfall-table tr.waterfall-step', ['before', 'removed', 'after']),
    bars: [...document.querySelectorAll('#waterfall-chart rect.waterfall-bar')].map(
      (rect) => ({key: rect.dataset.key, kind: rect.classList[1], ...box(rect)})),
    labels: [...document.querySelectorAll('#waterfall-chart text.waterfall-label')].map(
      (text) => ({key: text.dataset.key, value: num(text), shown: shown(text)})),
    noPrevious: !!document.getElementById('no-previous-run'),
    change: {
      previous: num(document.getElementById('change-previous')),
      entered: num(document.getElementById('change-entered')),
      left: num(document.getElementById('change-left')),
      current: num(document.getElementById('change-current')),
      previousRun: num(document.getElementById('previous-run-id')),
    },
    leftReasons: cells('#left-table tr.left-reason', ['customers']),
    enteredReasons: cells('#entered-table tr.entered-reason', ['customers']),
    trend: cells('#trend-table tr.trend-run', ['customers', 'eligible']),
    trendPoints: document.querySelectorAll('#trend-chart circle.trend-point').length,
    controls: [...document.querySelectorAll('#controls-table tr.control')].map((row) => ({
      type: row.cells[1].innerText, outcome: row.cells[2].innerText, shown: shown(row)})),
    acceptance: document.getElementById('drift-acceptance')?.innerText || null,
    text: document.body.innerText,
  };
})()
"""


SCREENSHOT = "run_report.png"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return run_scenario(tmp_path_factory)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory.mktemp("report_screenshots"))


@pytest.fixture(scope="module")
def rendered(
    scenario: Scenario, shots: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[int, dict[str, Any]]:
    """Each published run's report opened in Chromium and read back; a screenshot saved."""
    folder = tmp_path_factory.mktemp("reports")
    pages: dict[int, dict[str, Any]] = {}
    with chromium(width=1200, height=1000) as browser:
        browser.page("Network.enable")
        for run_id, html in scenario.reports.items():
            path = folder / f"run_report_{run_id}.html"
            path.write_text(html, encoding="utf-8")
            seen = len(requests_made(browser))
            browser.open(path.as_uri())
            pages[run_id] = browser.evaluate(READ_BACK)
            pages[run_id]["requests"] = requests_made(browser)[seen:]
            if run_id == 2:  # the second run of the sample: something changed
                browser.screenshot(shots / SCREENSHOT, height=1500)
    return pages


def requests_made(browser: Chromium) -> list[str]:
    return [
        event["params"]["request"]["url"] for event in browser.events("Network.requestWillBeSent")
    ]


def test_the_waterfall_adds_up_on_screen(
    scenario: Scenario, rendered: dict[int, dict[str, Any]]
) -> None:
    with duckdb.connect(str(scenario.database), read_only=True) as con:
        codes = [rule.code for rule in read_rules(con)]
    assert len(codes) == 10
    for run_id, page in rendered.items():
        steps = page["steps"]
        assert [step["key"] for step in steps] == codes, run_id
        assert all(step["shown"] for step in steps)
        assert page["start"] == page["kpi"]["kpi-customers"]
        level = page["start"]
        for step in steps:
            assert step["before"] == level, (run_id, step)
            assert step["before"] - step["removed"] == step["after"], (run_id, step)
            level = step["after"]
        assert level == page["end"] == page["kpi"]["kpi-published"], run_id
        assert page["start"] - sum(step["removed"] for step in steps) == page["end"]

        # the labels drawn on the bars show the same numbers
        labels = {label["key"]: label["value"] for label in page["labels"]}
        assert all(label["shown"] for label in page["labels"])
        assert labels["customers"] == page["start"]
        assert labels["published"] == page["end"]
        for step, label in zip(steps, page["labels"][1:-1], strict=True):
            assert label["value"] == -step["removed"]

        # and the bars themselves: each step starts where the previous one ended
        bars = page["bars"]
        start, *step_bars, end = bars
        assert start["kind"] == "waterfall-start" and end["kind"] == "waterfall-end"
        assert start["height"] > 100
        top = start["top"]
        for bar in step_bars:
            assert bar["top"] == pytest.approx(top, abs=0.6), (run_id, bar)
            top = bar["bottom"]
        assert end["top"] == pytest.approx(top, abs=0.6)
        assert end["bottom"] == pytest.approx(start["bottom"], abs=0.6)
        drawn = sum(bar["height"] for bar in step_bars) + end["height"]
        assert drawn == pytest.approx(start["height"], abs=1.0)
        scale = start["height"] / page["start"]
        assert end["height"] == pytest.approx(page["end"] * scale, abs=1.0)


def test_rows_in_and_rejected_reasons_add_up(rendered: dict[int, dict[str, Any]]) -> None:
    for page in rendered.values():
        files = {row["key"]: row for row in page["files"]}
        assert set(files) == {"bookings", "consent_events", "customers", "suppressions"}
        assert page["kpi"]["kpi-rows-in"] == sum(row["raw"] for row in files.values())
        for name, row in files.items():
            assert row["raw"] == row["accepted"] + row["rejected"] + row["duplicate"], name
            shown = sum(r["rows"] for r in page["reasons"] if r["key"] == name)
            assert shown == row["rejected"] + row["duplicate"], name


def test_the_change_and_the_trend_are_shown(rendered: dict[int, dict[str, Any]]) -> None:
    first = rendered[1]
    assert first["noPrevious"]
    assert first["trendPoints"] == 1
    for run_id in (2, 3):
        page = rendered[run_id]
        change = page["change"]
        assert not page["noPrevious"]
        assert change["previousRun"] == run_id - 1
        assert change["previous"] + change["entered"] - change["left"] == change["current"]
        assert change["current"] == page["kpi"]["kpi-published"]
        assert change["previous"] == rendered[run_id - 1]["kpi"]["kpi-published"]
        assert sum(r["customers"] for r in page["leftReasons"]) == change["left"]
        assert sum(r["customers"] for r in page["enteredReasons"]) == change["entered"]
        assert all(r["key"] != "eligible" for r in page["leftReasons"])
        assert page["trendPoints"] == run_id
        assert [row["eligible"] for row in page["trend"]] == [
            rendered[n]["kpi"]["kpi-published"] for n in range(1, run_id + 1)
        ]
    assert "left: no_recent_booking" in rendered[2]["text"]
    assert (rendered[2]["change"]["entered"], rendered[2]["change"]["left"]) == (2, 8)


def test_every_control_is_listed_with_its_outcome(rendered: dict[int, dict[str, Any]]) -> None:
    for run_id, page in rendered.items():
        controls = page["controls"]
        # the data tests and the drift guard's checks (audience change, empty audience, as-of
        # order, same-day rerun, email consent channels, lost opt-outs, lost suppressions, one
        # per input file)
        assert len(controls) > 80 and all(row["shown"] for row in controls)
        drift = [row for row in controls if row["type"] == "drift_guard"]
        assert len(drift) == 11
        assert {row["outcome"] for row in controls if row["type"] != "drift_guard"} == {"pass"}
        expected = {"not_applicable", "pass"} if run_id == 1 else {"pass"}
        if run_id == 3:
            expected = {"accepted", "pass"}
        assert {row["outcome"] for row in drift} == expected, run_id
    assert ACCEPT_REASON in rendered[3]["acceptance"]


def test_the_report_is_self_contained(
    scenario: Scenario, rendered: dict[int, dict[str, Any]]
) -> None:
    for run_id, html in scenario.reports.items():
        lowered = html.lower()
        for marker in ("http://", "https://", "<script", "<link", "<img", "url(", "@import"):
            assert marker not in lowered, (run_id, marker)
        # the browser fetched nothing but the page itself
        requests = rendered[run_id]["requests"]
        assert len(requests) == 1 and requests[0].startswith("file://"), requests


def test_no_personal_data_in_reports_or_logs(
    scenario: Scenario, rendered: dict[int, dict[str, Any]]
) -> None:
    """No email address in the page source or the run's output; no first name on screen."""
    values = personal_values()
    emails = {value for value in values if "@" in value}
    names = values - emails
    assert scenario.cli is not None
    log = scenario.cli.stdout + scenario.cli.stderr
    sources = {f"report {run_id}": html for run_id, html in scenario.reports.items()}
    for where, text in {**sources, "run output": log}.items():
        lowered = text.lower()
        assert not [email for email in emails if email in lowered], where
    for run_id, html in scenario.reports.items():
        assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", html), run_id  # no address at all
    shown = {f"report {run_id}": page["text"] for run_id, page in rendered.items()}
    for where, text in {**shown, "run output": log}.items():
        words = set(re.findall(r"[a-z]+", text.lower()))
        assert not names & words, (where, sorted(names & words))


def test_a_screenshot_of_the_report_is_taken(shots: Path, rendered) -> None:
    assert (shots / SCREENSHOT).stat().st_size > 20_000
