"""Benchmark the pipeline at one or more scales and write the figures to bench/results/.

    python bench/run_bench.py --scales 1m,10m          # generates bench/data/<scale>/ if missing
    python bench/run_bench.py --scales tiny --no-save   # what CI runs: proves the benchmark works

Scales: tiny (20,000 customers), 1m (360,000 customers, about 1M bookings), 10m (3.6M, about
10M bookings), 100m (36M, about 100M bookings; long: run it by hand, once). For each scale it
prints wall time and peak RSS of the whole run_pipeline.py (and of every process it starts,
Spark's JVM included, sampled), the time per stage, rows per second, and DuckDB's parse floor
measured in the same run with the ratio pipeline / floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

from audience_tools.benchmark import (
    SCALES,
    machine_description,
    measure_scale,
    result_dict,
    to_markdown,
)

BENCH_DIR = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1m,10m", help=f"comma-separated: {', '.join(SCALES)}")
    parser.add_argument("--data-dir", type=Path, default=BENCH_DIR / "data")
    parser.add_argument("--work-dir", type=Path, default=BENCH_DIR / "work")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", default="2026-11-26")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--target",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="the engine that builds (audience run --target); the parse floor is DuckDB's",
    )
    parser.add_argument("--no-save", action="store_true", help="print only; write no results")
    parser.add_argument(
        "--label", default="", help="appended to the results' file name (keeps earlier results)"
    )
    parser.add_argument(
        "--no-rerun",
        action="store_true",
        help="skip the second (next day's) run on the same database",
    )
    args = parser.parse_args(argv)
    scales = [scale.strip() for scale in args.scales.split(",") if scale.strip()]
    unknown = [scale for scale in scales if scale not in SCALES]
    if unknown:
        parser.error(f"unknown scale(s): {', '.join(unknown)}")

    machine = {**machine_description(), "build engine": args.target}
    if args.target == "spark":  # the profile's settings the run used (profiles.yml defaults)
        machine.update(
            {
                name: os.environ[name]
                for name in sorted(os.environ)
                if name.startswith("AUDIENCE_SPARK_") and name != "AUDIENCE_SPARK_DIR"
            }
        )
    results = []
    for scale in scales:
        print(f"== {scale}: {SCALES[scale]:,} customers", flush=True)
        result = measure_scale(
            scale,
            args.data_dir,
            args.work_dir,
            args.seed,
            args.as_of,
            args.threads,
            rerun=not args.no_rerun,
            target=args.target,
        )
        results.append(result)
        print(
            f"   input rows {result.rows:,}; parse floor {result.parse_floor_seconds:.2f} s; "
            f"pipeline {result.pipeline_seconds:.2f} s ({result.ratio_to_floor:.1f}x floor); "
            f"peak RSS {result.pipeline_peak_rss_mb:,.0f} MB (all processes, sampled: "
            f"{result.pipeline_tree_peak_rss_mb:,.0f} MB; largest "
            f"{result.pipeline_largest_process}); "
            f"{result.rows_per_second:,.0f} rows/s; exit {result.pipeline_exit_code}",
            flush=True,
        )
        for stage, seconds in result.stage_seconds.items():
            print(f"   stage {stage}: {seconds:.1f} s")
        if result.rerun_seconds is not None:
            print(
                f"   next day's run (same database, dbt state kept): {result.rerun_seconds:.2f} s"
                f"; peak RSS {result.rerun_peak_rss_mb:,.0f} MB"
            )
            for stage, seconds in result.rerun_stage_seconds.items():
                print(f"     stage {stage}: {seconds:.1f} s")
        print(f"   dbt time by node type: {result.node_seconds_by_type}")

    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    report = to_markdown(results, machine, when)
    if not args.no_save:
        name = (
            f"{when}_{'_'.join(scales)}"
            + ("" if args.target == "duckdb" else f"_{args.target}")
            + (f"_{args.label}" if args.label else "")
        )
        (BENCH_DIR / "results" / f"{name}.md").write_text(report)
        (BENCH_DIR / "results" / f"{name}.json").write_text(
            json.dumps(
                {"date": when, "machine": machine, "results": [result_dict(r) for r in results]},
                indent=2,
            )
            + "\n"
        )
        print(f"results written to bench/results/{name}.md and .json")
    return 0 if all(result.pipeline_exit_code == 0 for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
