"""Unit tests of the pure-Python reference implementation of the spec.

Each test builds a tiny in-memory dataset, so a failure points at one rule.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import COLUMNS
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import audience_rules as rules

AS_OF = date(2026, 11, 26)


# ---------------------------------------------------------------------------
# Row builders
# ---------------------------------------------------------------------------


def customer(customer_id: str = "1", **values: str) -> dict[str, str]:
    """Build a customers row (an active customer with a valid email)."""
    row = {
        "customer_id": customer_id,
        "email": f"c{customer_id.strip()}@example.com",
        "first_name": "Ann",
        "home_state": "CA",
        "loyalty_tier": "gold",
        "is_active": "true",
        "updated_at": "2026-01-01T00:00:00Z",
    }
    row.update(values)
    return row


def booking(booking_id: str = "B1", customer_id: str = "1", **values: str) -> dict[str, str]:
    """Build a completed, recent bookings row."""
    row = {
        "booking_id": booking_id,
        "customer_id": customer_id,
        "booking_date": "2026-06-01",
        "booking_amount": "100.00",
        "booking_status": "COMPLETED",
        "product_name": "City Break",
        "source_system": "web",
    }
    row.update(values)
    return row


def consent(event_id: str = "E1", customer_id: str = "1", **values: str) -> dict[str, str]:
    """Build an email OPT_IN consent event."""
    row = {
        "event_id": event_id,
        "customer_id": customer_id,
        "channel": "email",
        "consent_status": "OPT_IN",
        "event_ts": "2026-01-01T00:00:00Z",
        "source_system": "web",
    }
    row.update(values)
    return row


def suppression(customer_id: str = "1", **values: str) -> dict[str, str]:
    """Build an open-ended suppressions row active since 2026-01-01."""
    row = {
        "customer_id": customer_id,
        "email": "",
        "suppression_reason": "complaint",
        "suppressed_from": "2026-01-01",
        "suppressed_until": "",
    }
    row.update(values)
    return row


def eligible_setup(
    customer_id: str = "1", **customer_values: str
) -> tuple[list[dict[str, str]], list[dict[str, str]], list[dict[str, str]]]:
    """Rows making one customer eligible: snapshot, one booking, one OPT_IN."""
    return (
        [customer(customer_id, **customer_values)],
        [booking(f"B{customer_id}", customer_id)],
        [consent(f"E{customer_id}", customer_id)],
    )


def run(
    customers: list[dict[str, str]],
    bookings: list[dict[str, str]] | None = None,
    consent_events: list[dict[str, str]] | None = None,
    suppressions: list[dict[str, str]] | None = None,
    as_of: date = AS_OF,
    parameters: rules.RuleParameters = rules.DEFAULT_PARAMETERS,
) -> rules.Result:
    """Evaluate in-memory rows."""
    return rules.evaluate(
        customers,
        bookings or [],
        consent_events or [],
        suppressions or [],
        as_of,
        parameters=parameters,
    )


def decision(
    customers: list[dict[str, str]],
    bookings: list[dict[str, str]] | None = None,
    consent_events: list[dict[str, str]] | None = None,
    suppressions: list[dict[str, str]] | None = None,
    as_of: date = AS_OF,
    customer_id: int = 1,
) -> str:
    """Decision for one customer."""
    result = run(customers, bookings, consent_events, suppressions, as_of)
    return result.decisions[customer_id]


# ---------------------------------------------------------------------------
# Value parsing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        (" 012 ", 12),
        ("0", 0),
        ("9" * 18, int("9" * 18)),
        ("9" * 19, None),
        (" 12a", None),
        ("", None),
        ("   ", None),
        ("-5", None),
        ("+5", None),
        ("1.0", None),
        ("1e3", None),
        ("١٢", None),
        ("\t12", None),
        ("1 2", None),
    ],
)
def test_parse_id(text: str, expected: int | None) -> None:
    """Ids are 1-18 ASCII digits after trimming spaces."""
    assert rules.parse_id(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1157", None),  # a valid id names its customer directly
        ("", None),
        ("C-1157", 1157),
        ("1157.0", 1157),
        ("1,157", 1157),
        (" 12,345,678x", 12_345_678),
        ("12,34", 12),
        ("1,1575", 1),
        ("1234,567", 1234),
        ("１１５７", 1157),
        ("C-١١٥٧", 1157),
        ("۱۱۵۷", 1157),
        ("１，１５７", 1157),
        ("١٬١٥٧", 1157),
        ("abc", None),
    ],
)
def test_id_in_digits(text: str, expected: int | None) -> None:
    """An unreadable id names the customer of its first run of digits, grouped or not."""
    assert rules.id_in_digits(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("157.000", {157_000, 157}),
        ("157,000", {157_000, 157}),
        ('="157.000"', {157_000, 157}),
        ("C-157.000", {157_000, 157}),
        ("157.000.000", {157_000_000}),
        ("1,157.000", {1157}),
        ("1157.000", {1157}),
        ("157.00", {157}),
        ("157'000", {157_000}),  # apostrophes group thousands, never decimals
        ("157", set()),  # a valid id names its customer directly
        ("abc", set()),
    ],
)
def test_ids_in_digits(text: str, expected: set[int]) -> None:
    """An id that could have three zero decimals names the customer of both readings."""
    assert rules.ids_in_digits(text) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("157,000,,hard_bounce,2026-01-01,", {157, 0, 157_000}),
        ("1,157,000,,hard_bounce,2026-01-01,", {1, 0, 1_157_000}),
        ('"157,000,,hard_bounce,2026-01-01,', {157, 0, 157_000}),
        ("C-157,000,,hard_bounce,2026-01-01,", {157, 0, 157_000}),
        ("157,Sm,,hard_bounce,2026-01-01,", {157}),
        ("1157,000,,hard_bounce,2026-01-01,", {1157, 0}),
        ("157,00,,hard_bounce,2026-01-01,", {157, 0}),
        ("157,,hard_bounce", {157}),
        ("115,000,old@x.com,hard_bounce, manual,2026-01-01,", {115, 115_000}),
        ('"116,000",,hard_bounce,2026-01-01', {116, 116_000}),
        ('"1,157,000",,hard_bounce,2026-01-01', {1, 157, 1_157_000}),
        ("157,000,,hard_bounce", {157, 157_000}),
        ("157,000 \u00a0  ,a@x.com,hard_bounce,2026-01-01,", {157, 0, 157_000}),
    ],
)
def test_ids_named_by_a_line_whose_id_a_thousands_comma_cut(line: str, expected: set[int]) -> None:
    """A line names the customer of its id read uncut (its pieces from the id's place to its
    end, rejoined) when that text begins with an id grouped in threes by commas; the pieces
    alone name theirs."""
    assert rules.ids_named_by_unsplittable_line(line, COLUMNS["suppressions"]) == expected


@pytest.mark.parametrize(
    ("columns", "values", "expected"),
    [
        (COLUMNS["suppressions"], ["157", "000", "hard_bounce", "2026-01-01", ""], "customer_id"),
        (COLUMNS["suppressions"], [" C-1 ", ' "157" ', "x", "2026-01-01", ""], "customer_id"),
        (COLUMNS["suppressions"], ["157", "00", "hard_bounce", "2026-01-01", ""], None),
        (COLUMNS["suppressions"], ["1570", "000", "hard_bounce", "2026-01-01", ""], None),
        # the first group before customer_id, beside a column never three digits
        (["email", "customer_id", "x"], ["157", "000", "y"], "email"),
        # beside a number or a name: not looked at
        (["event_id", "customer_id", "x"], ["157", "000", "y"], None),
        (["customer_id", "booking_amount"], ["157", "150"], None),
        (["customer_id", "first_name"], ["157", "150"], None),
    ],
)
def test_cut_id_start(columns: list[str], values: list[str], expected: str | None) -> None:
    assert rules.cut_id_start(dict(zip(columns, values, strict=True))) == expected


def test_a_row_with_more_fields_than_columns_is_not_looked_at() -> None:
    row = {**dict(zip(COLUMNS["suppressions"], ["157", "000", "x", "y", "z"], strict=True))}
    assert rules.cut_id_start({**row, None: ["a", "b", "c"]}) is None  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26", date(2026, 11, 26)),
        (" 2024-02-29 ", date(2024, 2, 29)),
        ("2023-02-29", None),
        ("2026-02-30", None),
        ("2026-13-01", None),
        ("2026-00-10", None),
        ("26/11/2026", None),
        ("2026-1-05", None),
        ("2026/11/26", None),
        ("2026-11-26T00:00", None),
        ("٢٠٢٦-11-26", None),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    """Dates are strict YYYY-MM-DD that exist in the calendar."""
    assert rules.parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-10", datetime(2026, 4, 10, tzinfo=UTC)),
        ("2026-04-10T10:15", datetime(2026, 4, 10, 10, 15, tzinfo=UTC)),
        ("2026-04-10 10:15:30", datetime(2026, 4, 10, 10, 15, 30, tzinfo=UTC)),
        ("2026-04-10T10:15:30Z", datetime(2026, 4, 10, 10, 15, 30, tzinfo=UTC)),
        (
            "2026-04-10T10:15:30.5Z",
            datetime(2026, 4, 10, 10, 15, 30, 500000, tzinfo=UTC),
        ),
        (
            " 2026-04-10 10:15:30.123456 ",
            datetime(2026, 4, 10, 10, 15, 30, 123456, tzinfo=UTC),
        ),
        ("2026-04-10T23:30:00+05:00", datetime(2026, 4, 10, 18, 30, tzinfo=UTC)),
        ("2026-04-10T18:00:00-05:00", datetime(2026, 4, 10, 23, 0, tzinfo=UTC)),
        ("2026-04-10T00:30+05:30", datetime(2026, 4, 9, 19, 0, tzinfo=UTC)),
        ("2026-04-10T23:59:59+23:59", datetime(2026, 4, 10, 0, 0, 59, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_valid(text: str, expected: datetime) -> None:
    """Valid timestamps become the UTC instant (local minus offset)."""
    parsed = rules.parse_timestamp(text)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-02-30",
        "2026-02-30T10:00:00Z",
        "2026-04-10t10:00:00Z",
        "2026-04-10T10:00:00z",
        "2026-04-10T24:00:00Z",
        "2026-04-10T10:60:00Z",
        "2026-04-10T10:00:60Z",
        "2026-04-10T10Z",
        "2026-04-10T10:00:00.Z",
        "2026-04-10T10:00.5",
        "2026-04-10T10:00:00+24:00",
        "2026-04-10T10:00:00+05:60",
        "2026-04-10T10:00:00+0500",
        "2026-04-10T10:00:00 +05:00",
        "2026-04-10  10:00:00",
        "10/04/2026 10:00",
        "2026-04-10T10:00:00UTC",
        "2026-04-10T1O:00:00Z",
    ],
)
def test_parse_timestamp_invalid(text: str) -> None:
    """Anything outside the spec's timestamp grammar is rejected."""
    assert rules.parse_timestamp(text) is None


