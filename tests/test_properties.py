"""Property tests: random small datasets through the REAL pipeline, against plain Python.

Hypothesis draws small datasets in the data contract: a few customers with one or two
snapshots (tied ``updated_at`` instants written with different offsets, inactive flags,
shared, malformed and missing emails), bookings (window edges, valid and invalid amounts,
repeats and conflicting booking ids), consent events (ties between OPT_IN and other statuses,
other channels, invalid timestamps and ids) and suppressions (by id, by email or both, active,
expired, future, unreadable dates), plus the odd line that cannot be split. Each example
also draws the rules' parameters (``recent_booking_days``, ``counted_booking_statuses``,
``min_recent_bookings``: the dbt vars of ``audience run --vars``), passes them to the pipeline
and the same values to the reference; booking dates sit at the edges of the window drawn.

dbt needs seconds per build, so one Hypothesis example holds ``DATASETS_PER_RUN`` datasets at
disjoint customer ids (dataset ``k`` uses ids ``100 * (k + 1) + 1..6`` and its own emails,
booking and event ids) in one landing folder, and runs the pipeline twice:

1. **as written**: every dataset's published audience, every customer's decision reason
   (``marts.customer_audience_decisions``) and every rejected line's reason must equal the
   independent reference (``tests/reference/audience_rules.py``: no SQL, no shared code) run
   on that dataset alone; and the safety property is checked on every dataset by a small,
   separate check written here from what the generator *meant* (never by parsing text): no
   published customer's latest email consent is anything but OPT_IN, nobody published is
   actively suppressed by id or email, and nobody published shares an address with a customer
   whose latest email consent is not OPT_IN or who is actively suppressed by id;
2. **every input file shuffled**: the audience file is byte-identical, every decision and the
   reconciliation counts are identical, and the same rows are rejected for the same reasons.

``AUDIENCE_PROPERTY_EXAMPLES`` overrides the number of Hypothesis examples (for a longer soak).
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import COLUMNS, csv_line, read_csv_rows, read_decisions
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from reference import audience_rules as rules

from audience_pipeline.parameters import parse_rule_parameters
from audience_pipeline.pipeline import run_pipeline

pytestmark = pytest.mark.slow  # runs dbt end to end

AS_OF = dt.date(2026, 11, 26)
DATASETS_PER_RUN = 8
EXAMPLES = int(os.environ.get("AUDIENCE_PROPERTY_EXAMPLES", "8"))
UNTERMINATED = "unterminated quote (or a line break inside a quoted field)"
SENTINEL_ID = "999999"  # an orphan id on a row in each of bookings, consent, suppressions

# ---------------------------------------------------------------------------
# What the generator means: the facts the safety check reads (never parsed from text)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    customer_id: int
    email: str | None  # normalized
    instant: dt.datetime
    is_active: bool

    def counts(self) -> bool:
        """An active snapshot dated after the as-of date gives way to one that counts."""
        return self.instant.date() <= AS_OF or not self.is_active


@dataclass(frozen=True)
class Consent:
    customer_id: int
    is_email: bool
    status: str  # upper, trimmed
    instant: dt.datetime


@dataclass(frozen=True)
class Suppression:
    customer_id: int | None
    email: str | None  # normalized
    active: bool


@dataclass
class Dataset:
    """One generated dataset: the lines of each file and the facts behind the readable ones."""

    index: int
    # per file: (line as written, structural reason if it cannot be split, row if it can)
    records: dict[str, list[tuple[str, str | None, dict[str, str] | None]]] = field(
        default_factory=lambda: {name: [] for name in COLUMNS}
    )
    snapshots: list[Snapshot] = field(default_factory=list)  # accepted customers rows
    consents: list[Consent] = field(default_factory=list)  # accepted consent events
    suppressions: list[Suppression] = field(default_factory=list)  # accepted suppressions

    def __repr__(self) -> str:  # what Hypothesis prints for a failing example: the files
        files = "\n".join(
            f"  {name}.csv:\n" + "\n".join(f"    {text!r}" for text, _, _ in records)
            for name, records in self.records.items()
        )
        return f"Dataset {self.index} (customer ids {self.base + 1}..{self.base + 99}):\n{files}"

    @property
    def base(self) -> int:
        return 100 * (self.index + 1)

    def owns(self, customer_id: int) -> bool:
        return self.base < customer_id < self.base + 100

    def add(self, name: str, row: dict[str, str], broken: str | None = None) -> None:
        line = csv_line([row[column] for column in COLUMNS[name]])
        if broken == "too many fields":
            n = len(COLUMNS[name])
            self.records[name].append((line + ",x", f"expected {n} fields, found {n + 1}", None))
        elif broken == "unterminated quote":
            head, tail = line.split(",", 1)
            self.records[name].append((f'{head},"{tail}', UNTERMINATED, None))
        else:
            self.records[name].append((line, None, row))


# ---------------------------------------------------------------------------
# Value forms
# ---------------------------------------------------------------------------

INSTANTS = (
    dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.UTC),
    dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
)
AFTER_AS_OF = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
INVALID_TIMESTAMPS = (
    "2026-02-30T00:00:00Z",
    "yesterday",
    "2026-01-01T10:00:00z",
    "",
    "2026-01-01T24:00:00",
)


def render_instant(instant: dt.datetime, form: int) -> str:
    """One of several spellings of the same UTC instant."""
    if form == 0:
        return instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    if form == 1:
        return instant.strftime("%Y-%m-%d %H:%M:%S")
    if form == 2:
        return (instant + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    if form == 3:
        return (instant - dt.timedelta(hours=5, minutes=30)).strftime("%Y-%m-%dT%H:%M-05:30")
    if form == 4:
        return instant.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if form == 5 and instant.hour == instant.minute == 0:
        return instant.date().isoformat()
    return " " + instant.strftime("%Y-%m-%dT%H:%M:%SZ") + " "


@st.composite
def timestamps(draw: st.DrawFn, clean: bool) -> tuple[str, dt.datetime | None]:
    """(text, the instant it means or None when it is invalid)."""
    if not clean and draw(st.integers(0, 11)) == 0:
        return draw(st.sampled_from(INVALID_TIMESTAMPS)), None
    instant = draw(st.sampled_from(INSTANTS))
    return render_instant(instant, draw(st.integers(0, 6))), instant


@st.composite
def customer_ids(draw: st.DrawFn, customer_id: int, clean: bool) -> tuple[str, bool]:
    """(text, whether it is a readable id) for ``customer_id``."""
    form = draw(st.integers(0, 17 if clean else 19))
    if form <= 15:
        return str(customer_id), True
    if form == 16:
        return f" 00{customer_id} ", True
    if form == 17:  # padded by a spreadsheet: no-break and ideographic spaces
        return f"\u00a0{customer_id}\u3000", True
    if form == 18:
        return f"{customer_id}a", False
    return "", False


@st.composite
def emails(draw: st.DrawFn, k: int, clean: bool) -> tuple[str, str | None]:
    """(text, normalized value or None when missing): shared, malformed or missing."""
    name = draw(st.sampled_from("ab" if clean else "abc"))
    address = f"{name}{k}@ex.com"
    form = draw(st.integers(0, 7 if clean else 11))
    if form <= 6:
        return address, address
    if form == 7:
        return f"\u2003 {address.upper()}\u00a0", address
    if form == 8:
        return f"{name}{k}.ex.com", f"{name}{k}.ex.com"  # no @
    if form == 9:
        return f"{name}{k}@excom", f"{name}{k}@excom"  # no dot in the domain
    return draw(st.sampled_from(["", "   "])), None


SUPPRESSED_FROM = (  # text, parsed date or None if it cannot be read (still suppresses)
    ("2026-01-01", dt.date(2026, 1, 1)),
    ("2026-11-26", dt.date(2026, 11, 26)),
    ("2026-11-27", dt.date(2026, 11, 27)),
    (" 2026-01-01 ", dt.date(2026, 1, 1)),
    ("", None),
    ("soon", None),
    ("2026-02-30", None),
)
SUPPRESSED_UNTIL = (  # text, parsed date, readable
    ("", None, True),
    ("2026-11-26", dt.date(2026, 11, 26), True),
    ("2026-11-25", dt.date(2026, 11, 25), True),
    ("2027-01-01", dt.date(2027, 1, 1), True),
    ("never", None, False),
    ("2026-13-01", None, False),
)


def booking_dates(days: int) -> tuple[str, ...]:
    """In the window (as-of - days < date <= as-of) or near it, at its edges, outside, invalid."""
    before = AS_OF - dt.timedelta(days=days)  # the last day that does not count
    inside = (AS_OF - dt.timedelta(days=days // 2), before + dt.timedelta(days=1), AS_OF)
    return (
        *(*(day.isoformat() for day in inside), "2026-06-01") * 2,
        before.isoformat(),
        "2026-11-27",
        "2026-02-30",
    )


AMOUNTS = (
    *("100.00", "25.50", "1.5e2", "-0", " 12.345 ", "0.005") * 2,
    "abc",
    "-1",
    "NaN",
    "1e16",
)
BOOKING_STATUSES = (
    *("COMPLETED", "COMPLETED", "COMPLETED", " completed "),
    *("PENDING", " pending ", "CANCELLED"),
)
#: how a suppressions export may write an address: as it is, or inside other text
ADDRESS_FORMS = ("{}", "{}", "{}", "<{}>", "mailto:{}", '"Name" <{}>', "{}; other@example.org")
CHANNELS = (
    "email",
    "email",
    "email",
    " EMAIL ",
    "Email",
    "sms",
    "E-Mail",
    "e_mail",
    "",
    " - ",
    "all",
    "In-App",
    "emial",
    "Push",
)
STATUSES = (*("OPT_IN",) * 5, " opt_in ", "OPT_OUT", "opt_out", "PENDING", "")
ACTIVE_FLAGS = (
    *(("true", True),) * 4,
    ("1", True),
    (" Yes ", True),
    ("false", False),
    ("maybe", False),
)


def broken_line(draw: st.DrawFn, clean: bool) -> str | None:
    """Now and then, write a row as a line that cannot be split."""
    if clean:
        return None
    return draw(st.sampled_from([None] * 28 + ["too many fields", "unterminated quote"]))


def pick(draw: st.DrawFn, clean: bool, choices: tuple[Any, ...], clean_choices: int) -> Any:
    """One of ``choices``; a clean dataset only takes from the first ``clean_choices``."""
    return draw(st.sampled_from(choices[:clean_choices] if clean else choices))


# ---------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------


# The rules' parameters an example may draw: the defaults first (Hypothesis starts simple)
# and more often, so most datasets still get as far as the shared-address rules.
WINDOW_DAYS = (365, 180, 365, 30)
COUNTED_STATUSES = (
    ("COMPLETED",),
    ("COMPLETED", "PENDING"),
    ("COMPLETED",),
    (" pending ", "cancelled"),
)
MIN_RECENT_BOOKINGS = (1, 2, 1)
NON_EMAIL_CHANNELS = (
    list(rules.DEFAULT_PARAMETERS.non_email_channels),
    ["sms"],
    [],
    [" SMS ", "all", "in-app"],
)


@st.composite
def rule_parameters(draw: st.DrawFn) -> dict[str, Any]:
    """The four vars as ``audience run --vars`` takes them (checked and normalized there)."""
    text = json.dumps(
        {
            "recent_booking_days": draw(st.sampled_from(WINDOW_DAYS)),
            "counted_booking_statuses": list(draw(st.sampled_from(COUNTED_STATUSES))),
            "min_recent_bookings": draw(st.sampled_from(MIN_RECENT_BOOKINGS)),
            "non_email_channels": draw(st.sampled_from(NON_EMAIL_CHANNELS)),
        }
    )
    return parse_rule_parameters(text)  # JSON is YAML


def reference_parameters(parameters: dict[str, Any]) -> rules.RuleParameters:
    return rules.RuleParameters(
        recent_booking_days=parameters["recent_booking_days"],
        counted_booking_statuses=tuple(parameters["counted_booking_statuses"]),
        min_recent_bookings=parameters["min_recent_bookings"],
        non_email_channels=tuple(parameters["non_email_channels"]),
    )


@st.composite
def datasets(
    draw: st.DrawFn,
    k: int,
    window_days: int = 365,
    non_email_channels: tuple[str, ...] = rules.DEFAULT_PARAMETERS.non_email_channels,
) -> Dataset:
    data = Dataset(k)
    # a clean dataset has no invalid values and few reasons to exclude anyone, so customers
    # get as far as the shared-address rules; the others get every hostile form
    clean = draw(st.booleans(), label="clean")
    n_customers = draw(st.integers(1, 4))
    ids = [data.base + local for local in range(1, n_customers + 1)]
    orphan = data.base + n_customers + 1  # an id with no customers row
    any_id = st.sampled_from([*ids, orphan])

    for customer_id in ids:
        for _ in range(draw(st.integers(1, 2))):
            id_text, id_ok = draw(customer_ids(customer_id, clean))
            email_text, email = draw(emails(k, clean))
            ts_text, instant = draw(timestamps(clean))
            if not clean and draw(st.integers(0, 4)) == 0:  # written after the as-of date
                instant = AFTER_AS_OF
                ts_text = render_instant(instant, draw(st.integers(0, 6)))
            active_text, is_active = pick(draw, clean, ACTIVE_FLAGS, 7)
            row = {
                "customer_id": id_text,
                "email": email_text,
                # first names carry k: no row of one dataset can repeat a row of another
                "first_name": draw(st.sampled_from([f"Ann{k}", f" Bo{k} ", f"Ann{k} "])),
                "home_state": draw(st.sampled_from(["CA", "ny", ""])),
                "loyalty_tier": draw(st.sampled_from(["Gold", "silver", ""])),
                "is_active": active_text,
                "updated_at": ts_text,
            }
            broken = broken_line(draw, clean)
            data.add("customers", row, broken)
            if broken is None and id_ok and instant is not None:
                data.snapshots.append(Snapshot(customer_id, email, instant, is_active))
            if draw(st.integers(0, 11)) == 0:  # an identical repeat (the same facts)
                data.add("customers", row, broken)

    # bookings and consent events, per customer (and now and then for the orphan id)
    owners = [*ids, *ids, *([orphan] if draw(st.booleans()) else [])]
    for j in range(len(owners)):
        if draw(st.integers(0, 3)) == 0:
            continue
        id_text, _ = draw(customer_ids(owners[j], clean))
        row = {
            "booking_id": pick(draw, clean, (f"B{k}-{j}",) * 15 + ("", "  "), 15),
            "customer_id": id_text,
            "booking_date": pick(draw, clean, booking_dates(window_days), 8),
            "booking_amount": pick(draw, clean, AMOUNTS, 12),
            "booking_status": pick(draw, clean, BOOKING_STATUSES, 4),
            "product_name": f"P{k}",
            "source_system": "web",
        }
        broken = broken_line(draw, clean)
        data.add("bookings", row, broken)
        repeat = draw(st.integers(0, 11))
        if repeat == 0:  # the same booking again, padded: a duplicate
            data.add("bookings", {**row, "booking_id": f" {row['booking_id']} "}, broken)
        elif repeat == 1:  # the same booking id with another amount: a conflict
            data.add("bookings", {**row, "booking_amount": "7.00"}, broken)

    owners = [*ids, *ids, *([orphan] if draw(st.booleans()) else [])]
    for j in range(len(owners)):
        if draw(st.integers(0, 3)) == 0:
            continue
        id_text, id_ok = draw(customer_ids(owners[j], clean))
        ts_text, instant = draw(timestamps(clean))
        channel = pick(draw, clean, CHANNELS, 5)
        status = pick(draw, clean, STATUSES, 7)
        row = {
            "event_id": f"E{k}-{j}",
            "customer_id": id_text,
            "channel": channel,
            "consent_status": status,
            "event_ts": ts_text,
            "source_system": f"S{k}",
        }
        broken = broken_line(draw, clean)
        data.add("consent_events", row, broken)
        if broken is None and id_ok and instant is not None:
            # counts: the email channel however written, or a channel not known to be
            # another one (blank or not) unless OPT_IN
            spelled = channel.strip().lower().replace("-", "").replace("_", "").replace(" ", "")
            status_read = status.strip().upper()
            is_email = spelled == "email" or (
                spelled not in non_email_channels and status_read != "OPT_IN"
            )
            data.consents.append(Consent(owners[j], is_email, status_read, instant))
        if draw(st.integers(0, 11)) == 0:  # an identical repeat (the same facts)
            data.add("consent_events", row, broken)

    for j in range(draw(st.integers(0, 3))):
        by = draw(st.sampled_from(["id", "email", "both", "neither"]))
        customer_id = draw(any_id)
        id_text, id_ok = (
            draw(customer_ids(customer_id, clean)) if by in {"id", "both"} else ("", False)
        )
        if by == "neither":
            id_text = draw(st.sampled_from(["", "x"]))
        email_text, email = draw(emails(k, clean)) if by in {"email", "both"} else ("", None)
        if not clean and "@" in email_text:  # the address written inside other text
            email_text = draw(st.sampled_from(ADDRESS_FORMS)).format(email_text.strip())
        from_text, starts = draw(st.sampled_from(SUPPRESSED_FROM))
        until_text, ends, until_ok = draw(st.sampled_from(SUPPRESSED_UNTIL))
        if starts is None or not until_ok:
            active = True
        else:
            active = starts <= AS_OF and (ends is None or ends >= AS_OF)
        row = {
            "customer_id": id_text,
            "email": email_text,
            "suppression_reason": f"R{k}-{j}",
            "suppressed_from": from_text,
            "suppressed_until": until_text,
        }
        broken = broken_line(draw, clean)
        data.add("suppressions", row, broken)
        if broken is None and (id_ok or email is not None):
            data.suppressions.append(Suppression(customer_id if id_ok else None, email, active))
        if draw(st.integers(0, 11)) == 0:  # an identical repeat (the same facts)
            data.add("suppressions", row, broken)
    return data


SENTINELS: dict[str, dict[str, str]] = {
    "bookings": dict(
        zip(
            COLUMNS["bookings"], ["S-1", SENTINEL_ID, "2026-06-01", "1", "X", "x", "x"], strict=True
        )
    ),
    "consent_events": dict(
        zip(
            COLUMNS["consent_events"],
            ["S-1", SENTINEL_ID, "sms", "X", "2026-01-01", "x"],
            strict=True,
        )
    ),
    "suppressions": dict(
        zip(COLUMNS["suppressions"], [SENTINEL_ID, "", "x", "2030-01-01", ""], strict=True)
    ),
}


# ---------------------------------------------------------------------------
# The safety property, from the generator's facts
# ---------------------------------------------------------------------------


def latest_email_statuses(consents: list[Consent], customer_id: int) -> set[str] | None:
    """Statuses of the customer's latest email events (several on a tie); None if none."""
    events = [c for c in consents if c.customer_id == customer_id and c.is_email]
    if not events:
        return None
    latest = max(event.instant for event in events)
    return {event.status for event in events if event.instant == latest}


