"""The run report: one self-contained HTML page per published run (``run_report.html``).

It shows, with counts only (no email address, name or other personal value), the funnel of
the run: rows in per input file, rows rejected per reason, customers, each exclusion rule as a
waterfall step down to the published count, the change against the previous published run,
the trend of the audience over past runs, and every control with its outcome.

The page has no script and loads nothing (inline CSS and SVG only), so it opens offline and
from an archive. Every number is in an element with an id or a ``data-*`` attribute, so the
browser test can read back what the page shows.
"""

from __future__ import annotations

import html
import re
from typing import Any

import duckdb

from audience_pipeline.drift import DriftResult
from audience_pipeline.history import audience_trend, change_counts

REPORT_FILE = "run_report.html"

_EMAIL_LIKE = re.compile(r"[^\s@<>]+@[^\s@<>]+")


def _rejected_reasons(
    con: duckdb.DuckDBPyConnection, input_files: list[str]
) -> list[dict[str, Any]]:
    """Rows not accepted, per input file and reason (duplicates grouped as one reason)."""
    reasons = []
    for input_file in input_files:
        rows = con.execute(
            f"""
            select
                case when disposition = 'duplicate' then 'duplicate of an earlier line'
                    else reason end as reason,
                count(*) as row_count
            from marts.rejected_{input_file}
            group by all
            order by row_count desc, reason
            """
        ).fetchall()
        reasons.extend(
            {"input_file": input_file, "reason": reason, "rows": int(count)}
            for reason, count in rows
        )
    return reasons


def _waterfall(con: duckdb.DuckDBPyConnection, customers: int) -> list[dict[str, Any]]:
    """Each exclusion rule as a step: customers before it, removed by it, left after it."""
    rows = con.execute(
        """
        select summary.decision_reason, summary.exclusion_step, summary.customers,
            coalesce(any_value(decisions.exclusion_description), '') as description
        from marts.audience_exclusion_summary as summary
        left join marts.customer_audience_decisions as decisions
            on summary.decision_reason = decisions.decision_reason
        where summary.decision_reason <> 'eligible'
        group by all
        order by summary.exclusion_step
        """
    ).fetchall()
    steps = []
    remaining = customers
    for reason, step, removed, description in rows:
        steps.append(
            {
                "step": int(step),
                "reason": reason,
                "description": description,
                "before": remaining,
                "removed": int(removed),
                "after": remaining - int(removed),
            }
        )
        remaining -= int(removed)
    return steps


def collect_report_facts(
    con: duckdb.DuckDBPyConnection,
    *,
    report: dict[str, Any],
    drift: DriftResult,
    run_id: int,
) -> dict[str, Any]:
    """Everything the page shows, as counts, from the built database and the run's report.

    Nothing depends on the clock: the same inputs, as-of date and history give the same page
    (the time of the publish is in ``history.published_runs``).
    """
    input_files = sorted(report["input_files"])
    customers = int(report["customers"])
    eligible = int(report["eligible"])
    waterfall = _waterfall(con, customers)
    if waterfall and waterfall[-1]["after"] != eligible:
        raise ValueError("the exclusions do not add up to the published audience")
    changes = change_counts(con)
    trend = [*audience_trend(con)]
    previous_eligible = next(
        (run["eligible"] for run in trend if run["run_id"] == changes["previous_run_id"]), None
    )
    trend.append(
        {
            "run_id": run_id,
            "as_of_date": report["as_of_date"],
            "customers": customers,
            "eligible": eligible,
        }
    )
    controls = [
        {
            "control": control["control"],
            "type": control["type"],
            "status": control["status"],
            "detail": (
                f"{control['failing_rows']} failing rows" if control.get("failing_rows") else ""
            ),
        }
        for control in report["controls"]
    ] + [
        {
            "control": check.control,
            "type": "drift_guard",
            "status": check.outcome,
            "detail": check.detail,
        }
        for check in drift.checks
    ]
    reason = drift.accepted_reason
    return {
        "run": {
            "run_id": run_id,
            "as_of_date": report["as_of_date"],
            "drift_status": drift.status,
            "drift_acceptance_reason": _EMAIL_LIKE.sub("[address removed]", reason)
            if reason
            else None,
        },
        "files": [
            {
                "input_file": name,
                "raw": int(report["input_files"][name]["raw"]),
                "accepted": int(report["input_files"][name]["accepted"]),
                "rejected": int(report["input_files"][name]["rejected"]),
                "duplicate": int(report["input_files"][name]["duplicate"]),
            }
            for name in input_files
        ],
        "rejected_reasons": _rejected_reasons(con, input_files),
        "customers": customers,
        "eligible": eligible,
        "waterfall": waterfall,
        "change": {**changes, "previous_eligible": previous_eligible, "current_eligible": eligible},
        "trend": trend,
        "controls": controls,
    }


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------

_CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#d9e2ec; --bg:#f5f7fa; --in:#2f855a;
  --out:#c53030; --base:#3e4c59; --accent:#2b6cb0; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color:var(--ink); background:var(--bg); }
header { background:#102a43; color:#fff; padding:20px 32px; }
header h1 { margin:0 0 4px; font-size:22px; }
header p { margin:0; color:#bcccdc; }
main { max-width:1100px; margin:0 auto; padding:16px 32px 48px; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px 20px;
  margin:16px 0; }
h2 { font-size:17px; margin:0 0 10px; }
p.note { color:var(--muted); margin:4px 0 10px; }
.kpis { display:flex; gap:12px; flex-wrap:wrap; }
.kpi { flex:1 1 150px; background:var(--bg); border-radius:6px; padding:10px 14px; }
.kpi .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.kpi .value { font-size:26px; font-weight:600; }
table { border-collapse:collapse; width:100%; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); }
th { color:var(--muted); font-weight:600; font-size:12px; text-transform:uppercase; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
.status { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px;
  font-weight:600; }
.status-pass, .status-passed { background:#c6f6d5; color:#22543d; }
.status-accepted { background:#feebc8; color:#7b341e; }
.status-not_applicable { background:#e2e8f0; color:#4a5568; }
.status-fail, .status-failed, .status-error { background:#fed7d7; color:#822727; }
svg text { font-family:inherit; }
#controls-table { table-layout:fixed; }
#controls-table td { overflow-wrap:anywhere; vertical-align:top; }
#controls-table col.control { width:44%; } #controls-table col.type { width:12%; }
#controls-table col.outcome { width:13%; } #controls-table col.detail { width:31%; }
.grid { display:grid; grid-template-columns:1fr 1fr; gap:16px; }
@media (max-width:800px) { .grid { grid-template-columns:1fr; } }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _n(value: int | None) -> str:
    return "&ndash;" if value is None else f"{value:,}"


def _entered_label(reason: str) -> str:
    return "entered: new customer" if reason == "new_customer" else f"entered: was {_e(reason)}"


def _status(status: str) -> str:
    safe = re.sub(r"[^a-z_]", "", status.lower())
    return f'<span class="status status-{safe}">{_e(status)}</span>'


def _kpis(facts: dict[str, Any]) -> str:
    change = facts["change"]
    raw_total = sum(item["raw"] for item in facts["files"])
    items = [
        ("kpi-rows-in", "Rows in", raw_total),
        ("kpi-customers", "Customers", facts["customers"]),
        ("kpi-published", "Published", facts["eligible"]),
        ("kpi-entered", "Entered", change["entered"]),
        ("kpi-left", "Left", change["left"]),
    ]
    cells = "".join(
        f'<div class="kpi"><div class="label">{_e(label)}</div>'
        f'<div class="value" id="{key}" data-value="{value}">{_n(value)}</div></div>'
        for key, label, value in items
    )
    return f'<div class="kpis">{cells}</div>'


def _files_section(facts: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr class="input-file" data-input-file="{_e(f["input_file"])}">'
        f"<td>{_e(f['input_file'])}</td>"
        f'<td class="num" data-metric="raw">{_n(f["raw"])}</td>'
        f'<td class="num" data-metric="accepted">{_n(f["accepted"])}</td>'
        f'<td class="num" data-metric="rejected">{_n(f["rejected"])}</td>'
        f'<td class="num" data-metric="duplicate">{_n(f["duplicate"])}</td></tr>'
        for f in facts["files"]
    )
    reasons = (
        "".join(
            f'<tr class="rejected-reason" data-input-file="{_e(r["input_file"])}">'
            f"<td>{_e(r['input_file'])}</td><td>{_e(r['reason'])}</td>"
            f'<td class="num" data-metric="rows">{_n(r["rows"])}</td></tr>'
            for r in facts["rejected_reasons"]
        )
        or '<tr><td colspan="3">No row was rejected.</td></tr>'
    )
    return f"""
<section id="rows-in">
  <h2>Rows in, per input file</h2>
  <p class="note">Every data line of each file is accepted, rejected with a reason, or a
  duplicate of an earlier line: raw = accepted + rejected + duplicate.</p>
  <table id="files-table">
    <thead><tr><th>File</th><th class="num">Raw</th><th class="num">Accepted</th>
    <th class="num">Rejected</th><th class="num">Duplicate</th></tr></thead>
    <tbody>{rows}</tbody>
  </table>
</section>
<section id="rejected">
  <h2>Rows not accepted, per reason</h2>
  <p class="note">The rows themselves are in <code>rejected_&lt;file&gt;.csv</code> beside this
  report.</p>
  <table id="rejected-table">
    <thead><tr><th>File</th><th>Reason</th><th class="num">Rows</th></tr></thead>
    <tbody>{reasons}</tbody>
  </table>
</section>"""


def _waterfall_svg(facts: dict[str, Any]) -> str:
    customers = facts["customers"]
    steps = facts["waterfall"]
    columns = [("customers", "Customers", 0, customers, customers)]
    columns += [
        (s["reason"], f"{s['step']}. {s['reason']}", s["after"], s["before"], s["removed"])
        for s in steps
    ]
    columns.append(("published", "Published", 0, facts["eligible"], facts["eligible"]))
    width, height = 1020, 360
    left, top, bottom = 10, 24, 120
    plot = height - top - bottom
    slot = (width - left) / len(columns)
    bar = slot * 0.62
    scale = plot / customers if customers else 0.0

    def y(value: int) -> float:
        return top + plot - value * scale

    parts = [
        f'<svg id="waterfall-chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'aria-label="Waterfall from {customers} customers to {facts["eligible"]} published">',
        f'<line x1="{left}" x2="{width}" y1="{y(0):.2f}" y2="{y(0):.2f}" stroke="#9fb3c8"/>',
    ]
    for index, (key, label, low, high, value) in enumerate(columns):
        x = left + index * slot + (slot - bar) / 2
        kind = "start" if index == 0 else "end" if index == len(columns) - 1 else "step"
        color = {"start": "var(--base)", "end": "var(--in)", "step": "var(--out)"}[kind]
        if index < len(columns) - 1:
            next_x = left + (index + 1) * slot + (slot - bar) / 2
            level = y(low if kind == "step" else high)
            parts.append(
                f'<line x1="{x + bar:.2f}" x2="{next_x:.2f}" y1="{level:.2f}" y2="{level:.2f}" '
                'stroke="#9fb3c8" stroke-dasharray="3 3"/>'
            )
        parts.append(
            f'<rect class="waterfall-bar waterfall-{kind}" data-key="{_e(key)}" '
            f'data-value="{value}" x="{x:.2f}" y="{y(high):.2f}" width="{bar:.2f}" '
            f'height="{max(y(low) - y(high), 0):.2f}" fill="{color}"/>'
        )
        sign = "&minus;" if kind == "step" else ""
        parts.append(
            f'<text class="waterfall-label" data-key="{_e(key)}" x="{x + bar / 2:.2f}" '
            f'y="{y(high) - 6:.2f}" text-anchor="middle" font-size="13" font-weight="600">'
            f"{sign}{_n(value)}</text>"
        )
        label_y = y(0) + 14
        parts.append(
            f'<text x="{x + bar / 2:.2f}" y="{label_y:.2f}" font-size="11" fill="#52606d" '
            f'text-anchor="end" transform="rotate(-35 {x + bar / 2:.2f} {label_y:.2f})">'
            f"{_e(label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _waterfall_section(facts: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr class="waterfall-step" data-step="{s["step"]}" data-reason="{_e(s["reason"])}">'
        f'<td class="num">{s["step"]}</td><td>{_e(s["reason"])}</td>'
        f"<td>{_e(s['description'])}</td>"
        f'<td class="num" data-metric="before">{_n(s["before"])}</td>'
        f'<td class="num" data-metric="removed">{_n(s["removed"])}</td>'
        f'<td class="num" data-metric="after">{_n(s["after"])}</td></tr>'
        for s in facts["waterfall"]
    )
    return f"""
<section id="waterfall">
  <h2>From customers to the published audience</h2>
  <p class="note">Each rule, in the order it is applied, removes the customers it is the first
  to exclude. What is left after the last rule is published.</p>
  {_waterfall_svg(facts)}
  <table id="waterfall-table">
    <thead><tr><th class="num">Step</th><th>Rule</th><th>Excludes when</th>
    <th class="num">Before</th><th class="num">Excluded</th><th class="num">After</th></tr>
    </thead>
    <tbody>
      <tr id="waterfall-start"><td></td><td>customers</td><td>every readable customer_id</td>
      <td></td><td></td><td class="num" data-metric="after">{_n(facts["customers"])}</td></tr>
      {rows}
      <tr id="waterfall-end"><td></td><td><strong>published</strong></td>
      <td>passed every rule</td><td></td><td></td>
      <td class="num" data-metric="after"><strong>{_n(facts["eligible"])}</strong></td></tr>
    </tbody>
  </table>
</section>"""


def _change_section(facts: dict[str, Any]) -> str:
    change = facts["change"]
    if change["previous_run_id"] is None:
        return f"""
<section id="change">
  <h2>Change against the previous published run</h2>
  <p class="note" id="no-previous-run">This is the first published run from this database:
  there is nothing to compare with. All <span data-metric="entered">{_n(change["entered"])}
  </span> customers entered.</p>
</section>"""
    left = (
        "".join(
            f'<tr class="left-reason" data-reason="{_e(r["reason"])}">'
            f"<td>left: {_e(r['reason'])}</td>"
            f'<td class="num" data-metric="customers">{_n(r["customers"])}</td></tr>'
            for r in change["left_by_reason"]
        )
        or '<tr><td colspan="2">Nobody left.</td></tr>'
    )
    entered = (
        "".join(
            f'<tr class="entered-reason" data-reason="{_e(r["reason"])}">'
            f"<td>{_entered_label(r['reason'])}</td>"
            f'<td class="num" data-metric="customers">{_n(r["customers"])}</td></tr>'
            for r in change["entered_by_previous_reason"]
        )
        or '<tr><td colspan="2">Nobody entered.</td></tr>'
    )
    return f"""
<section id="change">
  <h2>Change against the previous published run</h2>
  <p class="note">Compared with run #<span id="previous-run-id">{change["previous_run_id"]}</span>
  (as of <span id="previous-as-of">{_e(change["previous_as_of_date"])}</span>).
  Per customer: model <code>audience_changes</code>, or
  <code>run_pipeline.py --explain CUSTOMER_ID</code>.</p>
  <table id="change-table">
    <tbody>
      <tr><td>Previous audience</td>
      <td class="num" id="change-previous" data-value="{change["previous_eligible"]}">
      {_n(change["previous_eligible"])}</td></tr>
      <tr><td>+ entered</td><td class="num" id="change-entered">{_n(change["entered"])}</td></tr>
      <tr><td>&minus; left</td><td class="num" id="change-left">{_n(change["left"])}</td></tr>
      <tr><td><strong>This audience</strong></td>
      <td class="num" id="change-current"><strong>{_n(change["current_eligible"])}</strong></td>
      </tr>
    </tbody>
  </table>
  <div class="grid">
    <table id="left-table"><thead><tr><th>Left, and the rule that now excludes them</th>
    <th class="num">Customers</th></tr></thead><tbody>{left}</tbody></table>
    <table id="entered-table"><thead><tr><th>Entered, and what excluded them before</th>
    <th class="num">Customers</th></tr></thead><tbody>{entered}</tbody></table>
  </div>
</section>"""


def _trend_section(facts: dict[str, Any]) -> str:
    trend = facts["trend"]
    width, height = 1020, 220
    left, right, top, bottom = 80, 80, 24, 44
    peak = max([run["eligible"] for run in trend] + [1])
    step = (width - left - right) / max(len(trend) - 1, 1)

    def x(index: int) -> float:
        return left + index * step if len(trend) > 1 else (width - left - right) / 2 + left

    def y(value: int) -> float:
        return top + (height - top - bottom) * (1 - value / peak)

    points = " ".join(f"{x(i):.2f},{y(run['eligible']):.2f}" for i, run in enumerate(trend))
    parts = [
        f'<svg id="trend-chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        'aria-label="Audience size per published run">',
        f'<line x1="{left}" x2="{width - right}" y1="{y(0):.2f}" y2="{y(0):.2f}" '
        'stroke="#9fb3c8"/>',
        f'<polyline points="{points}" fill="none" stroke="var(--accent)" stroke-width="2"/>',
    ]
    for index, run in enumerate(trend):
        current = index == len(trend) - 1
        parts.append(
            f'<circle class="trend-point" data-run-id="{run["run_id"]}" '
            f'data-value="{run["eligible"]}" cx="{x(index):.2f}" cy="{y(run["eligible"]):.2f}" '
            f'r="{6 if current else 4}" fill="{"var(--in)" if current else "var(--accent)"}"/>'
            f'<text x="{x(index):.2f}" y="{y(run["eligible"]) - 10:.2f}" text-anchor="middle" '
            f'font-size="12" font-weight="600">{_n(run["eligible"])}</text>'
            f'<text x="{x(index):.2f}" y="{height - bottom + 18:.2f}" text-anchor="middle" '
            f'font-size="11" fill="#52606d">#{run["run_id"]} · {_e(run["as_of_date"])}</text>'
        )
    parts.append("</svg>")
    rows = "".join(
        f'<tr class="trend-run" data-run-id="{run["run_id"]}"><td>#{run["run_id"]}</td>'
        f"<td>{_e(run['as_of_date'])}</td>"
        f'<td class="num" data-metric="customers">{_n(run["customers"])}</td>'
        f'<td class="num" data-metric="eligible">{_n(run["eligible"])}</td></tr>'
        for run in trend
    )
    return f"""
<section id="trend">
  <h2>Audience over published runs</h2>
  <p class="note">Every run published from this database, this one last.</p>
  {"".join(parts)}
  <table id="trend-table"><thead><tr><th>Run</th><th>As of</th><th class="num">Customers</th>
  <th class="num">Published</th></tr></thead><tbody>{rows}</tbody></table>
</section>"""


def _controls_section(facts: dict[str, Any]) -> str:
    controls = facts["controls"]
    drift = [c for c in controls if c["type"] == "drift_guard"]
    tests = [c for c in controls if c["type"] != "drift_guard"]
    passed = sum(1 for c in tests if c["status"] == "pass")

    def row(control: dict[str, Any]) -> str:
        return (
            f'<tr class="control" data-type="{_e(control["type"])}" '
            f'data-status="{_e(control["status"])}"><td>{_e(control["control"])}</td>'
            f"<td>{_e(control['type'])}</td><td>{_status(control['status'])}</td>"
            f"<td>{_e(control['detail'])}</td></tr>"
        )

    reason = facts["run"]["drift_acceptance_reason"]
    accepted = (
        f'<p id="drift-acceptance">Change accepted by a person: “{_e(reason)}”</p>'
        if reason and facts["run"]["drift_status"] == "accepted"
        else ""
    )
    return f"""
<section id="controls">
  <h2>Controls</h2>
  <p class="note">The drift guard compares this run with the previous published run; the dbt
  tests are the reconciliation controls. <span id="controls-passed">{passed}</span> of
  <span id="controls-total">{len(tests)}</span> dbt tests passed; drift guard:
  {_status(facts["run"]["drift_status"])}.</p>
  {accepted}
  <table id="controls-table">
    <colgroup><col class="control"><col class="type"><col class="outcome"><col class="detail">
    </colgroup>
    <thead><tr><th>Control</th><th>Type</th><th>Outcome</th><th>Detail</th></tr></thead>
    <tbody>{"".join(row(c) for c in drift)}{"".join(row(c) for c in tests)}</tbody>
  </table>
</section>"""


def render_report(facts: dict[str, Any]) -> str:
    """The HTML page for one run (self-contained, counts only)."""
    run = facts["run"]
    title = f"Audience run #{run['run_id']} as of {run['as_of_date']}"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
  <h1 id="report-title">{_e(title)}</h1>
  <p>Published run <span id="run-id">{run["run_id"]}</span> of this database · as of
  <span id="as-of-date">{_e(run["as_of_date"])}</span> · counts only, no personal data</p>
</header>
<main>
<section id="summary">
  <h2>Summary</h2>
  {_kpis(facts)}
</section>
{_waterfall_section(facts)}
{_change_section(facts)}
{_trend_section(facts)}
{_files_section(facts)}
{_controls_section(facts)}
</main>
</body>
</html>
"""
