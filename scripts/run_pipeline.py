"""Run a landing folder of raw CSV exports end to end and publish the eligible audience.

    python scripts/run_pipeline.py --input-dir DIR --as-of YYYY-MM-DD --output-dir DIR
    python scripts/run_pipeline.py --explain CUSTOMER_ID     # why is this customer (not) in it?

Exits 0 when every control passed and the outputs were published; 1 when a file, a control
or the drift guard failed (nothing is published); 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audience_pipeline.drift import (
    DEFAULT_MAX_AUDIENCE_CHANGE,
    DEFAULT_MAX_INPUT_LOSS,
    DriftThresholds,
)
from audience_pipeline.errors import PipelineError
from audience_pipeline.explain import explain
from audience_pipeline.pipeline import DEFAULT_DATABASE, run_pipeline
from audience_pipeline.settings import EngineSettings


def _share(text: str) -> float:
    """A share such as 0.2 (= 20%) for the drift guard's thresholds."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a share >= 0 such as 0.2, not {text!r}")
    return value


def _customer_id(text: str) -> int:
    if not (text.strip().isascii() and text.strip().isdigit()):
        raise argparse.ArgumentTypeError(f"a customer_id is ASCII digits, not {text!r}")
    return int(text)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=Path, help="folder with the four CSVs")
    parser.add_argument("--output-dir", type=Path, help="where outputs go")
    parser.add_argument("--as-of", help="as-of date YYYY-MM-DD (default: today, UTC)")
    parser.add_argument(
        "--database", type=Path, default=DEFAULT_DATABASE, help="DuckDB file the run builds in"
    )
    parser.add_argument("--memory-limit", help="DuckDB memory limit, e.g. 4GB")
    parser.add_argument("--threads", type=int, help="DuckDB threads")
    parser.add_argument("--temp-dir", type=Path, help="where DuckDB spills when over the limit")
    parser.add_argument("--quiet", action="store_true", help="no progress lines or dbt logs")
    parser.add_argument(
        "--allow-empty-suppressions",
        action="store_true",
        help="accept a suppressions file without rows (by default that fails the run)",
    )
    parser.add_argument(
        "--max-audience-change",
        type=_share,
        default=DEFAULT_MAX_AUDIENCE_CHANGE,
        help="drift guard: fail when customers entered + left exceed this share of the previous "
        "published audience (default %(default)s = 20%%)",
    )
    parser.add_argument(
        "--max-input-loss",
        type=_share,
        default=DEFAULT_MAX_INPUT_LOSS,
        help="drift guard: fail when an input file loses more than this share of its rows "
        "against the previous published run (default %(default)s); an empty file always fails",
    )
    parser.add_argument(
        "--accept-drift",
        metavar="REASON",
        help="publish although the drift guard fails, for this reason (recorded in the history)",
    )
    parser.add_argument(
        "--explain",
        type=_customer_id,
        metavar="CUSTOMER_ID",
        help="print why this customer is (not) in the latest run's audience, rule by rule, "
        "from --database; runs nothing",
    )
    args = parser.parse_args(argv)
    if args.explain is None and (args.input_dir is None or args.output_dir is None):
        parser.error("--input-dir and --output-dir are required (unless --explain is given)")
    if args.accept_drift is not None and not args.accept_drift.strip():
        parser.error("--accept-drift needs a reason")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.explain is not None:
        try:
            print(explain(args.database, args.explain), end="")
        except PipelineError as error:
            print(f"run_pipeline: {error}", file=sys.stderr)
            return 1
        return 0
    defaults = EngineSettings()
    settings = EngineSettings(
        memory_limit=args.memory_limit or defaults.memory_limit,
        threads=args.threads or defaults.threads,
        temp_directory=args.temp_dir or defaults.temp_directory,
    )
    try:
        result = run_pipeline(
            input_dir=args.input_dir,
            output_dir=args.output_dir,
            as_of=args.as_of,
            database=args.database,
            settings=settings,
            quiet=args.quiet,
            allow_empty_suppressions=args.allow_empty_suppressions,
            drift_thresholds=DriftThresholds(args.max_audience_change, args.max_input_loss),
            accept_drift=args.accept_drift,
        )
    except PipelineError as error:
        print(f"run_pipeline: {error}", file=sys.stderr)
        return 1
    report = result.report
    excluded = ", ".join(f"{reason} {count}" for reason, count in report["excluded"].items())
    print(
        f"published {report['eligible']} of {report['customers']} customers "
        f"(as of {report['as_of_date']}) to {args.output_dir}\n"
        f"excluded: {excluded}\n"
        f"controls: {report['controls_passed']} passed, {report['controls_failed']} failed"
    )
    if result.drift is not None:
        drift = result.drift
        previous = (
            f"against run #{drift.previous_run_id} (as of {drift.previous_as_of_date})"
            if drift.previous_run_id
            else "first published run"
        )
        print(
            f"drift guard: {drift.status}, {previous}"
            + (f"; accepted: {drift.accepted_reason}" if drift.status == "accepted" else "")
            + f"\nrecorded as run #{result.run_id} in {args.database}; "
            f"report: {args.output_dir / 'run_report.html'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
