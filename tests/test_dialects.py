"""Exports as they really arrive: declared encodings and delimiters, and bytes that are not text.

A hand-made landing folder shaped like CRM and Excel exports (CRLF, header names in another
case, accents, Windows-1252's curly quotes, dashes and euro sign, fields holding commas,
semicolons and quotes) is written in several twins: UTF-8 with commas, Windows-1252, and
semicolons with one file in UTF-16. Read with the encoding and delimiter declared
(``--encoding``, ``--delimiter``), every twin publishes exactly what the UTF-8 one does; read
as UTF-8, the Windows-1252 twin loses only the lines with a bad byte, each kept recoverably,
and every customer they name is held.

The fast tests check the pieces (escaping, transcoding, the options, the pre-step); the slow
ones run the command end to end (marked ``slow``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import (
    AS_OF,
    COLUMNS,
    CONTRACT,
    baseline_rows,
    make_row,
    read_csv_rows,
    read_decisions,
)
from hypothesis import given
from hypothesis import strategies as st
from landing_split import load_and_split

from audience_pipeline import cli, text_encoding
from audience_pipeline.dialect import (
    Dialect,
    parse_delimiter,
    resolve_dialects,
    split_setting,
)
from audience_pipeline.errors import InputFileError
from audience_pipeline.explain import explain
from audience_pipeline.text_encoding import (
    escape_line,
    field_of,
    normalize_encoding,
    read_lines_at,
    transcode_to_utf8,
    unescape_line,
)

# ---------------------------------------------------------------------------
# The exports
# ---------------------------------------------------------------------------

JOSE_LINE = "2015,jose.t@acme-mail.com,José,OK,gold,true,2025-01-01T00:00:00Z"

#: Header names as an export writes them: other case, spaces.
HEADERS = {
    "customers": [
        "Customer ID",
        "Email",
        "First Name",
        "Home State",
        "Loyalty Tier",
        "Is Active",
        "Updated At",
    ],
    "bookings": [column.upper() for column in COLUMNS["bookings"]],
    "consent_events": list(COLUMNS["consent_events"]),
    "suppressions": list(COLUMNS["suppressions"]),
}


def _customer(n: int, first_name: str, **values: str) -> dict[str, str]:
    defaults = {"email": f"c{n}@acme-mail.com", "updated_at": "2025-03-01T00:00:00Z"}
    return make_row(
        "customers", customer_id=str(n), first_name=first_name, **{**defaults, **values}
    )


def _booking(n: int, booking_id: str, product_name: str, **values: str) -> dict[str, str]:
    return make_row(
        "bookings",
        booking_id=booking_id,
        customer_id=str(n),
        booking_date="2026-05-01",
        product_name=product_name,
        **values,
    )


def _opt_in(n: int, **values: str) -> dict[str, str]:
    return make_row("consent_events", event_id=f"E-{n}", customer_id=str(n), **values)


def export_rows() -> dict[str, list[dict[str, str]]]:
    """The rows of the exports; every text Windows-1252 can hold, much of it outside ASCII."""
    rows = baseline_rows()
    rows["customers"] += [
        _customer(2010, "Zoë", home_state="WA"),
        _customer(2011, "Frédéric"),  # his only booking has a decimal comma (rejected)
        _customer(2012, "Renée"),  # opted in at the "Café kiosk"
        _customer(2013, "O’Brien", loyalty_tier="bronze"),  # a right single quote (0x92)
        # an earlier snapshot of 2013, at an address a suppression names
        _customer(
            2013,
            "O’Brien",
            email="old.address@acme-mail.com",
            updated_at="2024-01-01T00:00:00Z",
        ),
    ]
    rows["bookings"] += [
        _booking(2010, "B-2010", "Croisière – été", booking_amount="199.99"),
        _booking(2011, "B-2011", "Paris; Lyon", booking_amount="12,50"),
        _booking(2011, "B-2011", "Paris; Lyon", booking_amount="12,50"),  # exported twice
        _booking(2012, "B-2012", "Hotel, suite €", booking_amount="1200"),
        _booking(2013, "B-2013", "“Tour” du lac", booking_amount="10"),
        _booking(2015, "B-2015", "Flight", booking_amount="50"),
    ]
    rows["consent_events"] += [
        _opt_in(2010),
        _opt_in(2011),
        _opt_in(2012, source_system="Café kiosk"),
        _opt_in(2013),
        _opt_in(2015),
    ]
    rows["suppressions"] += [
        make_row(
            "suppressions",
            customer_id="",
            email="old.address@acme-mail.com",
            suppression_reason="désabonné",
        )
    ]
    return rows


def export_text(name: str, delimiter: str = ",") -> str:
    """One export as text: its header, its rows, and (customers) José's line last, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADERS[name])
    for row in export_rows()[name]:
        writer.writerow([row[column] for column in COLUMNS[name]])
    if name == "customers":
        buffer.write(JOSE_LINE.replace(",", delimiter) + "\r\n")
    return buffer.getvalue()


