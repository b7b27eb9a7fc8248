"""Spark reads a landing folder itself and publishes what DuckDB publishes from it.

A generated folder of a few thousand customers (the generator's default share of invalid
values), with broken lines put in the middle of bookings.csv (an unterminated quote, a blank
line, too many fields, a byte that is not UTF-8, a quoted field with a delimiter and doubled
quotes, a CRLF line ending), runs end to end three times: ``audience run`` on DuckDB,
``audience run --target spark``, and Spark once more with the folder named by a ``file://``
URL, as object storage is named. Spark reads the files in small splits here (64 KB), so a file
is read by several tasks and every line number comes from the locator (the split's offset
and the position within it), not from reading in one piece. Every published file must be the
same: the audience, each rejected row with its line, reason and raw values, the deltas and
the reconciliation with the exclusion counts. One difference is documented: a line that is not
valid UTF-8 shows each bad byte as U+FFFD on Spark where DuckDB's pre-step escapes it
(``\\xe9``); its line and reason are the same.

Runs with the engine comparison (``scripts/test_engines.sh``, AUDIENCE_ENGINE_TESTS=1).
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = [
    pytest.mark.engines,
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("AUDIENCE_ENGINE_TESTS") != "1"
        or "spark" not in os.environ.get("AUDIENCE_ENGINES", "spark").split(),
        reason="engine comparison: run scripts/test_engines.sh (sets AUDIENCE_ENGINE_TESTS=1)",
    ),
]

AS_OF = "2026-11-26"
CUSTOMERS = 3000
#: Broken and tricky lines put after line 100 of bookings.csv, with what DuckDB must say.
BROKEN_BOOKINGS = [
    b'"BK-U1,1001,2026-03-01,10.00,COMPLETED,Unterminated,web\n',
    b"\n",
    b"BK-T1,1001,2026-03-01,10.00,COMPLETED,Too many,web,extra\n",
    b"BK-X1,1001,2026-03-01,10.00,COMPLETED,Caf\xe9 tour,web\n",
    b'BK-Q1,1001,2026-03-01,10.00,COMPLETED,"Tour ""deluxe"", 3 days",web\n',
    b"BK-C1,1001,2026-03-01,10.00,COMPLETED,Windows line,web\r\n",
]
COMPARED_CSVS = (
    "eligible_audience.csv",
    "audience_entered.csv",
    "audience_left.csv",
    "audience_updated.csv",
    "rejected_customers.csv",
    "rejected_bookings.csv",
    "rejected_consent_events.csv",
    "rejected_suppressions.csv",
)


def _audience(*args: str, env: dict[str, str] | None = None) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "audience_pipeline", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("spark_landing")
    landing = work / "landing"
    _audience(
        "generate", "--customers", str(CUSTOMERS), "--seed", "7", "--as-of", AS_OF,
        "--out", str(landing),
    )  # fmt: skip
    bookings = landing / "bookings.csv"
    lines = bookings.read_bytes().splitlines(keepends=True)
    bookings.write_bytes(b"".join(lines[:100] + BROKEN_BOOKINGS + lines[100:]))
    outputs = {}
    # the third run names the folder by URL, as object storage is named (s3a://, abfss://):
    # the checks read it through fsspec and Spark reads the URL itself
    for run, target, input_dir in (
        ("duckdb", "duckdb", str(landing)),
        ("spark", "spark", str(landing)),
        ("spark_url", "spark", landing.as_uri()),
    ):
        out = work / f"out_{run}"
        _audience(
            "run", "--target", target, "--input-dir", input_dir, "--as-of", AS_OF,
            "--output-dir", str(out), "--database", str(work / f"{run}.duckdb"), "--quiet",
            # a metastore of its own: the engine comparison may hold the sample's open
            env={
                "AUDIENCE_SPARK_MAX_PARTITION_BYTES": "64k",
                "AUDIENCE_SPARK_DIR": str(work / "spark"),
            },
        )  # fmt: skip
        outputs[run] = out
    return outputs


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _as_spark_shows_it(text: str) -> str:
    """DuckDB's escaped bad byte (``\\xe9``) as Spark shows it (U+FFFD)."""
    return re.sub(r"\\x[0-9a-f]{2}", "\ufffd", text)


@pytest.mark.parametrize("name", COMPARED_CSVS)
def test_spark_publishes_the_same_file(runs: dict[str, Path], name: str) -> None:
    duckdb_rows = _rows(runs["duckdb"] / name)
    spark_rows = _rows(runs["spark"] / name)
    assert len(spark_rows) == len(duckdb_rows)
    for duckdb_row, spark_row in zip(duckdb_rows, spark_rows, strict=True):
        reason = duckdb_row.get("reason") or ""
        if reason.startswith("not valid UTF-8"):
            duckdb_row = {key: _as_spark_shows_it(value) for key, value in duckdb_row.items()}
        assert spark_row == duckdb_row


def test_the_broken_lines_are_quarantined_at_their_lines(runs: dict[str, Path]) -> None:
    reasons = {
        int(row["source_line"]): row["reason"]
        for row in _rows(runs["spark"] / "rejected_bookings.csv")
        if 101 <= int(row["source_line"]) <= 101 + len(BROKEN_BOOKINGS)
    }
    assert reasons == {
        101: "unterminated quote (or a line break inside a quoted field)",
        102: "blank line",
        103: "expected 7 fields, found 8",
        104: "not valid UTF-8: byte 0xE9 in column product_name",
    }


def test_the_reconciliation_is_the_same(runs: dict[str, Path]) -> None:
    duckdb_facts = json.loads((runs["duckdb"] / "reconciliation.json").read_text())
    spark_facts = json.loads((runs["spark"] / "reconciliation.json").read_text())
    for facts in (duckdb_facts, spark_facts):
        facts.pop("destination")
    assert spark_facts == duckdb_facts
    assert duckdb_facts["excluded"], "the exclusion counts are compared too"


def test_a_folder_named_by_url_publishes_the_same_files(runs: dict[str, Path]) -> None:
    for name in (*COMPARED_CSVS, "reconciliation.json"):
        by_url = (runs["spark_url"] / name).read_bytes()
        by_path = (runs["spark"] / name).read_bytes()
        if name == "reconciliation.json":  # the destination is the output folder
            by_url, by_path = (
                json.dumps({**json.loads(text), "destination": ""}).encode()
                for text in (by_url, by_path)
            )
        assert by_url == by_path, name
    database = duckdb.connect(str(runs["spark_url"].parent / "spark_url.duckdb"), read_only=True)
    recorded = database.execute("select input_dir from history.published_runs").fetchall()
    assert recorded == [((runs["spark_url"].parent / "landing").as_uri(),)]
