"""Run two revisions of the pipeline side by side on the same data and print both.

    python bench/compare_revisions.py --base 8b406dc --scale 1m --reps 3

This machine's speed drifts by tens of percent over a day, so a change's effect is measured
here and nowhere else: the base revision (checked out in a temporary git worktree) and this
checkout run alternately, each from an empty work folder, on the same generated files, and
the medians are compared. Both use this virtualenv. After each pair of runs the published CSV
files of the two are compared byte for byte: a change made for speed must not change them.
"""

from __future__ import annotations

import argparse
import filecmp
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from audience_tools import REPO_DIR
from audience_tools.benchmark import SCALES, ensure_data, run_pipeline_measured

BENCH_DIR = Path(__file__).resolve().parent


def differing_outputs(base_out: Path, head_out: Path) -> list[str]:
    """The published CSV files that differ between two output folders (or exist in one only)."""
    names = sorted({path.name for path in [*base_out.glob("*.csv"), *head_out.glob("*.csv")]})
    return [
        name
        for name in names
        if not (base_out / name).is_file()
        or not (head_out / name).is_file()
        or not filecmp.cmp(base_out / name, head_out / name, shallow=False)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git revision to compare against")
    parser.add_argument("--scale", default="1m", help=f"one of: {', '.join(SCALES)}")
    parser.add_argument("--reps", type=int, default=3, help="runs of each revision")
    parser.add_argument("--data-dir", type=Path, default=BENCH_DIR / "data")
    parser.add_argument("--work-dir", type=Path, default=BENCH_DIR / "work" / "compare")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", default="2026-11-26")
    args = parser.parse_args()

    folder = ensure_data(args.scale, args.data_dir, args.seed, args.as_of)
    seconds: dict[str, list[float]] = {"base": [], "head": []}
    with tempfile.TemporaryDirectory() as scratch:
        base_checkout = Path(scratch) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(base_checkout), args.base],
            cwd=REPO_DIR,
            check=True,
        )
        try:
            for rep in range(1, args.reps + 1):
                for label, checkout in (("base", base_checkout), ("head", REPO_DIR)):
                    run = run_pipeline_measured(
                        folder, args.work_dir / label, args.as_of, ["--quiet"], project_dir=checkout
                    )
                    if run.exit_code != 0:
                        print(
                            f"{label} run {rep} failed (exit {run.exit_code}):\n{run.stderr}",
                            file=sys.stderr,
                        )
                        return 1
                    seconds[label].append(run.seconds)
                    print(
                        f"run {rep} {label}: {run.seconds:.2f} s, "
                        f"peak RSS {run.peak_rss_mb:,.0f} MB",
                        flush=True,
                    )
                differing = differing_outputs(
                    args.work_dir / "base" / "out", args.work_dir / "head" / "out"
                )
                if differing:
                    print(f"run {rep}: published files differ: {', '.join(differing)}")
                    return 1
                print(f"run {rep}: the published CSV files are identical", flush=True)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(base_checkout)],
                cwd=REPO_DIR,
                check=False,
            )
    base, head = statistics.median(seconds["base"]), statistics.median(seconds["head"])
    print(
        f"{args.scale}: median base ({args.base}) {base:.2f} s, head {head:.2f} s, "
        f"head / base {head / base:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
