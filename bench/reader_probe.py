"""How long DuckDB takes to split a landing file, two ways, side by side.

    python bench/reader_probe.py --input-dir bench/data/10m --file bookings --rounds 2

(a) what the pipeline does: store every physical line as one value (the line store of the
pre-step) and split the stored lines on the delimiter (as the ``landing_rows`` macro does for
lines without a quote); (b) DuckDB's parallel CSV reader with the contract's columns as text,
the dialect given (no sniffing), strict quoting and rejects recorded. Prints the seconds of
each, and the rows and rejects, per round. The lead this measures: whether letting DuckDB's
reader split the clean lines would make the pipeline faster.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from audience_pipeline.contract import load_contract
from audience_pipeline.sql import string_literal


def probe(path: Path, columns: list[str], threads: int) -> dict[str, float]:
    con = duckdb.connect()
    con.execute(f"set threads = {threads}")
    file = string_literal(str(path))
    started = time.perf_counter()
    con.execute(
        "create table lines as select line from read_csv("
        f"{file}, columns = {{'line': 'VARCHAR'}}, header = false, auto_detect = false,"
        " delim = '\\0', quote = '', escape = '', strict_mode = false)"
    )
    stored = time.perf_counter() - started
    started = time.perf_counter()
    con.execute("create table split as select string_split(line, ',') as fields from lines")
    split = time.perf_counter() - started
    typed = ", ".join(f"{string_literal(column)}: 'VARCHAR'" for column in columns)
    started = time.perf_counter()
    con.execute(
        f"create table parsed as select * from read_csv({file}, columns = {{{typed}}},"
        " header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"',"
        " strict_mode = true, store_rejects = true)"
    )
    reader = time.perf_counter() - started
    rows = con.execute("select count(*) from parsed").fetchone()[0]
    rejects = con.execute("select count(*) from reject_errors").fetchone()[0]
    lines = con.execute("select count(*) from lines").fetchone()[0]
    return {
        "lines stored s": stored,
        "stored lines split s": split,
        "parallel reader s": reader,
        "reader rows": rows,
        "reader rejects": rejects,
        "data lines": lines - 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input-dir", type=Path, default=Path("bench/data/10m"))
    parser.add_argument("--file", default="bookings", help="an input file of the contract")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    spec = next(spec for spec in load_contract() if spec.name == args.file)
    for round_ in range(1, args.rounds + 1):
        figures = probe(args.input_dir / spec.file_name, list(spec.columns), args.threads)
        shown = ", ".join(
            f"{name} {value:.1f}" if name.endswith(" s") else f"{name} {value:,}"
            for name, value in figures.items()
        )
        print(f"round {round_}: {shown}", flush=True)


if __name__ == "__main__":
    main()