def unsafe_reasons(data: Dataset, customer_id: int, email: str) -> list[str]:
    """Why a published customer (with its published email) must not be in the audience."""
    reasons = []
    statuses = latest_email_statuses(data.consents, customer_id)
    if statuses != {"OPT_IN"}:
        reasons.append(f"latest email consent {statuses}")
    active = [s for s in data.suppressions if s.active]
    if any(s.customer_id == customer_id for s in active):
        reasons.append("actively suppressed by id")
    if any(s.email == email for s in active):
        reasons.append("actively suppressed by email")
    for other in {s.customer_id for s in data.snapshots} - {customer_id}:
        other_statuses = latest_email_statuses(data.consents, other)
        opted_out = other_statuses is not None and other_statuses != {"OPT_IN"}
        suppressed = any(s.customer_id == other for s in active)
        if not (opted_out or suppressed):
            continue
        snapshots = [s for s in data.snapshots if s.customer_id == other]
        snapshots = [s for s in snapshots if s.counts()] or snapshots
        latest = max(s.instant for s in snapshots)
        current_emails = {s.email for s in snapshots if s.instant == latest}
        if current_emails == {email}:  # (a tie between two addresses is left undecided)
            reasons.append(f"shares {email} with customer {other} (opted out or suppressed)")
    return reasons


