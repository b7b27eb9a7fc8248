r"""Independent pure-Python reference implementation of the audience rule spec.

This module re-implements ``notes/spec.md`` (the eligible email audience rules)
with the standard library only, so tests can compare the dbt/DuckDB pipeline
against an implementation that shares no code and no SQL with it.

Conventions used throughout:

* "trimmed" means the space separators (Unicode category Zs: the space, the
  no-break space, the em space...) removed at either end; tabs, line breaks and
  zero-width characters are kept.
* "blank" means empty after trimming.
* All patterns use ``[0-9]`` (never ``\d``) so non-ASCII digits never match.
* Timestamps become aware datetimes in UTC; amounts become exact ``Decimal``
  values rounded half away from zero to 12 decimal places.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Context, Decimal
from pathlib import Path

CUSTOMERS = "customers"
BOOKINGS = "bookings"
CONSENT_EVENTS = "consent_events"
SUPPRESSIONS = "suppressions"

FILE_COLUMNS: dict[str, tuple[str, ...]] = {
    CUSTOMERS: (
        "customer_id",
        "email",
        "first_name",
        "home_state",
        "loyalty_tier",
        "is_active",
        "updated_at",
    ),
    BOOKINGS: (
        "booking_id",
        "customer_id",
        "booking_date",
        "booking_amount",
        "booking_status",
        "product_name",
        "source_system",
    ),
    CONSENT_EVENTS: (
        "event_id",
        "customer_id",
        "channel",
        "consent_status",
        "event_ts",
        "source_system",
    ),
    SUPPRESSIONS: (
        "customer_id",
        "email",
        "suppression_reason",
        "suppressed_from",
        "suppressed_until",
    ),
}

AUDIENCE_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "email",
    "first_name",
    "home_state",
    "loyalty_tier",
    "bookings_last_365_days",
    "total_spend_last_365_days",
    "last_booking_date",
)

# Decision reason codes in rule order (first failure wins).
DATA_QUALITY_HOLD = "data_quality_hold"
INACTIVE = "inactive"
MISSING_EMAIL = "missing_email"
INVALID_EMAIL = "invalid_email"
NO_EMAIL_CONSENT = "no_email_consent"
NOT_OPTED_IN = "not_opted_in"
SUPPRESSED = "suppressed"
NO_RECENT_BOOKING = "no_recent_booking"
SHARED_ADDRESS_BLOCKED = "shared_address_blocked"
DUPLICATE_EMAIL = "duplicate_email"
ELIGIBLE = "eligible"

REASON_CODES: tuple[str, ...] = (
    DATA_QUALITY_HOLD,
    INACTIVE,
    MISSING_EMAIL,
    INVALID_EMAIL,
    NO_EMAIL_CONSENT,
    NOT_OPTED_IN,
    SUPPRESSED,
    NO_RECENT_BOOKING,
    SHARED_ADDRESS_BLOCKED,
    DUPLICATE_EMAIL,
)

MAX_ID_DIGITS = 18
AMOUNT_SCALE = Decimal("1E-12")
OUTPUT_SCALE = Decimal("0.01")
AMOUNT_LIMIT_EXPONENT = 16  # amounts must be < 10**16
TRUE_FLAGS = frozenset({"1", "true", "t", "yes", "y"})
EMAIL_WHITESPACE = frozenset(" \t\n\r\f\v")
#: Unicode category Zs, written out so the reference does not depend on the
#: interpreter's Unicode tables.
SPACE_SEPARATORS = (
    " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u202f\u205f\u3000"
)

_EXACT = Context(prec=200, rounding=ROUND_HALF_UP)

_ID_RE = re.compile(r"[0-9]+", re.ASCII)
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
_TIMESTAMP_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?",
    re.ASCII,
)
# A SQL numeric literal: digits with an optional fraction (``5.`` too) or a fraction alone (``.5``).
_AMOUNT_RE = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?)([0-9]+))?", re.ASCII)


# --------------------------------------------------------------------------
# Value parsing
# --------------------------------------------------------------------------


def trimmed(value: str | None) -> str:
    """Return ``value`` with surrounding space separators removed (``None`` -> ``''``)."""
    return "" if value is None else value.strip(SPACE_SEPARATORS)


def parse_id(value: str | None) -> int | None:
    """Parse a customer id: ASCII digits after trim, at most 18 past any leading zeros, else
    ``None``."""
    text = trimmed(value)
    if not _ID_RE.fullmatch(text) or len(text.lstrip("0")) > MAX_ID_DIGITS:
        return None
    return int(text)


#: Fullwidth, Arabic-Indic and Extended Arabic-Indic digits, read as ASCII ones by id_in_digits,
#: and the fullwidth comma and the Arabic thousands separator, read as a comma.
_OTHER_DIGITS = str.maketrans(
    {chr(start + digit): str(digit) for start in (0xFF10, 0x0660, 0x06F0) for digit in range(10)}
    | {"\uff0c": ",", "\u066c": ","}
)


#: a run of digits grouped in threes by one kind of separator (commas, dots, apostrophes or
#: spaces), else a plain run of digits
_DIGIT_RUN_RE = re.compile(
    "|".join(
        rf"[0-9]{{1,3}}(?:{separator}[0-9]{{3}})+(?![0-9])"
        for separator in (",", r"\.", "['\u2019]", "[ \u00a0\u202f\u2009]")
    )
    + "|[0-9]+"
)


def id_in_digits(value: str | None) -> int | None:
    """The customer an unreadable id may name: its first run of ASCII digits, as an id.

    ``None`` when the id is blank or valid, or has no such run (``1157.0`` and ``C-1157`` name
    1157). Digits grouped in threes by one kind of separator are one run (``1,157``,
    ``1.157``, ``1'157`` and ``1 157`` name 1157; a no-break, narrow no-break or thin space
    too; ``157.000`` names 157000), and fullwidth
    or Arabic-Indic digits and thousands separators read as ASCII ones. Rules 1 and 7 exclude
    that customer: doubt about an opt-out or a suppression.
    """
    text = trimmed(value)
    if not text or parse_id(text) is not None:
        return None
    digits = _DIGIT_RUN_RE.search(text.translate(_OTHER_DIGITS))
    return None if digits is None else parse_id(re.sub(r"[^0-9]", "", digits.group()))


#: One to three digits, a dot or a comma and three zeros, at most three non-digits around.
_ZERO_DECIMALS_RE = re.compile(r"[^0-9]{0,3}([0-9]{1,3})[.,]000[^0-9]{0,3}")


def id_before_zero_decimals(value: str | None) -> int | None:
    """The other customer an unreadable id may name when it could be an id written with three
    zero decimals: ``157.000`` and ``157,000`` name 157 here, as well as 157000 in
    ``id_in_digits``. ``None`` for a valid id and any other text."""
    text = trimmed(value)
    if parse_id(text) is not None:
        return None
    match = _ZERO_DECIMALS_RE.fullmatch(text.translate(_OTHER_DIGITS))
    return None if match is None else parse_id(match.group(1))


def ids_in_digits(value: str | None) -> set[int]:
    """Every customer an unreadable id may name: ``id_in_digits``, and
    ``id_before_zero_decimals`` when it could be an id with three zero decimals."""
    return {
        customer_id
        for customer_id in (id_in_digits(value), id_before_zero_decimals(value))
        if customer_id is not None
    }


def parse_date(value: str | None) -> date | None:
    """Parse ``YYYY-MM-DD`` (after trim) that exists in the calendar."""
    match = _DATE_RE.fullmatch(trimmed(value))
    if not match:
        return None
    return _calendar_date(*match.groups())


def _calendar_date(year: str, month: str, day: str) -> date | None:
    """Build a date from digit strings, or ``None`` if it does not exist."""
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _offset(text: str | None) -> timezone | None:
    """Turn ``Z``/``+HH:MM``/``-HH:MM`` (or no offset) into a fixed timezone."""
    if text is None or text == "Z":
        return UTC
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 23 or minutes > 59:
        return None
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_timestamp(value: str | None) -> datetime | None:
    """Parse a spec timestamp (after trim) into an aware UTC datetime.

    Accepted: ``YYYY-MM-DD`` optionally followed by ``T`` or space and
    ``HH:MM[:SS[.fraction]]``, optionally followed by ``Z`` or ``+HH:MM`` /
    ``-HH:MM``. No offset means UTC; a bare date means midnight (at the given
    offset, UTC if none). Fractions beyond microseconds are truncated.
    Returns ``None`` for anything invalid.
    """
    match = _TIMESTAMP_RE.fullmatch(trimmed(value))
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    day_value = _calendar_date(year, month, day)
    tz = _offset(offset)
    if day_value is None or tz is None:
        return None
    hours, minutes = int(hour or 0), int(minute or 0)
    seconds = int(second or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    micros = int((fraction or "").ljust(6, "0")[:6])
    local = datetime(
        day_value.year,
        day_value.month,
        day_value.day,
        hours,
        minutes,
        seconds,
        micros,
        tzinfo=tz,
    )
    try:
        return local.astimezone(UTC)
    except OverflowError:
        # Instant is outside datetime's UTC range (year 1 / 9999 edges); the
        # aware local value still compares correctly against other instants.
        return local


def _exponent(sign: str, digits: str | None) -> int:
    """Exponent value; absurdly long exponents are clamped (still huge)."""
    if not digits:
        return 0
    significant = digits.lstrip("0") or "0"
    magnitude = 10**30 if len(significant) > 30 else int(significant)
    return -magnitude if sign == "-" else magnitude


def parse_amount(value: str | None) -> Decimal | None:
    r"""Parse a booking amount into an exact Decimal with 12 decimal places.

    The text must be a SQL numeric literal after trim,
    ``^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`` (``.5`` and ``5.`` are
    valid; ``.``, ``5..0``, ``+.`` and ``e5`` are not), and its exact value must be >= 0 and
    < 10**16. Values are rounded half away from zero to 12 decimals. Returns ``None`` when
    invalid.
    """
    match = _AMOUNT_RE.fullmatch(trimmed(value))
    if not match:
        return None
    sign, integer, fraction, exp_sign, exp_digits = match.groups()
    fraction = fraction or ""
    if not integer and not fraction:  # no digit in the mantissa: '.', '+.', 'e5'
        return None
    significant = (integer + fraction).lstrip("0")
    if not significant:
        return Decimal(0).quantize(AMOUNT_SCALE)
    if sign == "-":
        return None
    exponent = _exponent(exp_sign, exp_digits) - len(fraction)
    adjusted = len(significant) - 1 + exponent
    if adjusted >= AMOUNT_LIMIT_EXPONENT:
        return None
    if adjusted < -13:
        # Below 1e-13, so it rounds to zero at 12 decimals.
        return Decimal(0).quantize(AMOUNT_SCALE)
    exact = Decimal(f"{significant}E{exponent}")
    return exact.quantize(AMOUNT_SCALE, context=_EXACT)


def is_active_flag(value: str | None) -> bool:
    """Return True iff lower(trim(value)) is one of 1, true, t, yes, y."""
    return trimmed(value).lower() in TRUE_FLAGS


def normalize_email(value: str | None) -> str | None:
    """lower(trim(email)); blank means missing (``None``)."""
    text = trimmed(value).lower()
    return text or None


#: characters that write an address inside other text, and invisible ones: never in an
#: address to publish
EMAIL_FORBIDDEN = frozenset('<>()",;:\u200b\u200c\u200d\u2060\ufeff')


def is_valid_email(email: str) -> bool:
    """Check a normalized email: one '@', no whitespace, dotted domain, none of
    ``EMAIL_FORBIDDEN``."""
    if any(char in EMAIL_WHITESPACE or char in EMAIL_FORBIDDEN for char in email):
        return False
    if email.count("@") != 1:
        return False
    local, domain = email.split("@")
    return bool(local) and "." in domain and not domain.startswith(".") and not domain.endswith(".")


def upper_text(value: str | None) -> str:
    """upper(trim(value)) used for status comparisons."""
    return trimmed(value).upper()


@dataclass(frozen=True)
class RuleParameters:
    """The rules' parameters (the dbt vars of the same names), today's rules as defaults.

    * ``recent_booking_days``: a booking counts when
      ``as_of - recent_booking_days < booking_date <= as_of``;
    * ``counted_booking_statuses``: the statuses that count, compared trimmed and upper case;
    * ``min_recent_bookings``: fewer bookings that count excludes (``no_recent_booking``);
    * ``non_email_channels``: the consent channels known to be other than email, compared
      lower case without separators; an event on any other channel but email counts unless
      it is an OPT_IN (rules 5 and 6).
    """

    recent_booking_days: int = 365
    counted_booking_statuses: tuple[str, ...] = ("COMPLETED",)
    min_recent_bookings: int = 1
    non_email_channels: tuple[str, ...] = (
        "sms",
        "mms",
        "push",
        "inapp",
        "postal",
        "post",
        "phone",
        "whatsapp",
    )

    def counts_status(self, status: str | None) -> bool:
        """Whether a booking with ``status`` may count."""
        return upper_text(status) in {upper_text(item) for item in self.counted_booking_statuses}

    def window_start(self, as_of: date) -> date:
        """The last day before the window: bookings after it (up to as_of) count."""
        return as_of - timedelta(days=self.recent_booking_days)


DEFAULT_PARAMETERS = RuleParameters()


def format_amount(value: Decimal) -> str:
    """Round half away from zero to 2 decimals and render as plain text."""
    rounded = value.quantize(OUTPUT_SCALE, context=_EXACT)
    if rounded == 0:
        rounded = Decimal("0.00")
    return format(rounded, "f")


# --------------------------------------------------------------------------
# Before the rules: quarantine and duplicates
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Screened:
    """Outcome of quarantining one input file.

    ``accepted`` and ``rejected`` hold trimmed rows keyed by column plus the
    data row's line number (header = line 1) under ``line``.
    """

    accepted: list[dict[str, str]]
    rejected: list[tuple[int, str, dict[str, str]]]
    duplicates: int
    raw: int

    def counts(self) -> dict[str, int]:
        """Return raw/accepted/rejected/duplicate counts for the file."""
        return {
            "raw": self.raw,
            "accepted": len(self.accepted),
            "rejected": len(self.rejected),
            "duplicate": self.duplicates,
        }


def _trimmed_row(row: Mapping[str, str | None], columns: Sequence[str]) -> dict[str, str]:
    """Trim every contract column of ``row`` (missing columns become '')."""
    return {column: trimmed(row.get(column)) for column in columns}


def _distinct_rows(
    rows: Iterable[Mapping[str, str | None]], columns: Sequence[str]
) -> tuple[list[tuple[int, dict[str, str]]], int, int]:
    """Drop rows identical (after trim) to an earlier row.

    Returns (distinct rows with line numbers, duplicate count, raw count).
    """
    seen: set[tuple[str, ...]] = set()
    distinct: list[tuple[int, dict[str, str]]] = []
    duplicates = 0
    raw = 0
    for line, row in enumerate(rows, start=2):
        raw += 1
        clean = _trimmed_row(row, columns)
        key = tuple(clean[column] for column in columns)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        distinct.append((line, clean))
    return distinct, duplicates, raw


def customer_row_reason(row: Mapping[str, str]) -> str | None:
    """Quarantine reason for a customers row, or ``None`` if acceptable."""
    if parse_id(row["customer_id"]) is None:
        return "invalid customer_id"
    if parse_timestamp(row["updated_at"]) is None:
        return "invalid updated_at"
    return None


def booking_row_reason(row: Mapping[str, str]) -> str | None:
    """Quarantine reason for a bookings row, or ``None`` if acceptable."""
    if not trimmed(row["booking_id"]):
        return "blank booking_id"
    if parse_id(row["customer_id"]) is None:
        return "invalid customer_id"
    if parse_date(row["booking_date"]) is None:
        return "invalid booking_date"
    if parse_amount(row["booking_amount"]) is None:
        return "invalid booking_amount"
    return None


def consent_row_reason(row: Mapping[str, str]) -> str | None:
    """Quarantine reason for a consent_events row, or ``None``."""
    if parse_id(row["customer_id"]) is None:
        return "invalid customer_id"
    if parse_timestamp(row["event_ts"]) is None:
        return "invalid event_ts"
    return None


def suppression_row_reason(row: Mapping[str, str]) -> str | None:
    """Quarantine reason for a suppressions row, or ``None``."""
    if parse_id(row["customer_id"]) is None and normalize_email(row["email"]) is None:
        return "no valid customer_id or email"
    return None


#: the reason of a data line that is the file's header in another column order
HEADER_IN_ANOTHER_ORDER = (
    "the header repeated in another column order (two exports joined?): "
    "the lines after it cannot be read by the first header"
)


def header_line_reason(row: Mapping[str, str], columns: Sequence[str]) -> str | None:
    """A row whose every field names a column of the file (read as a header is: trimmed,
    lowercased, spaces as underscores) is a header line: in its own order, repeated; else in
    another order."""
    names = [re.sub(r"[ \t]+", "_", trimmed(row[column]).lower()) for column in columns]
    if names == list(columns):
        return "the header repeated"
    if all(name in columns for name in names):
        return HEADER_IN_ANOTHER_ORDER
    return None


ROW_CHECKS = {
    CUSTOMERS: customer_row_reason,
    BOOKINGS: booking_row_reason,
    CONSENT_EVENTS: consent_row_reason,
    SUPPRESSIONS: suppression_row_reason,
}


def screen_file(name: str, rows: Iterable[Mapping[str, str | None]]) -> Screened:
    """Quarantine a file (duplicates, row checks, booking_id conflicts), before the rules."""
    columns = FILE_COLUMNS[name]
    distinct, duplicates, raw = _distinct_rows(rows, columns)
    check = ROW_CHECKS[name]
    conflicting: set[str] = set()
    if name == BOOKINGS:
        id_counts: dict[str, int] = defaultdict(int)
        for _, row in distinct:
            id_counts[row["booking_id"]] += 1
        conflicting = {key for key, count in id_counts.items() if count > 1}
    accepted: list[dict[str, str]] = []
    rejected: list[tuple[int, str, dict[str, str]]] = []
    for line, row in distinct:
        reason = check(row)
        if reason in {"invalid customer_id", "no valid customer_id or email"}:
            reason = header_line_reason(row, columns) or reason
        if reason is None and row.get("booking_id") in conflicting and name == BOOKINGS:
            reason = "conflicting duplicate booking_id"
        if reason is None:
            accepted.append({**row, "line": str(line)})
        else:
            rejected.append((line, reason, row))
    return Screened(accepted=accepted, rejected=rejected, duplicates=duplicates, raw=raw)


# --------------------------------------------------------------------------
# Per-customer facts: the current snapshot (unnumbered) and rules 1 and 5-8
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """The current customers row for one customer (read by rules 2-4)."""

    customer_id: int
    email: str | None
    first_name: str
    home_state: str
    loyalty_tier: str
    is_active: bool
    updated_at: datetime


@dataclass(frozen=True)
class ConsentEvent:
    """An accepted email-channel consent event (rules 5 and 6)."""

    customer_id: int
    event_id: str
    status: str
    event_ts: datetime


@dataclass(frozen=True)
class BookingSummary:
    """The bookings that count for one customer (rule 8)."""

    count: int = 0
    total: Decimal = field(default_factory=lambda: Decimal(0))
    last_date: date | None = None


def _nulls_first(value: str | None) -> tuple[int, str]:
    """Sort key placing null/blank before any text, else binary order."""
    return (0, "") if not value else (1, value)


def current_snapshots(accepted: Iterable[Mapping[str, str]], as_of: date) -> dict[int, Snapshot]:
    """The current snapshot of each customer, from accepted rows (rules 2-4 read it).

    An active snapshot dated after ``as_of`` (a later UTC date) gives way to one that counts;
    an inactive one counts whatever its date; when none counts, the latest decides.
    """
    by_customer: dict[int, list[Snapshot]] = defaultdict(list)
    for row in accepted:
        customer_id = parse_id(row["customer_id"])
        updated_at = parse_timestamp(row["updated_at"])
        if customer_id is None or updated_at is None:  # pragma: no cover
            continue
        by_customer[customer_id].append(
            Snapshot(
                customer_id=customer_id,
                email=normalize_email(row["email"]),
                first_name=trimmed(row["first_name"]),
                home_state=trimmed(row["home_state"]),
                loyalty_tier=trimmed(row["loyalty_tier"]),
                is_active=is_active_flag(row["is_active"]),
                updated_at=updated_at,
            )
        )
    return {
        customer_id: _latest_snapshot(
            [row for row in rows if row.updated_at.date() <= as_of or not row.is_active] or rows
        )
        for customer_id, rows in by_customer.items()
    }


def _latest_snapshot(rows: Sequence[Snapshot]) -> Snapshot:
    """Latest updated_at; ties: inactive first, then email/name/state/tier."""
    latest = max(row.updated_at for row in rows)
    tied = [row for row in rows if row.updated_at == latest]
    return min(
        tied,
        key=lambda row: (
            row.is_active,
            _nulls_first(row.email),
            _nulls_first(row.first_name),
            _nulls_first(row.home_state),
            _nulls_first(row.loyalty_tier),
        ),
    )


def channel_read(text: str | None) -> str:
    """A consent channel as the rules read it: lower case, without ``-``, ``_``, ``.``, spaces."""
    return "".join(c for c in trimmed(text).lower() if c not in "-_. ")


def latest_email_status(
    accepted: Iterable[Mapping[str, str]],
    as_of: date,
    parameters: RuleParameters = DEFAULT_PARAMETERS,
) -> dict[int, str]:
    """Rules 5 and 6: latest email-channel consent status (upper/trimmed) per customer.

    The channel is read without case and separators (``E-Mail`` is email). A channel in
    ``parameters.non_email_channels`` never counts. An OPT_IN after the as-of date (a later UTC
    date) or on a channel other than email does not count; other statuses do.
    """
    after_as_of = datetime.combine(as_of + timedelta(days=1), time(), tzinfo=UTC)
    other_channels = {channel_read(item) for item in parameters.non_email_channels}
    by_customer: dict[int, list[ConsentEvent]] = defaultdict(list)
    for row in accepted:
        channel = channel_read(row["channel"])
        if channel in other_channels:
            continue
        customer_id = parse_id(row["customer_id"])
        event_ts = parse_timestamp(row["event_ts"])
        if customer_id is None or event_ts is None:  # pragma: no cover
            continue
        is_opt_in = upper_text(row["consent_status"]) == "OPT_IN"
        if is_opt_in and (event_ts >= after_as_of or channel != "email"):
            continue
        by_customer[customer_id].append(
            ConsentEvent(
                customer_id=customer_id,
                event_id=trimmed(row["event_id"]),
                status=upper_text(row["consent_status"]),
                event_ts=event_ts,
            )
        )
    return {
        customer_id: _latest_event(events).status for customer_id, events in by_customer.items()
    }


def _latest_event(events: Sequence[ConsentEvent]) -> ConsentEvent:
    """Latest event_ts; ties: non-OPT_IN first, then status, then event_id."""
    latest = max(event.event_ts for event in events)
    tied = [event for event in events if event.event_ts == latest]
    return min(tied, key=lambda event: (event.status == "OPT_IN", event.status, event.event_id))


def suppression_is_active(row: Mapping[str, str], as_of: date) -> bool:
    """Rule 7: active on as_of; blank/unreadable ``from`` or bad ``until`` suppress."""
    from_text, until_text = (
        trimmed(row["suppressed_from"]),
        trimmed(row["suppressed_until"]),
    )
    starts = parse_date(from_text)
    ends = parse_date(until_text)
    if starts is None or (until_text and ends is None):
        return True
    return starts <= as_of and (ends is None or ends >= as_of)


def active_suppressions(
    accepted: Iterable[Mapping[str, str]], as_of: date
) -> tuple[set[int], set[str]]:
    """Collect customer ids and emails covered by active suppressions."""
    ids: set[int] = set()
    emails: set[str] = set()
    for row in accepted:
        if not suppression_is_active(row, as_of):
            continue
        customer_id = parse_id(row["customer_id"])
        if customer_id is not None:
            ids.add(customer_id)
        email = normalize_email(row["email"])
        if email is not None:
            emails.add(email)
    return ids, emails


def recent_bookings(
    accepted: Iterable[Mapping[str, str]],
    as_of: date,
    parameters: RuleParameters = DEFAULT_PARAMETERS,
) -> dict[int, BookingSummary]:
    """Rule 8: bookings with a counted status and as_of - recent_booking_days < date <= as_of."""
    window_start = parameters.window_start(as_of)
    summaries: dict[int, BookingSummary] = {}
    for row in accepted:
        if not parameters.counts_status(row["booking_status"]):
            continue
        booked_on = parse_date(row["booking_date"])
        customer_id = parse_id(row["customer_id"])
        amount = parse_amount(row["booking_amount"])
        if booked_on is None or customer_id is None or amount is None:  # pragma: no cover
            continue
        if not window_start < booked_on <= as_of:
            continue
        previous = summaries.get(customer_id, BookingSummary())
        last = booked_on if previous.last_date is None else max(previous.last_date, booked_on)
        summaries[customer_id] = BookingSummary(
            count=previous.count + 1,
            total=_EXACT.add(previous.total, amount),
            last_date=last,
        )
    return summaries


def held_ids(rejected: Iterable[tuple[int, str, Mapping[str, str]]]) -> set[int]:
    """Rule 1: readable customer ids on rejected rows, or the ones in an unreadable id's
    digits."""
    ids: set[int] = set()
    for _, _, row in rejected:
        ids |= _ids_named(row["customer_id"])
    return ids


def _ids_named(value: str | None) -> set[int]:
    """The id, else every customer its digits may name."""
    customer_id = parse_id(value)
    return ids_in_digits(value) if customer_id is None else {customer_id}


def ids_in_swapped_event_ids(rejected: Iterable[tuple[int, str, Mapping[str, str]]]) -> set[int]:
    """Rule 1: a rejected consent row whose customer_id is not blank but cannot be read, while
    its event_id is a valid id (the columns swapped), also names the event_id's customer."""
    return {
        customer_id
        for _, _, row in rejected
        if trimmed(row["customer_id"])
        and parse_id(row["customer_id"]) is None
        and (customer_id := parse_id(row["event_id"])) is not None
    }


