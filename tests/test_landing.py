"""Unit tests of the pre-step, ``audience_pipeline.landing.load_landing_folder``, run directly on
an in-memory DuckDB connection, and of the split of its lines by the dbt macro ``landing_rows``
(compiled by dbt, run on the same connection: tests/landing_split.py): line numbers, line
endings, encodings, splitting and the files refused as a whole.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import (
    COLUMNS,
    CONTRACT,
    DEFAULT_ROWS,
    baseline_rows,
    csv_line,
    make_row,
    write_csv,
    write_landing_folder,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from landing_split import load_and_split

from audience_pipeline import file_checks, line_count
from audience_pipeline.dialect import Dialect
from audience_pipeline.errors import InputFileError
from audience_pipeline.file_checks import _head_lines, _read_head, fingerprint_file
from audience_pipeline.landing import LoadedFile
from audience_pipeline.line_count import MAX_LINE_BYTES

UNTERMINATED = "unterminated quote (or a line break inside a quoted field)"
N_BASELINE = {name: len(rows) for name, rows in baseline_rows().items()}
FIRST_CASE_LINE = {name: 2 + count for name, count in N_BASELINE.items()}  # header is line 1


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as connection:
        yield connection


LoadFolder = Callable[[Path], dict[str, LoadedFile]]


@pytest.fixture
def load(con: duckdb.DuckDBPyConnection) -> LoadFolder:
    """Run the pre-step over a folder; returns what it loaded, by file."""

    def run(folder: Path) -> dict[str, LoadedFile]:
        return {item.input_file: item for item in load_and_split(con, folder, CONTRACT)}

    return run


def landing_rows(con: duckdb.DuckDBPyConnection, input_file: str) -> list[dict[str, Any]]:
    """The landing table of ``input_file``, as dicts, by line."""
    cursor = con.execute(f"select * from landing_split.{input_file} order by source_line")
    names = [description[0] for description in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def structural_errors(con: duckdb.DuckDBPyConnection, input_file: str) -> int:
    """How many data lines of ``input_file`` the split marks with a structural error."""
    return sum(row["structural_error"] is not None for row in landing_rows(con, input_file))


def row_at(con: duckdb.DuckDBPyConnection, input_file: str, line: int) -> dict[str, Any]:
    matches = [row for row in landing_rows(con, input_file) if row["source_line"] == line]
    assert len(matches) == 1, f"{input_file} line {line}: {len(matches)} rows"
    return matches[0]


def values_of(row: dict[str, Any], input_file: str) -> dict[str, Any]:
    return {column: row[column] for column in COLUMNS[input_file]}


def assert_parsed(row: dict[str, Any], input_file: str, expected: dict[str, str]) -> None:
    assert row["structural_error"] is None, row
    assert row["raw_line"] is None
    assert values_of(row, input_file) == expected


def assert_quarantined(row: dict[str, Any], input_file: str, error: str, line: str) -> None:
    assert row["structural_error"] == error
    assert row["raw_line"] == line
    assert all(value is None for value in values_of(row, input_file).values())


def customer(n: int, **values: str) -> dict[str, str]:
    return make_row("customers", customer_id=str(n), email=f"c{n}@example.com", **values)


# ---------------------------------------------------------------------------
# Line numbers, line endings, encodings
# ---------------------------------------------------------------------------


def test_line_numbers_start_at_2_after_the_header(
    landing_folder: Callable[..., Path], load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    rows = [customer(n) for n in range(10, 20)]
    loaded = load(landing_folder({"customers": rows}))
    table = landing_rows(con, "customers")
    assert [row["source_line"] for row in table] == list(range(2, 2 + len(table)))
    assert loaded["customers"].data_lines == len(table) == N_BASELINE["customers"] + 10
    for offset, expected in enumerate(rows):
        assert_parsed(
            row_at(con, "customers", FIRST_CASE_LINE["customers"] + offset), "customers", expected
        )


@pytest.mark.parametrize(
    ("line_ending", "bom"),
    [
        pytest.param("\r\n", False, id="crlf"),
        pytest.param("\n", True, id="bom"),
        pytest.param("\r\n", True, id="bom-crlf"),
    ],
)
def test_crlf_and_bom_are_read_like_plain_lf(
    tmp_path: Path,
    load: LoadFolder,
    con: duckdb.DuckDBPyConnection,
    line_ending: str,
    bom: bool,
) -> None:
    write_landing_folder(tmp_path)
    rows = [*baseline_rows()["customers"], customer(10, updated_at="2026-03-01")]
    write_csv(
        tmp_path / "customers.csv", COLUMNS["customers"], rows, line_ending=line_ending, bom=bom
    )
    loaded = load(tmp_path)
    assert loaded["customers"].data_lines == len(rows)
    assert structural_errors(con, "customers") == 0
    table = landing_rows(con, "customers")
    for line, expected in enumerate(rows, start=2):
        assert_parsed(table[line - 2], "customers", expected)
        assert table[line - 2]["source_line"] == line
    # the last column carries no stray carriage return
    assert table[-1]["updated_at"] == "2026-03-01"


@pytest.mark.parametrize("chunk_bytes", [None, 7], ids=["one-chunk", "crlf-cut-between-chunks"])
def test_mixed_line_endings_keep_physical_line_numbers(
    tmp_path: Path,
    load: LoadFolder,
    con: duckdb.DuckDBPyConnection,
    monkeypatch: pytest.MonkeyPatch,
    chunk_bytes: int | None,
) -> None:
    """A CRLF line among LF lines is one line (DuckDB's reader alone would count two), and a
    lone CR ends a line, as Spark's text reader and the manifest's count read them."""
    if chunk_bytes is not None:  # the checksum's line count across chunk boundaries
        monkeypatch.setattr("audience_pipeline.file_checks._CHUNK_BYTES", chunk_bytes)
    write_landing_folder(tmp_path)
    header = ",".join(COLUMNS["customers"])
    first, second, third = (
        csv_line([customer(n)[column] for column in COLUMNS["customers"]]) for n in (10, 11, 12)
    )
    path = tmp_path / "customers.csv"
    path.write_bytes(f"{header}\n{first}\r\n{second}\nbroken\r{third}\n".encode())
    loaded = load(tmp_path)
    assert loaded["customers"].data_lines == 4
    table = landing_rows(con, "customers")
    assert [row["source_line"] for row in table] == [2, 3, 4, 5]
    assert_parsed(table[0], "customers", customer(10))
    assert_parsed(table[1], "customers", customer(11))
    assert table[2]["structural_error"] == "expected 7 fields, found 1"
    assert_parsed(table[3], "customers", customer(12))


@settings(max_examples=300, deadline=None)
@given(
    content=st.lists(st.sampled_from([b"a", b",", b"\n", b"\r", b"\r\n", b"\x00"]), max_size=40),
    chunk_bytes=st.integers(min_value=1, max_value=9),
)
def test_the_line_count_is_that_of_physical_lines_whatever_the_chunks(
    tmp_path_factory: pytest.TempPathFactory, content: list[bytes], chunk_bytes: int
) -> None:
    """LF, CRLF and a lone CR each end one line (as bytes.splitlines reads them), a CRLF cut
    between two chunks included; the checksum and first NUL byte are the whole file's."""
    data = b"".join(content)
    path = tmp_path_factory.mktemp("fingerprint") / "file.csv"
    path.write_bytes(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("audience_pipeline.file_checks._CHUNK_BYTES", chunk_bytes)
        fingerprint = fingerprint_file(path)
    assert fingerprint.lines == len(data.splitlines())
    assert fingerprint.sha256 == hashlib.sha256(data).hexdigest()
    assert fingerprint.first_nul_byte == (data.find(b"\x00") if b"\x00" in data else None)


def test_last_line_without_line_ending_is_read(
    tmp_path: Path, load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    write_landing_folder(tmp_path)
    path = tmp_path / "customers.csv"
    path.write_bytes(path.read_bytes() + csv_line(list(customer(10).values())).encode())
    loaded = load(tmp_path)
    last = FIRST_CASE_LINE["customers"]
    assert loaded["customers"].data_lines == last - 1
    assert_parsed(row_at(con, "customers", last), "customers", customer(10))


@pytest.mark.parametrize("blank", ["", "   "], ids=["empty", "spaces"])
def test_blank_line_is_quarantined_and_later_lines_keep_their_numbers(
    landing_folder: Callable[..., Path],
    load: LoadFolder,
    con: duckdb.DuckDBPyConnection,
    blank: str,
) -> None:
    load(landing_folder({"customers": [customer(10), blank, customer(11)]}))
    first = FIRST_CASE_LINE["customers"]
    assert_parsed(row_at(con, "customers", first), "customers", customer(10))
    blank_row = row_at(con, "customers", first + 1)
    assert blank_row["structural_error"] == "blank line"
    assert all(value is None for value in values_of(blank_row, "customers").values())
    assert_parsed(row_at(con, "customers", first + 2), "customers", customer(11))
    assert structural_errors(con, "customers") == 1


def test_blank_crlf_line_is_a_blank_line(
    tmp_path: Path, load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    write_landing_folder(tmp_path)
    write_csv(
        tmp_path / "customers.csv",
        COLUMNS["customers"],
        [customer(10), "", customer(11)],
        line_ending="\r\n",
    )
    load(tmp_path)
    assert row_at(con, "customers", 3)["structural_error"] == "blank line"
    assert_parsed(row_at(con, "customers", 4), "customers", customer(11))


def test_not_utf8_row_is_the_only_line_rejected(
    tmp_path: Path, load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    write_landing_folder(tmp_path)
    lines = [
        csv_line(COLUMNS["customers"]).encode(),
        csv_line(list(customer(10).values())).encode(),
        csv_line(list(customer(11, first_name="Ren\u00e9e").values())).encode("latin-1"),
        csv_line(list(customer(12, first_name="Ren\u00e9e").values())).encode("utf-8"),
        csv_line(list(customer(13).values())).encode() + b"\xff",
        csv_line(list(customer(14, first_name="Zo\u00eb").values())).encode(),
    ]
    (tmp_path / "customers.csv").write_bytes(b"\n".join(lines) + b"\n")
    loaded = load(tmp_path)
    assert loaded["customers"].data_lines == 5
    assert structural_errors(con, "customers") == 2
    assert_parsed(row_at(con, "customers", 2), "customers", customer(10))
    # a bad byte spoils only itself: the line still splits, the byte is shown escaped and
    # the reason names it and its column
    row = row_at(con, "customers", 3)
    assert row["structural_error"] == "not valid UTF-8: byte 0xE9 in column first_name"
    assert values_of(row, "customers") == customer(11, first_name="Ren\\xe9e")
    assert row["raw_line"] == csv_line(list(customer(11, first_name="Ren\\xe9e").values()))
    row = row_at(con, "customers", 5)
    assert row["structural_error"] == "not valid UTF-8: byte 0xFF in column updated_at"
    assert row["raw_line"] == csv_line(list(customer(13).values())) + "\\xff"
    assert row["customer_id"] == "13"
    assert_parsed(row_at(con, "customers", 4), "customers", customer(12, first_name="Ren\u00e9e"))
    assert_parsed(row_at(con, "customers", 6), "customers", customer(14, first_name="Zo\u00eb"))


def test_not_utf8_lines_far_apart_keep_every_line_number(
    tmp_path: Path, load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    """Enough lines for DuckDB to read in several chunks and threads."""
    write_landing_folder(tmp_path)
    n_lines = 150_000
    bad_lines = {2, 3, 70_001, n_lines + 1}
    header = ",".join(COLUMNS["bookings"]).encode()
    body = [
        f"B{line},1,2026-06-01,1,COMPLETED,Flight,web".encode()
        + (b"\xe9" if line in bad_lines else b"")
        for line in range(2, n_lines + 2)
    ]
    (tmp_path / "bookings.csv").write_bytes(header + b"\n" + b"\n".join(body) + b"\n")
    con.execute("set threads = 4")
    loaded = load(tmp_path)
    assert loaded["bookings"].data_lines == n_lines
    errors = con.execute(
        "select source_line from landing_split.bookings where structural_error is not null"
        " order by source_line"
    ).fetchall()
    assert {line for (line,) in errors} == bad_lines
    misplaced = con.execute(
        "select count(*) from landing_split.bookings"
        " where structural_error is null and booking_id <> 'B' || source_line"
    ).fetchone()
    assert misplaced == (0,)
    assert con.execute(
        "select count(distinct source_line), min(source_line), max(source_line)"
        " from landing_split.bookings"
    ).fetchone() == (n_lines, 2, n_lines + 1)


def test_not_utf8_header_is_refused(tmp_path: Path, load: LoadFolder) -> None:
    write_landing_folder(tmp_path)
    header = (",".join(COLUMNS["bookings"]) + ",r\u00e9gion").encode("latin-1")
    path = tmp_path / "bookings.csv"
    path.write_bytes(header + b"\n" + path.read_bytes().split(b"\n", 1)[1])
    with pytest.raises(InputFileError, match="not valid UTF-8") as raised:
        load(tmp_path)
    assert raised.value.file == "bookings.csv"
    assert raised.value.line == 1


# ---------------------------------------------------------------------------
# Splitting lines into fields
# ---------------------------------------------------------------------------


def test_too_many_and_too_few_fields(
    landing_folder: Callable[..., Path], load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    too_many = "X-1,1,2026-06-01,1,COMPLETED,Flight,web,extra"
    too_few = "X-2,1,2026-06-01"
    one_field = "X-3"
    trailing_comma = "X-4,1,2026-06-01,1,COMPLETED,Flight,web,"
    rows = [too_many, too_few, one_field, trailing_comma, make_row("bookings", booking_id="X-5")]
    load(landing_folder({"bookings": rows}))
    first = FIRST_CASE_LINE["bookings"]
    assert_quarantined(
        row_at(con, "bookings", first), "bookings", "expected 7 fields, found 8", too_many
    )
    assert_quarantined(
        row_at(con, "bookings", first + 1), "bookings", "expected 7 fields, found 3", too_few
    )
    assert_quarantined(
        row_at(con, "bookings", first + 2), "bookings", "expected 7 fields, found 1", one_field
    )
    assert_quarantined(
        row_at(con, "bookings", first + 3), "bookings", "expected 7 fields, found 8", trailing_comma
    )
    assert_parsed(
        row_at(con, "bookings", first + 4), "bookings", make_row("bookings", booking_id="X-5")
    )
    assert structural_errors(con, "bookings") == 4


@pytest.mark.parametrize(
    ("line", "from_start", "from_end"),
    [
        # a stray comma after the customer_id: the reading from the start finds it
        ("E-1,15,email,OPT_OUT,2026-06-01T00:00:00Z,crm,eu", "15", "email"),
        # a stray comma before it: the reading from the end finds it
        ("E,1,15,email,OPT_OUT,2026-06-01T00:00:00Z,crm", "1", "15"),
        # a lost field: the reading from the start still finds it
        ("E-1,15,OPT_OUT", "15", None),
        # quotes and spaces around the piece are dropped
        ('E-1, "15" ,email,"OPT_OUT,2026-06-01T00:00:00Z,crm', "15", "15"),
    ],
    ids=["comma_after", "comma_before", "lost_field", "quoted"],
)
def test_line_that_cannot_be_split_names_its_customer_both_ways(
    landing_folder: Callable[..., Path],
    load: LoadFolder,
    con: duckdb.DuckDBPyConnection,
    line: str,
    from_start: str,
    from_end: str | None,
) -> None:
    load(landing_folder({"consent_events": [line, make_row("consent_events", event_id="E-9")]}))
    first = FIRST_CASE_LINE["consent_events"]
    broken = row_at(con, "consent_events", first)
    assert broken["structural_error"] is not None
    assert (broken["salvaged_customer_id"], broken["salvaged_customer_id_from_end"]) == (
        from_start,
        from_end,
    )
    readable = row_at(con, "consent_events", first + 1)
    assert readable["structural_error"] is None
    assert readable["salvaged_customer_id"] is None
    assert readable["salvaged_customer_id_from_end"] is None


REST = "email,OPT_OUT,2026-06-01T00:00:00Z,crm"


@pytest.mark.parametrize(
    ("line", "uncut"),
    [
        # an id written with a thousands comma, cut in two by the split: whole at the start
        (f"E-1,157,000,{REST}", f"157,000,{REST}"),
        # cut in three
        (f"E-1,1,157,000,{REST}", f"1,157,000,{REST}"),
        # quotes around it, the quoting unsound: the pieces keep them, the text's ends do not
        (f'E-1,"157,000,{REST}', f"157,000,{REST}"),
        # a semicolon line in the comma file, cut at semicolons and commas alike
        (f"E-1;157,000;{REST.replace(',', ';')}", f"157,000,{REST}"),
        # a field too many after the id
        (f"E-1,15,{REST},eu", f"15,{REST},eu"),
        # quoted, a field short: the pieces are cut at every comma, each loses its quotes
        (
            'E-1,"157,000",email,OPT_OUT,2026-06-01T00:00:00Z',
            "157,000,email,OPT_OUT,2026-06-01T00:00:00Z",
        ),
        # padded: each piece loses its spaces, no-break spaces included
        (f"E-1,157,000 \u00a0  ,{REST},x", f"157,000,{REST},x"),
        # a field short, no quote
        ("E-1,15,OPT_OUT", "15,OPT_OUT"),
        # fewer pieces than the id's place: nothing left
        ("E-1", ""),
    ],
    ids=[
        "cut_in_two",
        "cut_in_three",
        "unsound_quote",
        "other_delimiter",
        "after_id",
        "quoted_field_short",
        "padded",
        "fewer",
        "no_piece",
    ],
)
def test_line_that_cannot_be_split_reads_its_id_uncut(
    landing_folder: Callable[..., Path],
    load: LoadFolder,
    con: duckdb.DuckDBPyConnection,
    line: str,
    uncut: str,
) -> None:
    load(landing_folder({"consent_events": [line, make_row("consent_events", event_id="E-9")]}))
    first = FIRST_CASE_LINE["consent_events"]
    broken = row_at(con, "consent_events", first)
    assert broken["structural_error"] is not None
    assert broken["salvaged_customer_id_uncut"] == uncut
    assert row_at(con, "consent_events", first + 1)["salvaged_customer_id_uncut"] is None


CUT_AFTER_ID = (
    "customer_id and the field after it ({}) may be one id cut at its thousands separator"
)
CUT_BEFORE_ID = (
    "the field before customer_id ({}) and customer_id may be one id cut at its thousands separator"
)


@pytest.mark.parametrize(
    ("line", "uncut"),
    [
        # cut in two, the line's last field lost: it still splits into six fields
        (
            "E-1,157,000,email,OPT_OUT,2026-06-01T00:00:00Z",
            "157,000,email,OPT_OUT,2026-06-01T00:00:00Z",
        ),
        # cut in three, two fields lost
        ("E-1,1,157,000,OPT_OUT,2026-06-01", "1,157,000,OPT_OUT,2026-06-01"),
        # padded and quoted pieces, a letter before the id
        ('E-1,C-157 ," 000 ",email,OPT_OUT,x', "C-157,000,email,OPT_OUT,x"),
        # padded wide, as a fixed-width column is
        ("E-1,   157,000            ,email,OPT_OUT,x", "157,000,email,OPT_OUT,x"),
        # fullwidth digits
        ("E-1,１５７,０００,email,OPT_OUT,x", "１５７,０００,email,OPT_OUT,x"),
    ],
    ids=["cut_in_two", "cut_in_three", "padded_quoted_prefixed", "padded_wide", "fullwidth"],
)
def test_a_line_that_splits_but_may_hold_a_cut_id_is_quarantined(
    landing_folder: Callable[..., Path],
    load: LoadFolder,
    con: duckdb.DuckDBPyConnection,
    line: str,
    uncut: str,
) -> None:
    """A customer_id of one to three digits followed by a field of three digits: the line lost a
    field elsewhere and its id may be `157,000` cut at the comma. It has a structural error,
    keeps its fields and is read uncut like a line that cannot be split."""
    load(landing_folder({"consent_events": [line]}))
    row = row_at(con, "consent_events", FIRST_CASE_LINE["consent_events"])
    assert row["structural_error"] == CUT_AFTER_ID.format("channel")
    assert row["raw_line"] == line
    assert row["customer_id"] is not None
    assert row["salvaged_customer_id_uncut"] == uncut


def test_a_cut_id_whose_first_group_sits_before_customer_id_is_read_from_there(
    landing_folder: Callable[..., Path], load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    """customer_id after the channel, the channel lost: `157` is the channel and `000` the
    customer_id; with customer_id the last column, the end date lost, likewise. The line is read
    uncut from the field before customer_id."""
    consent = ["event_id", "channel", "customer_id", "consent_status", "event_ts", "source_system"]
    suppressions = [*COLUMNS["suppressions"][1:], "customer_id"]
    lines = {
        "consent_events": ["E-1,157,000,OPT_OUT,2026-06-01T00:00:00Z,crm"],
        "suppressions": ["a@x.com,hard_bounce,2026-01-01,157,000"],
    }
    load(landing_folder(lines, headers={"consent_events": consent, "suppressions": suppressions}))
    for file_name, neighbour, uncut in (
        ("consent_events", "channel", "157,000,OPT_OUT,2026-06-01T00:00:00Z,crm"),
        ("suppressions", "suppressed_until", "157,000"),
    ):
        row = row_at(con, file_name, FIRST_CASE_LINE[file_name])
        assert row["structural_error"] == CUT_BEFORE_ID.format(neighbour)
        assert (row["salvaged_customer_id"], row["salvaged_customer_id_uncut"]) == ("000", uncut)


@pytest.mark.parametrize(
    "line",
    [
        "E-1,157,00,email,OPT_OUT,2026-06-01",  # two digits after the id
        "E-1,1157,000,email,OPT_OUT,2026-06-01",  # four digits before
        "E-1,157,0000,email,OPT_OUT,2026-06-01",  # four after
        "E-1,157,000x1,email,OPT_OUT,2026-06-01",  # a digit after the group
        "E-1,ABCD157,000,email,OPT_OUT,2026-06-01",  # four letters before the id
        "E-1,157,email,OPT_OUT,2026-06-01,crm",  # an ordinary short id
        "157,000,email,OPT_OUT,2026-06-01,crm",  # the event_id, a number, is not looked at
    ],
)
def test_a_line_whose_id_is_not_followed_by_three_digits_is_a_row(
    landing_folder: Callable[..., Path],
    load: LoadFolder,
    con: duckdb.DuckDBPyConnection,
    line: str,
) -> None:
    load(landing_folder({"consent_events": [line]}))
    row = row_at(con, "consent_events", FIRST_CASE_LINE["consent_events"])
    assert row["structural_error"] is None
    assert row["salvaged_customer_id_uncut"] is None


def test_a_cut_id_is_looked_for_only_beside_a_column_never_three_digits(
    landing_folder: Callable[..., Path],
    load: LoadFolder,
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
) -> None:
    """`157,150` is a customer and an amount with booking_amount after customer_id, a customer
    and a bounce code with suppression_reason after it, and a customer and a column outside the
    contract (var `cut_id_neighbours`); with booking_date after it, it is looked at. A semicolon
    file's fields are never cut at a comma: nothing is looked for."""
    bookings = list(COLUMNS["bookings"])
    bookings[2], bookings[3] = bookings[3], bookings[2]  # booking_amount, then booking_date
    suppressions = ["customer_id", "suppression_reason", "email", "suppressed_from"]
    suppressions.append("suppressed_until")
    customers = ["customer_id", "store_no", *COLUMNS["customers"][1:]]
    lines = {
        "bookings": ["B-1,157,150,2026-06-01,COMPLETED,Beach,web"],
        "suppressions": ["157,550,a@x.com,2026-01-01,"],
        "customers": ["157,042,a@x.com,Ann,NY,gold,true,2026-01-01"],
    }
    headers = {"bookings": bookings, "suppressions": suppressions, "customers": customers}
    load(landing_folder(lines, headers=headers))
    for file_name in lines:
        row = row_at(con, file_name, FIRST_CASE_LINE[file_name])
        assert row["structural_error"] is None, file_name
        assert row["customer_id"] == "157"
    load(landing_folder({"bookings": ["B-1,157,150,2026-06-01,COMPLETED,Beach,web"]}))
    row = row_at(con, "bookings", FIRST_CASE_LINE["bookings"])
    assert row["structural_error"] == CUT_AFTER_ID.format("booking_date")
    write_landing_folder(tmp_path)
    semicolon = [";".join(COLUMNS["suppressions"]), "157;000;hard_bounce;2026-01-01;"]
    (tmp_path / "suppressions.csv").write_text("\n".join(semicolon) + "\n", encoding="utf-8")
    load_and_split(con, tmp_path, CONTRACT, dialects={"suppressions": Dialect(delimiter=";")})
    assert landing_rows(con, "suppressions")[0]["structural_error"] is None


def test_salvaged_customer_id_follows_the_header_order(
    landing_folder: Callable[..., Path], load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    headers = {"customers": tuple(reversed(COLUMNS["customers"]))}
    # updated_at,is_active,loyalty_tier,home_state,first_name,email,customer_id: the id is the
    # 7th piece from the start and the last from the end, where one piece too many lands
    line = "2026-01-01,true,Gold,CA,Ann,a@example.com,42,extra"
    load(landing_folder({"customers": [line]}, headers=headers))
    broken = row_at(con, "customers", FIRST_CASE_LINE["customers"])
    assert (broken["salvaged_customer_id"], broken["salvaged_customer_id_from_end"]) == (
        "42",
        "extra",
    )
    assert broken["salvaged_customer_id_uncut"] == "42,extra"


def test_unterminated_quote_does_not_swallow_following_lines(
    landing_folder: Callable[..., Path], load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    broken = '10,"c10@example.com,Ann,CA,Gold,true,2026-01-01T00:00:00Z'
    rows = [broken, customer(11), customer(12)]
    loaded = load(landing_folder({"customers": rows}))
    first = FIRST_CASE_LINE["customers"]
    assert_quarantined(row_at(con, "customers", first), "customers", UNTERMINATED, broken)
    assert_parsed(row_at(con, "customers", first + 1), "customers", customer(11))
    assert_parsed(row_at(con, "customers", first + 2), "customers", customer(12))
    assert loaded["customers"].data_lines == N_BASELINE["customers"] + 3


def test_line_break_inside_quoted_field_quarantines_both_physical_lines(
    landing_folder: Callable[..., Path], load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    rows = [
        make_row("bookings", booking_id="X-1", product_name="Hotel\nBreakfast included"),
        make_row("bookings", booking_id="X-2"),
    ]
    loaded = load(landing_folder({"bookings": rows}))
    first = FIRST_CASE_LINE["bookings"]
    assert_quarantined(
        row_at(con, "bookings", first),
        "bookings",
        UNTERMINATED,
        'X-1,1,2026-06-01,100.00,COMPLETED,"Hotel',
    )
    assert_quarantined(
        row_at(con, "bookings", first + 1), "bookings", UNTERMINATED, 'Breakfast included",web'
    )
    assert_parsed(
        row_at(con, "bookings", first + 2), "bookings", make_row("bookings", booking_id="X-2")
    )
    # both physical lines are data lines: raw = accepted + rejected + duplicate stays true
    assert loaded["bookings"].data_lines == N_BASELINE["bookings"] + 3
    assert structural_errors(con, "bookings") == 2


@pytest.mark.parametrize(
    "value",
    [
        pytest.param('Ann "Annie", Jr', id="comma-and-doubled-quotes"),
        pytest.param("a,b,c", id="commas"),
        pytest.param('"', id="lone-quote"),
        pytest.param('""', id="two-quotes"),
        pytest.param("  padded  ", id="spaces-kept"),
        pytest.param("", id="empty"),
        pytest.param("Zo\u00eb \u00e9\u00e8 \u4e2d\u6587", id="non-ascii"),
    ],
)
def test_quoted_field_is_parsed_rfc4180(
    landing_folder: Callable[..., Path],
    load: LoadFolder,
    con: duckdb.DuckDBPyConnection,
    value: str,
) -> None:
    row = customer(10, first_name=value)
    line = ",".join(
        '"' + text.replace('"', '""') + '"' if column == "first_name" else text
        for column, text in row.items()
    )
    load(landing_folder({"customers": [line]}))
    assert_parsed(row_at(con, "customers", FIRST_CASE_LINE["customers"]), "customers", row)


def test_every_field_quoted(
    landing_folder: Callable[..., Path], load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    row = customer(10)
    line = ",".join('"' + value + '"' for value in row.values())
    load(landing_folder({"customers": [line]}))
    assert_parsed(row_at(con, "customers", FIRST_CASE_LINE["customers"]), "customers", row)


@pytest.mark.parametrize(
    "first_name",
    [
        pytest.param('ab"c"d', id="quote-inside-unquoted-field"),
        pytest.param('"Ann"x', id="text-after-closing-quote"),
        pytest.param(' "Ann"', id="space-before-opening-quote"),
    ],
)
def test_malformed_quoting_is_quarantined(
    landing_folder: Callable[..., Path],
    load: LoadFolder,
    con: duckdb.DuckDBPyConnection,
    first_name: str,
) -> None:
    line = f"10,c10@example.com,{first_name},CA,Gold,true,2026-01-01"
    load(landing_folder({"customers": [line, customer(11)]}))
    first = FIRST_CASE_LINE["customers"]
    assert_quarantined(row_at(con, "customers", first), "customers", "malformed quoting", line)
    assert_parsed(row_at(con, "customers", first + 1), "customers", customer(11))


def test_values_are_kept_as_text_untrimmed(
    landing_folder: Callable[..., Path], load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    row = make_row(
        "bookings",
        booking_id=" B-9 ",
        customer_id="007",
        booking_amount=" 1.5e2 ",
        booking_date="",
        booking_status="completed",
    )
    load(landing_folder({"bookings": [row]}))
    assert_parsed(row_at(con, "bookings", FIRST_CASE_LINE["bookings"]), "bookings", row)


def _customer_line(first_name: str = "Ann") -> str:
    return ",".join(customer(10, first_name=first_name).values())


@pytest.mark.parametrize(
    ("line", "unpadded"),
    [
        pytest.param(_customer_line(), True, id="plain"),
        pytest.param(_customer_line(first_name="Ann Lee"), True, id="space-inside-a-value"),
        pytest.param(" " + _customer_line(), False, id="space-at-the-start"),
        pytest.param(_customer_line() + " ", False, id="space-at-the-end"),
        pytest.param(_customer_line(first_name="Ann "), False, id="space-before-a-delimiter"),
        pytest.param(_customer_line(first_name=" Ann"), False, id="space-after-a-delimiter"),
        pytest.param(_customer_line(first_name="\u00a0Ann\u3000"), False, id="unicode-spaces"),
        pytest.param(_customer_line(first_name="Zo\u00eb"), False, id="any-non-ascii"),
        pytest.param(_customer_line(first_name='" Ann "'), False, id="quoted"),
    ],
)
def test_lines_that_may_hold_padded_values_are_marked(
    landing_folder: Callable[..., Path],
    load: LoadFolder,
    con: duckdb.DuckDBPyConnection,
    line: str,
    unpadded: bool,
) -> None:
    """The staging models skip the trim only where `is_unpadded_line` is true: such a line
    must have no field a trim would change (a wrong true would keep a padded id or address)."""
    load(landing_folder({"customers": [line]}))
    assert row_at(con, "customers", FIRST_CASE_LINE["customers"])["is_unpadded_line"] is unpadded
    changed_by_trim = " or ".join(f"trim({column}) <> {column}" for column in COLUMNS["customers"])
    query = "select count(*) from landing_split.customers where is_unpadded_line and ({})"
    assert con.execute(query.format(changed_by_trim)).fetchone() == (0,)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_padding_is_looked_for_beside_the_declared_delimiter(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, delimiter: str
) -> None:
    write_landing_folder(tmp_path)
    lines = [
        COLUMNS["customers"],
        customer(10, first_name="Lee, Ann").values(),  # a space beside a comma only
        customer(11, first_name="Ann ").values(),
        customer(12, first_name=" Ann").values(),
    ]
    (tmp_path / "customers.csv").write_text(
        "".join(delimiter.join(line) + "\n" for line in lines), encoding="utf-8"
    )
    load_and_split(con, tmp_path, CONTRACT, dialects={"customers": Dialect(delimiter=delimiter)})
    rows = landing_rows(con, "customers")
    assert [row["first_name"] for row in rows] == ["Lee, Ann", "Ann ", " Ann"]
    assert [row["is_unpadded_line"] for row in rows] == [True, False, False]


def test_a_semicolon_line_a_field_short_reads_its_id_uncut(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """A line one field short is cut at the other common delimiters too (its comma here): read
    from the id's place to its end, the id is whole at its start, `157,000`."""
    write_landing_folder(tmp_path)
    lines = [
        ";".join(COLUMNS["suppressions"]),
        "10;b@example.com;hard_bounce;2026-01-01;",
        "157,000;a@example.com;hard_bounce;2026-01-01",
    ]
    (tmp_path / "suppressions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_and_split(con, tmp_path, CONTRACT, dialects={"suppressions": Dialect(delimiter=";")})
    readable, row = landing_rows(con, "suppressions")
    assert readable["salvaged_customer_id_uncut"] is None
    assert row["structural_error"] == "expected 5 fields, found 4"
    assert (row["salvaged_customer_id"], row["salvaged_customer_id_uncut"]) == (
        "157",
        "157,000,a@example.com,hard_bounce,2026-01-01",
    )


def test_a_blank_line_is_not_unpadded(
    landing_folder: Callable[..., Path], load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    load(landing_folder({"customers": [""]}))
    assert row_at(con, "customers", FIRST_CASE_LINE["customers"])["is_unpadded_line"] is False


# ---------------------------------------------------------------------------
# Headers: other order, extra columns
# ---------------------------------------------------------------------------


def test_columns_in_another_order_land_under_their_names(
    landing_folder: Callable[..., Path], load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    headers = {name: tuple(reversed(columns)) for name, columns in COLUMNS.items()}
    loaded = load(landing_folder(headers=headers))
    for name, rows in baseline_rows().items():
        for line, expected in enumerate(rows, start=2):
            assert_parsed(row_at(con, name, line), name, expected)
        assert loaded[name].extra_columns == ()


def test_extra_columns_are_ignored_and_reported(
    landing_folder: Callable[..., Path], load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    header = ("Note", *COLUMNS["suppressions"], "Added By")
    row = {**make_row("suppressions", customer_id="10"), "Note": "n,1", "Added By": "ops"}
    loaded = load(landing_folder({"suppressions": [row]}, headers={"suppressions": header}))
    assert loaded["suppressions"].extra_columns == ("note", "added_by")
    line = FIRST_CASE_LINE["suppressions"]
    assert_parsed(
        row_at(con, "suppressions", line),
        "suppressions",
        make_row("suppressions", customer_id="10"),
    )
    assert list(landing_rows(con, "suppressions")[0]) == [
        "source_line",
        "structural_error",
        "raw_line",
        "is_unpadded_line",
        "salvaged_customer_id",
        "salvaged_customer_id_from_end",
        "salvaged_customer_id_uncut",
        "salvaged_email",
        "salvaged_email_from_end",
        *COLUMNS["suppressions"],
    ]
    manifest = dict(
        con.execute("select input_file, extra_columns from landing.input_files").fetchall()
    )
    assert manifest == {
        "customers": "",
        "bookings": "",
        "consent_events": "",
        "suppressions": "note,added_by",
    }


# ---------------------------------------------------------------------------
# Files refused as a whole
# ---------------------------------------------------------------------------


def _refused(load: LoadFolder, folder: Path, file_name: str) -> InputFileError:
    with pytest.raises(InputFileError) as raised:
        load(folder)
    assert raised.value.file == file_name
    assert str(raised.value).startswith(file_name)
    return raised.value


@pytest.mark.parametrize("input_file", list(COLUMNS))
def test_missing_file_is_refused(tmp_path: Path, load: LoadFolder, input_file: str) -> None:
    write_landing_folder(tmp_path)
    (tmp_path / f"{input_file}.csv").unlink()
    error = _refused(load, tmp_path, f"{input_file}.csv")
    assert "not found" in error.problem


@pytest.mark.parametrize("input_file", list(COLUMNS))
def test_empty_file_is_refused(tmp_path: Path, load: LoadFolder, input_file: str) -> None:
    write_landing_folder(tmp_path)
    (tmp_path / f"{input_file}.csv").write_bytes(b"")
    error = _refused(load, tmp_path, f"{input_file}.csv")
    assert "empty" in error.problem


@pytest.mark.parametrize("input_file", ["customers", "bookings"])
def test_header_only_required_file_is_refused(
    tmp_path: Path, load: LoadFolder, input_file: str
) -> None:
    write_landing_folder(tmp_path)
    write_csv(tmp_path / f"{input_file}.csv", COLUMNS[input_file], [])
    error = _refused(load, tmp_path, f"{input_file}.csv")
    assert "no data rows" in error.problem


@pytest.mark.parametrize("input_file", ["consent_events", "suppressions"])
def test_header_only_optional_file_is_loaded_empty(
    tmp_path: Path, load: LoadFolder, con: duckdb.DuckDBPyConnection, input_file: str
) -> None:
    write_landing_folder(tmp_path)
    write_csv(tmp_path / f"{input_file}.csv", COLUMNS[input_file], [])
    loaded = load(tmp_path)
    assert loaded[input_file].data_lines == 0
    assert landing_rows(con, input_file) == []


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"\x00\x01\x02\x03binary\xff\xfe" * 100, id="binary"),
        pytest.param((",".join(COLUMNS["customers"]) + "\n").encode("utf-16"), id="utf-16"),
        pytest.param(b"PK\x03\x04\x14\x00\x00\x00\x08\x00", id="zip"),
    ],
)
def test_binary_file_is_refused(tmp_path: Path, load: LoadFolder, content: bytes) -> None:
    write_landing_folder(tmp_path)
    (tmp_path / "customers.csv").write_bytes(content)
    error = _refused(load, tmp_path, "customers.csv")
    assert "not text" in error.problem


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param(b"\xef\xbb\xbf", "no header row", id="bom-only"),
        pytest.param(b"\n", "required column is missing", id="blank-header"),
        pytest.param(
            (";".join(COLUMNS["customers"]) + "\n1;a@b.c;A;CA;G;t;2026-01-01\n").encode(),
            "semicolon",
            id="semicolon-delimiter",
        ),
    ],
)
def test_unusable_header_is_refused(
    tmp_path: Path, load: LoadFolder, content: bytes, problem: str
) -> None:
    write_landing_folder(tmp_path)
    (tmp_path / "customers.csv").write_bytes(content)
    error = _refused(load, tmp_path, "customers.csv")
    assert error.line == 1
    assert problem in error.problem


def test_missing_column_is_refused_with_its_name(tmp_path: Path, load: LoadFolder) -> None:
    write_landing_folder(tmp_path)
    columns = [column for column in COLUMNS["consent_events"] if column != "event_ts"]
    write_csv(tmp_path / "consent_events.csv", columns, [DEFAULT_ROWS["consent_events"]])
    error = _refused(load, tmp_path, "consent_events.csv")
    assert (error.line, error.column) == (1, "event_ts")


# ---------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------


def test_manifest_counts_lines_and_checksums_bytes(
    landing_folder: Callable[..., Path], load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    folder = landing_folder(
        {
            "customers": [customer(10), "", "broken,line"],
            "bookings": [make_row("bookings", booking_id="X-1", product_name="a\nb")],
            "consent_events": [],
        }
    )
    loaded = load(folder)
    expected_lines = {
        "customers": N_BASELINE["customers"] + 3,
        "bookings": N_BASELINE["bookings"] + 2,  # the embedded line break makes two lines
        "consent_events": N_BASELINE["consent_events"],
        "suppressions": N_BASELINE["suppressions"],
    }
    manifest = {
        row[0]: row[1:]
        for row in con.execute(
            "select input_file, file_path, byte_count, sha256, data_lines from landing.input_files"
        ).fetchall()
    }
    assert set(manifest) == set(COLUMNS)
    for name in COLUMNS:
        path = folder / f"{name}.csv"
        data = path.read_bytes()
        item = loaded[name]
        assert item.file_path == str(path.resolve())
        assert item.byte_count == len(data)
        assert item.sha256 == hashlib.sha256(data).hexdigest()
        assert item.data_lines == expected_lines[name]
        assert item.data_lines == len(landing_rows(con, name))
        assert manifest[name] == (item.file_path, len(data), item.sha256, expected_lines[name])
    assert structural_errors(con, "customers") == 2
    assert structural_errors(con, "bookings") == 2
    assert structural_errors(con, "suppressions") == 0


def test_reloading_replaces_the_landing_tables(
    landing_folder: Callable[..., Path], load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    load(landing_folder({"customers": [customer(n) for n in range(10, 20)]}))
    load(landing_folder())
    assert len(landing_rows(con, "customers")) == N_BASELINE["customers"]
    assert con.execute("select count(*) from landing.input_files").fetchone() == (4,)


def test_nul_byte_far_into_a_file_is_refused(tmp_path: Path, load: LoadFolder) -> None:
    """The whole file is scanned for NUL bytes, not only its first 64 KB."""
    write_landing_folder(tmp_path)
    path = tmp_path / "bookings.csv"
    content = path.read_bytes()
    header, _, body = content.partition(b"\n")
    padding = body.splitlines(keepends=True)[0] * (200_000 // len(body.splitlines()[0]))
    damaged = header + b"\n" + padding + b"BK1,1,2026-01-01,1\x00.00,COMPLETED,Hotel,web\n"
    path.write_bytes(damaged)
    error = _refused(load, tmp_path, "bookings.csv")
    assert "not text" in error.problem
    nul_offset = damaged.index(b"\x00")
    assert nul_offset > 64 * 1024
    # named by its line and column, as the other file errors are, not by a byte offset
    assert (error.line, error.column) == (damaged[:nul_offset].count(b"\n") + 1, "19")


def _with_long_line(path: Path, length: int) -> bytes:
    """``path`` with a line of ``length`` bytes after its first data line; returns the bytes."""
    header, first, rest = path.read_bytes().split(b"\n", 2)
    damaged = header + b"\n" + first + b"\n" + b"x" * length + b"\n" + rest
    path.write_bytes(damaged)
    return damaged


@pytest.mark.parametrize("length", [1_000_001, 5_000_000, 40_000_000], ids=["1MB", "5MB", "40MB"])
def test_a_line_too_long_to_be_a_row_is_refused_by_its_number(
    tmp_path: Path, load: LoadFolder, length: int
) -> None:
    """Just over the limit, over DuckDB's line limit (which it records) and over its read
    buffer (which it drops without a word): each refuses the file, naming line 3."""
    write_landing_folder(tmp_path)
    _with_long_line(tmp_path / "consent_events.csv", length)
    error = _refused(load, tmp_path, "consent_events.csv")
    assert error.line == 3
    assert error.problem.startswith("line is longer than 1,000,000 bytes")


def test_a_line_at_the_limit_is_read_and_quarantined_like_any_line(
    tmp_path: Path, load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    write_landing_folder(tmp_path)
    damaged = _with_long_line(tmp_path / "consent_events.csv", MAX_LINE_BYTES)
    loaded = load(tmp_path)
    assert loaded["consent_events"].data_lines == damaged.count(b"\n") - 1
    assert row_at(con, "consent_events", 3)["structural_error"].startswith("expected 6 fields")
    assert len(row_at(con, "consent_events", 3)["raw_line"]) == MAX_LINE_BYTES


def test_a_line_the_reader_lost_refuses_its_file(
    tmp_path: Path, load: LoadFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB drops a line longer than its read buffer without a word. With the line limit
    out of the way, the line count checked against the file's still refuses the file."""
    monkeypatch.setattr(line_count, "MAX_LINE_BYTES", 10**9)
    write_landing_folder(tmp_path)
    damaged = _with_long_line(tmp_path / "bookings.csv", 40_000_000)
    error = _refused(load, tmp_path, "bookings.csv")
    lines = damaged.count(b"\n")
    assert error.problem == f"{lines:,} lines in the file, but the reader stored {lines - 1:,}"


def test_nul_byte_in_the_first_64_kb_is_named_by_line_and_column(
    tmp_path: Path, load: LoadFolder
) -> None:
    """Lines end with CRLF, LF or a lone CR here too; the column counts bytes from 1."""
    write_landing_folder(tmp_path)
    header = ",".join(COLUMNS["customers"])
    first, second = (csv_line(list(customer(n).values())) for n in (10, 11))
    (tmp_path / "customers.csv").write_bytes(
        f"{header}\r\n{first}\r{second}\n1001,a\x00b\n".encode()
    )
    error = _refused(load, tmp_path, "customers.csv")
    assert str(error) == "customers.csv, line 4, column 7: file is not text (it contains NUL bytes)"


def _compressed(data: bytes, kind: str) -> bytes:
    """``data`` as a file of ``kind`` would hold it (the libraries Python ships)."""
    if kind in {"zip", "empty zip"}:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            if kind == "zip":
                archive.writestr("customers.csv", data)
        return buffer.getvalue()
    return {"gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress}[kind](data)


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("gzip", "gzip-compressed: decompress it (gunzip) and land the CSV inside"),
        ("bzip2", "bzip2-compressed: decompress it (bunzip2) and land the CSV inside"),
        ("xz", "xz-compressed: decompress it (unxz) and land the CSV inside"),
        ("zip", "a zip archive or an Excel workbook (.xlsx): export the sheet as CSV"),
        ("empty zip", "a zip archive or an Excel workbook (.xlsx): export the sheet as CSV"),
    ],
)
def test_a_compressed_export_under_the_contract_s_name_is_named_as_such(
    tmp_path: Path, load: LoadFolder, kind: str, said: str
) -> None:
    """An export landed compressed (or a workbook) is refused saying what it is, whether or
    not its first bytes hold a NUL (before, as NUL bytes, or as lines of broken bytes)."""
    write_landing_folder(tmp_path)
    plain = (tmp_path / "customers.csv").read_bytes()
    (tmp_path / "customers.csv").write_bytes(_compressed(plain, kind))
    error = _refused(load, tmp_path, "customers.csv")
    assert str(error) == f"customers.csv, line 1: file is not text: it is {said}"


def test_a_header_that_begins_like_a_signature_is_read_as_text(
    tmp_path: Path, load: LoadFolder
) -> None:
    """Only the signature's binary bytes refuse a file: text beginning ``BZh`` or ``PK`` is
    read (here it lacks the contract's columns, so the header is what is refused)."""
    write_landing_folder(tmp_path)
    (tmp_path / "customers.csv").write_bytes(b"BZh9,PK\n1,2\n")
    error = _refused(load, tmp_path, "customers.csv")
    assert "not text" not in str(error)


# ---------------------------------------------------------------------------
# A carriage return or a very long line at the top of a file
# ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    content=st.lists(st.sampled_from([b"a", b",", b"\n", b"\r", b"\r\n"]), max_size=40),
    chunk_bytes=st.integers(min_value=1, max_value=9),
    count=st.integers(min_value=1, max_value=5),
)
def test_the_first_lines_are_physical_lines_whatever_the_chunks(
    tmp_path_factory: pytest.TempPathFactory, content: list[bytes], chunk_bytes: int, count: int
) -> None:
    """The header and delimiter checks read lines as the pre-step and the line count do."""
    data = b"".join(content)
    path = tmp_path_factory.mktemp("head") / "file.csv"
    path.write_bytes(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("audience_pipeline.file_checks._SNIFF_BYTES", chunk_bytes)
        lines = _head_lines(path, count)
    assert lines == data.splitlines()[:count]


def _lines_ended(prefix: bytes) -> int:
    """How many lines end in ``prefix``: a CR at its very end may be half a CRLF, so not yet."""
    ended = [line for line in prefix.splitlines(keepends=True) if line.endswith((b"\n", b"\r"))]
    return len(ended) - prefix.endswith(b"\r")


@settings(max_examples=300, deadline=None)
@given(
    content=st.lists(st.sampled_from([b"a", b",", b"\n", b"\r", b"\r\n"]), max_size=40),
    chunk_bytes=st.integers(min_value=1, max_value=9),
    count=st.integers(min_value=1, max_value=5),
    max_bytes=st.integers(min_value=0, max_value=50),
)
def test_lines_read_up_to_a_byte_cap_are_whole_but_a_last_one_said_to_be_cut(
    tmp_path_factory: pytest.TempPathFactory,
    content: list[bytes],
    chunk_bytes: int,
    count: int,
    max_bytes: int,
) -> None:
    """The delimiter check judges only whole lines: reading stops in the first chunk past the
    cap, every line ending in the bytes read comes back (up to ``count``), and a last line
    those bytes cut short is flagged, as is a file whose end was not reached."""
    data = b"".join(content)
    path = tmp_path_factory.mktemp("head") / "file.csv"
    path.write_bytes(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("audience_pipeline.file_checks._SNIFF_BYTES", chunk_bytes)
        head = _read_head(path, count, max_bytes)
    every = data.splitlines()
    # the bytes read: whole chunks, up to the first one that takes the total past the cap
    read = data[: (max_bytes // chunk_bytes + 1) * chunk_bytes]
    if len(data) <= max_bytes:
        assert head == (every[:count], False, False)  # the cap was never reached
        return
    chunks_before_the_cap = range(1, max_bytes // chunk_bytes + 1)
    if any(_lines_ended(data[: k * chunk_bytes]) >= count for k in chunks_before_the_cap):
        assert head == (every[:count], False, False)  # enough lines before the cap
        return
    ended = read.splitlines(keepends=True)
    whole = [line.rstrip(b"\r\n") for line in ended if line.endswith((b"\n", b"\r"))]
    stopped = len(read) < len(data)
    # a CR that is the first half of a CRLF ends its line too: the next bytes are not read
    last = read.splitlines()[len(whole) :]
    if len(whole) >= count or not last:
        assert head == (whole[:count], False, stopped)
    else:
        assert head == ([*whole, last[0]], stopped, stopped)
        assert every[len(whole)].startswith(last[0])


def test_a_line_of_many_chunks_is_split_once_not_once_per_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long line without a line end (a file whose line breaks were lost) is read in linear
    work: its chunks are scanned for line ends once each. Joining and splitting the whole
    line again at every chunk took 56-59 s on a 32 MB line, against 0.3 s."""
    path = tmp_path / "customers.csv"
    path.write_bytes(b"customer_id,email\n" + b"x" * 4096 + b"\r\n1,a@b.c\n")
    scanned: list[int] = []
    line_end = file_checks._LINE_END

    class CountingLineEnd:
        def split(self, data: bytes) -> list[bytes]:
            scanned.append(len(data))
            return line_end.split(data)

    monkeypatch.setattr("audience_pipeline.file_checks._SNIFF_BYTES", 16)
    monkeypatch.setattr("audience_pipeline.file_checks._LINE_END", CountingLineEnd())
    assert _head_lines(path, 3) == [b"customer_id,email", b"x" * 4096, b"1,a@b.c"]
    assert sum(scanned) <= 2 * path.stat().st_size


def _customers_file(folder: Path, header: str, first_line: str) -> None:
    """customers.csv: ``header``, ``first_line``, then the baseline rows."""
    rows = [csv_line(list(row.values())) for row in baseline_rows()["customers"]]
    (folder / "customers.csv").write_text("\n".join([header, first_line, *rows]) + "\n")


def test_a_carriage_return_in_the_header_is_refused_saying_so(
    tmp_path: Path, load: LoadFolder
) -> None:
    write_landing_folder(tmp_path)
    header = ",".join(COLUMNS["customers"]).replace("email", "em\rail")
    _customers_file(tmp_path, header, csv_line(list(customer(10).values())))
    error = _refused(load, tmp_path, "customers.csv")
    assert (error.line, error.column) == (1, "email")
    assert "carriage return (CR) after character 14" in error.problem
    assert "\n" not in str(error) and "\r" not in str(error)


def test_a_carriage_return_in_the_first_data_line_is_quarantined_like_any_line(
    tmp_path: Path, load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    """The delimiter check reads physical lines, so a CR in line 2 splits it as on line 4."""
    write_landing_folder(tmp_path)
    broken = csv_line(list(customer(10).values())).replace("c10@", "c10\r@")
    _customers_file(tmp_path, ",".join(COLUMNS["customers"]), broken)
    loaded = load(tmp_path)
    assert loaded["customers"].data_lines == N_BASELINE["customers"] + 2
    assert row_at(con, "customers", 2)["structural_error"] == "expected 7 fields, found 2"
    assert row_at(con, "customers", 3)["structural_error"] == "expected 7 fields, found 6"
    assert_parsed(row_at(con, "customers", 4), "customers", baseline_rows()["customers"][0])


def test_a_file_with_carriage_returns_only_is_read(
    tmp_path: Path, load: LoadFolder, con: duckdb.DuckDBPyConnection
) -> None:
    """Old Mac line endings: every lone CR ends a line, the header's too."""
    write_landing_folder(tmp_path)
    path = tmp_path / "customers.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))
    loaded = load(tmp_path)
    assert loaded["customers"].data_lines == N_BASELINE["customers"]
    assert_parsed(row_at(con, "customers", 2), "customers", baseline_rows()["customers"][0])


def test_a_header_longer_than_128_kb_is_refused(tmp_path: Path, load: LoadFolder) -> None:
    write_landing_folder(tmp_path)
    header = ",".join(COLUMNS["customers"]) + "," + "x" * (128 * 1024)
    _customers_file(tmp_path, header, csv_line(list(customer(10).values())))
    error = _refused(load, tmp_path, "customers.csv")
    assert error.line == 1
    assert error.problem.startswith("header is longer than 131,072 bytes")


@pytest.mark.parametrize("more_lines", [True, False], ids=["among-others", "alone"])
def test_a_first_data_line_over_128_kb_is_read_like_any_line(
    tmp_path: Path, load: LoadFolder, con: duckdb.DuckDBPyConnection, more_lines: bool
) -> None:
    """Python's CSV reader refuses a field over 128 KB by default; the delimiter check does not."""
    write_landing_folder(tmp_path)
    long_name = "N" * 200_000
    first = csv_line(list(customer(10, first_name=long_name).values()))
    if more_lines:
        _customers_file(tmp_path, ",".join(COLUMNS["customers"]), first)
    else:
        (tmp_path / "customers.csv").write_text(",".join(COLUMNS["customers"]) + f"\n{first}\n")
    loaded = load(tmp_path)
    assert loaded["customers"].data_lines == 1 + N_BASELINE["customers"] * more_lines
    assert_parsed(row_at(con, "customers", 2), "customers", customer(10, first_name=long_name))