def test_parse_timestamp_offsets_compare_as_instants() -> None:
    """A later-looking local time can be the earlier instant."""
    later_looking = rules.parse_timestamp("2026-04-10T23:30:00+05:00")
    earlier_looking = rules.parse_timestamp("2026-04-10T20:00:00Z")
    assert later_looking is not None and earlier_looking is not None
    assert later_looking < earlier_looking
    assert rules.parse_timestamp("2026-02-01T12:00:00Z") == rules.parse_timestamp(
        "2026-02-01 07:00:00-05:00"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", Decimal(0)),
        ("-0", Decimal(0)),
        ("-0.00", Decimal(0)),
        ("+20", Decimal(20)),
        (" 129.99 ", Decimal("129.99")),
        ("1.5e2", Decimal(150)),
        ("2E1", Decimal(20)),
        ("1E+2", Decimal(100)),
        ("15e-1", Decimal("1.5")),
        ("9999999999999999.99", Decimal("9999999999999999.99")),
        ("0.0000000000005", Decimal("0.000000000001")),
        ("0.00000000000049", Decimal(0)),
        ("1e-400", Decimal(0)),
        ("-0e5", Decimal(0)),
        ("007.50", Decimal("7.5")),
        (".5", Decimal("0.5")),  # SQL numeric literals: a leading or trailing point
        ("5.", Decimal(5)),
        ("+.5", Decimal("0.5")),
        ("-.0", Decimal(0)),
        ("-0.", Decimal(0)),
        (".5e2", Decimal(50)),
        ("5.e-1", Decimal("0.5")),
        ("9999999999999999.", Decimal("9999999999999999")),
    ],
)
def test_parse_amount_valid(text: str, expected: Decimal) -> None:
    """Valid amounts keep their exact value (12 decimals, half away from 0)."""
    assert rules.parse_amount(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "inf",
        "1,234.50",
        "$10",
        "10$",
        "١٢",
        "١٢.٥",
        "-5.00",
        "-1",
        "-0.01",
        "-1e-20",
        "1e16",
        "10000000000000000",
        "1_000",
        ".",
        "5..0",
        "+.",
        "-.",
        ".e5",
        "-.5",
        "10000000000000000.",
        "1e",
        "e5",
        "1.2.3",
        "++1",
        "1 000",
        "0x10",
        "1e99999999999999999999999999999999999999",
    ],
)
def test_parse_amount_invalid(text: str) -> None:
    """Every non-conforming or out-of-range amount is invalid."""
    assert rules.parse_amount(text) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.125", "10.13"),
        ("2.675", "2.68"),
        ("0.005", "0.01"),
        ("0.004999999999", "0.00"),
        ("0", "0.00"),
        ("-0", "0.00"),
        ("1234.5", "1234.50"),
        ("10000000000000009.99", "10000000000000009.99"),
    ],
)
def test_format_amount_rounds_half_away_from_zero(value: str, expected: str) -> None:
    """Totals render with exactly two decimals, half away from zero."""
    assert rules.format_amount(Decimal(value)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        (" TRUE ", True),
        ("t", True),
        ("Y", True),
        ("yes", True),
        ("1", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("", False),
        ("maybe", False),
        ("on", False),
        ("\ttrue", False),
    ],
)
def test_is_active_flag(text: str, expected: bool) -> None:
    """Only 1/true/t/yes/y (any case, trimmed) mean active."""
    assert rules.is_active_flag(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" Ann@Example.COM ", "ann@example.com"),
        ("", None),
        ("   ", None),
    ],
)
def test_normalize_email(text: str, expected: str | None) -> None:
    """Emails are lower(trim()); blank is missing."""
    assert rules.normalize_email(text) == expected


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("ann@example.com", True),
        ("a@b.c", True),
        ("first.last+tag@mail.example.co.uk", True),
        ("a@b..c", True),
        ("ann.example.com", False),
        ("ann@@example.com", False),
        ("a@b@example.com", False),
        ("@example.com", False),
        ("ann@localhost", False),
        ("ann@.example.com", False),
        ("ann@example.com.", False),
        ("ann @example.com", False),
        ("ann@exa\tmple.com", False),
        ("ann@", False),
    ],
)
def test_is_valid_email(email: str, expected: bool) -> None:
    """Email validity follows the spec's structural checks."""
    assert rules.is_valid_email(email) is expected