def addresses_on_rejected_rows(
    rejected: Iterable[tuple[int, str, Mapping[str, str]]],
) -> set[tuple[int, str]]:
    """Rule 9: a rejected customers row might be its customer's newest snapshot, so the
    customer it names (rule 1's reading) holds the address on it."""
    pairs = set()
    for _, _, row in rejected:
        email = normalize_email(row["email"])
        if email is not None:
            pairs |= {(customer_id, email) for customer_id in _ids_named(row["customer_id"])}
    return pairs


def ids_suppressed_by_their_digits(screened: Screened, as_of: date) -> set[int]:
    """Rule 7: an active suppression (accepted or rejected) whose id cannot be read suppresses
    the id in its digits."""
    rows = [*screened.accepted, *(row for _, _, row in screened.rejected)]
    return {
        customer_id
        for row in rows
        if suppression_is_active(row, as_of)
        for customer_id in ids_in_digits(row["customer_id"])
    }


#: text shaped like an address: a run on each side of one ``@`` without spaces, tabs, ``@``,
#: angle brackets, parentheses, quotes, commas, semicolons, colons, U+FFFD or an invisible
#: character (zero-width space, non-joiner, joiner, word joiner, byte order mark)
_SEPARATORS = " \t\r<>()\",;:'\ufffd\u200b\u200c\u200d\u2060\ufeff"
_ADDRESS = f"[^@{_SEPARATORS}]+@[^@{_SEPARATORS}]+"
_ADDRESS_RE = re.compile(_ADDRESS)
_AFTER_AT_RE = re.compile(f"@({_ADDRESS})")
#: ``@``s that cannot join two parts of an address: two or more in a row, or beginning a word
_LONE_AT_RE = re.compile(f"@@+|(^|[{_SEPARATORS}])@+")