def write_exports(
    folder: Path,
    encoding: str = "utf-8",
    delimiter: str = ",",
    encodings: Mapping[str, str] | None = None,
) -> Path:
    """The four exports in ``encoding`` (``encodings`` per file overrides it). UTF-8 is
    written as Excel's "CSV UTF-8" does, with a byte-order mark."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in COLUMNS:
        chosen = (encodings or {}).get(name, encoding)
        data = export_text(name, delimiter).encode(chosen)
        if chosen == "utf-8":
            data = b"\xef\xbb\xbf" + data
        (folder / f"{name}.csv").write_bytes(data)
    return folder


# ---------------------------------------------------------------------------
# A bad byte spoils only itself (text_encoding.escape_line)
# ---------------------------------------------------------------------------


def test_a_bad_byte_spoils_only_itself() -> None:
    raw = JOSE_LINE.encode("cp1252")
    escaped = escape_line(raw)
    assert escaped.text == JOSE_LINE.replace("é", "\\xe9")
    assert escaped.text.split(",") == [
        "2015",
        "jose.t@acme-mail.com",
        "Jos\\xe9",
        "OK",
        "gold",
        "true",
        "2025-01-01T00:00:00Z",
    ]
    assert escaped.first_bad_byte == 0xE9
    assert escaped.first_bad_position is not None
    assert field_of(escaped.text, escaped.first_bad_position, ",") == 3
    # the space after the bad byte stays too
    assert escape_line("Café kiosk".encode("cp1252")).text == "Caf\\xe9 kiosk"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"plain ascii", id="ascii"),
        pytest.param("caf\u00e9 \u20ac".encode(), id="valid-utf-8"),
        pytest.param(b"Caf\xe9 kiosk", id="latin-1-byte"),
        pytest.param(b"a\\xe9b\xff", id="a-literal-backslash-x"),
        pytest.param(b"\\\\", id="backslashes"),
        pytest.param(b"\xf0\x9f\x98,b", id="truncated-4-byte-sequence"),
        pytest.param(b"end\xc3", id="truncated-at-the-end"),
        pytest.param(b"\xed\xa0\x80,x", id="encoded-surrogate"),
        pytest.param(b"\xff\xfe\x00", id="bytes-utf-8-never-uses"),
    ],
)
def test_an_escaped_line_gives_its_exact_bytes_back(raw: bytes) -> None:
    escaped = escape_line(raw)
    assert unescape_line(escaped.text) == raw
    # delimiters and quotes are never eaten: as many as in the bytes
    for char in ',;"':
        assert escaped.text.count(char) == raw.count(char.encode())


@given(st.binary(max_size=60))
def test_every_line_of_bytes_round_trips(raw: bytes) -> None:
    escaped = escape_line(raw)
    assert unescape_line(escaped.text) == raw
    assert escaped.text.count(",") == raw.count(b",")
    assert (escaped.first_bad_byte is None) == _is_utf8(raw)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_a_valid_line_is_unchanged_but_for_its_backslashes() -> None:
    assert escape_line(b"a,b\\c").text == "a,b\\\\c"
    assert escape_line(b"a,b\\c").first_bad_byte is None


def test_a_mark_in_a_transcoded_file_is_the_original_byte() -> None:
    escaped = escape_line(b"Caf\xff81 kiosk,x", marked=True)
    assert escaped.text == "Caf\\x81 kiosk,x"
    assert escaped.first_bad_byte == 0x81


def test_the_field_of_a_bad_byte_counts_delimiters_outside_quotes() -> None:
    text = 'a,"b,c",d\\xe9'
    assert field_of(text, text.index("\\x"), ",") == 3
    assert field_of("a;b;\\xe9", 4, ";") == 3


# ---------------------------------------------------------------------------
# Transcoding (text_encoding.transcode_to_utf8) and reading lines back
# ---------------------------------------------------------------------------


def as_lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def test_windows_1252_is_transcoded_line_for_line(tmp_path: Path) -> None:
    text = "h1,h2\r\nEuro €,‘quoted’ – “x”\r\nJosé,Café kiosk\rlone CR\n\nlast line"
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(text.encode("cp1252"))
    assert transcode_to_utf8(source, target, "cp1252") is None
    # every line ending (CRLF, LF, a lone CR) is written as LF: the same lines, one ending
    assert target.read_bytes() == as_lf(text).encode("utf-8")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1"])
def test_chunk_boundaries_never_split_a_character(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    monkeypatch.setattr(text_encoding, "_CHUNK_BYTES", 3)
    text = "a,é\r\nb,ü\nc,ÿ" if encoding == "latin-1" else "a,é\r\nb,€\nc,“x”"
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(text.encode(encoding))
    assert transcode_to_utf8(source, target, normalize_encoding(encoding)) is None
    assert target.read_bytes() == as_lf(text).encode("utf-8")


def test_an_undecodable_byte_is_marked_and_read_back_as_itself(tmp_path: Path) -> None:
    # 0x81 has no character in Windows-1252
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(b"h\nCaf\x81 kiosk,x\nok\n")
    assert transcode_to_utf8(source, target, "cp1252") is None
    assert target.read_bytes() == b"h\nCaf\xff81 kiosk,x\nok\n"
    line = read_lines_at(target, [2])[2]
    assert escape_line(line, marked=True).text == "Caf\\x81 kiosk,x"


def test_utf_16_needs_its_byte_order_mark(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes("a,b\n".encode("utf-16-le"))
    problem = transcode_to_utf8(source, tmp_path / "out.csv", "utf-16")
    assert problem is not None
    assert "no UTF-16 byte-order mark" in problem.problem
    assert "--encoding utf-16-le" in problem.problem


@pytest.mark.parametrize("chunk_bytes", [3, 4, 5, 4 * 1024 * 1024])
@pytest.mark.parametrize("text", ["a,b\r\nc,d\nx\x00y\n", "a,b\rc,d\r\nx\x00y"])
def test_a_nul_character_is_refused_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int, text: str
) -> None:
    """Its line counts the line breaks of the chunks before it, a CRLF cut between two once."""
    monkeypatch.setattr(text_encoding, "_CHUNK_BYTES", chunk_bytes)
    source = tmp_path / "in.csv"
    source.write_bytes(text.encode("utf-16"))
    problem = transcode_to_utf8(source, tmp_path / "out.csv", "utf-16")
    assert problem is not None
    assert "not text" in problem.problem
    assert problem.line == 3


SHIFTED_SOURCE = "".join(
    f"CE-{500000 + n},{1000 + n},email,OPT_OUT,2026-11-20,web\r\n" for n in range(40)
)


@pytest.mark.parametrize("chunk_bytes", [7, 64, 4 * 1024 * 1024])
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize(
    ("damage", "line"),
    [
        pytest.param(lambda data: data[:401] + data[402:], 5, id="a-byte-lost"),
        pytest.param(lambda data: data[:400] + b"x" + data[400:], 5, id="a-byte-added"),
        pytest.param(
            lambda data: data + b"CE-599041,1063,email,OPT_OUT,2026-11-20,web\n",
            41,
            id="utf-8-appended",
        ),
    ],
)
def test_a_utf_16_file_read_one_byte_off_is_refused_with_its_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    chunk_bytes: int,
    encoding: str,
    damage: Callable[[bytes], bytes],
    line: int,
) -> None:
    """From a byte lost or added (or UTF-8 text appended), every character of a UTF-16 file is
    another one and its line breaks are not line breaks: the rest of the file would be one line
    of nonsense, its opt-outs lost. The file is refused, naming the line where it goes wrong."""
    monkeypatch.setattr(text_encoding, "_CHUNK_BYTES", chunk_bytes)
    source = tmp_path / "in.csv"
    source.write_bytes(damage(SHIFTED_SOURCE.encode(encoding)))
    problem = transcode_to_utf8(source, tmp_path / "out.csv", encoding)
    assert problem is not None
    # a lost byte may pair two zero bytes: a NUL character, refused on the same line
    assert "its bytes are read one off" in problem.problem or "NUL" in problem.problem
    assert problem.line == line


@pytest.mark.parametrize("chunk_bytes", [7, 4 * 1024 * 1024])
def test_lines_of_wide_characters_with_delimiters_are_utf_16_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int
) -> None:
    """Names in CJK or other scripts are no sign of a shifted file: a line with its delimiters
    and digits reads as written, and so does a long field of wide characters."""
    monkeypatch.setattr(text_encoding, "_CHUNK_BYTES", chunk_bytes)
    text = "id,name\n1,王小明張三李四王小明張三李四王小明張三李四\n2,ਪੰਜਾਬੀ മലയാളം\n3,一\n"
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(text.encode("utf-16"))
    assert transcode_to_utf8(source, target, "utf-16") is None
    assert target.read_bytes() == text.encode("utf-8")


def test_a_line_starting_with_wide_characters_at_a_chunk_boundary_is_utf_16_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line whose first 16 characters or more are wide, cut by a chunk boundary just after
    them, the rest (its delimiters, digits) in a chunk of narrow characters only: it reads as
    written (the fast path once took the line's start for the whole line, a shifted one)."""
    head = "name,id\n"
    wide = "王小明張三李四王小明張三李四王小明"  # 17 characters
    text = head + wide + ",1001\n2,b\n"
    boundary = len((head + wide).encode("utf-16"))  # the BOM, the header, the wide run
    monkeypatch.setattr(text_encoding, "_CHUNK_BYTES", boundary)
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(text.encode("utf-16"))
    assert transcode_to_utf8(source, target, "utf-16") is None
    assert target.read_bytes() == text.encode("utf-8")


