"""What a stopped run leaves to look at: its would-be outputs, beside the destination.

A run stopped by a failed control or by the drift guard publishes nothing. So that a person can
see why (who would have entered and left, which rows were rejected, what the report would have
said), its would-be outputs are written into ``<parent>/.<name>.diagnostics/<UTC time>-as-of-
<date>/`` beside the output folder (``publish.write_diagnostics``): never into the output
folder, which the campaign platform reads. Only files whose model this run built are written.
The files hold what the published ones would, customer ids and addresses included; the error
message names the folder, never a value from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from audience_pipeline.channels import possibly_email_line
from audience_pipeline.dbt_invoke import DbtRun, NodeResult
from audience_pipeline.drift import DriftResult, DriftThresholds, assess_drift
from audience_pipeline.errors import PipelineError
from audience_pipeline.history import next_run_id
from audience_pipeline.publish import DELTA_FILES, write_diagnostics
from audience_pipeline.reconciliation import build_report
from audience_pipeline.report import REPORT_FILE, collect_report_facts, render_report

#: Models the reconciliation and the report read (besides the rejected_<file> ones).
REPORT_MODELS = frozenset(
    {
        "eligible_audience",
        "customer_audience_decisions",
        "audience_exclusion_summary",
        "reconciliation_input_files",
        "audience_previous_run",
        "audience_changes",
        "audience_build_parameters",
        "audience_consent_channels",
        *DELTA_FILES.values(),
    }
)


def built_models(run: DbtRun) -> set[str]:
    """The models a dbt build built successfully (the others may hold an earlier build)."""
    return {
        node.name
        for node in run.nodes
        if node.resource_type == "model" and node.status == "success"
    }


def keep_stopped_run(
    con: duckdb.DuckDBPyConnection,
    *,
    output_dir: Path,
    as_of: str,
    destination: str,
    input_files: list[str],
    controls: tuple[NodeResult, ...],
    why: str,
    models: Iterable[str] | None = None,
    drift: DriftResult | None = None,
    thresholds: DriftThresholds | None = None,
    allow_empty_audience: bool = False,
    may_be_empty: frozenset[str] = frozenset(),
) -> str:
    """Write a stopped run's would-be outputs; returns a sentence saying where (or why not).

    ``models``: the models this run built (None: all of them). ``drift``: the guard's outcome
    when it stopped the run; otherwise it is assessed here for the report and
    ``reconciliation.json``, when it can be.
    """
    built = None if models is None else set(models)
    needed = REPORT_MODELS | {f"rejected_{name}" for name in input_files}
    if built is not None and not built & needed:
        return "\nNothing was built far enough to keep for diagnosis."
    report = None
    extra: dict[str, str] = {}
    try:
        if built is None or needed <= built:
            # a failed control on the channels skips their comparison: the page shows them still
            compared = built is None or "audience_consent_channel_changes" in built
            if drift is None:
                drift = assess_drift(
                    con,
                    thresholds,
                    may_be_empty=may_be_empty,
                    allow_empty_audience=allow_empty_audience,
                )
            report = build_report(
                con, as_of, controls, destination, compared_channels=compared, drift=drift
            )
            facts = collect_report_facts(
                con, report=report, drift=drift, run_id=next_run_id(con), stopped=True
            )
            extra[REPORT_FILE] = render_report(facts)
    except (duckdb.Error, PipelineError, KeyError, ValueError):
        report, extra = None, {}  # keep what can be kept: the tables below
    try:
        folder = write_diagnostics(
            con,
            output_dir,
            as_of=as_of,
            input_files=input_files,
            built_models=built,
            why=why,
            report=report,
            extra_files=extra,
        )
    except (OSError, duckdb.Error, PipelineError) as error:
        return f"\nIts would-be outputs could not be kept for diagnosis: {error}"
    # a new channel's opt-outs may be why the audience moved: name them as a published run does
    channels = possibly_email_line(report) if report is not None else None
    return (
        f"\nIts would-be outputs (report, rejected rows, reconciliation, who would have entered "
        f"and left) are in {folder} for diagnosis; nothing was published to {output_dir}."
        + (f"\n{channels}" if channels else "")
    )