def addresses_within(text: str) -> set[str]:
    """Rule 7: every address written inside ``text``, lowercased, its lone ``@``s (two or more
    in a row, or beginning a word) read as spaces, read left to right from the start and from
    each ``@`` that begins a match (``@``s run together: every two neighbouring parts).

    ``<a@x.com>``, ``"Jane" <a@x.com>`` and ``mailto:a@x.com`` hold a@x.com; ``a@x.com;
    b@x.com, c@x.com`` holds all three; ``jane@x.com@y.org`` holds jane@x.com and x.com@y.org.
    """
    lowered = _LONE_AT_RE.sub(" ", text.lower())
    return set(_ADDRESS_RE.findall(lowered)) | set(_AFTER_AT_RE.findall(lowered))


def named_within_suppression_fields(screened: Screened, as_of: date) -> tuple[set[int], set[str]]:
    """Rule 7: what an active suppressions row (accepted or rejected) names in other forms:
    the addresses written inside its customer_id and email fields, and its email field read as
    an id (the columns swapped)."""
    ids: set[int] = set()
    emails: set[str] = set()
    for row in [*screened.accepted, *(row for _, _, row in screened.rejected)]:
        if not suppression_is_active(row, as_of):
            continue
        emails |= addresses_within(f"{row['customer_id'] or ''} {row['email'] or ''}")
        if (customer_id := parse_id(row["email"])) is not None:
            ids.add(customer_id)
    return ids, emails


