"""The year benchmark's daily folders: day k is day 0 plus k days of changes, deterministic."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from audience_tools.daily import write_day
from audience_tools.generate import generate

START = dt.date(2026, 11, 26)


def lines(folder: Path, name: str) -> list[str]:
    return (folder / f"{name}.csv").read_text(encoding="utf-8").splitlines()


def test_each_day_appends_its_changes_to_the_day_before(tmp_path: Path) -> None:
    base = tmp_path / "base"
    generate(300, 3, START, base)
    assert write_day(base, tmp_path / "d0", 0, START, 300, 3) == START
    for name in ("customers", "bookings", "consent_events", "suppressions"):
        assert lines(tmp_path / "d0", name) == lines(base, name)
    assert write_day(base, tmp_path / "d2", 2, START, 300, 3) == START + dt.timedelta(days=2)
    write_day(base, tmp_path / "d3", 3, START, 300, 3)
    for name in ("customers", "bookings", "consent_events"):
        day2, day3 = lines(tmp_path / "d2", name), lines(tmp_path / "d3", name)
        assert len(day2) > len(lines(base, name))
        assert day3[: len(day2)] == day2  # earlier days' changes stay, in order
        assert len(day3) > len(day2)
    assert lines(tmp_path / "d3", "suppressions") == lines(base, "suppressions")
    new_bookings = lines(tmp_path / "d3", "bookings")[len(lines(tmp_path / "d2", "bookings")) :]
    assert all(",2026-11-29," in line and ",COMPLETED," in line for line in new_bookings)
    moved = lines(tmp_path / "d3", "customers")[-1]
    assert moved.split(",")[1].startswith("moved.3.")


def test_the_same_arguments_give_the_same_folder(tmp_path: Path) -> None:
    base = tmp_path / "base"
    generate(200, 5, START, base)
    write_day(base, tmp_path / "a", 4, START, 200, 5)
    write_day(base, tmp_path / "b", 4, START, 200, 5)
    for name in ("customers", "bookings", "consent_events"):
        assert (tmp_path / "a" / f"{name}.csv").read_bytes() == (
            tmp_path / "b" / f"{name}.csv"
        ).read_bytes()
