"""Hostile input files, end to end through the command line and the real dbt build.

Two kinds of answer, never a silent one:

- **file level**: the run exits 1 with ``<file>, line <n>[, column <c>]: <problem>`` on stderr
  and publishes nothing; the outputs of the run before stay byte-identical (same generation).
  One successful run publishes first (the sample with a header-only suppressions file and
  ``--allow-empty-suppressions``), then every broken landing folder is run against the same
  output folder and database through ``scripts/run_pipeline.py``'s ``main``.
- **row level**: one landing folder holds every kind of line that cannot be split (too many or
  too few fields, an unterminated quote, a field with a line break, bytes that are not UTF-8)
  in files written the odd-but-accepted ways (byte-order mark, CRLF, header names in another
  case or with spaces, columns in another order, extra columns). Each bad line is quarantined
  with its line and reason, the lines after it are read, and the audience and every decision
  equal the plain-Python reference (``tests/reference/``) over the rows that could be read.

(The pre-step's unit tests, ``test_landing.py`` and ``test_header.py``, check the same cases
one function deeper; the value-level invalid forms are in ``test_quarantine.py``.)
"""

from __future__ import annotations

import datetime as dt
import gzip
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import duckdb
import pytest
from conftest import (
    AS_OF,
    COLUMNS,
    CONTRACT,
    RUN_PIPELINE_CLI,
    PublishedRun,
    baseline_rows,
    csv_line,
    make_row,
    read_decisions,
    run_and_read_outputs,
)
from reference import audience_rules as rules

from audience_pipeline.errors import InputFileError
from audience_pipeline.explain import explain
from audience_pipeline.landing import load_landing_folder

pytestmark = pytest.mark.slow  # runs dbt end to end

PROJECT_DIR = Path(__file__).resolve().parent.parent
SAMPLE = PROJECT_DIR / "seeds"
UNTERMINATED = "unterminated quote (or a line break inside a quoted field)"


def load_cli() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "run_pipeline_cli", PROJECT_DIR / "scripts" / "run_pipeline.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CLI = load_cli()


# ---------------------------------------------------------------------------
# File level
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    work: Path
    output_dir: Path
    database: Path
    generation: str
    files: dict[str, bytes]
    stdout: str


def read_outputs(output_dir: Path) -> dict[str, bytes]:
    """Every published file, the run report included."""
    return {path.name: path.read_bytes() for path in sorted(output_dir.iterdir())}


def cli_args(input_dir: Path, published: Published, *extra: str) -> list[str]:
    return [
        "--input-dir",
        str(input_dir),
        "--as-of",
        AS_OF,
        "--output-dir",
        str(published.output_dir),
        "--database",
        str(published.database),
        "--quiet",
        *extra,
    ]


def header_only(path: Path) -> None:
    path.write_bytes(path.read_bytes().split(b"\n", 1)[0] + b"\n")


def header_and_blank_lines(path: Path) -> None:
    path.write_bytes(path.read_bytes().split(b"\n", 1)[0] + b"\n\n  \r\n\t\n\n")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """A successful run first: the sample with an empty (header-only) suppressions file,
    accepted because the flags say it is expected."""
    work = tmp_path_factory.mktemp("hostile_files")
    landing = work / "landing"
    shutil.copytree(SAMPLE, landing, ignore=shutil.ignore_patterns("*.yml"))
    header_only(landing / "suppressions.csv")
    output_dir, database = work / "out", work / "audience.duckdb"
    stdout = io.StringIO()
    sys_stdout, sys.stdout = sys.stdout, stdout
    try:
        code = CLI.main(
            [
                "--input-dir",
                str(landing),
                "--as-of",
                AS_OF,
                "--output-dir",
                str(output_dir),
                "--database",
                str(database),
                "--quiet",
                "--allow-empty-suppressions",
            ]
        )
    finally:
        sys.stdout = sys_stdout
    assert code == 0, stdout.getvalue()
    return Published(
        work,
        output_dir,
        database,
        os.readlink(output_dir),
        read_outputs(output_dir),
        stdout.getvalue(),
    )


def test_empty_suppressions_are_accepted_when_the_flag_says_so(published: Published) -> None:
    assert "published " in published.stdout
    report = published.files["reconciliation.json"].decode()
    assert '"suppressions": {\n      "raw": 0,' in report
    assert published.files["rejected_suppressions.csv"].count(b"\n") == 1  # header only


