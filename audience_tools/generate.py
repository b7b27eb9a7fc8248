"""Deterministic synthetic raw-data generator for the eligible email audience pipeline.

Writes the four raw input files of the data contract (``customers.csv``, ``bookings.csv``,
``consent_events.csv`` and ``suppressions.csv``) with DuckDB SQL only: every row is derived
from ``range()`` row numbers through ``hash(seed, key, salt)`` pseudo-randomness (never
``random()``), so a given ``(customers, seed, as_of, bad_share)`` always yields byte-identical
files. Every file is streamed to disk with one ``COPY ... TO`` statement; only a narrow integer
sort key is ordered (``ORDER BY``) before the text columns are built, and
``preserve_insertion_order`` keeps that order while writing with several threads.

Shape (per customer, approximately): 1.2 customer snapshots (15 % of customers have 2-3
snapshots, some with tied ``updated_at`` instants written in different ISO forms), 2.75
bookings, 1.3 email-channel consent events plus 0.3 events on other channels, 0.025
suppressions (by id, by email or both); about 0.75 % of customers reuse another customer's
email address (so ~1.5 % of customers are involved in a shared address).

``bad_share`` is the share of rows per file that carry an invalid value. Those rows are spread
over every invalid form of the contract (bad ids, impossible dates and timestamps, malformed
amounts, blank booking ids, identical and conflicting duplicate rows, suppressions with neither
id nor email, malformed emails, unreadable suppression dates). About ``bad_share / 2`` of the
remaining bookings carry a tricky but *valid* amount (``+12.50``, ``-0.00``, ``1.25e2``,
``9999999999999999.99``, three decimals, ``.05``, ``12.``, ...). With ``bad_share == 0``
every value parses under the contract and every amount is a plain ``123.45``; only the
natural variety remains (mixed case and surrounding spaces, ~1.5 % padded or zero-prefixed
ids, blank optional fields, shared addresses, orphan ids, unknown consent statuses,
future-dated bookings, and suppressed addresses written inside other text: ``<a@x.com>``, the
middle one of a list of three, or run together with other parts, ``x1@a@x.com@example.org``).

Byte-identical reruns are guaranteed for the same DuckDB version (``hash()`` is DuckDB's own
hash function); thread count and memory limit do not change the output.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from audience_pipeline.sql import string_literal

__all__ = [
    "FILE_COLUMNS",
    "GenerationResult",
    "generate",
]

#: Contract column order of every raw file.
FILE_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers.csv": (
        "customer_id",
        "email",
        "first_name",
        "home_state",
        "loyalty_tier",
        "is_active",
        "updated_at",
    ),
    "bookings.csv": (
        "booking_id",
        "customer_id",
        "booking_date",
        "booking_amount",
        "booking_status",
        "product_name",
        "source_system",
    ),
    "consent_events.csv": (
        "event_id",
        "customer_id",
        "channel",
        "consent_status",
        "event_ts",
        "source_system",
    ),
    "suppressions.csv": (
        "customer_id",
        "email",
        "suppression_reason",
        "suppressed_from",
        "suppressed_until",
    ),
}

# Target ratios per customer.
BOOKINGS_PER_CUSTOMER = 2.75
EXTRA_CONSENT_EVENTS_PER_CUSTOMER = 0.6  # on top of one "base" event per customer
SUPPRESSIONS_PER_CUSTOMER = 0.025
HISTORY_DAYS = 730  # bookings and events spread over two years before as-of

# fmt: off
FIRST_NAMES = (
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella",
    "William", "Mia", "Benjamin", "Charlotte", "Lucas", "Amelia", "Henry", "Harper",
    "Alexander", "Evelyn", "Daniel", "Abigail", "Michael", "Emily", "Ethan", "Ella",
    "Jacob", "Elizabeth", "Logan", "Camila", "Jackson", "Luna", "Sebastian", "Sofia",
    "Aiden", "Avery", "Matthew", "Mila", "Samuel", "Aria", "David", "Scarlett", "Joseph",
    "Penelope", "Carter", "Layla", "Owen", "Chloe", "Wyatt", "Victoria", "John", "Madison",
    "Jack", "Eleanor", "Luke", "Grace", "Jayden", "Nora", "Dylan", "Riley", "Zoë", "José",
    "Chloé", "Renée", "Mateo", "Priya", "Wei", "Fatima", "Hiroshi", "Aaliyah", "Siobhan",
)
LAST_NAMES = (
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis",
    "rodriguez", "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson",
    "thomas", "taylor", "moore", "jackson", "martin", "lee", "perez", "thompson", "white",
    "harris", "sanchez", "clark", "ramirez", "lewis", "robinson", "walker", "young",
    "allen", "king", "wright", "scott", "torres", "nguyen", "hill", "flores", "obrien",
    "patel", "kim", "chen", "murphy", "oconnor", "singh", "cohen",
)
DOMAINS = (
    "gmail.com", "gmail.com", "gmail.com", "yahoo.com", "yahoo.com", "outlook.com",
    "hotmail.com", "icloud.com", "aol.com", "comcast.net", "proton.me", "mail.example.org",
)
ALT_DOMAINS = ("oldmail.net", "work-example.com", "university.edu", "msn.com")
US_STATES = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV",
    "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN",
    "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "DC",
    # population-ish weighting for the big states
    "CA", "CA", "CA", "TX", "TX", "FL", "FL", "NY", "NY", "IL", "PA", "OH", "GA",
)
LOYALTY_TIERS = (
    "Bronze", "Bronze", "Bronze", "Bronze", "Bronze", "Silver", "Silver", "Silver",
    "Gold", "Gold", "Platinum",
)
ACTIVE_FORMS = (
    "true", "true", "true", "1", "1", "TRUE", "True", "t", "yes", "Y", "y", " true ",
)
INACTIVE_FORMS = ("false", "false", "0", "FALSE", "f", "no", "N", "inactive")
BOOKING_STATUSES = (
    ("COMPLETED", 0.80),
    ("CANCELLED", 0.12),
    ("PENDING", 0.08),
)
PRODUCTS = (
    "Flight", "Flight", "Flight", "Hotel", "Hotel", "Car Rental", "Package Holiday",
    "Cruise", "Rail Pass", "Travel Insurance",
)
BOOKING_SOURCES = ("web", "web", "mobile_app", "call_center", "partner_api", "legacy_pos")
EMAIL_CHANNEL_FORMS = (
    "email", "email", "email", "email", "email", "email", "email", "email", "EMAIL",
    "Email", " email ", "EMAIL ",
)
OTHER_CHANNEL_FORMS = ("sms", "sms", "SMS", "push", "Push", "postal", "phone", " sms ")
CONSENT_SOURCES = (
    "preference_center", "email_footer", "web_signup", "crm_import", "mobile_app",
)
OPT_IN_FORMS = ("OPT_IN", "OPT_IN", "OPT_IN", "OPT_IN", "opt_in", "Opt_In", " OPT_IN ")
OPT_OUT_FORMS = ("OPT_OUT", "OPT_OUT", "OPT_OUT", "opt_out", " Opt_Out")
SUPPRESSION_REASONS = (
    "unsubscribed", "hard_bounce", "hard_bounce", "spam_complaint", "legal_request",
    "manual_block", "deceased",
)

# fmt_ts() forms: all of them, and those that keep the exact second (used for tied instants).
ALL_TS_FORMS = "[0, 0, 0, 0, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 8, 9, 10]"
EXACT_TS_FORMS = "[0, 1, 2, 3, 7, 10]"

# Invalid forms per field; the generator spreads bad rows uniformly over these "kinds".
N_BAD_ID = 7
N_BAD_TS = 16
N_BAD_DATE = 11
N_BAD_AMOUNT = 21
N_EDGE_AMOUNT = 13  # valid but unusual amount spellings
N_BAD_EMAIL = 8

#: Amount strings that are always invalid under the contract (subset of the generated forms).
INVALID_AMOUNT_LITERALS = (
    "abc", "NaN", "Infinity", "1,234.50", "$10", "١٢", "-5.00", "1e16",
    "1_000", ".", "5..0", "-Infinity", "10000000000000000", "inf", "1.2.3", "--5",
)
# fmt: on


def _sql_list(values: Sequence[str | int]) -> str:
    """Render a DuckDB list literal of strings or integers."""
    items = (string_literal(v) if isinstance(v, str) else str(v) for v in values)
    return "[" + ", ".join(items) + "]"


@dataclass(frozen=True)
class _Kinds:
    """Contiguous integer ranges of bad-row kinds for one file."""

    names: tuple[tuple[str, int], ...]
    starts: dict[str, int] = field(init=False)
    total: int = field(init=False)

    def __post_init__(self) -> None:
        starts: dict[str, int] = {}
        pos = 0
        for name, count in self.names:
            starts[name] = pos
            pos += count
        object.__setattr__(self, "starts", starts)
        object.__setattr__(self, "total", pos)

    def cond(self, name: str, var: str = "bad") -> str:
        """SQL predicate: ``var`` is one of the kinds of group ``name``."""
        start = self.starts[name]
        count = dict(self.names)[name]
        return f"({var} BETWEEN {start} AND {start + count - 1})"

    def variant(self, name: str, var: str = "bad") -> str:
        """SQL expression: index of the variant inside group ``name``."""
        return f"({var} - {self.starts[name]})"


CUSTOMER_KINDS = _Kinds((("id", N_BAD_ID), ("ts", N_BAD_TS), ("email", N_BAD_EMAIL), ("dup", 1)))
BOOKING_KINDS = _Kinds(
    (
        ("booking_id", 2),
        ("id", N_BAD_ID),
        ("date", N_BAD_DATE),
        ("amount", N_BAD_AMOUNT),
        ("dup", 2),
        ("conflict", 2),
    )
)
CONSENT_KINDS = _Kinds((("id", N_BAD_ID), ("ts", N_BAD_TS), ("dup", 1)))
SUPPRESSION_KINDS = _Kinds((("neither", 3), ("id_with_email", 1), ("dates", 5), ("dup", 1)))


@dataclass(frozen=True)
class GenerationResult:
    """Outcome of one :func:`generate` call."""

    out_dir: Path
    row_counts: dict[str, int]
    file_sizes: dict[str, int]
    seconds: dict[str, float]

    @property
    def paths(self) -> dict[str, Path]:
        """Path of every written file, keyed by file name."""
        return {name: self.out_dir / name for name in self.row_counts}


def _macros_sql(seed: int, customers: int, as_of: date) -> str:
    """SQL script creating the temporary helper macros of one generation run."""
    as_of_epoch = int(datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC).timestamp())
    status_cases = []
    cumulative = 0.0
    for status, weight in BOOKING_STATUSES:
        cumulative += weight
        status_cases.append(
            f"WHEN pct(k, 'bk_status') < {cumulative:.4f} THEN {string_literal(status)}"
        )
    return f"""