#: one field of a quoted line and the comma after it: wholly quoted (quotes doubled inside)
#: or unquoted without a quote
_QUOTED_FIELD_RE = re.compile(r'("(?:[^"]|"")*"|[^,"]*),')


def _soundly_quoted_fields(line: str) -> list[str] | None:
    """The fields of a line with quotes, unquoted, when its quoting is sound; else None."""
    if '"' not in line or line.count('"') % 2:
        return None
    matches = [match.group(1) for match in _QUOTED_FIELD_RE.finditer(line + ",")]
    if "".join(f"{field}," for field in matches) != line + ",":
        return None
    return [field[1:-1].replace('""', '"') if field.startswith('"') else field for field in matches]


def _readings_of_unsplittable_line(line: str, columns: Sequence[str], column: str) -> list[str]:
    """Where ``column`` would sit in a line that cannot be split, read two ways.

    The line is cut into its quoted fields when its quoting is sound (an even number of quotes,
    every field either unquoted without a quote or wholly quoted) and they are not fewer than
    the columns, else at every comma (quotes not interpreted: a line quoted whole is read in
    its pieces), and the piece at the column's position is read counting from the start
    and from the end, stripped of spaces and double quotes. A line cut at commas into fewer
    pieces than the header has columns may have been written with another common delimiter (a
    semicolon export's line appended to a comma file): it is cut at semicolons, tabs and pipes
    too.
    """
    pieces = _pieces_of_unsplittable_line(line, columns)
    position = list(columns).index(column)
    from_end = len(columns) - position
    readings = []
    if position < len(pieces):
        readings.append(pieces[position])
    if from_end <= len(pieces):
        readings.append(pieces[-from_end])
    return [reading.strip(' "') for reading in readings]