def test_lines_are_read_back_by_number_as_duckdb_counts_them(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_bytes(b"h\r\na\xe9\r\n\r\nb\rc\xe9\nlast\xe9")
    assert read_lines_at(path, [5, 2, 6, 3]) == {
        2: b"a\xe9",
        3: b"",
        5: b"c\xe9",
        6: b"last\xe9",
    }


# ---------------------------------------------------------------------------
# Declaring them (dialect.py, options.py, the command line)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("utf-8", "utf-8"),
        ("UTF8", "utf-8"),
        ("utf-8-sig", "utf-8"),
        ("windows-1252", "cp1252"),
        ("cp1252", "cp1252"),
        ("latin-1", "iso8859-1"),
        ("UTF-16", "utf-16"),
    ],
)
def test_encodings_are_named_as_python_knows_them(name: str, canonical: str) -> None:
    assert normalize_encoding(name) == canonical


@pytest.mark.parametrize("name", ["klingon", "base64", "rot13", ""])
def test_unknown_or_non_text_encodings_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        normalize_encoding(name)


def test_a_value_for_one_file_wins_over_the_value_for_every_file() -> None:
    names = [spec.name for spec in CONTRACT]
    dialects = resolve_dialects(
        names,
        encodings=[(None, "cp1252"), ("customers", "utf-16")],
        delimiters=[("bookings", ";")],
    )
    assert dialects["customers"] == Dialect("utf-16", ",")
    assert dialects["bookings"] == Dialect("cp1252", ";")
    assert dialects["suppressions"] == Dialect("cp1252", ",")
    assert resolve_dialects(names)["consent_events"] == Dialect()
    with pytest.raises(ValueError, match=r"--encoding is given twice for customers\.csv"):
        resolve_dialects(names, encodings=[("customers", "cp1252"), ("customers", "utf-8")])


