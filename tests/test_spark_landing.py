"""Spark reads a landing folder itself and publishes what DuckDB publishes from it.

A generated folder of a few thousand customers (the generator's default share of invalid
values), with broken lines put in the middle of bookings.csv (an unterminated quote, a blank
line, too many fields, a byte that is not UTF-8, a quoted field with a delimiter and doubled
quotes, a CRLF line ending) and a suppression whose id a thousands comma cut in two (only
its id read uncut names the customer), runs end to end three times: ``audience run`` on DuckDB,
``audience run --target spark``, and Spark once more with the folder named by a ``file://``
URL, as object storage is named. Spark reads the files in small splits here (64 KB), so a file
is read by several tasks and every line number comes from the locator (the split's offset
and the position within it), not from reading in one piece. Every published file must be the
same: the audience, each rejected row with its line, reason and raw values, the deltas and
the reconciliation with the exclusion counts. One difference is documented: a line that is not
valid UTF-8 shows each bad byte as U+FFFD on Spark where DuckDB's pre-step escapes it
(``\\xe9``); its line and reason are the same.

A fourth run puts the folder in an S3 bucket (moto's server on this machine) and gives Spark
its ``s3a://`` URL: the checks read it through s3fs, Spark through hadoop-aws, and the
published files must be those of the run on the folder's path.

Runs with the engine comparison (``scripts/test_engines.sh``, AUDIENCE_ENGINE_TESTS=1, which
also sets AUDIENCE_S3A_JARS to the hadoop-aws jars of ``scripts/s3a_jars.py``).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import s3fs
from conftest import COLUMNS
from reference import audience_rules as rules
from s3_endpoint import ACCESS_KEY, SECRET_KEY, point_clients_at, running_endpoint, upload_folder

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
#: hadoop-aws 3.3.1 (the copy PyPI serves: scripts/s3a_jars.py) is older than the Hadoop 3.5
#: client inside pyspark, whose defaults give these settings with a unit ("60s", "64M") that
#: 3.3.1 reads as a plain number; they are given here as numbers, in the unit 3.3.1 expects. A
#: cluster reads s3a:// with the hadoop-aws of its own Hadoop and needs none of them.
OLD_HADOOP_AWS_SETTINGS = {
    "fs.s3a.connection.timeout": "200000",
    "fs.s3a.connection.establish.timeout": "5000",
    "fs.s3a.connection.request.timeout": "0",
    "fs.s3a.connection.acquisition.timeout": "60000",
    "fs.s3a.connection.idle.time": "60000",
    "fs.s3a.connection.ttl": "300000",
    "fs.s3a.threads.keepalivetime": "60",
    "fs.s3a.retry.interval": "500",
    "fs.s3a.retry.throttle.interval": "100",
    "fs.s3a.assumed.role.session.duration": "1800",
    "fs.s3a.multipart.purge.age": "86400",
    "fs.s3a.multipart.size": "67108864",
    "fs.s3a.multipart.threshold": "134217728",
    "fs.s3a.block.size": "33554432",
    "fs.s3a.readahead.range": "65536",
}
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
    _suppress_with_a_cut_id(landing)  # the reference reads the folder before it is broken
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
        outputs[run] = _published(run, target, input_dir, work)
    return outputs


def _suppress_with_a_cut_id(landing: Path) -> None:
    """Suppressions of the first two customers over 999 whom the folder makes eligible, each id
    written with a thousands comma and unquoted (``1,042``): the split cuts it in two, and only
    the id read uncut (``salvaged_customer_id_uncut``, a slice of the line's pieces on each
    engine) names the customer. The first line has a field too many; the second lost its end
    date and still splits, its customer_id (``1``) followed by three digits (``042``)."""
    decisions = rules.evaluate_dir(landing, dt.date.fromisoformat(AS_OF)).decisions
    first, second = sorted(c for c, d in decisions.items() if d == rules.ELIGIBLE and c >= 1000)[:2]
    suppressions = landing / "suppressions.csv"
    assert suppressions.read_text().startswith(",".join(COLUMNS["suppressions"]) + "\n")
    with suppressions.open("a", encoding="utf-8") as handle:
        handle.write(f"{first // 1000},{first % 1000:03d},,hard_bounce,2026-01-01,\n")
        handle.write(f"{second // 1000},{second % 1000:03d},hard_bounce,2026-01-01,\n")


def _cut_customers(runs: dict[str, Path]) -> list[tuple[int, int]]:
    """The customers ``_suppress_with_a_cut_id`` wrote lines for, and their lines."""
    lines = (runs["spark"].parent / "landing" / "suppressions.csv").read_text().splitlines()
    return [
        (int("".join(lines[line - 1].split(",")[:2])), line)
        for line in (len(lines) - 1, len(lines))
    ]


def _published(
    run: str, target: str, input_dir: str, work: Path, env: dict[str, str] | None = None
) -> Path:
    """``audience run`` into ``work/out_<run>``, with ``work/<run>.duckdb``; the output folder."""
    out = work / f"out_{run}"
    _audience(
        "run", "--target", target, "--input-dir", input_dir, "--as-of", AS_OF,
        "--output-dir", str(out), "--database", str(work / f"{run}.duckdb"), "--quiet",
        # small splits (every line number from the locator); a metastore of its own: the
        # engine comparison may hold the sample's open
        env={
            "AUDIENCE_SPARK_MAX_PARTITION_BYTES": "64k",
            "AUDIENCE_SPARK_DIR": str(work / "spark"),
            **(env or {}),
        },
    )  # fmt: skip
    return out


def _spark_defaults_for_s3(endpoint: str, jars: Path) -> str:
    """A spark-defaults.conf that reads s3a:// from ``endpoint``, as a cluster's would read S3."""
    settings = {
        "spark.jars": ",".join(str(jar) for jar in sorted(jars.glob("*.jar"))),
        "spark.hadoop.fs.s3a.endpoint": endpoint,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
        "spark.hadoop.fs.s3a.aws.credentials.provider": (
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
        ),
        "spark.hadoop.fs.s3a.access.key": ACCESS_KEY,
        "spark.hadoop.fs.s3a.secret.key": SECRET_KEY,
        **{f"spark.hadoop.{key}": value for key, value in OLD_HADOOP_AWS_SETTINGS.items()},
    }
    return "".join(f"{key} {value}\n" for key, value in settings.items())


