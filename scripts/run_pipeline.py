"""Alias of ``audience run``, kept for the schedulers that call this script.

    python scripts/run_pipeline.py --input-dir DIR --as-of YYYY-MM-DD --output-dir DIR
    python scripts/run_pipeline.py --explain CUSTOMER_ID [--database FILE]   # audience explain

Same options, output and exit codes as ``audience run`` (``audience run --help``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from audience_pipeline.cli import main as audience


def main(argv: Sequence[str] | None = None) -> int:
    """``audience run ARGS``, or ``audience explain`` for the older ``--explain ID`` form."""
    args = list(sys.argv[1:] if argv is None else argv)
    for at, arg in enumerate(args):
        if arg == "--explain":
            return audience(["explain", *args[at + 1 : at + 2], *args[:at], *args[at + 2 :]])
        if arg.startswith("--explain="):
            return audience(["explain", arg.partition("=")[2], *args[:at], *args[at + 1 :]])
    return audience(["run", *args])


if __name__ == "__main__":
    sys.exit(main())