# ---------------------------------------------------------------------------
# Running the pipeline
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    audience_bytes: bytes
    audience: list[dict[str, str]]
    rejected: dict[str, list[dict[str, str]]]
    reconciliation: dict[str, Any]
    decisions: dict[int, str]


def write_landing(folder: Path, lines: dict[str, list[str]]) -> None:
    folder.mkdir(parents=True)
    for name, columns in COLUMNS.items():
        text = "\n".join([",".join(columns), *lines[name]]) + "\n"
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")


RUN_COUNTER = iter(range(1_000_000))


def run(
    work: Path, lines: dict[str, list[str]], parameters: dict[str, Any] | None = None
) -> Outcome:
    """One real pipeline run on a fresh database (the drift guard sees a first run)."""
    n = next(RUN_COUNTER)
    landing, output_dir, database = work / f"landing{n}", work / f"out{n}", work / f"run{n}.duckdb"
    write_landing(landing, lines)
    run_pipeline(
        landing,
        output_dir,
        as_of=AS_OF.isoformat(),
        database=database,
        quiet=True,
        rule_parameters=parameters,
        allow_empty_audience=True,  # a random dataset may have nobody eligible
    )
    decisions = read_decisions(database)
    return Outcome(
        audience_bytes=(output_dir / "eligible_audience.csv").read_bytes(),
        audience=read_csv_rows(output_dir / "eligible_audience.csv"),
        rejected={name: read_csv_rows(output_dir / f"rejected_{name}.csv") for name in COLUMNS},
        reconciliation=json.loads((output_dir / "reconciliation.json").read_text("utf-8")),
        decisions=decisions,
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties")


STATS: collections.Counter[str] = collections.Counter()


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def named_by_broken_lines(
    generated: list[Dataset], name: str, read: Callable[[str, Sequence[str]], set[Any]]
) -> set[Any]:
    """What the lines of ``name`` that cannot be split may name (any dataset's lines)."""
    return {
        value
        for dataset in generated
        for text, reason, _ in dataset.records[name]
        if reason is not None
        for value in read(text, COLUMNS[name])
    }


def check_against_reference(
    data: Dataset,
    outcome: Outcome,
    first_line: dict[str, int],
    named: dict[str, set[int]],
    suppression_emails: set[str],
    parameters: rules.RuleParameters = rules.DEFAULT_PARAMETERS,
    customer_addresses: frozenset[tuple[int, str]] = frozenset(),
) -> None:
    """Decisions, audience and rejected lines of one dataset equal the reference's."""
    rows = {name: [row for _, _, row in data.records[name] if row is not None] for name in COLUMNS}
    expected = rules.evaluate(
        rows["customers"],
        rows["bookings"],
        rows["consent_events"],
        rows["suppressions"],
        AS_OF,
        unsplittable_line_ids=named,
        unsplittable_suppression_emails=suppression_emails,
        parameters=parameters,
        unsplittable_customer_addresses=customer_addresses,
    )
    label = f"dataset {data.index}, {parameters}"
    decisions = {c: r for c, r in outcome.decisions.items() if data.owns(c)}
    # a customer named only by a broken customers line is a customer (held); ``named`` holds
    # every dataset's lines, so each dataset checks the customers it owns
    expected_decisions = {c: r for c, r in expected.decisions.items() if data.owns(c)}
    assert decisions == expected_decisions, label
    audience = [row for row in outcome.audience if data.owns(int(row["customer_id"]))]
    assert audience == expected.audience, label

    for name in COLUMNS:
        # where each record of this dataset landed, and the reference's line for readable ones
        file_lines, reference_line, line = {}, {}, first_line[name]
        readable = 2
        for text, reason, row in data.records[name]:
            file_lines[line] = (text, reason)
            if row is not None:
                reference_line[readable] = line
                readable += 1
            line += 1
        expected_rejected = {reference_line[ln]: reason for ln, reason in expected.rejected[name]}
        expected_rejected |= {ln: reason for ln, (_, reason) in file_lines.items() if reason}
        published = [r for r in outcome.rejected[name] if int(r["source_line"]) in file_lines]
        rejected = {
            int(r["source_line"]): r["reason"] for r in published if r["disposition"] == "rejected"
        }
        assert rejected == expected_rejected, f"{label}, {name}"
        duplicates = sum(r["disposition"] == "duplicate" for r in published)
        assert duplicates == expected.file_counts[name]["duplicate"], f"{label}, {name}"
        STATS[f"rejected {name} lines"] += len(rejected)
        STATS[f"duplicate {name} lines"] += duplicates


def check_safety(data: Dataset, outcome: Outcome) -> None:
    for row in outcome.audience:
        customer_id = int(row["customer_id"])
        if data.owns(customer_id):
            reasons = unsafe_reasons(data, customer_id, row["email"])
            assert reasons == [], f"dataset {data.index}: customer {customer_id}: {reasons}"


def normalized_rejects(outcome: Outcome) -> dict[str, collections.Counter[tuple[str, ...]]]:
    """Rejected rows without their line numbers, values trimmed (which of two rows that are
    identical once trimmed is the 'duplicate' depends on their order)."""
    return {
        name: collections.Counter(
            tuple(
                re.sub(r"^duplicate of line \d+$", "duplicate", value)
                if key == "reason"
                else rules.trimmed(value)
                for key, value in row.items()
                if key != "source_line"
            )
            for row in rows
        )
        for name, rows in outcome.rejected.items()
    }


def without_checksums(report: dict[str, Any]) -> dict[str, Any]:
    """The report without what names the files and folders (checksums, the destination)."""
    files = {
        name: {key: value for key, value in counts.items() if key != "sha256"}
        for name, counts in report["input_files"].items()
    }
    return {**report, "input_files": files, "destination": None}


# ---------------------------------------------------------------------------
# The property test
# ---------------------------------------------------------------------------


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # shrinking would rerun dbt for ages
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_pipeline_matches_the_reference_is_safe_and_ignores_row_order(
    work: Path, data: st.DataObject
) -> None:
    parameters = data.draw(rule_parameters(), label="rule parameters")
    days = parameters["recent_booking_days"]
    generated = [
        data.draw(datasets(k, days, tuple(parameters["non_email_channels"])), label=f"dataset {k}")
        for k in range(DATASETS_PER_RUN)
    ]
    shuffle_seed = data.draw(st.integers(0, 2**32 - 1), label="shuffle seed")

    lines: dict[str, list[str]] = {name: [] for name in COLUMNS}
    first_lines: list[dict[str, int]] = []
    for dataset in generated:
        first_lines.append({name: 2 + len(lines[name]) for name in COLUMNS})
        for name in COLUMNS:
            lines[name].extend(text for text, _, _ in dataset.records[name])
    for name, row in SENTINELS.items():
        lines[name].append(csv_line([row[column] for column in COLUMNS[name]]))

    outcome = run(work, lines, parameters)
    assert outcome.reconciliation["rule_parameters"] == {
        **parameters,
        "booking_window_start_date": (AS_OF - dt.timedelta(days=days - 1)).isoformat(),
    }
    named = {
        name: named_by_broken_lines(generated, name, rules.ids_named_by_unsplittable_line)
        for name in COLUMNS
    }
    suppression_emails = named_by_broken_lines(
        generated, "suppressions", rules.emails_named_by_unsplittable_line
    )
    customer_addresses = frozenset(
        named_by_broken_lines(generated, "customers", rules.addresses_named_by_unsplittable_line)
    )
    for dataset, first_line in zip(generated, first_lines, strict=True):
        check_against_reference(
            dataset,
            outcome,
            first_line,
            named,
            suppression_emails,
            reference_parameters(parameters),
            customer_addresses,
        )
        check_safety(dataset, outcome)

    shuffler = random.Random(shuffle_seed)
    shuffled = {
        name: shuffler.sample(file_lines, len(file_lines)) for name, file_lines in lines.items()
    }
    again = run(work, shuffled, parameters)
    assert again.audience_bytes == outcome.audience_bytes
    assert again.decisions == outcome.decisions
    assert without_checksums(again.reconciliation) == without_checksums(outcome.reconciliation)
    assert normalized_rejects(again) == normalized_rejects(outcome)

    STATS["examples"] += 1
    STATS[f"parameters {days} days, {parameters['min_recent_bookings']} min"] += 1
    STATS["datasets"] += len(generated)
    STATS["pipeline runs"] += 2
    STATS["customers"] += len(outcome.decisions)
    STATS["published"] += len(outcome.audience)
    for reason in outcome.decisions.values():
        STATS[f"decision {reason}"] += 1


def test_examples_ran_and_covered_every_decision(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs after the property test (file order): how many examples ran, and what they hit."""
    if STATS["examples"] == 0:
        pytest.skip("the property test did not run in this session")
    with capsys.disabled():
        summary = ", ".join(f"{key} {value}" for key, value in sorted(STATS.items()))
        print(f"\n[properties] {summary}")
    assert STATS["examples"] >= EXAMPLES
    assert STATS["datasets"] == STATS["examples"] * DATASETS_PER_RUN
    assert STATS["published"] > 0


SAMPLE = Path(__file__).resolve().parent.parent / "seeds"
EXPECTED = Path(__file__).resolve().parent / "expected" / "sample_2026-11-26"


@pytest.mark.parametrize("seed", [20261126])
def test_shuffled_sample_publishes_the_expected_audience(work: Path, seed: int) -> None:
    """The committed sample (151 customers, every rule) with every file's rows shuffled."""
    shuffler = random.Random(seed)
    lines = {}
    for name in COLUMNS:
        rows = (SAMPLE / f"{name}.csv").read_text(encoding="utf-8").splitlines()[1:]
        lines[name] = shuffler.sample(rows, len(rows))
    outcome = run(work, lines)
    assert outcome.audience_bytes == (EXPECTED / "eligible_audience.csv").read_bytes()
    expected = {
        int(row["customer_id"]): row["decision_reason"]
        for row in read_csv_rows(EXPECTED / "decisions.csv")
    }
    assert outcome.decisions == expected
    counts = json.loads((EXPECTED / "file_counts.json").read_text(encoding="utf-8"))
    for name in COLUMNS:
        published = outcome.reconciliation["input_files"][name]
        assert {key: published[key] for key in counts[name]} == counts[name]


def test_safety_check_catches_what_it_should() -> None:
    """The safety check itself, on hand-made facts (so a pass above means something)."""
    t1, t2 = INSTANTS[0], INSTANTS[1]
    data = Dataset(0)
    data.snapshots = [Snapshot(101, "a0@ex.com", t1, True), Snapshot(102, "a0@ex.com", t1, True)]
    data.consents = [
        Consent(101, True, "OPT_IN", t1),
        Consent(102, True, "OPT_IN", t1),
        Consent(102, True, "OPT_OUT", t2),
    ]
    assert unsafe_reasons(data, 102, "a0@ex.com") == ["latest email consent {'OPT_OUT'}"]
    assert unsafe_reasons(data, 101, "a0@ex.com") == [
        "shares a0@ex.com with customer 102 (opted out or suppressed)"
    ]
    data.consents.append(Consent(101, True, "PENDING", t1))  # a tie: not only OPT_IN
    assert "latest email consent" in unsafe_reasons(data, 101, "a0@ex.com")[0]
    data.consents = [Consent(103, True, "OPT_IN", t1)]
    data.suppressions = [Suppression(None, "b0@ex.com", True), Suppression(103, None, False)]
    assert unsafe_reasons(data, 103, "b0@ex.com") == ["actively suppressed by email"]
    assert unsafe_reasons(data, 103, "c0@ex.com") == []
