"""Tests of the synthetic raw-data generator behind scripts/generate_data.py."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
from reference import audience_rules as rules

from audience_tools.generate import FILE_COLUMNS, INVALID_AMOUNT_LITERALS, generate

REPO = Path(__file__).resolve().parents[1]
AS_OF = date(2025, 6, 30)

# Contract parsers (spec: text is trimmed of surrounding spaces; ASCII digits only).
ID_RE = re.compile(r"^[0-9]+$")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
TS_RE = re.compile(
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2})([T ]([0-9]{2}):([0-9]{2})(:([0-9]{2})(\.[0-9]+)?)?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?$"
)
# A SQL numeric literal: digits with an optional fraction, or a fraction alone (``.5``, ``5.``).
AMOUNT_RE = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")


def _trim(value: str) -> str:
    return value.strip(" ")


def valid_id(value: str) -> bool:
    """Contract id: digits only, at most 18 of them."""
    v = _trim(value)
    return bool(ID_RE.match(v)) and len(v) <= 18


def valid_date(value: str) -> bool:
    """Contract date: YYYY-MM-DD that exists in the calendar."""
    v = _trim(value)
    if not DATE_RE.match(v):
        return False
    try:
        date.fromisoformat(v)
    except ValueError:
        return False
    return True


def parse_ts(value: str) -> datetime | None:
    """Contract timestamp -> naive UTC datetime, or None when invalid."""
    v = _trim(value)
    m = TS_RE.match(v)
    if not m or not valid_date(m.group(1)):
        return None
    hour = int(m.group(3) or 0)
    minute = int(m.group(4) or 0)
    second = int(m.group(6) or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    offset = m.group(8)
    off_minutes = 0
    if offset and offset != "Z":
        oh, om = int(offset[1:3]), int(offset[4:6])
        if oh > 23 or om > 59:
            return None
        off_minutes = (oh * 60 + om) * (1 if offset[0] == "+" else -1)
    base = datetime.fromisoformat(m.group(1)).replace(hour=hour, minute=minute, second=second)
    return base - timedelta(minutes=off_minutes)


def valid_amount(value: str) -> bool:
    """Contract amount: decimal literal with 0 <= value < 10^16."""
    v = _trim(value)
    if not AMOUNT_RE.match(v):
        return False
    try:
        d = Decimal(v)
    except InvalidOperation:
        return False
    return Decimal(0) <= d < Decimal(10) ** 16


def valid_email(value: str) -> bool:
    """Contract email validity on the normalized address."""
    v = _trim(value).lower()
    if v.count("@") != 1 or re.search(r"\s", v):
        return False
    local, domain = v.split("@")
    return bool(local) and "." in domain and not domain.startswith(".") and not domain.endswith(".")


def read(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of one generated CSV."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def col(header: list[str], rows: list[list[str]], name: str) -> list[str]:
    """All values of one column."""
    i = header.index(name)
    return [r[i] for r in rows]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate(4000, seed=11, as_of=AS_OF, out_dir=out, bad_share=0.0)
    return out


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dirty")
    generate(8000, seed=5, as_of=AS_OF, out_dir=out, bad_share=0.5)
    return out


def test_cli_is_deterministic_byte_identical(tmp_path: Path) -> None:
    args = ["--customers", "500", "--seed", "42", "--as-of", "2025-06-30", "--bad-share", "0.05"]
    script = str(REPO / "scripts" / "generate_data.py")
    for name in ("a", "b"):
        subprocess.run([sys.executable, script, *args, "--out", str(tmp_path / name)], check=True)
    # a third run with a single thread and a tiny memory limit must not change a byte
    generate(500, 42, AS_OF, tmp_path / "c", 0.05, threads=1, memory_limit="64MB")
    for name in FILE_COLUMNS:
        first = (tmp_path / "a" / name).read_bytes()
        assert first == (tmp_path / "b" / name).read_bytes(), name
        assert first == (tmp_path / "c" / name).read_bytes(), name
    other = tmp_path / "d"
    generate(500, 43, AS_OF, other, 0.05)
    assert (other / "bookings.csv").read_bytes() != (tmp_path / "a" / "bookings.csv").read_bytes()


def test_headers_in_contract_order(clean: Path) -> None:
    for name, columns in FILE_COLUMNS.items():
        raw = (clean / name).read_bytes()
        assert raw.startswith((",".join(columns) + "\n").encode()), name
        raw.decode("utf-8")  # valid UTF-8
        _header, rows = read(clean / name)
        assert all(len(r) == len(columns) for r in rows), name


def test_rows_in_deterministic_order(clean: Path) -> None:
    header, rows = read(clean / "bookings.csv")
    ids = [int(_trim(v)[2:]) for v in col(header, rows, "booking_id")]
    assert ids == sorted(ids)
    header, rows = read(clean / "customers.csv")
    cids = [int(_trim(v)) for v in col(header, rows, "customer_id")]
    assert cids == sorted(cids)


def test_ratios(clean: Path) -> None:
    n = 4000
    ch, customers = read(clean / "customers.csv")
    snapshots = Counter(int(_trim(v)) for v in col(ch, customers, "customer_id"))
    assert len(snapshots) == n
    multi = sum(1 for c in snapshots.values() if c > 1) / n
    assert 0.12 <= multi <= 0.18
    assert max(snapshots.values()) == 3

    # some customers have two snapshots with the same UTC instant
    instants: dict[int, list[datetime]] = {}
    pairs = zip(col(ch, customers, "customer_id"), col(ch, customers, "updated_at"), strict=True)
    for cid, ts in pairs:
        parsed = parse_ts(ts)
        assert parsed is not None
        instants.setdefault(int(_trim(cid)), []).append(parsed)
    ties = sum(1 for v in instants.values() if len(v) != len(set(v)))
    assert 0.005 * n <= ties <= 0.04 * n

    bh, bookings = read(clean / "bookings.csv")
    assert 2.6 <= len(bookings) / n <= 2.9
    statuses = Counter(_trim(s).upper() for s in col(bh, bookings, "booking_status"))
    assert set(statuses) == {"COMPLETED", "CANCELLED", "PENDING"}
    assert 0.75 <= statuses["COMPLETED"] / len(bookings) <= 0.85
    dates = [date.fromisoformat(_trim(d)) for d in col(bh, bookings, "booking_date")]
    assert min(dates) >= date(2023, 6, 30)
    future = sum(1 for d in dates if d > AS_OF) / len(dates)
    assert 0.01 <= future <= 0.03
    raw_status_forms = set(col(bh, bookings, "booking_status"))
    assert {"COMPLETED", "completed", " COMPLETED "} <= raw_status_forms

    eh, events = read(clean / "consent_events.csv")
    channels = [_trim(c).lower() for c in col(eh, events, "channel")]
    assert 1.2 <= channels.count("email") / n <= 1.4
    assert 0.2 <= sum(1 for c in channels if c != "email") / n <= 0.4
    assert "sms" in channels
    forms = {re.sub("[0-9]", "d", ts) for ts in col(eh, events, "event_ts")}
    for form in (
        "dddd-dd-ddTdd:dd:ddZ",
        "dddd-dd-dd dd:dd:dd",
        "dddd-dd-ddTdd:dd",
        "dddd-dd-dd",
        "dddd-dd-ddTdd:dd:dd.dddZ",
    ):
        assert form in forms, form
    assert any(ts.endswith("+02:00") for ts in col(eh, events, "event_ts"))
    assert any(ts.endswith("-05:00") for ts in col(eh, events, "event_ts"))

    _sh, supp = read(clean / "suppressions.csv")
    assert 0.02 <= len(supp) / n <= 0.03
    by_id = [r for r in supp if _trim(r[0])]
    by_email = [r for r in supp if _trim(r[1])]
    assert by_id and by_email

    # shared addresses: ~1-2 % of customers hold an address another customer also holds
    holders: dict[str, set[int]] = {}
    pairs = zip(col(ch, customers, "customer_id"), col(ch, customers, "email"), strict=True)
    for cid, email in pairs:
        if _trim(email):
            holders.setdefault(_trim(email).lower(), set()).add(int(_trim(cid)))
    shared = set().union(*(ids for ids in holders.values() if len(ids) > 1))
    assert 0.005 * n <= len(shared) <= 0.03 * n

    assert len(set(col(ch, customers, "first_name"))) > 40
    assert len({_trim(s) for s in col(ch, customers, "home_state")}) > 40
    assert {"Bronze", "Silver", "Gold", "Platinum"} <= set(col(ch, customers, "loyalty_tier"))


def test_bad_share_zero_is_clean(clean: Path) -> None:
    bh, bookings = read(clean / "bookings.csv")
    amounts = col(bh, bookings, "booking_amount")
    assert all(valid_amount(a) for a in amounts), [a for a in amounts if not valid_amount(a)][:5]
    assert all(re.fullmatch(r"[0-9]+\.[0-9]{2}", a) for a in amounts)  # plain 2-decimal form
    assert all(_trim(b) for b in col(bh, bookings, "booking_id"))
    assert all(valid_id(v) for v in col(bh, bookings, "customer_id"))
    assert all(valid_date(v) for v in col(bh, bookings, "booking_date"))
    assert len({_trim(b) for b in col(bh, bookings, "booking_id")}) == len(bookings)

    ch, customers = read(clean / "customers.csv")
    assert all(valid_id(v) for v in col(ch, customers, "customer_id"))
    assert all(parse_ts(v) is not None for v in col(ch, customers, "updated_at"))
    assert all(valid_email(e) for e in col(ch, customers, "email") if _trim(e))
    assert len({tuple(_trim(v) for v in r) for r in customers}) == len(customers)

    eh, events = read(clean / "consent_events.csv")
    assert all(valid_id(v) for v in col(eh, events, "customer_id"))
    assert all(parse_ts(v) is not None for v in col(eh, events, "event_ts"))

    _sh, supp = read(clean / "suppressions.csv")
    for cid, email, _reason, start, until in supp:
        assert valid_id(cid) or _trim(email)
        assert not _trim(cid) or valid_id(cid)
        assert valid_date(start)
        assert not _trim(until) or valid_date(until)


def test_default_bad_share_is_about_one_percent(tmp_path: Path) -> None:
    generate(20000, seed=3, as_of=AS_OF, out_dir=tmp_path)  # default bad_share 0.01
    _bh, bookings = read(tmp_path / "bookings.csv")
    bad = sum(
        1
        for r in bookings
        if not (_trim(r[0]) and valid_id(r[1]) and valid_date(r[2]) and valid_amount(r[3]))
    )
    assert 0.005 <= bad / len(bookings) <= 0.012
    _eh, events = read(tmp_path / "consent_events.csv")
    bad = sum(1 for r in events if not (valid_id(r[1]) and parse_ts(r[4])))
    assert 0.005 <= bad / len(events) <= 0.015


def test_suppressed_addresses_come_written_inside_other_text(tmp_path: Path) -> None:
    """Rule 7's readings of addresses inside other text are exercised by generated data: some
    suppressions write a customer's address in angle brackets, as the middle one of a list of
    three, or run together with other parts; as rule 7 reads it, such a row names one
    customer's address at most (the other parts name nobody)."""
    generate(100_000, seed=3, as_of=AS_OF, out_dir=tmp_path, bad_share=0.0)
    ch, customers = read(tmp_path / "customers.csv")
    addresses = {_trim(email).lower() for email in col(ch, customers, "email")}
    sh, suppressions = read(tmp_path / "suppressions.csv")
    forms: Counter[str] = Counter()
    naming: Counter[str] = Counter()
    for email in (_trim(value) for value in col(sh, suppressions, "email")):
        form = (
            "angle brackets"
            if re.fullmatch(r"<[^<>]+>", email)
            else "list of three"
            if re.fullmatch(r"\S+; \S+, \S+", email)
            else "run together"
            if email.count("@") == 3
            else None
        )
        if form is not None:
            forms[form] += 1
            named = rules.addresses_within(email) & addresses
            assert len(named) <= 1, email  # the other parts name nobody
            naming[form] += len(named)
    assert set(forms) == {"angle brackets", "list of three", "run together"}, forms
    # a suppression may name an address its customer no longer holds; most name a current one
    assert all(naming[form] >= max(5, count // 2) for form, count in forms.items()), (forms, naming)


def test_bad_share_covers_every_invalid_form(dirty: Path) -> None:
    bh, bookings = read(dirty / "bookings.csv")
    amounts = Counter(col(bh, bookings, "booking_amount"))
    for literal in INVALID_AMOUNT_LITERALS:
        assert amounts[literal] > 0, literal
        assert not valid_amount(literal), literal
    assert amounts[""] > 0  # blank amount
    assert any(a.startswith("$") and a != "$10" for a in amounts)
    # valid-but-tricky spellings show up too, SQL numeric literals such as .05 and 12. among them
    for literal in ("-0.00", "1.25e2", "1E+2", "9999999999999999.99"):
        assert amounts[literal] > 0 and valid_amount(literal), literal
    leading_dot = [a for a in amounts if re.fullmatch(r"\.[0-9]{2}", a)]
    trailing_dot = [a for a in amounts if re.fullmatch(r"[0-9]+\.", a)]
    assert leading_dot and all(valid_amount(a) for a in leading_dot)
    assert trailing_dot and all(valid_amount(a) for a in trailing_dot)
    for literal in (".5", "5."):
        assert literal not in INVALID_AMOUNT_LITERALS and valid_amount(literal), literal

    dates = col(bh, bookings, "booking_date")
    assert any(re.fullmatch(r"[0-9]{4}-02-30", d) for d in dates)
    assert any(re.fullmatch(r"[0-9]{2}/[0-9]{2}/[0-9]{4}", d) for d in dates)
    assert "2023-02-29" in dates and "" in dates

    ids = col(bh, bookings, "customer_id")
    assert any(re.fullmatch(r" [0-9]+a", v) for v in ids)
    assert "" in ids and any(len(v) == 19 and v.isdigit() for v in ids)
    assert sum(1 for b in col(bh, bookings, "booking_id") if not _trim(b)) > 0

    # identical duplicates and conflicting duplicate booking ids
    by_id: dict[str, set[tuple[str, ...]]] = {}
    copies = Counter(tuple(_trim(v) for v in r) for r in bookings if _trim(r[0]))
    for row in copies:
        by_id.setdefault(row[0], set()).add(row)
    assert any(n > 1 for n in copies.values())
    assert any(len(rows) > 1 for rows in by_id.values())

    ch, customers = read(dirty / "customers.csv")
    updated = col(ch, customers, "updated_at")
    bad_ts = [v for v in updated if parse_ts(v) is None]
    for pattern in (
        r"[0-9]{4}-02-30",
        r"[0-9]{2}/[0-9]{2}/[0-9]{4}",
        r".*T25:.*",
        r".*t.*",
        r".*z",
        r".*\+24:00",
        r".*\+02:60",
        r".*:60",
        r"",
    ):
        assert any(re.fullmatch(pattern, v) for v in bad_ts), pattern
    cids = col(ch, customers, "customer_id")
    assert any(re.fullmatch(r" [0-9]+a", v) for v in cids) and "" in cids
    emails = [e for e in col(ch, customers, "email") if _trim(e)]
    assert sum(1 for e in emails if not valid_email(e)) > 20
    assert len({tuple(_trim(v) for v in r) for r in customers}) < len(customers)  # duplicates

    eh, events = read(dirty / "consent_events.csv")
    assert any(parse_ts(v) is None for v in col(eh, events, "event_ts"))
    assert any(not valid_id(v) for v in col(eh, events, "customer_id"))
    # rejected consent rows with a readable id exist (data-quality hold)
    assert any(valid_id(r[1]) and parse_ts(r[4]) is None for r in events)

    _sh, supp = read(dirty / "suppressions.csv")
    neither = [r for r in supp if not valid_id(r[0]) and not _trim(r[1])]
    assert neither
    assert any(_trim(r[0]) and not valid_id(r[0]) and _trim(r[1]) for r in supp)
    assert any(_trim(r[3]) and not valid_date(r[3]) for r in supp)
    assert any(not _trim(r[3]) for r in supp)
    assert any(_trim(r[4]) and not valid_date(r[4]) for r in supp)


def test_csv_quoting_and_utf8(dirty: Path) -> None:
    raw = (dirty / "bookings.csv").read_text(encoding="utf-8")
    assert '"1,234.50"' in raw
    assert "١٢" in raw
