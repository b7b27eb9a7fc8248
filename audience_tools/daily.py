"""Daily exports for the year benchmark: a generated folder that changes a little every day.

Day 0 is a folder written by ``generate``. Day ``k`` is day 0 plus everything that happened on
days 1 to ``k``, appended to the files as an export would carry it: new completed bookings, new
email consent events (opt-ins and opt-outs) and customers who changed their email address (a
newer customers snapshot). Every change is a pure function of ``(seed, day)``, so the same
arguments always give the same folders.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from audience_pipeline.contract import load_contract


@dataclass(frozen=True)
class DailyChanges:
    """How much changes per day, as shares of the customers (at least one of each)."""

    new_bookings: float = 0.002
    consent_changes: float = 0.0005
    email_changes: int = 1


def _day_lines(
    day: int, as_of: dt.date, customers: int, seed: int, changes: DailyChanges
) -> dict[str, list[dict[str, str]]]:
    """The rows one day adds to each file (day >= 1), keyed by column name."""
    pick = random.Random(f"{seed}:{day}")
    stamp = f"{as_of.isoformat()}T09:00:00Z"
    bookings = [
        {
            "booking_id": f"D{day:04d}-{index:06d}",
            "customer_id": str(pick.randint(1, customers)),
            "booking_date": as_of.isoformat(),
            "booking_amount": f"{pick.randint(2_000, 90_000) / 100:.2f}",
            "booking_status": "COMPLETED",
            "product_name": pick.choice(["Flight", "Hotel", "Car"]),
            "source_system": "web",
        }
        for index in range(max(1, round(customers * changes.new_bookings)))
    ]
    consent_events = [
        {
            "event_id": f"DE{day:04d}-{index:06d}",
            "customer_id": str(pick.randint(1, customers)),
            "channel": "email",
            "consent_status": pick.choice(["OPT_IN", "OPT_OUT"]),
            "event_ts": stamp,
            "source_system": "preference_center",
        }
        for index in range(max(1, round(customers * changes.consent_changes)))
    ]
    customers_rows = []
    for _ in range(changes.email_changes):
        customer_id = pick.randint(1, customers)
        customers_rows.append(
            {
                "customer_id": str(customer_id),
                "email": f"moved.{day}.{customer_id}@example.com",
                "first_name": "Moved",
                "home_state": "CA",
                "loyalty_tier": "gold",
                "is_active": "true",
                "updated_at": stamp,
            }
        )
    return {"customers": customers_rows, "bookings": bookings, "consent_events": consent_events}


def write_day(
    base: Path,
    out: Path,
    day: int,
    start: dt.date,
    customers: int,
    seed: int,
    changes: DailyChanges | None = None,
) -> dt.date:
    """Write day ``day``'s folder into ``out`` (day 0 is ``base`` as it is); its as-of date."""
    changes = changes or DailyChanges()
    out.mkdir(parents=True, exist_ok=True)
    added: dict[str, list[dict[str, str]]] = {}
    for past in range(1, day + 1):
        lines = _day_lines(past, start + dt.timedelta(days=past), customers, seed, changes)
        for name, rows in lines.items():
            added.setdefault(name, []).extend(rows)
    for spec in load_contract():
        target = out / spec.file_name
        shutil.copyfile(base / spec.file_name, target)
        rows = added.get(spec.name, [])
        if not rows:
            continue
        with (base / spec.file_name).open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
        writer.writerows(rows)
        with target.open("a", encoding="utf-8", newline="") as handle:
            handle.write(buffer.getvalue())
    return start + dt.timedelta(days=day)
