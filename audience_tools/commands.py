"""``audience generate``: the data generator as a subcommand of the ``audience`` command.

Registered through the ``audience.commands`` entry point (pyproject.toml), so the product's
command line finds it without importing this package by name.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from audience_pipeline.cli import EXIT_CODES, HelpFormatter, paragraph, print_output
from audience_pipeline.options import (
    folder_to_write,
    iso_date,
    memory_size,
    path_option,
    positive_int,
    thread_count,
)

EXAMPLES = """\
examples:
  audience generate --customers 20000 --seed 7 --as-of 2026-11-26 --out landing/tiny
  audience generate --customers 3600000 --seed 7 --as-of 2026-11-26 --out landing/10m \\
      --bad-share 0
"""


def _unit_share(text: str) -> float:
    """A share between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 1, not {text!r}")
    return value


#: A seed is a DuckDB BIGINT (the generator's hash takes it as one).
_SEED_LIMIT = 2**63


#: The as-of dates the generator takes: its dates run from five years before the as-of date to
#: under two years after it, and every one must be written with a four-digit year from 0001.
_AS_OF_RANGE = ("0010-01-01", "9990-12-31")


def _generated_as_of(text: str) -> str:
    """``--as-of``: a date from which every generated date stays in years 0001-9999."""
    as_of = iso_date(text)
    if not _AS_OF_RANGE[0] <= as_of <= _AS_OF_RANGE[1]:
        raise argparse.ArgumentTypeError(
            f"expected a date from {_AS_OF_RANGE[0]} to {_AS_OF_RANGE[1]} (the generated dates "
            f"run from five years before it to two years after), not {text!r}"
        )
    return as_of


def _seed(text: str) -> int:
    """A whole number that fits a signed 64-bit integer."""
    try:
        value = int(text)
    except ValueError:
        value = _SEED_LIMIT
    if not -_SEED_LIMIT <= value < _SEED_LIMIT:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from {-_SEED_LIMIT:,} to {_SEED_LIMIT - 1:,}, not {text!r}"
        )
    return value


def register(subparsers: Any) -> None:
    """Add ``generate`` to the ``audience`` command's subcommands."""
    parser = subparsers.add_parser(
        "generate",
        help="write a synthetic landing folder of any size (for trials and benchmarks)",
        description=paragraph(
            "Write the four raw CSV files of the data contract with realistic variety "
            "and a share of invalid values of every kind. The same arguments always give "
            "byte-identical files."
        ),
        epilog=EXAMPLES + "\n" + EXIT_CODES,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--customers", type=positive_int, required=True, metavar="N")
    parser.add_argument("--seed", type=_seed, required=True, help="pseudo-random seed")
    parser.add_argument(
        "--as-of",
        type=_generated_as_of,
        required=True,
        metavar="YYYY-MM-DD",
        help="the data's as-of date",
    )
    parser.add_argument(
        "--out", type=path_option, required=True, metavar="DIR", help="output folder"
    )
    parser.add_argument(
        "--bad-share",
        type=_unit_share,
        default=0.01,
        metavar="SHARE",
        help="share of rows per file with an invalid value (default: %(default)s)",
    )
    parser.add_argument("--threads", type=thread_count, default=None, metavar="N")
    parser.add_argument(
        "--memory-limit",
        type=memory_size,
        default="4GB",
        metavar="SIZE",
        help="DuckDB memory limit (default: %(default)s)",
    )
    parser.add_argument("--temp-dir", type=path_option, default=None, metavar="DIR")
    parser.set_defaults(handler=generate_command)


def generate_command(args: argparse.Namespace) -> int:
    """Generate the folder and print one summary line per file."""
    import datetime as dt

    from audience_tools.generate import generate

    folder_to_write(args.out, "--out")
    if args.temp_dir is not None:
        folder_to_write(args.temp_dir, "--temp-dir")
    started = time.perf_counter()
    result = generate(
        customers=args.customers,
        seed=args.seed,
        as_of=dt.date.fromisoformat(args.as_of),
        out_dir=args.out,
        bad_share=args.bad_share,
        threads=args.threads,
        memory_limit=args.memory_limit,
        temp_directory=args.temp_dir,
    )
    for name, rows in result.row_counts.items():
        print_output(
            f"{name:20s} {rows:>12,d} rows {result.file_sizes[name] / 1e6:>10,.1f} MB "
            f"{result.seconds[name]:>7.2f} s"
        )
    print_output(f"total {time.perf_counter() - started:,.2f} s -> {result.out_dir}")
    return 0
