"""Unit tests of ``audience_pipeline.header.read_header``: the header row check."""

from __future__ import annotations

import pytest
from conftest import COLUMNS, SPECS, csv_line

from audience_pipeline.errors import InputFileError
from audience_pipeline.header import normalize_column_name, read_header

CONTRACT_HEADERS = [
    pytest.param(name, csv_line(columns), id=name) for name, columns in COLUMNS.items()
]
MISSING_COLUMNS = [
    pytest.param(name, column, id=f"{name}.{column}")
    for name, columns in COLUMNS.items()
    for column in columns
]


@pytest.mark.parametrize(("input_file", "line"), CONTRACT_HEADERS)
def test_contract_header_is_accepted(input_file: str, line: str) -> None:
    header = read_header(SPECS[input_file], line)
    assert header.columns == COLUMNS[input_file]
    assert header.extra_columns == ()
    assert [header.position(column) for column in COLUMNS[input_file]] == list(
        range(len(COLUMNS[input_file]))
    )


@pytest.mark.parametrize(("input_file", "missing"), MISSING_COLUMNS)
def test_missing_column_names_file_line_and_column(input_file: str, missing: str) -> None:
    columns = [column for column in COLUMNS[input_file] if column != missing]
    with pytest.raises(InputFileError) as raised:
        read_header(SPECS[input_file], csv_line(columns))
    error = raised.value
    assert error.file == f"{input_file}.csv"
    assert error.line == 1
    assert error.column == missing
    assert str(error).startswith(f"{input_file}.csv, line 1, column {missing}: ")
    assert "missing" in str(error)


def test_missing_column_message_lists_what_the_header_has() -> None:
    with pytest.raises(InputFileError, match=r"header has: customer_id, email\)"):
        read_header(SPECS["customers"], "customer_id,email")


def test_empty_header_line_reports_first_missing_column() -> None:
    with pytest.raises(InputFileError) as raised:
        read_header(SPECS["suppressions"], "")
    assert raised.value.column == "customer_id"
    assert raised.value.line == 1
    assert "header has: nothing" in str(raised.value)


@pytest.mark.parametrize(
    "duplicated",
    [
        pytest.param("email", id="same-spelling"),
        pytest.param(" EMAIL ", id="same-after-normalizing"),
    ],
)
def test_duplicated_column_is_refused(duplicated: str) -> None:
    line = csv_line([*COLUMNS["customers"], duplicated])
    with pytest.raises(InputFileError) as raised:
        read_header(SPECS["customers"], line)
    assert raised.value.file == "customers.csv"
    assert raised.value.line == 1
    assert raised.value.column == "email"
    assert "more than once" in str(raised.value)


def test_duplicated_extra_column_is_refused() -> None:
    line = csv_line([*COLUMNS["bookings"], "note", "Note"])
    with pytest.raises(InputFileError, match="more than once") as raised:
        read_header(SPECS["bookings"], line)
    assert raised.value.column == "note"


def test_other_case_and_surrounding_spaces_are_accepted() -> None:
    line = " Customer_ID ,EMAIL,  first_name,Home_State ,LOYALTY_TIER,Is_Active,updated_at  "
    header = read_header(SPECS["customers"], line)
    assert header.columns == COLUMNS["customers"]
    assert header.extra_columns == ()


def test_inner_spaces_read_as_underscores() -> None:
    line = "customer id,email,First Name,home  state,loyalty_tier,is_active,updated_at"
    header = read_header(SPECS["customers"], line)
    assert header.columns == COLUMNS["customers"]


def test_quoted_column_names_are_accepted() -> None:
    line = ",".join(f'"{column}"' for column in COLUMNS["consent_events"])
    header = read_header(SPECS["consent_events"], line)
    assert header.columns == COLUMNS["consent_events"]


def test_extra_columns_are_reported_in_file_order() -> None:
    columns = ["Note", *COLUMNS["suppressions"], " Added By "]
    header = read_header(SPECS["suppressions"], csv_line(columns))
    assert header.extra_columns == ("note", "added_by")
    assert header.columns == ("note", *COLUMNS["suppressions"], "added_by")


def test_columns_in_another_order_are_found_by_name() -> None:
    columns = list(reversed(COLUMNS["bookings"]))
    header = read_header(SPECS["bookings"], csv_line(columns))
    for column in COLUMNS["bookings"]:
        assert header.position(column) == columns.index(column)
    assert header.extra_columns == ()


@pytest.mark.parametrize(
    ("delimiter", "label"),
    [
        pytest.param(";", "semicolon", id="semicolon"),
        pytest.param("\t", "tab", id="tab"),
        pytest.param("|", "pipe", id="pipe"),
    ],
)
def test_other_delimiter_gives_a_clear_error(delimiter: str, label: str) -> None:
    line = delimiter.join(COLUMNS["customers"])
    with pytest.raises(InputFileError) as raised:
        read_header(SPECS["customers"], line)
    error = raised.value
    assert error.file == "customers.csv"
    assert error.line == 1
    assert error.column is None
    assert label in str(error)
    assert "delimiter is a comma" in str(error)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("customer_id", "customer_id"),
        ("  Customer_ID\t", "customer_id"),
        ("FIRST NAME", "first_name"),
        ("home \t state", "home_state"),
    ],
)
def test_normalize_column_name(raw: str, normalized: str) -> None:
    assert normalize_column_name(raw) == normalized


def test_a_header_too_long_to_quote_is_quoted_by_its_start_and_length() -> None:
    """A file read in the wrong byte order is one line of nonsense: the message stays short."""
    line = "\u6300\u7500" * 20_000
    with pytest.raises(InputFileError) as refused:
        read_header(SPECS["customers"], line)
    message = str(refused.value)
    assert "(40,000 characters)" in message
    assert len(message) < 400
    duplicated = "x" * 1000
    with pytest.raises(InputFileError) as twice:
        read_header(SPECS["customers"], f"{duplicated},{duplicated}")
    assert "(1,000 characters)" in str(twice.value) and len(str(twice.value)) < 400