# ---------------------------------------------------------------------------
# Before the rules: quarantine, duplicates, counts
# ---------------------------------------------------------------------------


def test_customer_rejections_first_failing_check_and_line_numbers() -> None:
    """The first failing check names the reason; header is line 1."""
    rows = [
        customer("1"),
        customer(" 12a", updated_at="bad"),
        customer("3", updated_at="2026-02-30"),
        customer("", updated_at="2026-01-01"),
    ]
    result = run(rows)
    assert result.rejected["customers"] == [
        (3, "invalid customer_id"),
        (4, "invalid updated_at"),
        (5, "invalid customer_id"),
    ]
    assert result.file_counts["customers"] == {
        "raw": 4,
        "accepted": 1,
        "rejected": 3,
        "duplicate": 0,
    }


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"booking_id": "  "}, "blank booking_id"),
        ({"booking_id": "", "customer_id": "x"}, "blank booking_id"),
        ({"customer_id": " 12a"}, "invalid customer_id"),
        ({"customer_id": "", "booking_date": "bad"}, "invalid customer_id"),
        ({"booking_date": "2026-02-30"}, "invalid booking_date"),
        ({"booking_date": "26/11/2026", "booking_amount": "x"}, "invalid booking_date"),
        ({"booking_date": ""}, "invalid booking_date"),
        ({"booking_amount": "NaN"}, "invalid booking_amount"),
        ({"booking_amount": ""}, "invalid booking_amount"),
        ({"booking_amount": "-5.00"}, "invalid booking_amount"),
    ],
)
def test_booking_rejection_reasons(values: dict[str, str], reason: str) -> None:
    """Bookings are checked in the spec's order."""
    result = run([customer("1")], [{**booking("B1", "1"), **values}])
    assert result.rejected["bookings"] == [(2, reason)]


def test_booking_status_and_product_are_not_validated() -> None:
    """Only id, customer, date and amount can reject a booking."""
    result = run(
        [customer("1")],
        [booking("B1", "1", booking_status="", product_name="", source_system="")],
    )
    assert result.file_counts["bookings"]["accepted"] == 1


def test_consent_rejection_reasons() -> None:
    """Consent events need a valid customer_id and event_ts only."""
    result = run(
        [customer("1")],
        consent_events=[
            consent("E1", "abc", event_ts="bad"),
            consent("E2", "1", event_ts="2026-04-10t10:00:00Z"),
            consent("", "1", channel="", consent_status=""),
        ],
    )
    assert result.rejected["consent_events"] == [
        (2, "invalid customer_id"),
        (3, "invalid event_ts"),
    ]
    assert result.file_counts["consent_events"]["accepted"] == 1


def test_suppression_needs_an_id_or_an_email() -> None:
    """Invalid id with an email is accepted; neither is rejected."""
    result = run(
        [customer("1")],
        suppressions=[
            suppression("abc", email="x@example.com"),
            suppression("abc", email="  "),
            suppression("", email=""),
            suppression("7", email="", suppressed_from="garbage"),
        ],
    )
    assert result.rejected["suppressions"] == [
        (3, "no valid customer_id or email"),
        (4, "no valid customer_id or email"),
    ]
    assert result.file_counts["suppressions"] == {
        "raw": 4,
        "accepted": 2,
        "rejected": 2,
        "duplicate": 0,
    }


def test_duplicates_are_identical_after_trim_in_every_file() -> None:
    """Rows identical after trimming are duplicates, counted once each."""
    customers = [customer("1"), customer(" 1 ", first_name="Ann "), customer("01")]
    bookings = [booking("B1", "1"), booking(" B1", "1 "), booking("B1", "1")]
    events = [consent("E1", "1"), consent("E1", "1", channel=" email")]
    suppressions = [suppression("2"), suppression("2 ")]
    result = run(customers, bookings, events, suppressions)
    assert result.file_counts == {
        "customers": {"raw": 3, "accepted": 2, "rejected": 0, "duplicate": 1},
        "bookings": {"raw": 3, "accepted": 1, "rejected": 0, "duplicate": 2},
        "consent_events": {"raw": 2, "accepted": 1, "rejected": 0, "duplicate": 1},
        "suppressions": {"raw": 2, "accepted": 1, "rejected": 0, "duplicate": 1},
    }
    assert result.decisions == {1: "eligible"}
    assert result.audience[0]["bookings_last_365_days"] == "1"


def test_duplicate_of_rejected_row_is_a_duplicate_not_a_rejection() -> None:
    """Only the first copy of an invalid row is rejected."""
    result = run([customer("1")], [booking("B9", "1", booking_amount="abc")] * 2)
    assert result.rejected["bookings"] == [(2, "invalid booking_amount")]
    assert result.file_counts["bookings"] == {
        "raw": 2,
        "accepted": 0,
        "rejected": 1,
        "duplicate": 1,
    }


def test_conflicting_booking_ids_reject_every_distinct_row() -> None:
    """A booking_id on several distinct rows rejects all of them."""
    bookings = [
        booking("B1", "1", booking_amount="100.00"),
        booking("B1", "1", booking_amount="100.00"),
        booking(" B1 ", "1", booking_amount="120.00"),
        booking("B1", "1", booking_date="2026-02-30"),
        booking("B2", "1", booking_amount="50"),
    ]
    result = run([customer("1")], bookings, [consent("E1", "1")])
    assert result.rejected["bookings"] == [
        (2, "conflicting duplicate booking_id"),
        (4, "conflicting duplicate booking_id"),
        (5, "invalid booking_date"),
    ]
    assert result.file_counts["bookings"] == {
        "raw": 5,
        "accepted": 1,
        "rejected": 3,
        "duplicate": 1,
    }
    assert result.audience[0]["total_spend_last_365_days"] == "50.00"


def test_booking_ids_compare_case_sensitively() -> None:
    """Only trimming, not case folding, is applied to booking_id."""
    result = run([customer("1")], [booking("b1", "1"), booking("B1", "1")])
    assert result.file_counts["bookings"]["accepted"] == 2


def test_only_conflicting_bookings_means_no_recent_booking() -> None:
    """Rejected conflicting bookings do not count."""
    bookings = [booking("B1", "1"), booking("B1", "1", booking_amount="1")]
    assert decision([customer("1")], bookings, [consent("E1", "1")]) == "no_recent_booking"


def test_missing_and_extra_columns_are_tolerated() -> None:
    """A short row (DictReader gives None) reads as blank values."""
    short = {"customer_id": "1", "email": None, "updated_at": "2026-01-01"}
    result = run([short])
    assert result.decisions == {1: "inactive"}


# ---------------------------------------------------------------------------
# Rule 1 (data-quality hold) and the customer universe
# ---------------------------------------------------------------------------


def test_rejected_customer_row_puts_customer_on_hold() -> None:
    """A readable id on a rejected customers row means data_quality_hold."""
    customers, bookings, events = eligible_setup("1")
    customers.append(customer("1", updated_at="2026-13-01"))
    assert decision(customers, bookings, events) == "data_quality_hold"


def test_customer_whose_only_row_is_rejected_is_on_hold() -> None:
    """Customers without an accepted snapshot are still decided."""
    result = run([customer("5", updated_at="")])
    assert result.decisions == {5: "data_quality_hold"}


def test_rejected_consent_row_puts_customer_on_hold() -> None:
    """A readable id on a rejected consent row means data_quality_hold."""
    customers, bookings, events = eligible_setup("1")
    events.append(consent("E9", "1", event_ts="yesterday"))
    assert decision(customers, bookings, events) == "data_quality_hold"


def test_rejected_booking_or_suppression_rows_do_not_hold() -> None:
    """Only customers and consent_events rejections cause a hold."""
    customers, bookings, events = eligible_setup("1")
    bookings.append(booking("B9", "1", booking_amount="abc"))
    result = run(customers, bookings, events, [suppression("", email="")])
    assert result.decisions[1] == "eligible"


