"""Command line entry point: write the four synthetic raw CSV files of the audience pipeline.

Example::

    python scripts/generate_data.py --customers 360000 --seed 7 --as-of 2025-06-30 --out data/raw
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audience_pipeline.generate import generate


def _positive_int(text: str) -> int:
    """argparse type: integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def _share(text: str) -> float:
    """argparse type: float in [0, 1]."""
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Argument parser of the generator CLI."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--customers", type=_positive_int, required=True, help="number of customers"
    )
    parser.add_argument("--seed", type=int, required=True, help="pseudo-random seed")
    parser.add_argument(
        "--as-of", type=date.fromisoformat, required=True, help="as-of date YYYY-MM-DD"
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--bad-share",
        type=_share,
        default=0.01,
        help="share of rows per file with an invalid value (default 0.01)",
    )
    parser.add_argument("--threads", type=_positive_int, default=None, help="DuckDB threads")
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory limit (default 4GB)")
    parser.add_argument("--temp-dir", type=Path, default=None, help="DuckDB spill directory")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the generator and print one summary line per file."""
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    result = generate(
        customers=args.customers,
        seed=args.seed,
        as_of=args.as_of,
        out_dir=args.out,
        bad_share=args.bad_share,
        threads=args.threads,
        memory_limit=args.memory_limit,
        temp_directory=args.temp_dir,
    )
    for name, rows in result.row_counts.items():
        print(
            f"{name:20s} {rows:>12,d} rows {result.file_sizes[name] / 1e6:>10.1f} MB "
            f"{result.seconds[name]:>7.2f} s"
        )
    print(f"total {time.perf_counter() - started:.2f} s -> {result.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