def test_file_settings_and_delimiters_are_read_strictly() -> None:
    names = ["customers", "bookings"]
    assert split_setting("customers=cp1252", names) == ("customers", "cp1252")
    assert split_setting("customers.csv=;", names) == ("customers", ";")
    assert split_setting("=", names) == (None, "=")
    with pytest.raises(ValueError, match="'orders' is not an input file"):
        split_setting("orders=cp1252", names)
    assert parse_delimiter("tab") == "\t"
    assert parse_delimiter(";") == ";"
    for bad in ("ab", '"', "x", "1", "\\", " ", "é", ""):
        with pytest.raises(ValueError):
            parse_delimiter(bad)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--encoding", "klingon"], "argument --encoding: unknown encoding 'klingon'"),
        (["--encoding", "orders=cp1252"], "argument --encoding: 'orders' is not an input file"),
        (["--delimiter", "ab"], "argument --delimiter: expected one character"),
    ],
)
def test_a_bad_option_value_exits_2_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(["run", "--input-dir", str(tmp_path), "--output-dir", str(tmp_path), *arguments])
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_two_values_for_the_same_file_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        [
            "run",
            "--input-dir",
            str(tmp_path),
            "--output-dir",
            str(tmp_path / "out"),
            "--encoding",
            "cp1252",
            "--encoding",
            "latin-1",
        ]
    )
    assert code == 2
    assert "argument --encoding is given twice for every file" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# The pre-step (landing.load_landing_folder), without dbt
# ---------------------------------------------------------------------------


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as connection:
        yield connection


def landing_tables(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    dialects: Mapping[str, Dialect] | None = None,
) -> dict[str, list[tuple[Any, ...]]]:
    """Every landing row of every file, loaded with the given dialects.

    Without `is_unpadded_line`: it describes the line's text, not its values (a value with a
    comma is quoted in a comma-separated line, which is never marked, and bare beside tabs).
    """
    load_and_split(con, folder, CONTRACT, dialects=dialects, work_dir=folder.parent / "w")
    query = "select * exclude (is_unpadded_line) from landing_split.{} order by source_line"
    return {name: con.execute(query.format(name)).fetchall() for name in COLUMNS}