def binary(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 40)


def utf16(path: Path) -> None:
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))


def zipped(path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(path.name, path.read_bytes())
    path.write_bytes(buffer.getvalue())


def gzipped(path: Path) -> None:
    path.write_bytes(gzip.compress(path.read_bytes(), mtime=0))


def delimited(delimiter: str) -> Callable[[Path], None]:
    def rewrite(path: Path) -> None:
        path.write_text(path.read_text(encoding="utf-8").replace(",", delimiter))

    return rewrite


def drop_column(column: str) -> Callable[[Path], None]:
    def rewrite(path: Path) -> None:
        lines = path.read_text(encoding="utf-8").splitlines()
        position = lines[0].split(",").index(column)
        kept = [",".join(v for i, v in enumerate(ln.split(",")) if i != position) for ln in lines]
        path.write_text("\n".join(kept) + "\n")

    return rewrite


def duplicate_column(column: str, spelled: str) -> Callable[[Path], None]:
    def rewrite(path: Path) -> None:
        lines = path.read_text(encoding="utf-8").splitlines()
        position = lines[0].split(",").index(column)
        rows = [
            ln + "," + (spelled if n == 0 else ln.split(",")[position])
            for n, ln in enumerate(lines)
        ]
        path.write_text("\n".join(rows) + "\n")

    return rewrite


def header_not_utf8(path: Path) -> None:
    header, rest = path.read_bytes().split(b"\n", 1)
    path.write_bytes(header + ",r\xe9gion".encode("latin-1") + b"\n" + rest)


def blank_lines_only(path: Path) -> None:
    header_only(path)
    path.write_bytes(path.read_bytes() + b"\n   \n")


def unlink(path: Path) -> None:
    path.unlink()


def dangling_link(path: Path) -> None:
    path.unlink()
    path.symlink_to(path.with_name("moved-away.csv"))


def named_pipe(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def empty(path: Path) -> None:
    path.write_bytes(b"")


def bom_only(path: Path) -> None:
    path.write_bytes(b"\xef\xbb\xbf")


FILE_LEVEL = [
    *(
        pytest.param(name, unlink, r": file not found at ", id=f"missing-{name}")
        for name in COLUMNS
    ),
    pytest.param(
        "customers",
        dangling_link,
        r": .*customers\.csv is a symbolic link to .*moved-away\.csv, which does not exist",
        id="dangling-link",
    ),
    pytest.param(
        "suppressions",
        named_pipe,
        r": .*suppressions\.csv is not a regular file \(a pipe, socket or device\)",
        id="named-pipe",
    ),
    *(
        pytest.param(name, empty, r": file is empty \(0 bytes\)", id=f"zero-bytes-{name}")
        for name in COLUMNS
    ),
    pytest.param("customers", bom_only, r", line 1: file has no header row", id="bom-only"),
    pytest.param(
        "consent_events",
        drop_column("event_ts"),
        r", line 1, column event_ts: required column is missing \(header has: event_id,",
        id="missing-column",
    ),
    pytest.param(
        "bookings",
        drop_column("customer_id"),
        r", line 1, column customer_id: required column is missing",
        id="missing-id-column",
    ),
    pytest.param(
        "customers",
        duplicate_column("email", "email"),
        r", line 1, column email: column name appears more than once",
        id="duplicated-column",
    ),
    pytest.param(
        "suppressions",
        duplicate_column("email", " EMAIL "),
        r", line 1, column email: column name appears more than once",
        id="duplicated-column-other-case",
    ),
    *(
        pytest.param(
            name,
            header_only,
            r", line 2: file has a header but no data rows",
            id=f"header-only-{name}",
        )
        for name in ("customers", "bookings")
    ),
    *(
        pytest.param(
            name,
            header_and_blank_lines,
            r", line 2: file has a header but no data rows \(only blank lines\)",
            id=f"header-and-blank-lines-{name}",
        )
        for name in ("customers", "bookings")
    ),
    pytest.param(
        "customers",
        delimited(";"),
        r", line 1: header has a single column containing semicolons; the contract's delimiter",
        id="semicolon-delimiter",
    ),
    pytest.param(
        "bookings",
        delimited("\t"),
        r", line 1: header has a single column containing tabs",
        id="tab-delimiter",
    ),
    pytest.param(
        "consent_events",
        delimited("|"),
        r", line 1: header has a single column containing pipes",
        id="pipe-delimiter",
    ),
    pytest.param("customers", binary, r": file is not text", id="not-text-binary"),
    pytest.param("bookings", utf16, r": file is not text", id="not-text-utf16"),
    pytest.param("consent_events", zipped, r": file is not text", id="not-text-zip"),
    pytest.param("suppressions", gzipped, r": file is not text", id="not-text-gzip"),
    pytest.param(
        "customers", header_not_utf8, r", line 1: header is not valid UTF-8", id="header-not-utf8"
    ),
    pytest.param(
        "suppressions",
        header_only,
        r", line 2: file has a header but no rows; an empty suppression list is suspicious.*"
        r"--allow-empty-suppressions",
        id="empty-suppressions",
    ),
    pytest.param(
        "suppressions",
        blank_lines_only,
        r", line 2: none of its 2 data lines was accepted; an empty suppression list",
        id="suppressions-without-a-readable-row",
    ),
]


@pytest.mark.parametrize(("input_file", "damage", "message"), FILE_LEVEL)
def test_unusable_file_fails_the_run_naming_file_line_and_problem_and_publishes_nothing(
    published: Published,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    input_file: str,
    damage: Callable[[Path], None],
    message: str,
) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLE, landing, ignore=shutil.ignore_patterns("*.yml"))
    damage(landing / f"{input_file}.csv")
    capsys.readouterr()
    code = CLI.main(cli_args(landing, published))
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.startswith(f"audience run: {input_file}.csv")
    assert re.search(message, captured.err), captured.err
    # nothing published: the same generation, byte for byte
    assert os.readlink(published.output_dir) == published.generation
    assert read_outputs(published.output_dir) == published.files


def test_not_text_exits_1_from_the_real_process(published: Published, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLE, landing, ignore=shutil.ignore_patterns("*.yml"))
    binary(landing / "bookings.csv")
    completed = subprocess.run(
        [
            *RUN_PIPELINE_CLI,
            *cli_args(landing, published),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stderr == (
        "audience run: bookings.csv, line 1, column 1: file is not text (it contains NUL bytes)\n"
    )
    assert read_outputs(published.output_dir) == published.files


def test_rows_in_another_delimiter_under_a_comma_header_are_refused(tmp_path: Path) -> None:
    for name, columns in COLUMNS.items():
        rows = [csv_line([row[c] for c in columns]) for row in baseline_rows()[name]]
        (tmp_path / f"{name}.csv").write_text("\n".join([",".join(columns), *rows]) + "\n")
    rows = [";".join(make_row("customers", customer_id=str(n)).values()) for n in range(10, 14)]
    (tmp_path / "customers.csv").write_text(
        ",".join(COLUMNS["customers"]) + "\n" + "\n".join(rows) + "\n"
    )
    with duckdb.connect() as con:
        with pytest.raises(InputFileError) as raised:
            load_landing_folder(con, tmp_path, CONTRACT)
        assert raised.value.file == "customers.csv"


# ---------------------------------------------------------------------------
# Row level, in files written the odd-but-accepted ways
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One record as written: its physical lines, what must become of them, its values."""

    lines: tuple[bytes, ...]
    reason: str | None  # None: the row is read; else every physical line is quarantined so
    row: dict[str, str] | None  # the values, for the reference (None if it cannot be split)
    label: str = ""
    # for a record that cannot be split: the customer_id it was written with, which the
    # pipeline reads back from the broken line to hold that customer (rule 1)
    named_customer_id: str | None = None


@dataclass(frozen=True)
class FileLayout:
    header: bytes
    columns: tuple[str, ...]  # the file's column order (contract names, extras as written)
    line_ending: bytes = b"\n"
    bom: bool = False


LAYOUTS: dict[str, FileLayout] = {
    # a byte-order mark, CRLF line endings, header names in other case and with spaces
    "customers": FileLayout(
        header=b" Customer_ID ,EMAIL,First Name,home_state,LOYALTY_TIER,Is_Active,updated_at ",
        columns=COLUMNS["customers"],
        line_ending=b"\r\n",
        bom=True,
    ),
    # columns in another order and an extra column (ignored, reported)
    "bookings": FileLayout(
        header=",".join(["Note", *reversed(COLUMNS["bookings"])]).encode(),
        columns=("Note", *reversed(COLUMNS["bookings"])),
    ),
    "consent_events": FileLayout(
        header=",".join(column.upper() for column in COLUMNS["consent_events"]).encode(),
        columns=COLUMNS["consent_events"],
        line_ending=b"\r\n",
    ),
    "suppressions": FileLayout(
        header=b"customer id,Email,suppression_reason,suppressed_from,suppressed_until, Added By ",
        columns=(*COLUMNS["suppressions"], "Added By"),
    ),
}
N_FIELDS = {name: len(layout.columns) for name, layout in LAYOUTS.items()}


def fields_of(name: str, **values: str) -> tuple[dict[str, str], list[str]]:
    """A valid row of ``name`` and its fields in the file's column order (extras filled in)."""
    row = make_row(name, **values)
    extras = {"Note": "n,1", "Added By": "ops"}
    return row, [row.get(column, extras.get(column, "")) for column in LAYOUTS[name].columns]


def encoded(text: str) -> tuple[bytes, ...]:
    return tuple(part.encode() for part in text.split("\n"))


def good(name: str, label: str = "", **values: str) -> Entry:
    row, fields = fields_of(name, **values)
    return Entry(encoded(csv_line(fields)), None, row, label)


def embedded_line_break(name: str, label: str, column: str, **values: str) -> Entry:
    entry = good(name, label, **values, **{column: "first part\nsecond part"})
    assert len(entry.lines) == 2
    return Entry(entry.lines, UNTERMINATED, None, label, entry.row["customer_id"])


def not_utf8(name: str, label: str, column: str, **values: str) -> Entry:
    """A line with one Latin-1 byte: rejected, naming the byte and its column (the line still
    splits, so its customer_id is read where it is)."""
    row, fields = fields_of(name, **values, **{column: "Ren\u00e9e"})
    reason = f"not valid UTF-8: byte 0xE9 in column {column}"
    return Entry((csv_line(fields).encode("latin-1"),), reason, None, label, row["customer_id"])


def too_many(name: str, label: str, **values: str) -> Entry:
    row, fields = fields_of(name, **values)
    n = N_FIELDS[name]
    return Entry(
        encoded(csv_line([*fields, "extra"])),
        f"expected {n} fields, found {n + 1}",
        None,
        label,
        row["customer_id"],
    )


def too_few(name: str, label: str, **values: str) -> Entry:
    row, fields = fields_of(name, **values)
    return Entry(
        encoded(csv_line(fields[:3])),
        f"expected {N_FIELDS[name]} fields, found 3",
        None,
        label,
        row["customer_id"],
    )


def unterminated(name: str, label: str, **values: str) -> Entry:
    row, fields = fields_of(name, **values)
    opened = [*fields[:-1], '"' + fields[-1]]  # a quote opened in the last field, never closed
    return Entry(encoded(",".join(opened)), UNTERMINATED, None, label, row["customer_id"])


ENTRIES: dict[str, list[Entry]] = {
    name: [good(name, "baseline", **row) for row in rows] for name, rows in baseline_rows().items()
}
for _n in (11, 12, 13, 14, 15):
    ENTRIES["customers"].append(
        good("customers", f"customer {_n}", customer_id=str(_n), email=f"c{_n}@example.com")
    )
    ENTRIES["bookings"].append(
        good("bookings", f"booking {_n}", booking_id=f"B-{_n}", customer_id=str(_n))
    )
    ENTRIES["consent_events"].append(
        good("consent_events", f"opt-in {_n}", event_id=f"E-{_n}", customer_id=str(_n))
    )

# every line that cannot be split, in every file, each followed by rows that must still be read
ENTRIES["customers"][4:4] = [
    too_many("customers", "too many fields", customer_id="20"),
    too_few("customers", "too few fields", customer_id="21"),
    unterminated("customers", "unterminated quote", customer_id="22"),
]
ENTRIES["customers"][8:8] = [
    embedded_line_break("customers", "line break in a field", "first_name", customer_id="23"),
    not_utf8("customers", "not UTF-8", "first_name", customer_id="24"),
]
ENTRIES["bookings"][3:3] = [
    too_many("bookings", "too many fields", booking_id="X-1", customer_id="11"),
    too_few("bookings", "too few fields", booking_id="X-2"),
    unterminated("bookings", "unterminated quote", booking_id="X-3"),
    embedded_line_break("bookings", "line break in a field", "product_name", booking_id="X-4"),
    not_utf8("bookings", "not UTF-8", "product_name", booking_id="X-5"),
]
ENTRIES["consent_events"][3:3] = [
    too_few("consent_events", "too few fields", event_id="X-2"),
    unterminated("consent_events", "unterminated quote", event_id="X-3"),
    embedded_line_break("consent_events", "line break in a field", "source_system", event_id="X-4"),
    not_utf8("consent_events", "not UTF-8", "source_system", event_id="X-5"),
]
ENTRIES["suppressions"][:0] = [
    too_many("suppressions", "too many fields", customer_id="30"),
    too_few("suppressions", "too few fields", customer_id="31"),
    unterminated("suppressions", "unterminated quote", customer_id="32"),
    embedded_line_break(
        "suppressions", "line break in a field", "suppression_reason", customer_id="33"
    ),
    not_utf8("suppressions", "not UTF-8", "suppression_reason", customer_id="34"),
]
# an opt-out that cannot be split, newer than customer 15's opt-in: the broken line holds 15
HIDDEN_OPT_OUT = too_many(
    "consent_events",
    "opt-out with too many fields",
    event_id="E-15b",
    customer_id="15",
    consent_status="OPT_OUT",
    event_ts="2026-06-01T00:00:00Z",
)
ENTRIES["consent_events"].append(HIDDEN_OPT_OUT)
# a suppression by email alone that cannot be split: customer 16 is otherwise eligible
ENTRIES["customers"].append(
    good("customers", "customer 16", customer_id="16", email="c16@example.com")
)
ENTRIES["bookings"].append(good("bookings", "booking 16", booking_id="B-16", customer_id="16"))
ENTRIES["consent_events"].append(
    good("consent_events", "opt-in 16", event_id="E-16", customer_id="16")
)
HIDDEN_SUPPRESSION = too_many(
    "suppressions", "suppression by email, too many fields", customer_id="", email="c16@example.com"
)
ENTRIES["suppressions"].append(HIDDEN_SUPPRESSION)


def first_lines(name: str) -> list[int]:
    """The physical line each entry of ``name`` starts on (the header is line 1)."""
    line, starts = 2, []
    for entry in ENTRIES[name]:
        starts.append(line)
        line += len(entry.lines)
    return starts


@dataclass(frozen=True)
class HostileRun:
    published: PublishedRun
    decisions: dict[int, str]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> HostileRun:
    work = tmp_path_factory.mktemp("hostile_rows")
    landing = work / "landing"
    landing.mkdir()
    for name, layout in LAYOUTS.items():
        lines = [layout.header] + [line for entry in ENTRIES[name] for line in entry.lines]
        data = layout.line_ending.join(lines) + layout.line_ending
        (landing / f"{name}.csv").write_bytes((b"\xef\xbb\xbf" if layout.bom else b"") + data)
    published = run_and_read_outputs(landing, work)
    decisions = read_decisions(published.database)
    return HostileRun(published, decisions)


BROKEN = [
    pytest.param(name, index, id=f"{name}:{entry.label}")
    for name in LAYOUTS
    for index, entry in enumerate(ENTRIES[name])
    if entry.reason is not None
]


@pytest.mark.parametrize(("input_file", "index"), BROKEN)
def test_line_that_cannot_be_split_is_quarantined_with_line_and_reason(
    hostile_run: HostileRun, input_file: str, index: int
) -> None:
    entry = ENTRIES[input_file][index]
    start = first_lines(input_file)[index]
    for offset, _ in enumerate(entry.lines):
        row = hostile_run.published.rejected_at(input_file, start + offset)
        assert row is not None, f"line {start + offset} was not quarantined"
        assert (row["disposition"], row["reason"]) == ("rejected", entry.reason)
        assert row["raw_line"]


@pytest.mark.parametrize("input_file", list(LAYOUTS))
def test_every_other_line_is_read_and_every_line_is_accounted_for(
    hostile_run: HostileRun, input_file: str
) -> None:
    quarantined = {int(row["source_line"]) for row in hostile_run.published.rejected[input_file]}
    expected = {
        start + offset
        for start, entry in zip(first_lines(input_file), ENTRIES[input_file], strict=True)
        if entry.reason is not None
        for offset in range(len(entry.lines))
    }
    assert quarantined == expected
    counts = hostile_run.published.reconciliation["input_files"][input_file]
    physical = sum(len(entry.lines) for entry in ENTRIES[input_file])
    assert counts["raw"] == physical
    assert counts["rejected"] == len(expected)
    assert counts["accepted"] == physical - len(expected)
    assert counts["duplicate"] == 0


def test_extra_columns_are_ignored_and_reported(hostile_run: HostileRun) -> None:
    files = hostile_run.published.reconciliation["input_files"]
    assert {name: files[name]["extra_columns_ignored"] for name in LAYOUTS} == {
        "customers": [],
        "bookings": ["note"],
        "consent_events": [],
        "suppressions": ["added_by"],
    }


def test_audience_and_decisions_equal_the_reference_with_broken_lines_holding_their_customer(
    hostile_run: HostileRun,
) -> None:
    readable = {
        name: [entry.row for entry in ENTRIES[name] if entry.row is not None] for name in LAYOUTS
    }
    named = {
        name: {int(entry.named_customer_id) for entry in ENTRIES[name] if entry.named_customer_id}
        for name in LAYOUTS
    }
    expected = rules.evaluate(
        readable["customers"],
        readable["bookings"],
        readable["consent_events"],
        readable["suppressions"],
        dt.date.fromisoformat(AS_OF),
        unsplittable_line_ids=named,
        unsplittable_suppression_emails={
            email
            for entry in ENTRIES["suppressions"]
            if entry.reason is not None
            for line in entry.lines
            for email in rules.emails_named_by_unsplittable_line(
                line.decode("utf-8", "replace"), LAYOUTS["suppressions"].columns
            )
        },
        unsplittable_customer_addresses={
            address
            for entry in ENTRIES["customers"]
            if entry.reason is not None
            for line in entry.lines
            for address in rules.addresses_named_by_unsplittable_line(
                line.decode("utf-8", "replace"), LAYOUTS["customers"].columns
            )
        },
    )
    assert hostile_run.decisions == expected.decisions
    assert hostile_run.published.audience == expected.audience
    # the rows after each broken line were read: those customers are published
    assert {row["customer_id"] for row in hostile_run.published.audience} >= {
        "11",
        "12",
        "13",
        "14",
    }


def test_customer_with_an_unsplittable_consent_line_is_not_published(
    hostile_run: HostileRun,
) -> None:
    assert HIDDEN_OPT_OUT.reason is not None
    assert "15" not in {row["customer_id"] for row in hostile_run.published.audience}
    assert hostile_run.decisions[15] == "data_quality_hold"
    # the explanation names the broken line
    hidden_line = first_lines("consent_events")[ENTRIES["consent_events"].index(HIDDEN_OPT_OUT)]
    explanation = explain(hostile_run.published.database, 15)
    assert f"consent_events.csv line {hidden_line} rejected: {HIDDEN_OPT_OUT.reason}" in explanation


def test_customer_named_by_an_unsplittable_suppression_line_is_not_published(
    hostile_run: HostileRun,
) -> None:
    assert HIDDEN_SUPPRESSION.reason is not None
    assert "16" not in {row["customer_id"] for row in hostile_run.published.audience}
    assert hostile_run.decisions[16] == "suppressed"
    line = first_lines("suppressions")[ENTRIES["suppressions"].index(HIDDEN_SUPPRESSION)]
    explanation = explain(hostile_run.published.database, 16)
    assert f"suppressions.csv line {line}: may name this email" in explanation


def test_customers_known_only_from_broken_lines_are_held_and_counted(
    hostile_run: HostileRun,
) -> None:
    """Every customer id read anywhere in customers.csv has a decision: 20-24 appear only on
    lines that could not be split or read, so they are held, and they count among the
    customers (the exclusions still add up)."""
    for customer_id in (20, 21, 22, 23, 24):
        assert hostile_run.decisions[customer_id] == "data_quality_hold", customer_id
    report = hostile_run.published.reconciliation
    assert report["customers"] == len(hostile_run.decisions)
    assert report["customers"] == report["eligible"] + sum(report["excluded"].values())