def test_universe_is_valid_ids_on_customers_rows_only() -> None:
    """Invalid ids and ids seen only in other files get no decision."""
    customers = [customer("1"), customer("abc")]
    bookings = [booking("B1", "2")]
    events = [consent("E1", "3"), consent("E2", "4", event_ts="bad")]
    result = run(customers, bookings, events)
    assert set(result.decisions) == {1}


def test_leading_zero_ids_are_the_same_customer() -> None:
    """'012', ' 12' and '12' identify one customer, output as 12."""
    result = run(
        [customer("012", email="a@example.com")],
        [booking("B1", " 12")],
        [consent("E1", "12")],
    )
    assert result.decisions == {12: "eligible"}
    assert result.audience[0]["customer_id"] == "12"


# ---------------------------------------------------------------------------
# The current snapshot (read by rules 2-4)
# ---------------------------------------------------------------------------


def test_latest_snapshot_wins() -> None:
    """The latest updated_at decides activity and email."""
    customers = [
        customer("1", is_active="false", updated_at="2026-01-01"),
        customer("1", is_active="yes", updated_at="2026-03-01 08:00:00"),
    ]
    _, bookings, events = eligible_setup("1")
    assert decision(customers, bookings, events) == "eligible"
    customers.append(customer("1", is_active="N", updated_at="2026-03-01T08:00:01Z"))
    assert decision(customers, bookings, events) == "inactive"


def test_active_snapshot_after_the_as_of_date_gives_way() -> None:
    """As of 2026-11-26 an active snapshot dated 2027 had not been written: the inactive one of
    2026 decides; an inactive one dated 2027 counts; late on the as-of day (UTC) counts."""
    _, bookings, events = eligible_setup("1")
    inactive = customer("1", is_active="false", updated_at="2026-06-01")
    later_active = customer("1", is_active="true", updated_at="2027-01-01T00:00:00Z")
    assert decision([inactive, later_active], bookings, events) == "inactive"
    # 2026-11-27T01:00+02:00 is 2026-11-26T23:00Z: the as-of day itself
    same_day = customer("1", is_active="true", updated_at="2026-11-27T01:00:00+02:00")
    assert decision([inactive, same_day], bookings, events) == "eligible"
    active = customer("1", is_active="true", updated_at="2026-06-01")
    later_inactive = customer("1", is_active="false", updated_at="2027-01-01")
    assert decision([active, later_inactive], bookings, events) == "inactive"
    # none counts: the latest decides
    assert decision([later_active], bookings, events) == "eligible"


def test_snapshot_after_the_as_of_date_does_not_change_the_address() -> None:
    """The earlier snapshot's email is the one published."""
    _, bookings, events = eligible_setup("1")
    earlier = customer("1", email="old@example.com", updated_at="2026-06-01")
    later = customer("1", email="new@example.com", updated_at="2026-12-01")
    result = run([earlier, later], bookings, events)
    assert [row["email"] for row in result.audience] == ["old@example.com"]


def test_snapshot_latest_is_by_utc_instant() -> None:
    """10:00+04:00 (06:00Z) is earlier than 08:00Z."""
    customers = [
        customer("1", is_active="false", updated_at="2026-06-01T10:00:00+04:00"),
        customer("1", is_active="true", updated_at="2026-06-01T08:00:00Z"),
    ]
    _, bookings, events = eligible_setup("1")
    assert decision(customers, bookings, events) == "eligible"


@pytest.mark.parametrize(
    "stamps",
    [
        ("2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z"),
        ("2026-03-01T10:00:00Z", "2026-03-01 12:00:00+02:00"),
        ("2026-03-01", "2026-03-01T00:00"),
    ],
)
def test_snapshot_tie_inactive_wins(stamps: tuple[str, str]) -> None:
    """Ties on updated_at put inactive before active."""
    customers = [
        customer("1", is_active="true", updated_at=stamps[0]),
        customer("1", is_active="false", updated_at=stamps[1]),
    ]
    _, bookings, events = eligible_setup("1")
    assert decision(customers, bookings, events) == "inactive"


def test_snapshot_tie_email_nulls_first_then_ascending() -> None:
    """Among equally active ties, a missing email sorts first."""
    base = {"updated_at": "2026-03-01T10:00:00Z"}
    _, bookings, events = eligible_setup("1")
    customers = [
        customer("1", email="b@example.com", **base),
        customer("1", email="  ", **base),
    ]
    assert decision(customers, bookings, events) == "missing_email"
    customers = [
        customer("1", email="b@example.com", **base),
        customer("1", email="A@example.com", **base),
    ]
    result = run(customers, bookings, events)
    assert result.audience[0]["email"] == "a@example.com"


def test_snapshot_tie_then_name_state_tier() -> None:
    """Remaining ties go by first_name, home_state, loyalty_tier ascending."""
    base = {"updated_at": "2026-03-01T10:00:00Z", "email": "a@example.com"}
    _, bookings, events = eligible_setup("1")
    customers = [
        customer("1", first_name="Zoe", home_state="AK", loyalty_tier="bronze", **base),
        customer("1", first_name=" Amy", home_state="WY", loyalty_tier="gold", **base),
        customer("1", first_name="Amy", home_state="TX", loyalty_tier="silver", **base),
        customer("1", first_name="Amy", home_state="TX", loyalty_tier="gold", **base),
        customer("1", first_name="", home_state="ZZ", loyalty_tier="x", **base),
    ]
    row = run(customers, bookings, events).audience[0]
    assert (row["first_name"], row["home_state"], row["loyalty_tier"]) == (
        "",
        "ZZ",
        "x",
    )
    row = run(customers[:4], bookings, events).audience[0]
    assert (row["first_name"], row["home_state"], row["loyalty_tier"]) == (
        "Amy",
        "TX",
        "gold",
    )


# ---------------------------------------------------------------------------
# Rules 5 and 6: email consent
# ---------------------------------------------------------------------------


def consent_decision(events: list[dict[str, str]]) -> str:
    """Decision for an otherwise eligible customer 1 with these events."""
    customers, bookings, _ = eligible_setup("1")
    return decision(customers, bookings, events)


def test_no_email_events_is_no_consent() -> None:
    """Only email-channel events count; sms alone means no consent."""
    assert consent_decision([]) == "no_email_consent"
    assert consent_decision([consent("E1", "1", channel="sms")]) == "no_email_consent"


def test_channel_and_status_are_trimmed_and_case_insensitive() -> None:
    """' Email ' and 'opt_in' are an email OPT_IN."""
    events = [consent("E1", "1", channel=" Email ", consent_status=" opt_in ")]
    assert consent_decision(events) == "eligible"


@pytest.mark.parametrize("channel", ["E-Mail", " e_mail ", "e.mail", "e mail", "EMAIL"])
def test_channel_is_read_without_separators(channel: str) -> None:
    """An opt-out on `E-Mail` is an email opt-out; an opt-in on it is consent."""
    opted_in = consent("E1", "1", event_ts="2026-01-01T00:00:00Z")
    opt_out = consent("E2", "1", channel=channel, consent_status="OPT_OUT", event_ts="2026-05-01")
    assert consent_decision([opted_in, opt_out]) == "not_opted_in"
    assert consent_decision([consent("E3", "1", channel=channel)]) == "eligible"


