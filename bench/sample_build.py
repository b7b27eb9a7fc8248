"""Measure the sample's cold `dbt build` beside dbt's own fixed cost, and write the figures.

    python bench/sample_build.py --rounds 3            # writes bench/results/<date>_sample_build.*
    python bench/sample_build.py --rounds 1 --no-save  # what CI runs: proves the command works

Prints, per kind (median of the rounds, every round, and execution after parsing): importing
dbt, a cold `dbt parse` of this project, a cold `dbt build` of the sample with and without its
unit tests, and a cold `dbt build` of a one-model project (the least a cold build costs here).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import asdict
from pathlib import Path

from audience_tools.benchmark import machine_description
from audience_tools.dbt_fixed_cost import measure, to_markdown

BENCH_DIR = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-save", action="store_true", help="print only; write no results")
    parser.add_argument(
        "--label", default="", help="appended to the results' file name (keeps earlier results)"
    )
    args = parser.parse_args(argv)

    machine = machine_description()
    result = measure(args.rounds)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    report = to_markdown(result, machine, when)
    print(report, end="")
    if not args.no_save:
        name = f"{when}_sample_build" + (f"_{args.label}" if args.label else "")
        (BENCH_DIR / "results" / f"{name}.md").write_text(report)
        (BENCH_DIR / "results" / f"{name}.json").write_text(
            json.dumps(
                {
                    "date": when,
                    "machine": machine,
                    "runs": {
                        kind: [asdict(run) for run in runs] for kind, runs in result.runs.items()
                    },
                },
                indent=2,
            )
            + "\n"
        )
        print(f"results written to bench/results/{name}.md and .json")
    return 0 if result.all_succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