-- pseudo randomness: pure functions of (seed, key, salt); hash(salt) is constant-folded
CREATE OR REPLACE TEMP MACRO h(k, s) AS hash({int(seed)}::BIGINT, k::BIGINT, hash(s::VARCHAR));
CREATE OR REPLACE TEMP MACRO pct(k, s) AS (h(k, s) % 1000000)::DOUBLE / 1000000.0;
CREATE OR REPLACE TEMP MACRO hmod(k, s, m) AS (h(k, s) % m::UBIGINT)::BIGINT;
CREATE OR REPLACE TEMP MACRO pick(xs, k, s) AS xs[1 + hmod(k, s, len(xs))];

-- run constants
CREATE OR REPLACE TEMP MACRO n_customers() AS {int(customers)}::BIGINT;
CREATE OR REPLACE TEMP MACRO as_of_date() AS DATE '{as_of.isoformat()}';
CREATE OR REPLACE TEMP MACRO as_of_epoch() AS {as_of_epoch}::BIGINT;

-- customer attributes (functions of the customer number c)
CREATE OR REPLACE TEMP MACRO first_name_of(c) AS pick({_sql_list(FIRST_NAMES)}, c, 'first_name');
CREATE OR REPLACE TEMP MACRO last_name_of(c) AS pick({_sql_list(LAST_NAMES)}, c, 'last_name');
CREATE OR REPLACE TEMP MACRO email_local(c) AS
    strip_accents(lower(first_name_of(c))) || '.' || last_name_of(c) || c::VARCHAR;