@pytest.mark.parametrize("channel", ["", "  ", "-", " _ "])
def test_blank_channel_counts_unless_opt_in(channel: str) -> None:
    """A blank channel may be email: an opt-out or unknown status on it counts, an OPT_IN
    does not (doubt excludes, consent is never assumed)."""
    opted_in = consent("E1", "1", event_ts="2026-01-01T00:00:00Z")
    for status in ("OPT_OUT", "PENDING", ""):
        later = consent("E2", "1", channel=channel, consent_status=status, event_ts="2026-05-01")
        assert consent_decision([opted_in, later]) == "not_opted_in"
    blank_opt_in = consent("E3", "1", channel=channel, event_ts="2026-05-01")
    assert consent_decision([blank_opt_in]) == "no_email_consent"
    opted_out = consent("E4", "1", consent_status="OPT_OUT", event_ts="2026-01-01")
    assert consent_decision([opted_out, blank_opt_in]) == "not_opted_in"


@pytest.mark.parametrize("channel", ["all", "GLOBAL", "emial", "marketing", "text message"])
def test_unknown_channel_counts_unless_opt_in(channel: str) -> None:
    """A channel neither email nor one of non_email_channels may be email: an opt-out on it
    counts, an OPT_IN on it consents to nothing."""
    opted_in = consent("E1", "1", event_ts="2026-01-01T00:00:00Z")
    opt_out = consent("E2", "1", channel=channel, consent_status="OPT_OUT", event_ts="2026-05-01")
    assert consent_decision([opted_in, opt_out]) == "not_opted_in"
    assert consent_decision([consent("E3", "1", channel=channel)]) == "no_email_consent"


def test_non_email_channels_decide_which_channels_are_ignored() -> None:
    """A channel in the parameter (read lower case without separators) never counts; with an
    empty list every channel but email counts unless OPT_IN."""
    customers, bookings, _ = eligible_setup("1")
    opted_in = consent("E1", "1", event_ts="2026-01-01T00:00:00Z")
    on_sms = consent("E2", "1", channel=" S-M-S ", consent_status="OPT_OUT", event_ts="2026-05-01")
    on_all = consent("E3", "1", channel="all", consent_status="OPT_OUT", event_ts="2026-05-01")

    def decided(events: list[dict[str, str]], channels: tuple[str, ...]) -> str:
        parameters = rules.RuleParameters(non_email_channels=channels)
        return run(customers, bookings, events, parameters=parameters).decisions[1]

    assert decided([opted_in, on_sms], ("sms",)) == "eligible"
    assert decided([opted_in, on_sms], ()) == "not_opted_in"
    assert decided([opted_in, on_all], ("sms",)) == "not_opted_in"
    assert decided([opted_in, on_all], ("sms", "ALL")) == "eligible"


def test_later_sms_event_is_ignored() -> None:
    """An sms opt-out after an email opt-in changes nothing."""
    events = [
        consent("E1", "1", event_ts="2026-01-01T00:00:00Z"),
        consent("E2", "1", channel="sms", consent_status="OPT_OUT", event_ts="2026-05-01"),
    ]
    assert consent_decision(events) == "eligible"


@pytest.mark.parametrize("status", ["OPT_OUT", "PENDING", "", "unknown", "OPTIN"])
def test_latest_status_other_than_opt_in_is_not_opted_in(status: str) -> None:
    """Anything but OPT_IN as the latest email event fails."""
    events = [
        consent("E1", "1", event_ts="2026-01-01T00:00:00Z"),
        consent("E2", "1", consent_status=status, event_ts="2026-02-01T00:00:00Z"),
    ]
    assert consent_decision(events) == "not_opted_in"


def test_consent_latest_by_utc_not_local_time() -> None:
    """23:30+05:00 is 18:30Z, earlier than 20:00Z."""
    events = [
        consent("E1", "1", consent_status="OPT_OUT", event_ts="2026-04-10T23:30:00+05:00"),
        consent("E2", "1", consent_status="OPT_IN", event_ts="2026-04-10T20:00:00Z"),
    ]
    assert consent_decision(events) == "eligible"
    events = [
        consent("E1", "1", consent_status="OPT_IN", event_ts="2026-04-10T22:00:00Z"),
        consent("E2", "1", consent_status="OPT_OUT", event_ts="2026-04-10T18:00:00-05:00"),
    ]
    assert consent_decision(events) == "not_opted_in"


def test_bare_date_is_midnight_utc() -> None:
    """A bare date is later than 23:59:59 the day before."""
    events = [
        consent("E1", "1", consent_status="OPT_OUT", event_ts="2026-03-14T23:59:59Z"),
        consent("E2", "1", consent_status="OPT_IN", event_ts="2026-03-15"),
    ]
    assert consent_decision(events) == "eligible"


def test_fractional_seconds_order_events() -> None:
    """.25 is later than .1999; .5 and .500 are the same instant."""
    events = [
        consent("E1", "1", consent_status="OPT_OUT", event_ts="2026-07-01T10:00:00.1999Z"),
        consent("E2", "1", consent_status="OPT_IN", event_ts="2026-07-01T10:00:00.25Z"),
    ]
    assert consent_decision(events) == "eligible"
    events = [
        consent("E1", "1", consent_status="OPT_IN", event_ts="2026-07-01T10:00:00.5"),
        consent("E2", "1", consent_status="opt_out", event_ts="2026-07-01 10:00:00.500"),
    ]
    assert consent_decision(events) == "not_opted_in"


@pytest.mark.parametrize(
    "stamps",
    [
        ("2026-02-01T12:00:00Z", "2026-02-01T12:00:00Z"),
        ("2026-02-01T12:00:00Z", "2026-02-01 07:00:00-05:00"),
    ],
)
def test_consent_tie_non_opt_in_wins(stamps: tuple[str, str]) -> None:
    """OPT_IN and OPT_OUT at the same instant: OPT_OUT wins."""
    events = [
        consent("E1", "1", consent_status="OPT_IN", event_ts=stamps[0]),
        consent("E2", "1", consent_status="OPT_OUT", event_ts=stamps[1]),
    ]
    assert consent_decision(events) == "not_opted_in"
    assert consent_decision(events[::-1]) == "not_opted_in"


def test_identical_consent_events_are_deduplicated() -> None:
    """Duplicate events count once and do not change the decision."""
    events = [consent("E1", "1"), consent("E1", "1")]
    result = run(*eligible_setup("1")[:2], events)
    assert result.file_counts["consent_events"]["duplicate"] == 1
    assert result.decisions[1] == "eligible"


# ---------------------------------------------------------------------------
# Rule 7: suppressions
# ---------------------------------------------------------------------------


def suppression_decision(rows: list[dict[str, str]], **customer_values: str) -> str:
    """Decision for an otherwise eligible customer 1 with these suppressions."""
    customers, bookings, events = eligible_setup("1", **customer_values)
    return decision(customers, bookings, events, rows)


@pytest.mark.parametrize(
    ("from_text", "until_text", "expected"),
    [
        ("2026-01-01", "", "suppressed"),
        ("2026-11-26", "", "suppressed"),
        ("2026-01-01", "2026-11-26", "suppressed"),
        ("2026-01-01", "2026-11-25", "eligible"),
        ("2026-11-27", "", "eligible"),
        ("2026-12-01", "2027-01-01", "eligible"),
        ("", "", "suppressed"),
        ("", "2026-01-01", "suppressed"),
        ("2026-13-01", "", "suppressed"),
        ("01/12/2026", "2026-01-01", "suppressed"),
        ("2026-12-01", "2027-02-30", "suppressed"),
        ("2026-01-01", "soon", "suppressed"),
        ("2026-12-01", "2026-01-01", "eligible"),
    ],
)
def test_suppression_active_window(from_text: str, until_text: str, expected: str) -> None:
    """Window is inclusive; unreadable or blank-from dates suppress."""
    row = suppression("1", suppressed_from=from_text, suppressed_until=until_text)
    assert suppression_decision([row]) == expected