def _pieces_of_unsplittable_line(line: str, columns: Sequence[str]) -> list[str]:
    """The pieces ``_readings_of_unsplittable_line`` reads a line that cannot be split in."""
    pieces = _soundly_quoted_fields(line)
    if pieces is None or len(pieces) < len(columns):
        pieces = line.split(",")
        if len(pieces) < len(columns):
            pieces = line.translate(_OTHER_DELIMITERS).split(",")
    return pieces


def _uncut_text_of_unsplittable_line(line: str, columns: Sequence[str], column: str) -> str:
    """A line that cannot be split, from where ``column`` would sit to its end: its pieces, each
    stripped of spaces and double quotes at either end, rejoined by commas. An id written with
    a thousands separator that the split cut (``157,000,...``, ``"1,157,000",...``) is whole at
    its start."""
    pieces = _pieces_of_unsplittable_line(line, columns)[list(columns).index(column) :]
    return ",".join(trimmed(piece).strip(' "') for piece in pieces)


#: An id grouped in threes by commas, at most three non-digits around, then nothing or a comma
#: and the line's other fields (commas and text between them): ``157,000``, ``1,157,000``,
#: ``C-157,000``, ``157,000,a@x.com``.
_GROUPED_ID_RE = re.compile(r"[^0-9]{0,3}[0-9]{1,3}(?:,[0-9]{3})+[^0-9,]{0,3}(?:,[^,]*)*")