def every_file(**values: str) -> dict[str, Dialect]:
    return {name: Dialect(**values) for name in COLUMNS}


@pytest.mark.parametrize(
    ("twin", "dialects"),
    [
        pytest.param({"encoding": "cp1252"}, every_file(encoding="cp1252"), id="windows-1252"),
        pytest.param({"encoding": "utf-16"}, every_file(encoding="utf-16"), id="utf-16"),
        pytest.param({"delimiter": ";"}, every_file(delimiter=";"), id="semicolons"),
        pytest.param(
            {"delimiter": "\t", "encodings": {"bookings": "cp1252"}},
            {**every_file(delimiter="\t"), "bookings": Dialect("cp1252", "\t")},
            id="tabs-and-one-file-in-windows-1252",
        ),
    ],
)
def test_a_twin_read_as_declared_lands_the_same_rows(
    tmp_path: Path,
    con: duckdb.DuckDBPyConnection,
    twin: dict[str, Any],
    dialects: dict[str, Dialect],
) -> None:
    expected = landing_tables(con, write_exports(tmp_path / "utf8"))
    assert landing_tables(con, write_exports(tmp_path / "twin", **twin), dialects) == expected
    assert all(row[1] is None for rows in expected.values() for row in rows)  # no error
    assert not list((tmp_path / "w").glob("*")), "the work files are removed"