def test_suppression_by_email_only() -> None:
    """Email match is on normalized text; id may be blank or invalid."""
    rows = [suppression("", email=" Ann@Example.COM ")]
    assert suppression_decision(rows, email="ann@example.com") == "suppressed"
    rows = [suppression("x9", email="ann@example.com")]
    assert suppression_decision(rows, email=" ANN@example.com") == "suppressed"


def test_suppression_for_other_id_or_email_does_not_match() -> None:
    """Another customer's id or an unrelated email does not suppress."""
    rows = [suppression("2"), suppression("", email="other@example.com")]
    assert suppression_decision(rows) == "eligible"


def test_suppression_matches_current_email_only() -> None:
    """An email from an older snapshot does not match."""
    customers = [
        customer("1", email="old@example.com", updated_at="2026-01-01"),
        customer("1", email="new@example.com", updated_at="2026-02-01"),
    ]
    _, bookings, events = eligible_setup("1")
    rows = [suppression("", email="old@example.com")]
    assert decision(customers, bookings, events, rows) == "eligible"


def test_expired_email_suppression_does_not_match() -> None:
    """Email suppressions also respect the window."""
    rows = [suppression("", email="c1@example.com", suppressed_until="2026-11-25")]
    assert suppression_decision(rows) == "eligible"


# ---------------------------------------------------------------------------
# Rule 8: recent bookings
# ---------------------------------------------------------------------------


def booking_result(
    bookings: list[dict[str, str]],
    as_of: date = AS_OF,
    parameters: rules.RuleParameters = rules.DEFAULT_PARAMETERS,
) -> rules.Result:
    """Result for customer 1 (opted in before any as-of date here) with these bookings."""
    opted_in = consent("E1", "1", event_ts="2000-01-01T00:00:00Z")
    return run([customer("1")], bookings, [opted_in], as_of=as_of, parameters=parameters)


@pytest.mark.parametrize(
    ("as_of", "booked", "recent"),
    [
        (AS_OF, "2025-11-26", False),
        (AS_OF, "2025-11-27", True),
        (AS_OF, "2026-11-26", True),
        (AS_OF, "2026-11-27", False),
        (AS_OF, "2027-01-01", False),
        (date(2024, 3, 1), "2023-03-02", False),
        (date(2024, 3, 1), "2023-03-03", True),
        (date(2024, 3, 1), "2023-03-01", False),
        (date(2025, 3, 1), "2024-02-29", False),
        (date(2025, 3, 1), "2024-03-01", False),
        (date(2025, 3, 1), "2024-03-02", True),
        (date(2024, 12, 31), "2024-01-01", False),
        (date(2024, 12, 31), "2024-01-02", True),
    ],
)
def test_recent_window_is_365_days(as_of: date, booked: str, recent: bool) -> None:
    """as_of - 365 days < booking_date <= as_of, across leap years too."""
    result = booking_result([booking("B1", "1", booking_date=booked)], as_of)
    assert (result.decisions[1] == "eligible") is recent


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([("OPT_OUT", "2026-06-01"), ("OPT_IN", "2027-01-01T00:00:00Z")], "not_opted_in"),
        ([("OPT_IN", "2026-11-27T00:00:00Z")], "no_email_consent"),
        ([("OPT_IN", "2026-06-01"), ("OPT_OUT", "2026-11-27T00:00:00Z")], "not_opted_in"),
        ([("OPT_OUT", "2026-06-01"), ("OPT_IN", "2026-11-26T23:59:59Z")], "eligible"),
        # 2026-11-27 01:00 at +02:00 is 2026-11-26 23:00 UTC: on the as-of date
        ([("OPT_OUT", "2026-06-01"), ("OPT_IN", "2026-11-27T01:00:00+02:00")], "eligible"),
    ],
)
def test_an_opt_in_after_the_as_of_date_does_not_count(
    events: list[tuple[str, str]], expected: str
) -> None:
    customers, bookings, _ = eligible_setup()
    consents = [
        consent(f"E{n}", "1", consent_status=status, event_ts=ts)
        for n, (status, ts) in enumerate(events)
    ]
    assert run(customers, bookings, consents).decisions[1] == expected


@pytest.mark.parametrize("status", ["CANCELLED", "PENDING", "", "COMPLETE", "REFUNDED"])
def test_only_completed_bookings_count(status: str) -> None:
    """Non-COMPLETED statuses do not count."""
    result = booking_result([booking("B1", "1", booking_status=status)])
    assert result.decisions[1] == "no_recent_booking"


def test_default_parameters_are_todays_rules() -> None:
    """365 days, COMPLETED only, at least one booking: what dbt_project.yml's vars say."""
    assert rules.RuleParameters(365, ("COMPLETED",), 1) == rules.DEFAULT_PARAMETERS


@pytest.mark.parametrize(
    ("days", "booked", "recent"),
    [
        (180, "2026-05-30", False),  # as-of - 180 days
        (180, "2026-05-31", True),
        (180, "2025-12-01", False),  # inside 365 days, not inside 180
        (1, "2026-11-26", True),  # a one-day window is the as-of date alone
        (1, "2026-11-25", False),
        (1, "2026-11-27", False),
        (400, "2025-10-23", True),
        (400, "2025-10-22", False),
    ],
)
def test_recent_booking_days_moves_the_window(days: int, booked: str, recent: bool) -> None:
    """as_of - recent_booking_days < booking_date <= as_of."""
    parameters = rules.RuleParameters(recent_booking_days=days)
    result = booking_result([booking("B1", "1", booking_date=booked)], parameters=parameters)
    assert (result.decisions[1] == "eligible") is recent


@pytest.mark.parametrize(
    ("statuses", "status", "counts"),
    [
        (("COMPLETED", "PENDING"), "PENDING", True),
        (("COMPLETED", "PENDING"), " pending ", True),
        ((" completed ", "pending"), "COMPLETED", True),
        (("COMPLETED", "PENDING"), "CANCELLED", False),
        (("CANCELLED",), "COMPLETED", False),
        (("CANCELLED",), "cancelled", True),
        (("COMPLETED",), "", False),
    ],
)
def test_counted_booking_statuses_decide_which_bookings_count(
    statuses: tuple[str, ...], status: str, counts: bool
) -> None:
    """The statuses that count, compared trimmed and upper case on both sides."""
    parameters = rules.RuleParameters(counted_booking_statuses=statuses)
    result = booking_result([booking("B1", "1", booking_status=status)], parameters=parameters)
    assert (result.decisions[1] == "eligible") is counts


def test_min_recent_bookings_excludes_customers_with_fewer() -> None:
    """Fewer bookings that count than min_recent_bookings gives no_recent_booking; the summary
    of the bookings that count is unchanged, and rule 10 compares the customers who pass."""
    two = [booking("B1", "1"), booking("B2", "1", booking_date="2026-07-01")]
    one = [booking("B3", "2", booking_date="2026-11-01")]
    customers = [customer("1", email="same@example.com"), customer("2", email="same@example.com")]
    events = [consent("E1", "1"), consent("E2", "2")]
    default = run(customers, [*two, *one], events)
    assert default.decisions == {1: "duplicate_email", 2: "eligible"}  # 2 booked last
    parameters = rules.RuleParameters(min_recent_bookings=2)
    result = run(customers, [*two, *one], events, parameters=parameters)
    assert result.decisions == {1: "eligible", 2: "no_recent_booking"}
    assert result.audience[0]["bookings_last_365_days"] == "2"
    three = rules.RuleParameters(min_recent_bookings=3)
    assert run(customers, [*two, *one], events, parameters=three).decisions[1] == (
        "no_recent_booking"
    )