def id_in_uncut_text(value: str | None) -> int | None:
    """The customer a line names where its id was cut (``_uncut_text_of_unsplittable_line``)
    when that text begins with an id grouped in threes by commas: ``157,000`` and
    ``157,000,a@x.com`` name 157000, where the pieces name 157 and 0. ``None`` for any other
    text (``157,Sm``)."""
    text = trimmed(value)
    if not _GROUPED_ID_RE.fullmatch(text.translate(_OTHER_DIGITS)):
        return None
    return id_in_digits(text)


#: The other common delimiters, read as commas in a line with too few pieces.
_OTHER_DELIMITERS = str.maketrans(";\t|", ",,,")

#: A piece shaped like a mangled id: digits (commas or spaces among them, or another
#: character before three digits: ``1.157``), at most three
#: non-digits before and three characters after (``1157.0``, ``C-1157``, ``="1157``); an
#: address or a date is not.
_MANGLED_ID_RE = re.compile(r"[^0-9]{0,3}[0-9](?:[0-9, \u00a0\u202f\u2009]|[^0-9][0-9]{3})*.{0,3}")


def ids_or_ids_in_digits(value: str | None) -> set[int]:
    """A piece of a line that cannot be split, where its customer_id would sit: the id itself,
    else, when shaped like a mangled id, the ones its digits may name (``ids_in_digits``)."""
    customer_id = parse_id(value)
    if customer_id is not None:
        return {customer_id}
    if not _MANGLED_ID_RE.fullmatch(trimmed(value).translate(_OTHER_DIGITS)):
        return set()
    return ids_in_digits(value)


def ids_named_by_unsplittable_line(
    line: str, columns: Sequence[str], uncut_from: str = "customer_id"
) -> set[int]:
    """Rules 1 and 7 for a line that cannot be split: the customer ids it may name, each
    reading taken as an id or, when it is not one, in its first run of digits; and the id read
    where a thousands separator may have cut it (``157,000``: 157, 0 and 157000), from the
    column ``uncut_from`` (where a cut id begins on a line that splits, ``cut_id_start``)."""
    uncut = id_in_uncut_text(_uncut_text_of_unsplittable_line(line, columns, uncut_from))
    return {
        customer_id
        for reading in _readings_of_unsplittable_line(line, columns, "customer_id")
        for customer_id in ids_or_ids_in_digits(reading)
    } | ({uncut} if uncut is not None else set())


def addresses_named_by_unsplittable_line(
    line: str, columns: Sequence[str], uncut_from: str = "customer_id"
) -> set[tuple[int, str]]:
    """Rule 9 for a customers line that cannot be split: every customer it may name holds every
    address it may carry."""
    return {
        (customer_id, email)
        for customer_id in ids_named_by_unsplittable_line(line, columns, uncut_from)
        for email in emails_named_by_unsplittable_line(line, columns)
    }


def emails_named_by_unsplittable_line(line: str, columns: Sequence[str]) -> set[str]:
    """Rule 7 for a suppressions line that cannot be split: the emails it may name (where the
    email column would sit, and every address written anywhere in it)."""
    return {
        email
        for reading in _readings_of_unsplittable_line(line, columns, "email")
        if (email := normalize_email(reading)) is not None
    } | addresses_within(line)


#: The columns whose values are never three digits: beside one of them, a customer_id and its
#: neighbour may be one id cut at its thousands comma.
CUT_ID_NEIGHBOURS = frozenset(
    {
        "email", "channel", "consent_status", "event_ts", "booking_date", "booking_status",
        "updated_at", "is_active", "suppressed_from", "suppressed_until",
    }
)  # fmt: skip
_FIRST_GROUP_RE = re.compile(r"[^0-9]{0,3}[0-9]{1,3}")
_SECOND_GROUP_RE = re.compile(r"[0-9]{3}[^0-9]{0,3}")