CREATE OR REPLACE TEMP MACRO base_email(c) AS
    email_local(c) || '@' || pick({_sql_list(DOMAINS)}, c, 'domain');
CREATE OR REPLACE TEMP MACRO alt_email(c) AS
    strip_accents(lower(first_name_of(c))) || '_' || last_name_of(c) || c::VARCHAR
    || '@' || pick({_sql_list(ALT_DOMAINS)}, c, 'alt_domain');

-- customer number -> id text; ~1.5 % padded or zero-prefixed (still valid ids)
CREATE OR REPLACE TEMP MACRO id_text(c, k, s) AS CASE
    WHEN pct(k, s || '_idform') < 0.010 THEN ' ' || c::VARCHAR || ' '
    WHEN pct(k, s || '_idform') < 0.015 THEN '00' || c::VARCHAR
    ELSE c::VARCHAR END;
-- random customer number for child rows; ~0.2 % orphans (ids not in customers.csv)
CREATE OR REPLACE TEMP MACRO child_customer(k, s) AS CASE
    WHEN pct(k, s || '_orphan') < 0.002 THEN n_customers() + 1 + hmod(k, s || '_orphan_id', 100000)
    ELSE 1 + hmod(k, s, n_customers()) END;
-- exact decimal text of an integer number of cents
CREATE OR REPLACE TEMP MACRO cents_text(x) AS
    (x // 100)::VARCHAR || '.' || lpad((x % 100)::VARCHAR, 2, '0');
-- UTC instant 'secs' seconds (plus ms milliseconds) before as-of midnight
CREATE OR REPLACE TEMP MACRO ts_before(secs, ms) AS
    make_timestamp(((as_of_epoch() - secs) * 1000000 + ms * 1000)::BIGINT);
-- valid ISO renderings of an instant; forms 0, 1, 2, 3, 7 and 10 keep the exact second
CREATE OR REPLACE TEMP MACRO fmt_ts(t, f) AS CASE f
    WHEN 0 THEN strftime(t, '%Y-%m-%dT%H:%M:%SZ')
    WHEN 1 THEN strftime(t, '%Y-%m-%d %H:%M:%S')
    WHEN 2 THEN strftime(t + INTERVAL 2 HOUR, '%Y-%m-%dT%H:%M:%S+02:00')
    WHEN 3 THEN strftime(t - INTERVAL 5 HOUR, '%Y-%m-%d %H:%M:%S-05:00')
    WHEN 4 THEN strftime(t, '%Y-%m-%dT%H:%M')
    WHEN 5 THEN strftime(t, '%Y-%m-%d %H:%MZ')
    WHEN 6 THEN strftime(t, '%Y-%m-%dT%H:%M:%S.%gZ')
    WHEN 7 THEN strftime(t + INTERVAL 330 MINUTE, '%Y-%m-%dT%H:%M:%S+05:30')
    WHEN 8 THEN strftime(t, '%Y-%m-%d')
    WHEN 9 THEN strftime(t - INTERVAL 8 HOUR, '%Y-%m-%dT%H:%M-08:00')
    ELSE strftime(t, '%Y-%m-%dT%H:%M:%S+00:00') END;

-- invalid customer ids ({N_BAD_ID} variants)
CREATE OR REPLACE TEMP MACRO bad_id(c, v) AS CASE v
    WHEN 0 THEN ' ' || c::VARCHAR || 'a'
    WHEN 1 THEN NULL
    WHEN 2 THEN '   '
    WHEN 3 THEN '1' || lpad(c::VARCHAR, 18, '0')
    WHEN 4 THEN '-' || c::VARCHAR
    WHEN 5 THEN c::VARCHAR || '.0'
    ELSE 'C' || c::VARCHAR END;
-- invalid timestamps derived from a real instant t ({N_BAD_TS} variants)
CREATE OR REPLACE TEMP MACRO bad_ts(t, v) AS CASE v
    WHEN 0 THEN strftime(t, '%Y-02-30')
    WHEN 1 THEN strftime(t, '%d/%m/%Y')
    WHEN 2 THEN strftime(t, '%Y-%m-%dT25:%M:%SZ')
    WHEN 3 THEN strftime(t, '%Y-%m-%d %H:61')
    WHEN 4 THEN strftime(t, '%Y-%m-%dt%H:%M:%S')
    WHEN 5 THEN strftime(t, '%Y-%m-%dT%H:%M:%Sz')
    WHEN 6 THEN strftime(t, '%Y-%m-%dT%H:%M:%S+24:00')
    WHEN 7 THEN strftime(t, '%Y-13-%d %H:%M')
    WHEN 8 THEN NULL
    WHEN 9 THEN 'not a date'
    WHEN 10 THEN '2023-02-29T10:00:00Z'
    WHEN 11 THEN strftime(t, '%Y-%m-%dT%H:%M:60')
    WHEN 12 THEN strftime(t, '%Y-%m-%dT%H:%M:%S+02:60')
    WHEN 13 THEN '  '
    WHEN 14 THEN strftime(t, '%Y%m%dT%H%M%SZ')
    ELSE strftime(t, '%Y-%m-%dT%H') END;
-- invalid dates derived from a real date d ({N_BAD_DATE} variants)
CREATE OR REPLACE TEMP MACRO bad_date(d, v) AS CASE v
    WHEN 0 THEN strftime(d, '%Y-02-30')
    WHEN 1 THEN strftime(d, '%d/%m/%Y')
    WHEN 2 THEN '2023-02-29'
    WHEN 3 THEN NULL
    WHEN 4 THEN '  '
    WHEN 5 THEN strftime(d, '%Y%m%d')
    WHEN 6 THEN strftime(d, '%Y-13-%d')
    WHEN 7 THEN strftime(d, '%Y-%m-%dT10:00:00')
    WHEN 8 THEN 'n/a'
    WHEN 9 THEN strftime(d, '%Y-%m-32')
    ELSE strftime(d, '%m/%d/%Y') END;
-- invalid amounts; x = the would-be value in cents ({N_BAD_AMOUNT} variants)
CREATE OR REPLACE TEMP MACRO bad_amount(x, v) AS CASE v
    WHEN 0 THEN 'abc' WHEN 1 THEN 'NaN' WHEN 2 THEN 'Infinity' WHEN 3 THEN '1,234.50'
    WHEN 4 THEN '$10' WHEN 5 THEN '١٢' WHEN 6 THEN '-5.00' WHEN 7 THEN '1e16'
    WHEN 8 THEN NULL WHEN 9 THEN '   ' WHEN 10 THEN '1_000' WHEN 11 THEN '.'
    WHEN 12 THEN '5..0' WHEN 13 THEN '-Infinity' WHEN 14 THEN '10000000000000000'
    WHEN 15 THEN 'inf' WHEN 16 THEN '1.2.3' WHEN 17 THEN '--5'
    WHEN 18 THEN '$' || cents_text(x)
    WHEN 19 THEN '-' || cents_text(x + 1)
    ELSE cents_text(x) || ' USD' END;
-- valid but unusual amount spellings ({N_EDGE_AMOUNT} variants; SQL numeric literals such as
-- '.05' and '12.' are valid amounts)
CREATE OR REPLACE TEMP MACRO edge_amount(x, v) AS CASE v
    WHEN 0 THEN '+' || cents_text(x)
    WHEN 1 THEN ' ' || cents_text(x) || ' '
    WHEN 2 THEN '-0.00'
    WHEN 3 THEN '-0'
    WHEN 4 THEN (x // 100)::VARCHAR
    WHEN 5 THEN cents_text(x) || '0'
    WHEN 6 THEN cents_text(x) || '5'
    WHEN 7 THEN '1.25e2'
    WHEN 8 THEN '1E+2'
    WHEN 9 THEN '9999999999999999.99'
    WHEN 10 THEN '000' || cents_text(x)
    WHEN 11 THEN '.' || lpad((x % 100)::VARCHAR, 2, '0')
    ELSE (x // 100)::VARCHAR || '.' END;
-- malformed emails: rows stay accepted, eligibility fails ({N_BAD_EMAIL} variants)
CREATE OR REPLACE TEMP MACRO bad_email(c, v) AS CASE v
    WHEN 0 THEN email_local(c) || '@@gmail.com'
    WHEN 1 THEN email_local(c) || '.gmail.com'
    WHEN 2 THEN email_local(c) || '@localhost'
    WHEN 3 THEN first_name_of(c) || ' ' || last_name_of(c) || '@gmail.com'
    WHEN 4 THEN '@gmail.com'
    WHEN 5 THEN email_local(c) || '@.gmail.com'
    WHEN 6 THEN email_local(c) || '@gmail.com.'
    ELSE email_local(c) || '@yahoo.com@gmail.com' END;

-- natural case / padding variety of a text value (g uniform in [0, 1))
CREATE OR REPLACE TEMP MACRO vary_case(s, g, p) AS CASE
    WHEN g < p THEN lower(s)
    WHEN g < 2 * p THEN upper(left(s, 1)) || lower(substr(s, 2))
    WHEN g < 3 * p THEN ' ' || s || ' '
    ELSE s END;
CREATE OR REPLACE TEMP MACRO booking_status(k) AS
    vary_case(CASE {" ".join(status_cases)} END, pct(k, 'bk_status_case'), 0.05);
"""


def _customers_sql(bad_share: float) -> str:
    """SELECT producing customers.csv rows (ordered by customer, snapshot, copy)."""
    kinds = CUSTOMER_KINDS
    dup = kinds.starts["dup"]
    states = _sql_list(US_STATES)
    tiers = _sql_list(LOYALTY_TIERS)
    return f"""
SELECT
    CASE WHEN {kinds.cond("id")} THEN bad_id(c, {kinds.variant("id")})
         ELSE id_text(c, rk, 'cu') END AS customer_id,
    CASE WHEN {kinds.cond("email")} THEN bad_email(c, {kinds.variant("email")})
         WHEN cp = 1 AND email IS NOT NULL AND pct(rk, 'cu_dup_pad') < 0.5 THEN ' ' || email || ' '
         ELSE email END AS email,
    CASE WHEN cp = 1 AND first_name IS NOT NULL AND pct(rk, 'cu_dup_pad2') < 0.5
         THEN first_name || '  ' ELSE first_name END AS first_name,
    home_state,
    loyalty_tier,
    is_active,
    CASE WHEN {kinds.cond("ts")} THEN bad_ts(t, {kinds.variant("ts")})
         ELSE fmt_ts(t, ts_form) END AS updated_at
FROM (
    SELECT
        c, k, cp, bad, rk,
        CASE
            WHEN pct(c, 'cu_noemail') < 0.005 THEN NULL
            WHEN pct(c, 'cu_noemail') < 0.010 THEN '  '
            WHEN pct(rk, 'cu_email_case') < 0.04 THEN upper(left(e, 1)) || substr(e, 2)
            WHEN pct(rk, 'cu_email_case') < 0.06 THEN upper(e)
            WHEN pct(rk, 'cu_email_case') < 0.08 THEN ' ' || e || ' '
            ELSE e
        END AS email,
        CASE WHEN pct(rk, 'cu_fn_case') < 0.01 THEN NULL
             WHEN pct(rk, 'cu_fn_case') < 0.03 THEN upper(first_name_of(c))
             WHEN pct(rk, 'cu_fn_case') < 0.05 THEN ' ' || first_name_of(c) || ' '
             ELSE first_name_of(c) END AS first_name,
        CASE WHEN pct(rk, 'cu_state_null') < 0.015 THEN NULL
             WHEN k > 0 AND pct(rk, 'cu_moved') < 0.2 THEN pick({states}, rk, 'cu_state')
             WHEN pct(rk, 'cu_state_pad') < 0.01 THEN pick({states}, c, 'cu_state') || ' '
             ELSE pick({states}, c, 'cu_state') END AS home_state,
        CASE WHEN pct(rk, 'cu_tier_null') < 0.08 THEN NULL
             WHEN pct(rk, 'cu_tier_case') < 0.03 THEN lower(pick({tiers}, tier_key, 'cu_tier'))
             ELSE pick({tiers}, tier_key, 'cu_tier')
        END AS loyalty_tier,
        CASE WHEN (pct(c, 'cu_active') < 0.9) <> (k > 0 AND pct(rk, 'cu_flip') < 0.15)
             THEN pick({_sql_list(ACTIVE_FORMS)}, rk, 'cu_active_form')
             WHEN pct(rk, 'cu_active_blank') < 0.2 THEN NULL
             ELSE pick({_sql_list(INACTIVE_FORMS)}, rk, 'cu_active_form') END AS is_active,
        ts_before(60 + hmod(ts_key, 'cu_ts', 3 * 365 * 86400), hmod(ts_key, 'cu_ms', 1000)) AS t,
        CASE WHEN tie THEN pick({EXACT_TS_FORMS}, rk, 'cu_form')
             ELSE pick({ALL_TS_FORMS}, rk, 'cu_form') END AS ts_form
    FROM (
        SELECT c, k, cp, bad, c * 4 + k AS rk,
               CASE WHEN k > 0 AND pct(c * 4 + k, 'cu_altmail') < 0.4 THEN alt_email(c)
                    WHEN pct(c, 'cu_shared') < 0.0075
                        THEN base_email(1 + hmod(c, 'cu_partner', n_customers()))
                    ELSE base_email(c) END AS e,
               nsnap = 3 AND k > 0 AND pct(c, 'cu_tie') < 0.4 AS tie,
               CASE WHEN nsnap = 3 AND k = 2 AND pct(c, 'cu_tie') < 0.4 THEN c * 4 + 1
                    ELSE c * 4 + k END AS ts_key,
               CASE WHEN k > 0 AND pct(c * 4 + k, 'cu_tier_chg') < 0.3 THEN c * 4 + k
                    ELSE c * 4 END AS tier_key
        FROM (
            SELECT c, k, nsnap, bad,
                   unnest(CASE WHEN bad = {dup} THEN [0, 1] ELSE [0] END) AS cp
            FROM (
                SELECT c, k, nsnap,
                       CASE WHEN pct(c * 4 + k, 'cu_bad') < {bad_share!r}
                            THEN hmod(c * 4 + k, 'cu_kind', {kinds.total}) ELSE -1 END AS bad
                FROM (
                    SELECT c, nsnap, unnest(range(nsnap)) AS k
                    FROM (
                        SELECT c, CASE WHEN pct(c, 'cu_nsnap') < 0.05 THEN 3
                                       WHEN pct(c, 'cu_nsnap') < 0.15 THEN 2 ELSE 1 END AS nsnap
                        FROM range(1, n_customers() + 1) AS r(c)
                    )
                )
            )
            ORDER BY c, k, cp
        )
    )
)
"""


def _bookings_sql(bad_share: float, n_rows: int) -> str:
    """SELECT producing bookings.csv rows (ordered by logical row, copy)."""
    kinds = BOOKING_KINDS
    dup0 = kinds.starts["dup"]
    conflict0 = kinds.starts["conflict"]
    return f"""
SELECT
    CASE WHEN bad = {kinds.starts["booking_id"]} THEN NULL
         WHEN {kinds.cond("booking_id")} THEN '  '
         WHEN cp = 1 AND bad = {dup0 + 1} THEN ' ' || booking_id || ' '
         ELSE booking_id END AS booking_id,
    CASE WHEN {kinds.cond("id")} THEN bad_id(c, {kinds.variant("id")})
         ELSE id_text(c, j, 'bk') END AS customer_id,
    CASE WHEN {kinds.cond("date")} THEN bad_date(d, {kinds.variant("date")})
         WHEN pct(j, 'bk_date_pad') < 0.003 THEN ' ' || strftime(d, '%Y-%m-%d')
         ELSE strftime(d, '%Y-%m-%d') END AS booking_date,
    CASE WHEN {kinds.cond("amount")} THEN bad_amount(x, {kinds.variant("amount")})
         WHEN cp = 1 AND bad BETWEEN {conflict0} AND {conflict0 + 1}
             THEN cents_text(x + 100 + hmod(j, 'bk_conflict', 5000))
         WHEN bad = -1 AND pct(j, 'bk_edge') < {bad_share / 2!r}
             THEN edge_amount(x, hmod(j, 'bk_edge_kind', {N_EDGE_AMOUNT}))
         ELSE cents_text(x) END AS booking_amount,
    CASE WHEN cp = 1 AND bad = {conflict0 + 1} THEN 'CANCELLED'
         ELSE booking_status(j) END AS booking_status,
    pick({_sql_list(PRODUCTS)}, j, 'bk_product') AS product_name,
    pick({_sql_list(BOOKING_SOURCES)}, j, 'bk_source') AS source_system
FROM (
    SELECT
        j, cp, bad,
        child_customer(j, 'bk_customer') AS c,
        'BK' || (100000001 + j)::VARCHAR AS booking_id,
        CASE WHEN pct(j, 'bk_future') < 0.02
                 THEN as_of_date() + (1 + hmod(j, 'bk_days', 120))::INTEGER
             ELSE as_of_date() - hmod(j, 'bk_days', {HISTORY_DAYS})::INTEGER END AS d,
        CASE WHEN pct(j, 'bk_zero') < 0.005 THEN 0
             ELSE 1500 + hmod(j, 'bk_cents', 45000)
                  + CASE WHEN pct(j, 'bk_big') < 0.1 THEN hmod(j, 'bk_cents_big', 400000) ELSE 0 END
        END AS x
    FROM (
        SELECT j, bad,
               unnest(CASE WHEN bad >= {dup0} THEN [0, 1] ELSE [0] END) AS cp
        FROM (
            SELECT j,
                   CASE WHEN pct(j, 'bk_bad') < {bad_share!r}
                        THEN hmod(j, 'bk_kind', {kinds.total}) ELSE -1 END AS bad
            FROM range({n_rows}) AS r(j)
        )
        ORDER BY j, cp
    )
)
"""


def _consent_sql(bad_share: float, n_extra: int) -> str:
    """SELECT producing consent_events.csv rows (ordered by event number, copy).

    Event ``j < N`` is customer ``j + 1``'s base event (95 % email channel, 5 % of them are
    moved to a random customer); the ``n_extra`` further events belong to random customers
    (58 % email channel) and 3 % of those repeat the customer's base-event instant (ties).
    """
    kinds = CONSENT_KINDS
    dup = kinds.starts["dup"]
    return f"""
SELECT
    event_id,
    CASE WHEN {kinds.cond("id")} THEN bad_id(c, {kinds.variant("id")})
         ELSE id_text(c, j, 'ce') END AS customer_id,
    CASE WHEN cp = 1 AND pct(j, 'ce_dup_pad') < 0.5 THEN ' ' || channel ELSE channel END AS channel,
    consent_status,
    CASE WHEN {kinds.cond("ts")} THEN bad_ts(t, {kinds.variant("ts")})
         ELSE fmt_ts(t, CASE WHEN tie THEN pick({EXACT_TS_FORMS}, j, 'ce_form')
                             ELSE pick({ALL_TS_FORMS}, j, 'ce_form') END)
    END AS event_ts,
    pick({_sql_list(CONSENT_SOURCES)}, j, 'ce_source') AS source_system
FROM (
    SELECT
        j, cp, bad, c, tie,
        'EV' || (500000001 + j)::VARCHAR AS event_id,
        CASE WHEN is_email THEN pick({_sql_list(EMAIL_CHANNEL_FORMS)}, j, 'ce_channel')
             ELSE pick({_sql_list(OTHER_CHANNEL_FORMS)}, j, 'ce_channel') END AS channel,
        CASE WHEN pct(j, 'ce_status') < 0.72
                 THEN pick({_sql_list(OPT_IN_FORMS)}, j, 'ce_status_form')
             WHEN pct(j, 'ce_status') < 0.97
                 THEN pick({_sql_list(OPT_OUT_FORMS)}, j, 'ce_status_form')
             WHEN pct(j, 'ce_status') < 0.985 THEN 'UNKNOWN'
             WHEN pct(j, 'ce_status') < 0.993 THEN NULL
             ELSE 'pending' END AS consent_status,
        ts_before(CASE WHEN tie THEN 60 + hmod(c, 'ce_base_ts', {HISTORY_DAYS} * 86400)
                       ELSE 60 + hmod(j, 'ce_ts', {HISTORY_DAYS} * 86400) END,
                  CASE WHEN tie THEN 0 ELSE hmod(j, 'ce_ms', 1000) END) AS t
    FROM (
        SELECT j, cp, bad, c,
               CASE WHEN j < n_customers() THEN pct(j, 'ce_email') < 0.95
                    ELSE pct(j, 'ce_email') < 0.5833 END AS is_email,
               CASE WHEN j < n_customers() THEN pct(j, 'ce_moved') >= 0.05
                    ELSE pct(j, 'ce_tie') < 0.03 END AS tie
        FROM (
            SELECT j, cp, bad,
                   CASE WHEN j < n_customers() AND pct(j, 'ce_moved') >= 0.05 THEN j + 1
                        ELSE child_customer(j, 'ce_customer') END AS c
            FROM (
                SELECT j, bad,
                       unnest(CASE WHEN bad = {dup} THEN [0, 1] ELSE [0] END) AS cp
                FROM (
                    SELECT j,
                           CASE WHEN pct(j, 'ce_bad') < {bad_share!r}
                                THEN hmod(j, 'ce_kind', {kinds.total}) ELSE -1 END AS bad
                    FROM range(n_customers() + {n_extra}) AS r(j)
                )
                ORDER BY j, cp
            )
        )
    )
)
"""


def _suppressions_sql(bad_share: float, n_rows: int) -> str:
    """SELECT producing suppressions.csv rows (ordered by row, copy)."""
    kinds = SUPPRESSION_KINDS
    neither = kinds.starts["neither"]
    dates0 = kinds.starts["dates"]
    dup = kinds.starts["dup"]
    return f"""
SELECT
    CASE WHEN {kinds.cond("neither")} THEN (CASE WHEN bad = {neither} THEN NULL
                                             WHEN bad = {neither + 1} THEN ' ' || c::VARCHAR || 'a'
                                             ELSE '  ' END)
         WHEN {kinds.cond("id_with_email")} THEN bad_id(c, hmod(j, 'su_bad_id', {N_BAD_ID}))
         WHEN by_id THEN id_text(c, j, 'su') ELSE NULL END AS customer_id,
    CASE WHEN {kinds.cond("neither")} THEN (CASE WHEN bad = {neither + 2} THEN '   ' ELSE NULL END)
         WHEN {kinds.cond("id_with_email")} THEN coalesce(email, base_email(c))
         WHEN cp = 1 AND email IS NOT NULL THEN email || '  '
         ELSE email END AS email,
    pick({_sql_list(SUPPRESSION_REASONS)}, j, 'su_reason') AS suppression_reason,
    CASE WHEN bad = {dates0} THEN strftime(d_from, '%Y/%m/%d')
         WHEN bad = {dates0 + 1} THEN NULL
         WHEN bad = {dates0 + 2} THEN strftime(d_from, '%Y-02-30')
         ELSE strftime(d_from, '%Y-%m-%d') END AS suppressed_from,
    CASE WHEN bad = {dates0 + 3} THEN 'never'
         WHEN bad = {dates0 + 4} THEN strftime(d_from, '%d/%m/%Y')
         ELSE strftime(d_until, '%Y-%m-%d') END AS suppressed_until
FROM (
    SELECT
        j, cp, bad, c,
        u < 0.70 OR (u >= 0.85 AND u < 0.90) AS by_id,
        CASE WHEN u < 0.70 THEN NULL
             WHEN u < 0.77 THEN 'ghost' || j::VARCHAR || '@example.net'
             WHEN pct(j, 'su_email_case') < 0.10
                 THEN upper(left(base_email(c), 1)) || substr(base_email(c), 2)
             WHEN pct(j, 'su_email_case') < 0.15 THEN ' ' || base_email(c)
             -- the address written inside other text, as platforms and hands write it
             WHEN pct(j, 'su_email_case') < 0.17 THEN '<' || base_email(c) || '>'
             WHEN pct(j, 'su_email_case') < 0.19
                 THEN 'ghost' || j::VARCHAR || '@example.net; ' || base_email(c)
                      || ', other' || j::VARCHAR || '@example.org'
             WHEN pct(j, 'su_email_case') < 0.20
                 THEN 'x' || j::VARCHAR || '@' || base_email(c) || '@example.org'
             ELSE base_email(c)
        END AS email,
        d_from,
        CASE WHEN w < 0.70 THEN NULL
             WHEN w < 0.71 THEN as_of_date()
             ELSE d_from + (1 + hmod(j, 'su_len', 400))::INTEGER END AS d_until
    FROM (
        SELECT j, cp, bad,
               1 + hmod(j, 'su_customer', n_customers()) AS c,
               pct(j, 'su_type') AS u,
               pct(j, 'su_until') AS w,
               CASE WHEN pct(j, 'su_from') < 0.08
                        THEN as_of_date() + (1 + hmod(j, 'su_days', 60))::INTEGER
                    WHEN pct(j, 'su_from') < 0.09 THEN as_of_date()
                    ELSE as_of_date() - hmod(j, 'su_days', {HISTORY_DAYS})::INTEGER END AS d_from
        FROM (
            SELECT j, bad,
                   unnest(CASE WHEN bad = {dup} THEN [0, 1] ELSE [0] END) AS cp
            FROM (
                SELECT j,
                       CASE WHEN pct(j, 'su_bad') < {bad_share!r}
                            THEN hmod(j, 'su_kind', {kinds.total}) ELSE -1 END AS bad
                FROM range({n_rows}) AS r(j)
            )
            ORDER BY j, cp
        )
    )
)
"""


def _connect(
    threads: int | None, memory_limit: str, temp_directory: Path
) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB connection with bounded memory and a spill directory."""
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = {string_literal(memory_limit)}")
    con.execute(f"SET temp_directory = {string_literal(str(temp_directory))}")
    con.execute("SET preserve_insertion_order = true")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _copy(con: duckdb.DuckDBPyConnection, select_sql: str, path: Path) -> int:
    """Stream ``select_sql`` into a headed, comma separated UTF-8 CSV; return the row count."""
    target = string_literal(str(path))
    row = con.execute(
        f"COPY ({select_sql}) TO {target} (FORMAT csv, HEADER true, DELIMITER ',')"
    ).fetchone()
    return int(row[0]) if row else 0


def generate(
    customers: int,
    seed: int,
    as_of: date,
    out_dir: Path | str,
    bad_share: float = 0.01,
    *,
    threads: int | None = None,
    memory_limit: str = "4GB",
    temp_directory: Path | str | None = None,
) -> GenerationResult:
    """Write the four raw CSV files for ``customers`` customers into ``out_dir``.

    Args:
        customers: number of distinct customers (customer ids ``1..customers``).
        seed: pseudo-random seed; same arguments give byte-identical files.
        as_of: reference date; bookings, events and suppressions are placed around it.
        out_dir: output directory (created if missing).
        bad_share: share (0..1) of rows per file that carry an invalid value.
        threads: DuckDB worker threads (default: all cores; output does not depend on it).
        memory_limit: DuckDB memory limit; sorts spill to ``temp_directory`` beyond it.
        temp_directory: spill directory (default: a fresh temporary directory, removed after).

    Returns:
        Row counts, file sizes and per-file seconds.
    """
    if customers < 1:
        raise ValueError("customers must be >= 1")
    if not 0.0 <= bad_share <= 1.0:
        raise ValueError("bad_share must be between 0 and 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    own_tmp = temp_directory is None
    tmp = Path(tempfile.mkdtemp(prefix="generate_data_")) if own_tmp else Path(str(temp_directory))
    bad = float(bad_share)
    n_bookings = round(customers * BOOKINGS_PER_CUSTOMER)
    n_extra_events = round(customers * EXTRA_CONSENT_EVENTS_PER_CUSTOMER)
    n_suppressions = max(1, round(customers * SUPPRESSIONS_PER_CUSTOMER))
    statements = {
        "customers.csv": _customers_sql(bad),
        "bookings.csv": _bookings_sql(bad, n_bookings),
        "consent_events.csv": _consent_sql(bad, n_extra_events),
        "suppressions.csv": _suppressions_sql(bad, n_suppressions),
    }
    counts: dict[str, int] = {}
    sizes: dict[str, int] = {}
    seconds: dict[str, float] = {}
    try:
        con = _connect(threads, memory_limit, tmp)
        try:
            con.execute(_macros_sql(seed, customers, as_of))
            for name, sql in statements.items():
                started = time.perf_counter()
                path = out / name
                counts[name] = _copy(con, sql, path)
                seconds[name] = time.perf_counter() - started
                sizes[name] = path.stat().st_size
        finally:
            con.close()
    finally:
        if own_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return GenerationResult(out_dir=out, row_counts=counts, file_sizes=sizes, seconds=seconds)
