"""The run report: one self-contained HTML page per published run (``run_report.html``).

It shows, with counts only (no email address, name or other personal value), the funnel of
the run: rows in per input file, rows rejected per reason, customers, each exclusion rule as a
waterfall step down to the published count, the change against the previous run published to
the same destination and the rows of the delta files, the trend of the audience over the
destination's runs (by as-of date), and every control with its outcome.

The page has no script and loads nothing (inline CSS and SVG only), so it opens offline and
from an archive. Every number is in an element with an id or a ``data-*`` attribute, so the
browser test can read back what the page shows.

This module collects the facts (:func:`collect_report_facts`) and the charts' geometry; the
page itself is the Jinja template ``templates/run_report.html`` (with ``run_report.css``
inlined), rendered with autoescaping on, so every value from the data is escaped there.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import duckdb
import jinja2

from audience_pipeline.channels import change_label, channel_label, ranked_channels
from audience_pipeline.drift import DriftResult
from audience_pipeline.history import (
    RULE_PARAMETER_COLUMNS,
    audience_trend,
    change_counts,
    parameter_text,
    rule_parameters_of_run,
)
from audience_pipeline.redaction import without_addresses

REPORT_FILE = "run_report.html"
#: The consent channels the page lists at most (the rest are in reconciliation.json).
SHOWN_CHANNELS = 30


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


def _parameters(
    con: duckdb.DuckDBPyConnection, report: dict[str, Any], previous_run_id: int | None
) -> list[dict[str, Any]]:
    """The rules' parameters in force, each with the previous run's value when it differed."""
    current = report.get("rule_parameters") or {}
    previous = rule_parameters_of_run(con, previous_run_id) or {}
    rows = []
    for name in RULE_PARAMETER_COLUMNS:
        value, before = current.get(name), previous.get(name)
        rows.append(
            {
                "name": name,
                "value": parameter_text(value),
                "previous": parameter_text(before) if before is not None else None,
                "changed": before is not None and before != value,
            }
        )
    return rows


def channels_shown(channels: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The channels the page lists (at most ``SHOWN_CHANNELS``, in :func:`ranked_channels`
    order), and how many it leaves to reconciliation.json."""
    ranked = ranked_channels(channels)
    return ranked[:SHOWN_CHANNELS], max(len(ranked) - SHOWN_CHANNELS, 0)


