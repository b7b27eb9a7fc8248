"""A year of daily runs: what each morning's run costs as the history grows.

    python bench/year_bench.py --days 60                  # 20,000 customers, one destination
    python bench/year_bench.py --days 60 --keep-runs 7    # with retention

Day 0 is a generated folder (``audience generate``); each later day adds that day's bookings,
consent changes and an email change (``audience_tools.daily``), and the run is as of that day,
into the same database and output folder, as a scheduler would run it. Per run it prints the
wall time, the time to record the history and the database's size; at the end, whether the
record time stays flat (the last ten runs against the first ten) and how the size grows (the
slope of a straight line through the sizes, and how well it fits). Results go to
``bench/results/<date>_year_<days>d[_keep<N>].md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
from pathlib import Path

from audience_tools.benchmark import (
    machine_description,
    report_heading,
    run_pipeline_measured,
    stage_seconds_of,
)
from audience_tools.daily import write_day
from audience_tools.generate import generate

BENCH_DIR = Path(__file__).resolve().parent
RECORD_STAGE = "history: record the run"


def database_megabytes(database: Path) -> float:
    """The database file and its write-ahead log, in MB."""
    files = [database, database.with_name(database.name + ".wal")]
    return sum(path.stat().st_size for path in files if path.is_file()) / 1e6


def straight_line(values: list[float]) -> tuple[float, float]:
    """Slope per step and R² of a least-squares line through ``values``."""
    steps = list(range(len(values)))
    slope, intercept = statistics.linear_regression(steps, values)
    mean = statistics.fmean(values)
    total = sum((value - mean) ** 2 for value in values) or 1.0
    residual = sum(
        (value - (intercept + slope * step)) ** 2 for step, value in zip(steps, values, strict=True)
    )
    return slope, 1 - residual / total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60, help="consecutive as-of dates")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", default="2026-11-26", help="day 0's as-of date")
    parser.add_argument("--keep-runs", type=int, default=None, help="passed to audience run")
    parser.add_argument("--work-dir", type=Path, default=BENCH_DIR / "work" / "year")
    parser.add_argument("--no-save", action="store_true", help="print only; write no results")
    args = parser.parse_args(argv)

    start = dt.date.fromisoformat(args.start)
    args.work_dir = args.work_dir.resolve()  # the runs start in their own folder
    base = args.work_dir / "day0"
    if not (base / "customers.csv").is_file():
        generate(args.customers, args.seed, start, base)
    machine = machine_description()
    runs: list[dict[str, object]] = []
    extra = ["--threads", "2"]
    if args.keep_runs is not None:
        extra += ["--keep-runs", str(args.keep_runs)]
    state = args.work_dir / "state"
    for day in range(args.days):
        folder = args.work_dir / "landing"
        as_of = write_day(base, folder, day, start, args.customers, args.seed)
        measured = run_pipeline_measured(folder, state, as_of.isoformat(), extra, fresh=day == 0)
        if measured.exit_code != 0:
            print(
                f"day {day} ({as_of}) failed (exit {measured.exit_code}):\n{measured.stderr}",
                file=sys.stderr,
            )
            return 1
        run = {
            "day": day,
            "as_of": as_of.isoformat(),
            "wall_seconds": round(measured.seconds, 2),
            "record_seconds": stage_seconds_of(measured.stderr).get(RECORD_STAGE),
            "database_mb": round(database_megabytes(state / "audience.duckdb"), 2),
            "peak_rss_mb": round(measured.peak_rss_mb),
            "published": measured.stdout.splitlines()[0] if measured.stdout else "",
        }
        runs.append(run)
        print(
            f"day {day:3d} {as_of}: {measured.seconds:6.2f} s, history {run['record_seconds']} s, "
            f"database {run['database_mb']:,.1f} MB; {run['published']}",
            flush=True,
        )

    records = [float(run["record_seconds"] or 0.0) for run in runs]
    sizes = [float(run["database_mb"]) for run in runs]
    slope, fit = straight_line(sizes) if len(sizes) > 2 else (0.0, 1.0)
    window = min(10, len(records))
    summary = {
        "record_seconds_first": round(statistics.median(records[:window]), 3),
        "record_seconds_last": round(statistics.median(records[-window:]), 3),
        "database_mb_first": sizes[0],
        "database_mb_last": sizes[-1],
        "database_mb_per_run": round(slope, 3),
        "size_line_r2": round(fit, 4),
        "wall_seconds_median": round(statistics.median(r["wall_seconds"] for r in runs), 2),
        "keep_runs": args.keep_runs,
    }
    print(
        f"history record time, median of the first {window} runs "
        f"{summary['record_seconds_first']} s, of the last {window} "
        f"{summary['record_seconds_last']} s; database {sizes[0]:,.1f} -> {sizes[-1]:,.1f} MB, "
        f"{slope:,.2f} MB per run (straight line R² {fit:.3f})"
    )
    if not args.no_save:
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
        label = f"year_{args.days}d" + (f"_keep{args.keep_runs}" if args.keep_runs else "")
        lines = [
            *report_heading(f"A year of daily runs, {when}", machine),
            f"{args.days} consecutive as-of dates from {args.start}, {args.customers:,} "
            "customers, one destination; each day adds bookings, consent changes and an email "
            "change.",
            "",
            "| day | as of | wall s | history record s | database MB |",
            "| --- | --- | --- | --- | --- |",
            *(
                f"| {r['day']} | {r['as_of']} | {r['wall_seconds']} | {r['record_seconds']} "
                f"| {r['database_mb']} |"
                for r in runs
            ),
            "",
            "Summary: " + ", ".join(f"{key} {value}" for key, value in summary.items()),
        ]
        (BENCH_DIR / "results" / f"{when}_{label}.md").write_text("\n".join(lines) + "\n")
        (BENCH_DIR / "results" / f"{when}_{label}.json").write_text(
            json.dumps({"machine": machine, "summary": summary, "runs": runs}, indent=2) + "\n"
        )
        print(f"results written to bench/results/{when}_{label}.md and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