def test_all_parameters_together() -> None:
    """180 days, COMPLETED or PENDING, at least two: the published count and spend are those
    of the bookings that count, under the same column names."""
    bookings = [
        booking(
            "B1", "1", booking_date="2026-06-01", booking_amount="10", booking_status="pending"
        ),
        booking("B2", "1", booking_date="2026-11-26", booking_amount=".5"),
        booking("B3", "1", booking_date="2026-05-30", booking_amount="100"),  # before the window
        booking("B4", "1", booking_date="2026-10-01", booking_amount="100", booking_status="X"),
    ]
    parameters = rules.RuleParameters(180, ("COMPLETED", "PENDING"), 2)
    row = booking_result(bookings, parameters=parameters).audience[0]
    assert row["bookings_last_365_days"] == "2"
    assert row["total_spend_last_365_days"] == "10.50"
    assert row["last_booking_date"] == "2026-11-26"


def test_recent_booking_summary() -> None:
    """Count, exact total (half away from zero) and last date."""
    bookings = [
        booking("B1", "1", booking_date="2026-01-10", booking_amount="10.125"),
        booking(
            "B2",
            "1",
            booking_date="2026-11-26",
            booking_amount=" 1.5e2 ",
            booking_status=" completed ",
        ),
        booking("B3", "1", booking_date="2025-11-27", booking_amount="-0.00"),
        booking("B4", "1", booking_date="2026-12-01", booking_amount="999"),
        booking("B5", "1", booking_date="2025-11-26", booking_amount="999"),
        booking(
            "B6",
            "1",
            booking_date="2026-03-01",
            booking_amount="999",
            booking_status="CANCELLED",
        ),
    ]
    result = booking_result(bookings)
    assert result.audience == [
        {
            "customer_id": "1",
            "email": "c1@example.com",
            "first_name": "Ann",
            "home_state": "CA",
            "loyalty_tier": "gold",
            "bookings_last_365_days": "3",
            "total_spend_last_365_days": "160.13",
            "last_booking_date": "2026-11-26",
        }
    ]


def test_large_amounts_sum_exactly() -> None:
    """Totals beyond 10**16 are kept exactly."""
    bookings = [
        booking("B1", "1", booking_amount="9999999999999999.99"),
        booking("B2", "1", booking_amount="10.005"),
    ]
    row = booking_result(bookings).audience[0]
    assert row["total_spend_last_365_days"] == "10000000000000010.00"


# ---------------------------------------------------------------------------
# The order of rules 1-8
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"is_active": "false", "email": ""}, "inactive"),
        ({"is_active": "", "email": "bad"}, "inactive"),
        ({"email": "   "}, "missing_email"),
        ({"email": "not-an-email"}, "invalid_email"),
        ({"email": "a b@example.com"}, "invalid_email"),
    ],
)
def test_reason_order_for_snapshot_checks(values: dict[str, str], expected: str) -> None:
    """Activity is checked before email presence before validity."""
    customers, bookings, events = eligible_setup("1", **values)
    assert decision(customers, bookings, events) == expected


def test_reason_order_hold_before_everything() -> None:
    """A held customer failing everything else is data_quality_hold."""
    customers = [
        customer("1", is_active="false", email=""),
        customer("1", updated_at="bad"),
    ]
    assert decision(customers) == "data_quality_hold"


def test_reason_order_consent_before_suppression_before_bookings() -> None:
    """not_opted_in beats suppressed, which beats no_recent_booking."""
    customers = [customer("1")]
    opted_out = [consent("E1", "1", consent_status="OPT_OUT")]
    rows = [suppression("1")]
    assert decision(customers, [], opted_out, rows) == "not_opted_in"
    assert decision(customers, [], [consent("E1", "1")], rows) == "suppressed"
    assert decision(customers, [], [consent("E1", "1")]) == "no_recent_booking"


# ---------------------------------------------------------------------------
# Rules 9 and 10: shared addresses
# ---------------------------------------------------------------------------


def shared_pair(
    other_events: list[dict[str, str]],
    other_values: dict[str, str] | None = None,
    suppressions: list[dict[str, str]] | None = None,
    extra_customers: list[dict[str, str]] | None = None,
) -> dict[int, str]:
    """Customer 1 eligible on its own; customer 2 shares its email."""
    customers, bookings, events = eligible_setup("1", email="shared@example.com")
    customers.append(customer("2", email=" Shared@Example.com", **(other_values or {})))
    customers.extend(extra_customers or [])
    return run(customers, bookings, events + other_events, suppressions).decisions


def test_shared_address_blocked_by_opted_out_holder() -> None:
    """Another holder whose latest email event is not OPT_IN blocks."""
    decisions = shared_pair([consent("E2", "2", consent_status="OPT_OUT")])
    assert decisions == {1: "shared_address_blocked", 2: "not_opted_in"}


def test_shared_address_blocked_by_inactive_opted_out_holder() -> None:
    """The blocker can have any status, inactive included."""
    decisions = shared_pair([consent("E2", "2", consent_status="PENDING")], {"is_active": "no"})
    assert decisions == {1: "shared_address_blocked", 2: "inactive"}


def test_shared_address_blocked_by_id_suppressed_holder() -> None:
    """A holder actively suppressed by customer_id blocks the address."""
    decisions = shared_pair([consent("E2", "2")], suppressions=[suppression("2")])
    assert decisions == {1: "shared_address_blocked", 2: "suppressed"}


def test_expired_id_suppression_of_holder_does_not_block() -> None:
    """Only an active suppression blocks."""
    rows = [suppression("2", suppressed_until="2026-01-31")]
    decisions = shared_pair([consent("E2", "2")], suppressions=rows)
    assert decisions == {1: "eligible", 2: "no_recent_booking"}


def test_shared_address_blocked_by_consent_hold() -> None:
    """A holder on hold because of a rejected consent row blocks."""
    decisions = shared_pair([consent("E2", "2", event_ts="2026-02-30T00:00:00Z")])
    assert decisions == {1: "shared_address_blocked", 2: "data_quality_hold"}


def test_customers_row_hold_does_not_block() -> None:
    """A hold from a rejected customers row alone is not a blocker."""
    decisions = shared_pair([consent("E2", "2")], extra_customers=[customer("2", updated_at="bad")])
    assert decisions == {1: "eligible", 2: "data_quality_hold"}


def test_holder_without_email_events_does_not_block() -> None:
    """No email event is not doubt: the address stays usable."""
    decisions = shared_pair([consent("E2", "2", channel="sms", consent_status="OPT_OUT")])
    assert decisions == {1: "eligible", 2: "no_email_consent"}


def test_only_current_snapshot_emails_block() -> None:
    """A blocker's old email does not block anyone."""
    extra = [customer("2", email="moved@example.com", updated_at="2026-05-01")]
    decisions = shared_pair([consent("E2", "2", consent_status="OPT_OUT")], extra_customers=extra)
    assert decisions == {1: "eligible", 2: "not_opted_in"}


def test_duplicate_email_keeps_latest_booking_then_lowest_id() -> None:
    """Among eligible sharers the latest last booking wins, then lowest id."""
    customers = [
        customer("1", email="fam@example.com"),
        customer("2", email=" FAM@example.com "),
        customer("3", email="fam@example.com"),
    ]
    events = [consent(f"E{n}", str(n)) for n in (1, 2, 3)]
    bookings = [
        booking("B1", "1", booking_date="2026-05-01"),
        booking("B2", "2", booking_date="2026-09-01"),
        booking("B3", "3", booking_date="2026-09-01"),
        booking("B4", "1", booking_date="2026-12-24"),
    ]
    result = run(customers, bookings, events)
    assert result.decisions == {
        1: "duplicate_email",
        2: "eligible",
        3: "duplicate_email",
    }
    assert [row["customer_id"] for row in result.audience] == ["2"]