def _group_piece(value: str | None) -> str:
    """A field read without the spaces and double quotes at its ends, its digits ASCII."""
    return (value or "").strip(SPACE_SEPARATORS + '"').translate(_OTHER_DIGITS)


def cut_id_start(row: Mapping[str, str | None]) -> str | None:
    """The column where an id cut at its thousands comma may begin in a row (its columns in the
    file's order) whose line still splits because it lost a field elsewhere: customer_id, when
    it is one to three digits (at most three other characters before them) and the next column
    three digits (at most three other characters after them): `157,000,hard_bounce,...`; or
    the column before it, when that one holds the first group and customer_id the second. Only
    beside a column whose values are never three digits (``CUT_ID_NEIGHBOURS``). ``None`` for
    any other row, and for a row with more fields than columns."""
    if any(not isinstance(column, str) for column in row):
        return None
    columns = _file_columns(row)
    if "customer_id" not in columns:
        return None
    place = columns.index("customer_id")
    pairs = []
    if place + 1 < len(columns) and columns[place + 1] in CUT_ID_NEIGHBOURS:
        pairs.append((columns[place], columns[place + 1]))
    if place > 0 and columns[place - 1] in CUT_ID_NEIGHBOURS:
        pairs.append((columns[place - 1], columns[place]))
    for first, second in pairs:
        if _FIRST_GROUP_RE.fullmatch(_group_piece(row[first])) and _SECOND_GROUP_RE.fullmatch(
            _group_piece(row[second])
        ):
            return first
    return None


def _file_columns(row: Mapping[str, str | None]) -> list[str]:
    """A row's columns in the file's order (without the line number a screened row carries)."""
    return [column for column in row if column != "line"]


def line_of_row(row: Mapping[str, str | None]) -> str:
    """A row's values written back as one comma-separated line (quoted where needed)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(
        row[column] or "" for column in _file_columns(row)
    )
    return buffer.getvalue()


# --------------------------------------------------------------------------
# Decisions: rules 1-8 in order, then rules 9 and 10
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """Everything the decision rules need, derived from screened inputs."""

    universe: set[int]
    on_hold: set[int]
    consent_hold: set[int]
    snapshots: dict[int, Snapshot]
    email_status: dict[int, str]
    suppressed_ids: set[int]
    suppressed_emails: set[str]
    bookings: dict[int, BookingSummary]
    min_recent_bookings: int = DEFAULT_PARAMETERS.min_recent_bookings
    #: (customer, address) pairs of rejected customers rows and customers lines that cannot be
    #: split: rule 9 counts those customers as holders of those addresses
    rejected_row_addresses: frozenset[tuple[int, str]] = frozenset()


def individual_reason(customer_id: int, facts: Facts) -> str | None:
    """The first of rules 1-8 that one customer fails, or ``None``."""
    snapshot = facts.snapshots.get(customer_id)
    if customer_id in facts.on_hold or snapshot is None:
        return DATA_QUALITY_HOLD
    if not snapshot.is_active:
        return INACTIVE
    if snapshot.email is None:
        return MISSING_EMAIL
    if not is_valid_email(snapshot.email):
        return INVALID_EMAIL
    status = facts.email_status.get(customer_id)
    if status is None:
        return NO_EMAIL_CONSENT
    if status != "OPT_IN":
        return NOT_OPTED_IN
    if customer_id in facts.suppressed_ids or snapshot.email in facts.suppressed_emails:
        return SUPPRESSED
    summary = facts.bookings.get(customer_id)
    if summary is None or summary.count < facts.min_recent_bookings:
        return NO_RECENT_BOOKING
    return None


def blocking_emails(facts: Facts) -> set[str]:
    """Rule 9: emails held by a customer that casts doubt on consent."""
    holders = {
        (customer_id, snapshot.email)
        for customer_id, snapshot in facts.snapshots.items()
        if snapshot.email is not None
    }
    # whoever a rejected row may name, a customer of the exports or not (an id in digits)
    holders |= facts.rejected_row_addresses
    blocked: set[str] = set()
    for customer_id, email in holders:
        status = facts.email_status.get(customer_id)
        if (
            (status is not None and status != "OPT_IN")
            or customer_id in facts.suppressed_ids
            or customer_id in facts.consent_hold
        ):
            blocked.add(email)
    return blocked


def decide(facts: Facts) -> dict[int, str]:
    """Apply rules 1-8, then 9 and 10, to every customer in the universe."""
    decisions: dict[int, str] = {}
    passed: list[int] = []
    for customer_id in sorted(facts.universe):
        reason = individual_reason(customer_id, facts)
        if reason is None:
            passed.append(customer_id)
        else:
            decisions[customer_id] = reason
    blocked = blocking_emails(facts)
    survivors: dict[str, list[int]] = defaultdict(list)
    for customer_id in passed:
        email = facts.snapshots[customer_id].email
        if email in blocked:
            decisions[customer_id] = SHARED_ADDRESS_BLOCKED
        else:
            survivors[str(email)].append(customer_id)
    for members in survivors.values():
        keeper = _duplicate_keeper(members, facts)
        for customer_id in members:
            decisions[customer_id] = ELIGIBLE if customer_id == keeper else DUPLICATE_EMAIL
    return dict(sorted(decisions.items()))


def _duplicate_keeper(members: Sequence[int], facts: Facts) -> int:
    """Rule 10: latest last_booking_date wins, then the lowest customer_id."""
    latest = max(_last_date(customer_id, facts) for customer_id in members)
    return min(customer_id for customer_id in members if _last_date(customer_id, facts) == latest)


def _last_date(customer_id: int, facts: Facts) -> date:
    """Last recent booking date (always present for customers passing rules 1-8)."""
    last = facts.bookings[customer_id].last_date
    return last if last is not None else date.min


def audience_row(customer_id: int, facts: Facts) -> dict[str, str]:
    """Format one eligible customer as CSV text values."""
    snapshot = facts.snapshots[customer_id]
    summary = facts.bookings[customer_id]
    return {
        "customer_id": str(customer_id),
        "email": snapshot.email or "",
        "first_name": snapshot.first_name,
        "home_state": snapshot.home_state,
        "loyalty_tier": snapshot.loyalty_tier,
        "bookings_last_365_days": str(summary.count),
        "total_spend_last_365_days": format_amount(summary.total),
        "last_booking_date": summary.last_date.isoformat() if summary.last_date else "",
    }


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """Full reference outcome for one run."""

    decisions: dict[int, str]
    audience: list[dict[str, str]]
    file_counts: dict[str, dict[str, int]]
    rejected: dict[str, list[tuple[int, str]]]


def load_rows(path: str | Path) -> list[dict[str, str]]:
    """Read a contract CSV (UTF-8, optional BOM) into a list of text rows."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return [dict(row) for row in csv.DictReader(handle)]