def collect_report_facts(
    con: duckdb.DuckDBPyConnection,
    *,
    report: dict[str, Any],
    drift: DriftResult,
    run_id: int,
    stopped: bool = False,
) -> dict[str, Any]:
    """Everything the page shows, as counts, from the built database and the run's report.

    Nothing depends on the clock: the same inputs, as-of date and history give the same page
    (the time of the publish is in ``history.published_runs``). ``stopped``: the page of a run
    that was stopped and published nothing (kept for diagnosis).
    """
    input_files = sorted(report["input_files"])
    customers = int(report["customers"])
    eligible = int(report["eligible"])
    waterfall = _waterfall(con, customers)
    if waterfall and waterfall[-1]["after"] != eligible:
        raise ValueError("the exclusions do not add up to the published audience")
    changes = change_counts(con)
    destination = report.get("destination")
    trend = [run for run in audience_trend(con, destination) if run["run_id"] != run_id]
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
    trend.sort(key=lambda run: (run["as_of_date"], run["run_id"]))
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
    deltas = report["deltas"]
    shown_channels, channels_not_shown = channels_shown(report["consent_channels"])
    return {
        "parameters": _parameters(con, report, changes["previous_run_id"]),
        "run": {
            "run_id": run_id,
            "as_of_date": report["as_of_date"],
            "destination": destination,
            "stopped": stopped,
            "drift_status": drift.status,
            "drift_acceptance_reason": without_addresses(reason) if reason else None,
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
        "consent_channels": shown_channels,
        "consent_channels_not_shown": channels_not_shown,
        "customers": customers,
        "eligible": eligible,
        "waterfall": waterfall,
        "change": {**changes, "previous_eligible": previous_eligible, "current_eligible": eligible},
        "deltas": {
            "entered": int(deltas["entered"]),
            "left": int(deltas["left"]),
            "updated": int(deltas["updated"]),
            "left_by_reason": [
                {"reason": reason, "rows": int(rows)}
                for reason, rows in sorted(deltas["left_by_reason"].items())
            ],
        },
        "trend": trend,
        "controls": controls,
    }


# --------------------------------------------------------------------------------------------
# Rendering: the template does the HTML; below, only the charts' geometry and number formats
# --------------------------------------------------------------------------------------------

_TEMPLATE = "run_report.html"
_STATUS_CLASS_UNSAFE = re.compile(r"[^a-z_]")


def _thousands(value: int) -> str:
    """A count with thousands separators (``12,345``)."""
    return f"{value:,}"


def _coord(value: float) -> str:
    """An SVG coordinate, two decimals."""
    return f"{value:.2f}"


def _status_class(status: str) -> str:
    """The CSS class suffix of an outcome (``status-<this>``): lower-case letters and ``_``."""
    return _STATUS_CLASS_UNSAFE.sub("", status.lower())


@functools.cache
def _environment() -> jinja2.Environment:
    """The Jinja environment of the package's templates: autoescaped, strict, deterministic."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("audience_pipeline", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters.update(
        change_label=change_label,
        channel_label=channel_label,
        thousands=_thousands,
        coord=_coord,
        status_class=_status_class,
    )
    return environment


def _waterfall_chart(facts: dict[str, Any]) -> dict[str, Any]:
    """Geometry of the waterfall: a bar for the customers, one per rule, one for published.

    Each bar but the last carries the dashed connector to the next bar, at the level where
    the next one starts.
    """
    customers = facts["customers"]
    columns = [("customers", "Customers", 0, customers, customers)]
    columns += [
        (s["reason"], f"{s['step']}. {s['reason']}", s["after"], s["before"], s["removed"])
        for s in facts["waterfall"]
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

    bars = []
    for index, (key, label, low, high, value) in enumerate(columns):
        x = left + index * slot + (slot - bar) / 2
        kind = "start" if index == 0 else "end" if index == len(columns) - 1 else "step"
        connector = None
        if index < len(columns) - 1:
            level = y(low if kind == "step" else high)
            next_x = left + (index + 1) * slot + (slot - bar) / 2
            connector = {"x1": x + bar, "x2": next_x, "y": level}
        bars.append(
            {
                "key": key,
                "label": label,
                "kind": kind,
                "value": value,
                "x": x,
                "top": y(high),
                "width": bar,
                "height": max(y(low) - y(high), 0),
                "center": x + bar / 2,
                "value_y": y(high) - 6,
                "connector": connector,
            }
        )
    return {
        "width": width,
        "height": height,
        "left": left,
        "axis_y": y(0),
        "label_y": y(0) + 14,
        "bars": bars,
    }


def _trend_chart(trend: list[dict[str, Any]], run_id: int) -> dict[str, Any]:
    """Geometry of the trend: a point per run of the destination, by as-of date; ``run_id``
    is this run's."""
    width, height = 1020, 220
    left, right, top, bottom = 80, 80, 24, 44
    peak = max([run["eligible"] for run in trend] + [1])
    step = (width - left - right) / max(len(trend) - 1, 1)

    def x(index: int) -> float:
        return left + index * step if len(trend) > 1 else (width - left - right) / 2 + left

    def y(value: int) -> float:
        return top + (height - top - bottom) * (1 - value / peak)

    points = [
        {
            "run_id": run["run_id"],
            "as_of_date": run["as_of_date"],
            "eligible": run["eligible"],
            "current": run["run_id"] == run_id,
            "x": x(index),
            "y": y(run["eligible"]),
            "value_y": y(run["eligible"]) - 10,
        }
        for index, run in enumerate(trend)
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "axis_y": y(0),
        "date_y": height - bottom + 18,
        "points": points,
    }


def render_report(facts: dict[str, Any]) -> str:
    """The HTML page for one run (self-contained, counts only)."""
    return (
        _environment()
        .get_template(_TEMPLATE)
        .render(
            facts=facts,
            waterfall_chart=_waterfall_chart(facts),
            trend_chart=_trend_chart(facts["trend"], facts["run"]["run_id"]),
        )
    )