def test_windows_1252_read_as_utf_8_rejects_only_the_bad_lines_recoverably(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    folder = write_exports(tmp_path / "cp1252", encoding="cp1252")
    load_and_split(con, folder, CONTRACT)
    jose = con.execute(
        "select source_line, structural_error, raw_line, customer_id, first_name"
        " from landing_split.customers where customer_id = '2015'"
    ).fetchone()
    assert jose is not None
    line, error, raw_line, customer_id, first_name = jose
    assert error == "not valid UTF-8: byte 0xE9 in column first_name"
    assert raw_line == JOSE_LINE.replace("é", "\\xe9")
    assert (customer_id, first_name) == ("2015", "Jos\\xe9")
    original = (folder / "customers.csv").read_bytes().split(b"\r\n")[line - 1]
    assert unescape_line(raw_line) == original == JOSE_LINE.encode("cp1252")
    kiosk = con.execute(
        "select structural_error, source_system from landing_split.consent_events"
        " where customer_id = '2012'"
    ).fetchone()
    assert kiosk == ("not valid UTF-8: byte 0xE9 in column source_system", "Caf\\xe9 kiosk")
    # the lines in ASCII are read as they are
    assert con.execute(
        "select count(*) from landing_split.customers where structural_error is null"
    ).fetchone() == (3,)


def test_an_undecodable_byte_in_a_declared_encoding_is_rejected_with_its_column(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    folder = write_exports(tmp_path / "cp1252", encoding="cp1252")
    path = folder / "customers.csv"
    path.write_bytes(path.read_bytes().replace("Zoë".encode("cp1252"), b"Zo\x81"))
    load_and_split(con, folder, CONTRACT, dialects=every_file(encoding="cp1252"))
    row = con.execute(
        "select structural_error, raw_line, first_name from landing_split.customers"
        " where customer_id = '2010'"
    ).fetchone()
    assert row is not None
    assert row[0] == "not valid cp1252: byte 0x81 in column first_name"
    assert row[2] == "Zo\\x81"
    assert "Zo\\x81,WA" in row[1]


def test_the_manifest_records_each_files_encoding_delimiter_and_original_checksum(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    import hashlib

    folder = write_exports(tmp_path / "twin", delimiter=";", encodings={"customers": "utf-16"})
    dialects = {**every_file(delimiter=";"), "customers": Dialect("utf-16", ";")}
    loaded = {
        item.input_file: item for item in load_and_split(con, folder, CONTRACT, dialects=dialects)
    }
    manifest = {
        row[0]: row[1:]
        for row in con.execute(
            "select input_file, encoding, delimiter, sha256, byte_count from landing.input_files"
        ).fetchall()
    }
    data = (folder / "customers.csv").read_bytes()
    assert manifest["customers"] == ("utf-16", ";", hashlib.sha256(data).hexdigest(), len(data))
    assert manifest["bookings"][:2] == ("utf-8", ";")
    assert loaded["customers"].encoding == "utf-16"


@pytest.mark.parametrize(
    ("damage", "dialects", "expected"),
    [
        pytest.param(
            lambda folder: write_exports(folder, delimiter=";"),
            None,
            "header has a single column containing semicolons; the contract's delimiter is a "
            "comma: if the file uses semicolons, pass --delimiter ';' (every file) or "
            "--delimiter customers=';'",
            id="semicolons-not-declared",
        ),
        pytest.param(
            lambda folder: write_exports(folder),
            every_file(delimiter=";"),
            "header has a single column containing commas; the declared delimiter is a "
            "semicolon: if the file uses commas, pass --delimiter ','",
            id="semicolons-declared-for-a-comma-file",
        ),
        pytest.param(
            lambda folder: write_exports(folder, encoding="utf-16"),
            None,
            "file is not text (it contains NUL bytes); it starts with a UTF-16 byte-order "
            "mark: declare it with --encoding utf-16",
            id="utf-16-not-declared",
        ),
        pytest.param(
            lambda folder: write_exports(folder),
            every_file(encoding="cp1252"),
            "file starts with a UTF-8 byte-order mark but is declared cp1252",
            id="a-bom-contradicts-the-declared-encoding",
        ),
        pytest.param(
            lambda folder: (folder / "customers.csv").write_bytes(
                "Customer ID,Email,Prénom,First Name,Home State,Loyalty Tier,Is Active,"
                "Updated At\r\n".encode("cp1252")
            ),
            None,
            "header is not valid UTF-8: byte 0xE9 in field 3; if the file is in another "
            "encoding, declare it with --encoding",
            id="header-not-utf-8",
        ),
    ],
)
def test_a_file_read_with_the_wrong_dialect_stops_naming_the_option(
    tmp_path: Path,
    con: duckdb.DuckDBPyConnection,
    damage: Callable[[Path], object],
    dialects: dict[str, Dialect] | None,
    expected: str,
) -> None:
    folder = write_exports(tmp_path / "landing")
    damage(folder)
    with pytest.raises(InputFileError) as raised:
        load_and_split(con, folder, CONTRACT, dialects=dialects)
    assert raised.value.file == "customers.csv"
    assert expected in str(raised.value)


def test_rows_in_another_delimiter_name_the_option(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``SPLIT_SAMPLE_LINES`` lines the refusal says how many it read."""
    monkeypatch.setattr("audience_pipeline.file_checks.SPLIT_SAMPLE_LINES", 3)
    folder = write_exports(tmp_path / "landing")
    path = folder / "bookings.csv"
    header, _, body = path.read_bytes().partition(b"\r\n")
    path.write_bytes(header + b"\r\n" + body.replace(b",", b";"))
    with pytest.raises(
        InputFileError,
        match=r"no data line of the first 3 could be split.* pass --delimiter \(e\.g\. "
        r"--delimiter ';'",
    ):
        load_and_split(con, folder, CONTRACT)


def test_a_trailing_delimiter_is_named_as_such(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """Every data line ending with the delimiter, or the header alone ending with it, is named
    as a trailing delimiter with the field count, not taken for another delimiter."""
    folder = write_exports(tmp_path / "landing")
    path = folder / "bookings.csv"
    original = path.read_bytes()
    header, _, body = original.partition(b"\r\n")
    columns = header.count(b",") + 1
    lines = [line + b"," for line in body.split(b"\r\n") if line]
    path.write_bytes(header + b"\r\n" + b"\r\n".join(lines) + b"\r\n")
    with pytest.raises(InputFileError) as raised:
        load_and_split(con, folder, CONTRACT)
    assert (
        f"every data line ends with a comma, which gives it {columns + 1} fields: remove the "
        "trailing delimiter from the export"
    ) in str(raised.value)
    assert "--delimiter" not in str(raised.value)
    path.write_bytes(header + b",\r\n" + body)
    with pytest.raises(InputFileError) as raised:
        load_and_split(con, folder, CONTRACT)
    assert (
        f"the header ends with a comma, which gives it a blank last column (column "
        f"{columns + 1}) the data lines do not have: remove it from the header"
    ) in str(raised.value)


def test_the_delimiter_check_stops_at_its_byte_cap_and_judges_no_line_cut_there(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line cut short at ``SPLIT_SAMPLE_BYTES`` (a file whose line breaks were lost) is not
    judged at all; a refusal that did not read the whole file says how many lines it read."""
    folder = write_exports(tmp_path / "landing")
    path = folder / "bookings.csv"
    header, _, body = path.read_bytes().partition(b"\r\n")
    # read 16 bytes at a time, up to 10 bytes into the line after a 130-byte line
    monkeypatch.setattr("audience_pipeline.file_checks._SNIFF_BYTES", 16)
    monkeypatch.setattr("audience_pipeline.file_checks.SPLIT_SAMPLE_BYTES", len(header) + 142)
    (good, *_) = body.splitlines(keepends=True)
    path.write_bytes(header + b"\r\n" + b"x;" * 64 + b"\r\n" + good)
    with pytest.raises(InputFileError, match=r"no data line of the first 1 could be split"):
        load_and_split(con, folder, CONTRACT)  # the good line is cut at the cap: not judged
    cut_lines = path.read_bytes()
    path.write_bytes(header + b"\r\n" + b"x;" * 64 + good)
    load_and_split(con, folder, CONTRACT)  # one line cut at the cap: not judged, not refused
    assert con.execute("select count(*) from landing_split.bookings").fetchone() == (1,)
    # the cap reached at a line end: what follows was not read, and the refusal says so
    path.write_bytes(cut_lines)
    monkeypatch.setattr("audience_pipeline.file_checks._SNIFF_BYTES", len(header) + 132)
    monkeypatch.setattr("audience_pipeline.file_checks.SPLIT_SAMPLE_BYTES", 1)
    with pytest.raises(InputFileError, match=r"no data line of the first 1 could be split"):
        load_and_split(con, folder, CONTRACT)


def test_a_first_data_line_with_an_open_quote_does_not_hide_the_good_lines_after_it(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """Each physical line is tried on its own, as the pipeline splits it: an unterminated quote
    on the first data line must not swallow the lines below it and get the file refused for
    its delimiter; the line itself is quarantined."""
    folder = write_exports(tmp_path / "landing")
    path = folder / "bookings.csv"
    header, _, body = path.read_bytes().partition(b"\r\n")
    # no quote below it that would close it
    unquoted = b"".join(line for line in body.splitlines(keepends=True) if b'"' not in line)
    opened = b'B-open,"101,2026-11-01,10.00,completed,P,web\r\n'
    path.write_bytes(header + b"\r\n" + opened + unquoted)
    load_and_split(con, folder, CONTRACT)  # not refused
    (reason,) = con.execute(
        "select structural_error from landing_split.bookings where source_line = 2"
    ).fetchone()
    assert reason == "unterminated quote (or a line break inside a quoted field)"


# ---------------------------------------------------------------------------
# End to end: the twins publish the same audience (slow: dbt)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    output_dir: Path
    database: Path
    files: dict[str, bytes]
    reconciliation: dict[str, Any]
    decisions: dict[int, str]


def run_cli(work: Path, folder: Path, *options: str) -> Run:
    output_dir, database = work / "out", work / "audience.duckdb"
    code = cli.main(
        [
            "run",
            "--input-dir",
            str(folder),
            "--as-of",
            AS_OF,
            "--output-dir",
            str(output_dir),
            "--database",
            str(database),
            "--quiet",
            *options,
        ]
    )
    assert code == 0
    decisions = read_decisions(database)
    return Run(
        output_dir,
        database,
        {path.name: path.read_bytes() for path in sorted(output_dir.iterdir())},
        json.loads((output_dir / "reconciliation.json").read_text("utf-8")),
        decisions,
    )


FINGERPRINT = ("bytes", "sha256", "encoding", "delimiter")


def without_fingerprints(report: dict[str, Any]) -> dict[str, Any]:
    """``reconciliation.json`` without what tells the twins apart: their bytes and folders."""
    return {
        **{key: value for key, value in report.items() if key != "destination"},
        "input_files": {
            name: {key: value for key, value in counts.items() if key not in FINGERPRINT}
            for name, counts in report["input_files"].items()
        },
    }


def assert_same_outputs(run: Run, twin: Run) -> None:
    """The same audience, rejected rows, decisions and counts; only the files' bytes differ."""
    for name, data in run.files.items():
        if name.startswith(("eligible_audience", "rejected_")):
            assert twin.files[name] == data, name
    assert twin.decisions == run.decisions
    assert without_fingerprints(twin.reconciliation) == without_fingerprints(run.reconciliation)


@dataclass(frozen=True)
class Twins:
    utf8: Run
    cp1252: Run
    cp1252_read_as_utf8: Run
    semicolons: Run
    cp1252_folder: Path


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> Twins:
    work = tmp_path_factory.mktemp("dialects")
    utf8 = run_cli(work / "utf8", write_exports(work / "utf8" / "landing"))
    cp1252_folder = write_exports(work / "cp1252" / "landing", encoding="cp1252")
    cp1252 = run_cli(work / "cp1252", cp1252_folder, "--encoding", "windows-1252")
    as_utf8 = run_cli(work / "as_utf8", cp1252_folder)
    semicolons = run_cli(
        work / "semicolons",
        write_exports(
            work / "semicolons" / "landing", delimiter=";", encodings={"customers": "utf-16"}
        ),
        "--delimiter",
        ";",
        "--encoding",
        "customers=utf-16",
    )
    return Twins(utf8, cp1252, as_utf8, semicolons, cp1252_folder)


@pytest.mark.slow
def test_a_windows_1252_folder_read_as_declared_equals_its_utf_8_twin(twins: Twins) -> None:
    assert_same_outputs(twins.utf8, twins.cp1252)
    files = twins.cp1252.reconciliation["input_files"]
    assert {name: files[name]["encoding"] for name in files} == dict.fromkeys(files, "cp1252")
    assert twins.utf8.reconciliation["input_files"]["customers"]["encoding"] == "utf-8"
    # the published names kept their accents
    audience = read_csv_rows(twins.cp1252.output_dir / "eligible_audience.csv")
    assert {row["first_name"] for row in audience} >= {"Zoë", "Renée", "O’Brien"}
    assert twins.utf8.decisions[2015] == "eligible"


@pytest.mark.slow
def test_a_semicolon_folder_read_as_declared_equals_its_comma_twin(twins: Twins) -> None:
    assert_same_outputs(twins.utf8, twins.semicolons)
    files = twins.semicolons.reconciliation["input_files"]
    assert files["bookings"]["delimiter"] == ";"
    assert files["customers"]["encoding"] == "utf-16"
    assert files["bookings"]["encoding"] == "utf-8"


@pytest.mark.slow
def test_windows_1252_read_as_utf_8_holds_jose_and_shows_the_original_byte(twins: Twins) -> None:
    run = twins.cp1252_read_as_utf8
    # customer 2015 has a decision, the hold, and counts among the customers
    assert run.decisions[2015] == "data_quality_hold"
    assert run.reconciliation["customers"] == len(run.decisions) == len(twins.utf8.decisions)
    report = run.reconciliation
    assert report["customers"] == report["eligible"] + sum(report["excluded"].values())
    rejected = {
        row["customer_id"]: row for row in read_csv_rows(run.output_dir / "rejected_customers.csv")
    }
    jose = rejected["2015"]
    assert jose["reason"] == "not valid UTF-8: byte 0xE9 in column first_name"
    assert jose["raw_line"] == JOSE_LINE.replace("é", "\\xe9")
    assert unescape_line(jose["raw_line"]) == JOSE_LINE.encode("cp1252")
    line = int(jose["source_line"])
    assert read_lines_at(twins.cp1252_folder / "customers.csv", [line])[line] == (
        unescape_line(jose["raw_line"])
    )
    consent = read_csv_rows(run.output_dir / "rejected_consent_events.csv")
    assert [row["raw_line"] for row in consent if row["customer_id"] == "2012"] == [
        "E-2012,2012,email,OPT_IN,2026-02-01T00:00:00Z,Caf\\xe9 kiosk"
    ]
    # every customer with an accent in a customers or consent line is held, none published
    for customer_id in (2010, 2011, 2012, 2013, 2015):
        assert run.decisions[customer_id] == "data_quality_hold", customer_id
    text = explain(run.database, 2015)
    assert "Decision: EXCLUDED by rule 1, data_quality_hold" in text
    assert (
        f"customers.csv line {line} rejected: not valid UTF-8: byte 0xE9 in column first_name;"
        " first_name 'Jos\\xe9'"
    ) in text


@pytest.mark.slow
def test_explain_names_the_rejected_booking_that_would_have_counted(twins: Twins) -> None:
    assert twins.utf8.decisions[2011] == "no_recent_booking"
    rejected = read_csv_rows(twins.utf8.output_dir / "rejected_bookings.csv")
    line = next(row["source_line"] for row in rejected if row["booking_id"] == "B-2011")
    text = explain(twins.utf8.database, 2011)
    assert "0 booking(s) counted" in text
    assert "rejected and duplicate bookings of this customer (never counted):" in text
    assert (
        f"bookings.csv line {line} rejected: invalid booking_amount; booking_amount '12,50'" in text
    )
    assert f"bookings.csv line {int(line) + 1} duplicate of line {line} (counted once)" in text
    # suppressions of an address held in an earlier snapshot are shown, for information
    text = explain(twins.utf8.database, 2013)
    assert "Decision: ELIGIBLE" in text
    assert "suppressions of an address on another of this customer's customers rows" in text
    assert re.search(
        r"suppressions\.csv line \d+ names old\.address@acme-mail\.com \(customers\.csv line "
        r"\d+\), accepted",
        text,
    )