@pytest.fixture(scope="module")
def s3a_run(runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of ``audience run --target spark`` on the landing folder in S3."""
    jars = os.environ.get("AUDIENCE_S3A_JARS")
    if not jars:
        pytest.skip("Spark on s3a://: set AUDIENCE_S3A_JARS (scripts/test_engines.sh does)")
    work = tmp_path_factory.mktemp("spark_s3a")
    conf = work / "spark-conf"
    conf.mkdir()
    with running_endpoint() as endpoint, pytest.MonkeyPatch.context() as patch:
        point_clients_at(patch, endpoint, work)
        s3fs.S3FileSystem().mkdir("exports")
        url = upload_folder(runs["spark"].parent / "landing", "exports")
        (conf / "spark-defaults.conf").write_text(_spark_defaults_for_s3(endpoint, Path(jars)))
        out = _published("spark_s3a", "spark", url, work, env={"SPARK_CONF_DIR": str(conf)})
        s3fs.S3FileSystem.clear_instance_cache()
    return out


def _assert_published_alike(output_dir: Path, reference_dir: Path) -> None:
    """The same published files, but for the destination (the output folder) they record."""
    for name in (*COMPARED_CSVS, "reconciliation.json"):
        published = (output_dir / name).read_bytes()
        reference = (reference_dir / name).read_bytes()
        if name == "reconciliation.json":
            published, reference = (
                json.dumps({**json.loads(text), "destination": ""}).encode()
                for text in (published, reference)
            )
        assert published == reference, name


def _recorded_input_dirs(database: Path) -> list[tuple[str]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute("select input_dir from history.published_runs").fetchall()


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


def test_an_id_cut_by_a_thousands_comma_is_suppressed_on_both_engines(
    runs: dict[str, Path],
) -> None:
    for (customer, line), run in itertools.product(_cut_customers(runs), ("duckdb", "spark")):
        audience = {int(row["customer_id"]) for row in _rows(runs[run] / "eligible_audience.csv")}
        assert customer not in audience, run
        rejected = {
            int(row["source_line"]) for row in _rows(runs[run] / "rejected_suppressions.csv")
        }
        assert line in rejected, run


def test_the_reconciliation_is_the_same(runs: dict[str, Path]) -> None:
    duckdb_facts = json.loads((runs["duckdb"] / "reconciliation.json").read_text())
    spark_facts = json.loads((runs["spark"] / "reconciliation.json").read_text())
    for facts in (duckdb_facts, spark_facts):
        facts.pop("destination")
    assert spark_facts == duckdb_facts
    assert duckdb_facts["excluded"], "the exclusion counts are compared too"


def test_a_folder_named_by_url_publishes_the_same_files(runs: dict[str, Path]) -> None:
    _assert_published_alike(runs["spark_url"], runs["spark"])
    recorded = _recorded_input_dirs(runs["spark_url"].parent / "spark_url.duckdb")
    assert recorded == [((runs["spark_url"].parent / "landing").as_uri(),)]


def test_spark_reads_a_folder_in_s3_and_publishes_the_same_files(
    runs: dict[str, Path], s3a_run: Path
) -> None:
    _assert_published_alike(s3a_run, runs["spark"])
    recorded = _recorded_input_dirs(s3a_run.parent / "spark_s3a.duckdb")
    assert recorded == [("s3a://exports/landing",)]