def evaluate(
    customers: Iterable[Mapping[str, str | None]],
    bookings: Iterable[Mapping[str, str | None]],
    consent_events: Iterable[Mapping[str, str | None]],
    suppressions: Iterable[Mapping[str, str | None]],
    as_of: date,
    unsplittable_line_ids: Mapping[str, Iterable[int]] | None = None,
    unsplittable_suppression_emails: Iterable[str] = (),
    parameters: RuleParameters = DEFAULT_PARAMETERS,
    unsplittable_customer_addresses: Iterable[tuple[int, str]] = (),
) -> Result:
    """Run the whole spec over in-memory rows for the given as-of date and rule parameters.

    ``unsplittable_line_ids`` gives, per input file, the customer ids that lines which could
    not be split may name (rows that never reach the other arguments), and
    ``unsplittable_suppression_emails`` the emails such suppressions lines may name. Rule 1
    holds the customers named by customers and consent_events lines (those also cast doubt on
    consent, rule 9), and the ids customers lines name are customers even when no readable row
    names them; rule 7 suppresses the ids and emails named by suppressions lines.
    ``unsplittable_customer_addresses``: the (customer, address) pairs customers lines that
    could not be split may name, which rule 9 counts as holders. A row that may hold a cut id
    (``cut_id_start``, its columns in the file's order) is read here as such a line.
    """
    named = {name: set(ids) for name, ids in (unsplittable_line_ids or {}).items()}
    line_emails = set(unsplittable_suppression_emails)
    line_addresses = set(unsplittable_customer_addresses)
    rows = {
        CUSTOMERS: list(customers),
        BOOKINGS: list(bookings),
        CONSENT_EVENTS: list(consent_events),
        SUPPRESSIONS: list(suppressions),
    }
    # a row whose customer_id may be an id cut at its thousands separator is read as a line that
    # cannot be split, its id read uncut from where the cut id begins
    for name, file_rows in rows.items():
        kept = []
        for row in file_rows:
            start = cut_id_start(row)
            if start is None:
                kept.append(row)
                continue
            line, columns = line_of_row(row), _file_columns(row)
            named.setdefault(name, set()).update(
                ids_named_by_unsplittable_line(line, columns, start)
            )
            if name == SUPPRESSIONS:
                line_emails |= emails_named_by_unsplittable_line(line, columns)
            if name == CUSTOMERS:
                line_addresses |= addresses_named_by_unsplittable_line(line, columns, start)
        rows[name] = kept
    screened = {name: screen_file(name, file_rows) for name, file_rows in rows.items()}
    customer_file = screened[CUSTOMERS]
    # a customer known only from rejected rows (an id, or the one an unreadable id shaped like
    # a mangled one names: `C-1122`, not a date) or from broken lines is held
    universe = {
        customer_id
        for row in [*customer_file.accepted, *(row for _, _, row in customer_file.rejected)]
        for customer_id in ids_or_ids_in_digits(row["customer_id"])
    } | named.get(CUSTOMERS, set())
    consent_rejected = screened[CONSENT_EVENTS].rejected
    consent_hold = (
        held_ids(consent_rejected)
        | ids_in_swapped_event_ids(consent_rejected)
        | named.get(CONSENT_EVENTS, set())
    )
    suppressed_ids, suppressed_emails = active_suppressions(screened[SUPPRESSIONS].accepted, as_of)
    suppressed_ids |= named.get(SUPPRESSIONS, set())
    suppressed_ids |= ids_suppressed_by_their_digits(screened[SUPPRESSIONS], as_of)
    ids_within, emails_within = named_within_suppression_fields(screened[SUPPRESSIONS], as_of)
    suppressed_ids |= ids_within
    suppressed_emails |= emails_within | line_emails
    facts = Facts(
        universe=universe,
        on_hold=held_ids(customer_file.rejected) | consent_hold | named.get(CUSTOMERS, set()),
        consent_hold=consent_hold,
        snapshots=current_snapshots(customer_file.accepted, as_of),
        email_status=latest_email_status(screened[CONSENT_EVENTS].accepted, as_of, parameters),
        suppressed_ids=suppressed_ids,
        suppressed_emails=suppressed_emails,
        bookings=recent_bookings(screened[BOOKINGS].accepted, as_of, parameters),
        min_recent_bookings=parameters.min_recent_bookings,
        rejected_row_addresses=frozenset(
            addresses_on_rejected_rows(customer_file.rejected) | line_addresses
        ),
    )
    decisions = decide(facts)
    audience = [
        audience_row(customer_id, facts)
        for customer_id, decision in decisions.items()
        if decision == ELIGIBLE
    ]
    return Result(
        decisions=decisions,
        audience=audience,
        file_counts={name: result.counts() for name, result in screened.items()},
        rejected={
            name: [(line, reason) for line, reason, _ in result.rejected]
            for name, result in screened.items()
        },
    )


def evaluate_dir(
    input_dir: str | Path, as_of: date, parameters: RuleParameters = DEFAULT_PARAMETERS
) -> Result:
    """Load ``<name>.csv`` for the four contract files and evaluate them."""
    base = Path(input_dir)
    return evaluate(
        load_rows(base / f"{CUSTOMERS}.csv"),
        load_rows(base / f"{BOOKINGS}.csv"),
        load_rows(base / f"{CONSENT_EVENTS}.csv"),
        load_rows(base / f"{SUPPRESSIONS}.csv"),
        as_of,
        parameters=parameters,
    )