def test_blocked_beats_duplicate_email() -> None:
    """A blocked address yields shared_address_blocked for every passer."""
    customers = [customer(str(n), email="fam@example.com") for n in (1, 2, 3)]
    events = [consent(f"E{n}", str(n)) for n in (1, 2)]
    events.append(consent("E3", "3", consent_status="OPT_OUT"))
    bookings = [booking(f"B{n}", str(n)) for n in (1, 2, 3)]
    result = run(customers, bookings, events)
    assert result.decisions == {
        1: "shared_address_blocked",
        2: "shared_address_blocked",
        3: "not_opted_in",
    }


# ---------------------------------------------------------------------------
# Outputs and file loading
# ---------------------------------------------------------------------------


def test_audience_formatting_and_order() -> None:
    """Audience rows are trimmed, normalized and sorted by customer_id."""
    customers = [
        customer("10", email=" Zed@Example.com ", first_name=" Zed ", home_state=" NY "),
        customer("9", email="amy@example.com", loyalty_tier=" platinum "),
    ]
    bookings = [booking("B10", "10", booking_amount="0.005"), booking("B9", "9")]
    events = [consent("E10", "10"), consent("E9", "9")]
    result = run(customers, bookings, events)
    assert [row["customer_id"] for row in result.audience] == ["9", "10"]
    assert list(result.audience[0]) == list(rules.AUDIENCE_COLUMNS)
    assert result.audience[0]["loyalty_tier"] == "platinum"
    assert result.audience[1] == {
        "customer_id": "10",
        "email": "zed@example.com",
        "first_name": "Zed",
        "home_state": "NY",
        "loyalty_tier": "gold",
        "bookings_last_365_days": "1",
        "total_spend_last_365_days": "0.01",
        "last_booking_date": "2026-06-01",
    }


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    """Write rows as a UTF-8 CSV with a byte-order mark."""
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def test_evaluate_dir_reads_contract_files(tmp_path: Path) -> None:
    """evaluate_dir loads the four files (BOM tolerated) like evaluate."""
    customers, bookings, events = eligible_setup("1")
    write_csv(tmp_path / "customers.csv", rules.FILE_COLUMNS["customers"], customers)
    write_csv(tmp_path / "bookings.csv", rules.FILE_COLUMNS["bookings"], bookings)
    write_csv(tmp_path / "consent_events.csv", rules.FILE_COLUMNS["consent_events"], events)
    write_csv(tmp_path / "suppressions.csv", rules.FILE_COLUMNS["suppressions"], [])
    from_dir = rules.evaluate_dir(tmp_path, AS_OF)
    assert from_dir == run(customers, bookings, events)
    assert rules.load_rows(tmp_path / "customers.csv")[0]["customer_id"] == "1"


TEXT = st.sampled_from(
    [
        "",
        " ",
        "1",
        "01",
        "2",
        "x",
        "2026-06-01",
        "2026-02-30",
        "email",
        "OPT_IN",
        "-0",
        "a@b.co",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    customers=st.lists(
        st.fixed_dictionaries({c: TEXT for c in rules.FILE_COLUMNS["customers"]}),
        max_size=6,
    ),
    bookings=st.lists(
        st.fixed_dictionaries({c: TEXT for c in rules.FILE_COLUMNS["bookings"]}),
        max_size=6,
    ),
    events=st.lists(
        st.fixed_dictionaries({c: TEXT for c in rules.FILE_COLUMNS["consent_events"]}),
        max_size=6,
    ),
    suppressions=st.lists(
        st.fixed_dictionaries({c: TEXT for c in rules.FILE_COLUMNS["suppressions"]}),
        max_size=4,
    ),
)
def test_invariants_on_arbitrary_rows(
    customers: list[dict[str, str]],
    bookings: list[dict[str, str]],
    events: list[dict[str, str]],
    suppressions: list[dict[str, str]],
) -> None:
    """Counts balance, every customer gets one known decision, emails unique."""
    result = run(customers, bookings, events, suppressions)
    for counts in result.file_counts.values():
        assert counts["raw"] == counts["accepted"] + counts["rejected"] + counts["duplicate"]
    expected_ids = {  # an id, or the ones an unreadable id shaped like a mangled one names
        customer_id
        for row in customers
        for customer_id in rules.ids_or_ids_in_digits(row["customer_id"])
    }
    assert set(result.decisions) == expected_ids
    assert set(result.decisions.values()) <= {*rules.REASON_CODES, rules.ELIGIBLE}
    emails = [row["email"] for row in result.audience]
    assert len(emails) == len(set(emails))
    assert len(result.audience) == sum(
        1 for value in result.decisions.values() if value == rules.ELIGIBLE
    )


def test_extreme_offsets_are_applied() -> None:
    """-23:59 is the largest negative offset and is subtracted."""
    parsed = rules.parse_timestamp("2026-01-01T00:00:00-23:59")
    assert parsed == datetime(2026, 1, 1, 23, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "addresses"),
    [
        ("a@x.com", {"a@x.com"}),
        ("<A@X.com>", {"a@x.com"}),
        ('"Jane Roe" <jane@x.com>', {"jane@x.com"}),
        ("mailto:m@x.com", {"m@x.com"}),
        ("a@x.com; b@x.com, c@x.com", {"a@x.com", "b@x.com", "c@x.com"}),
        ("a@x.com b@x.com a@x.com", {"a@x.com", "b@x.com"}),
        ("jane@x.com@y.org", {"jane@x.com", "x.com@y.org"}),
        ("a@b@c.com", {"a@b", "b@c.com"}),
        ("a@b@c@d@e; f@g", {"a@b", "b@c", "c@d", "d@e", "f@g"}),
        ("@a@b@c", {"a@b", "b@c"}),
        ("mailto:@a@b@c", {"a@b", "b@c"}),
        ("x@@a@b@c", {"a@b", "b@c"}),
        ("<@a@b@c@d>", {"a@b", "b@c", "c@d"}),
        ("a@b@@c@d@e", {"a@b", "c@d", "d@e"}),
        ("no address", set()),
        ("@x.com", set()),
    ],
)
def test_addresses_within_read_every_address(text: str, addresses: set[str]) -> None:
    assert rules.addresses_within(text) == addresses


@pytest.mark.parametrize(
    "email",
    ["<c1@example.com>", "mailto:C1@EXAMPLE.COM", '"C" <c1@example.com>', "z@y.org;c1@example.com"],
)
def test_an_address_inside_other_text_suppresses(email: str) -> None:
    """Rule 7: customer 1 (c1@example.com) is suppressed by its address written another way."""
    customers, bookings, events = eligible_setup("1")
    assert decision(customers, bookings, events, [suppression("", email=email)]) == "suppressed"
    ended = suppression("", email=email, suppressed_until="2026-02-01")
    assert decision(customers, bookings, events, [ended]) == "eligible"


def test_an_id_in_the_email_column_suppresses() -> None:
    """Rule 7: the columns swapped: the email field holds customer 1's id."""
    customers, bookings, events = eligible_setup("1")
    swapped = suppression("nobody@x.com", email=" 001 ")
    assert decision(customers, bookings, events, [swapped]) == "suppressed"


@pytest.mark.parametrize(
    "email",
    [
        "<c1@example.com>",
        "jane <c1@example.com>",
        "mailto:c1@example.com",
        "c1@example.com;c2@example.com",
        "c1\u200b@example.com",
        "c1@example.com\ufeff",
        '"c1"@example.com',
        "c1@(example).com",
    ],
)
def test_an_address_written_inside_other_text_is_invalid(email: str) -> None:
    """Rule 4: the customer's email is not an address to publish as it is."""
    customers, bookings, events = eligible_setup("1", email=email)
    assert decision(customers, bookings, events) == "invalid_email"
