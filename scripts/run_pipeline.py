"""Run a landing folder of raw CSV exports end to end and publish the eligible audience.

    python scripts/run_pipeline.py --input-dir DIR --as-of YYYY-MM-DD --output-dir DIR

Exits 0 when every control passed and the outputs were published; 1 when a file or a
control failed (nothing is published); 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audience_pipeline.errors import PipelineError
from audience_pipeline.pipeline import DEFAULT_DATABASE, run_pipeline
from audience_pipeline.settings import EngineSettings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=Path, required=True, help="folder with the four CSVs")
    parser.add_argument("--output-dir", type=Path, required=True, help="where outputs go")
    parser.add_argument("--as-of", help="as-of date YYYY-MM-DD (default: today, UTC)")
    parser.add_argument(
        "--database", type=Path, default=DEFAULT_DATABASE, help="DuckDB file the run builds in"
    )
    parser.add_argument("--memory-limit", help="DuckDB memory limit, e.g. 4GB")
    parser.add_argument("--threads", type=int, help="DuckDB threads")
    parser.add_argument("--temp-dir", type=Path, help="where DuckDB spills when over the limit")
    parser.add_argument("--quiet", action="store_true", help="no progress lines or dbt logs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
