"""The drift guard: stop a run whose audience or inputs moved too much since the last publish.

Evaluated after ``dbt build`` passed every control and before anything is published. It fails
the run (nothing is published) when:

- **audience change**: the customers who entered plus those who left the audience, as a share
  of the previous published audience, exceed ``max_audience_change`` (default 20%). A swap of
  members at a constant size is a change too. Not applicable on the first published run;
- **empty input**: an input file has no data rows (checked on every run, the first included),
  unless the run said that file may be empty (``--allow-empty-suppressions``);
- **input loss**: an input file has fewer raw rows than in the previous published run by more
  than ``max_input_loss`` (default 20%) of them. Growth never fails.

A person who expects the change reruns with ``--accept-drift "why"``: the failing checks are
then recorded as ``accepted``, with the reason, in the run history (``history.published_runs``
and ``history.run_controls``), and the run publishes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import duckdb

from audience_pipeline.errors import PipelineError
from audience_pipeline.history import PublishedRun, change_counts, latest_run

DEFAULT_MAX_AUDIENCE_CHANGE = 0.2
DEFAULT_MAX_INPUT_LOSS = 0.2


class DriftFailure(PipelineError):
    """The audience or an input moved beyond its threshold; nothing was published."""


@dataclass(frozen=True)
class DriftThresholds:
    """Shares (0.2 = 20%) beyond which the run fails unless the change is accepted."""

    max_audience_change: float = DEFAULT_MAX_AUDIENCE_CHANGE
    max_input_loss: float = DEFAULT_MAX_INPUT_LOSS

    def __post_init__(self) -> None:
        for name in ("max_audience_change", "max_input_loss"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a share >= 0 (0.2 = 20%), not {value!r}")


@dataclass(frozen=True)
class DriftCheck:
    """One check of the guard, with the numbers it compared (counts only)."""

    control: str
    subject: str
    previous: int | None
    current: int
    share: float | None
    threshold: float | None
    outcome: str  # pass, fail, accepted or not_applicable
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "control": self.control,
            "subject": self.subject,
            "previous": self.previous,
            "current": self.current,
            "share": self.share,
            "threshold": self.threshold,
            "outcome": self.outcome,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class DriftResult:
    """Every check of the guard, and the acceptance a person gave, if any."""

    checks: tuple[DriftCheck, ...]
    accepted_reason: str | None = None
    previous_run_id: int | None = None
    previous_as_of_date: str | None = None
    thresholds: DriftThresholds = field(default_factory=DriftThresholds)

    @property
    def failed(self) -> bool:
        return any(check.outcome == "fail" for check in self.checks)

    @property
    def status(self) -> str:
        """``failed``, ``accepted`` (a failing check was accepted), or ``passed``."""
        if self.failed:
            return "failed"
        if any(check.outcome == "accepted" for check in self.checks):
            return "accepted"
        return "passed"

    def describe(self) -> str:
        """The failing (or accepted) checks as readable lines."""
        return "\n".join(
            f"  - {check.control}: {check.detail}"
            for check in self.checks
            if check.outcome in {"fail", "accepted"}
        )


def _percent(share: float) -> str:
    return "infinite" if math.isinf(share) else f"{share:.1%}"


def _audience_check(
    previous: PublishedRun | None,
    eligible: int,
    entered: int,
    left: int,
    threshold: float,
) -> DriftCheck:
    if previous is None:
        return DriftCheck(
            control="audience_change",
            subject="eligible_audience",
            previous=None,
            current=eligible,
            share=None,
            threshold=threshold,
            outcome="not_applicable",
            detail=f"first published run: {eligible} customers, nothing to compare with",
        )
    moved = entered + left
    share = moved / previous.eligible if previous.eligible else (0.0 if moved == 0 else math.inf)
    outcome = "fail" if share > threshold else "pass"
    return DriftCheck(
        control="audience_change",
        subject="eligible_audience",
        previous=previous.eligible,
        current=eligible,
        share=share,
        threshold=threshold,
        outcome=outcome,
        detail=(
            f"{previous.eligible} -> {eligible} customers: {entered} entered, {left} left = "
            f"{_percent(share)} of the previous audience (run #{previous.run_id}, as of "
            f"{previous.as_of_date}); limit {_percent(threshold)}"
        ),
    )


def _input_check(
    input_file: str,
    previous_rows: int | None,
    current_rows: int,
    threshold: float,
    may_be_empty: bool = False,
) -> DriftCheck:
    control = f"input_rows:{input_file}"
    if current_rows == 0 and may_be_empty:
        return DriftCheck(
            control=control,
            subject=input_file,
            previous=previous_rows,
            current=0,
            share=None,
            threshold=threshold,
            outcome="pass",
            detail=f"{input_file} is empty, as the run said it may be",
        )
    if current_rows == 0:
        return DriftCheck(
            control=control,
            subject=input_file,
            previous=previous_rows,
            current=0,
            share=1.0 if previous_rows else None,
            threshold=threshold,
            outcome="fail",
            detail=f"{input_file} is empty: no data rows"
            + (f" (previous published run: {previous_rows})" if previous_rows is not None else ""),
        )
    if previous_rows is None or previous_rows == 0:
        return DriftCheck(
            control=control,
            subject=input_file,
            previous=previous_rows,
            current=current_rows,
            share=None,
            threshold=threshold,
            outcome="pass",
            detail=f"{input_file}: {current_rows} rows, not empty"
            + ("" if previous_rows == 0 else "; no previous published run to compare the count"),
        )
    loss = max(previous_rows - current_rows, 0) / previous_rows
    return DriftCheck(
        control=control,
        subject=input_file,
        previous=previous_rows,
        current=current_rows,
        share=loss,
        threshold=threshold,
        outcome="fail" if loss > threshold else "pass",
        detail=(
            f"{input_file}: {previous_rows} -> {current_rows} rows, lost {_percent(loss)}; "
            f"limit {_percent(threshold)}"
        ),
    )


def evaluate_drift(
    previous: PublishedRun | None,
    *,
    eligible: int,
    entered: int,
    left: int,
    raw_rows: dict[str, int],
    thresholds: DriftThresholds | None = None,
    accept_reason: str | None = None,
    may_be_empty: frozenset[str] = frozenset(),
) -> DriftResult:
    """Apply the guard to plain numbers (no database): the previous run against this one."""
    thresholds = thresholds or DriftThresholds()
    checks = [_audience_check(previous, eligible, entered, left, thresholds.max_audience_change)]
    for input_file in sorted(raw_rows):
        previous_rows = previous.raw_rows.get(input_file) if previous else None
        checks.append(
            _input_check(
                input_file,
                previous_rows,
                raw_rows[input_file],
                thresholds.max_input_loss,
                may_be_empty=input_file in may_be_empty,
            )
        )
    reason = (accept_reason or "").strip() or None
    if reason:
        checks = [
            DriftCheck(**{**check.__dict__, "outcome": "accepted"})
            if check.outcome == "fail"
            else check
            for check in checks
        ]
    return DriftResult(
        checks=tuple(checks),
        accepted_reason=reason,
        previous_run_id=previous.run_id if previous else None,
        previous_as_of_date=previous.as_of_date if previous else None,
        thresholds=thresholds,
    )


def check_drift(
    con: duckdb.DuckDBPyConnection,
    thresholds: DriftThresholds | None = None,
    accept_reason: str | None = None,
    may_be_empty: frozenset[str] = frozenset(),
) -> DriftResult:
    """Evaluate the guard on a built database; raises DriftFailure when a check fails."""
    previous = latest_run(con)
    changes = change_counts(con)
    compared_rows = changes["entered"] + changes["left"] + changes["stayed"]
    if compared_rows and changes["previous_run_id"] != (previous.run_id if previous else None):
        raise PipelineError(
            "audience_changes compared with run "
            f"{changes['previous_run_id']} but the latest published run is "
            f"{previous.run_id if previous else None}; rerun the pipeline"
        )
    row = con.execute("select count(*) from marts.eligible_audience").fetchone()
    eligible = int(row[0]) if row else 0
    raw_rows = dict(
        con.execute("select input_file, raw_rows from marts.reconciliation_input_files").fetchall()
    )
    result = evaluate_drift(
        previous,
        eligible=eligible,
        entered=changes["entered"],
        left=changes["left"],
        raw_rows=raw_rows,
        thresholds=thresholds,
        accept_reason=accept_reason,
        may_be_empty=may_be_empty,
    )
    if result.failed:
        raise DriftFailure(
            "the drift guard stopped the run, so no audience was published:\n"
            + result.describe()
            + '\nIf this change is expected, rerun with --accept-drift "why it is expected"; '
            "the acceptance is recorded in the run history."
        )
    return result
