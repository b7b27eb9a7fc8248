"""A data line that is the file's header again: in another column order it stops the run (two
exports joined, the second with its columns reordered: every line after it would be read in the
wrong columns); in its own order it is only rejected."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import AS_OF, read_csv_rows, read_decisions, run_and_read_outputs

from audience_pipeline.errors import ControlFailure
from audience_pipeline.pipeline import run_pipeline

pytestmark = pytest.mark.slow  # runs dbt

PROJECT_DIR = Path(__file__).resolve().parent.parent

#: an opt-out for customer 1061 (published by the sample), after a header of its own
REORDERED_EXPORT = [
    "customer_id,event_id,channel,consent_status,event_ts,source_system",
    "1061,CE-599040,email,OPT_OUT,2026-11-20,web",
]
SAME_ORDER_EXPORT = [
    "event_id,customer_id,channel,consent_status,event_ts,source_system",
    "CE-599040,1061,email,OPT_OUT,2026-11-20,web",
]


def _landing_with(tmp_path: Path, lines: list[str]) -> tuple[Path, int]:
    """The sample with ``lines`` appended to consent_events.csv; the first one's line number."""
    landing = tmp_path / "landing"
    shutil.copytree(PROJECT_DIR / "seeds", landing, ignore=shutil.ignore_patterns("*.yml"))
    path = landing / "consent_events.csv"
    first_line = len(path.read_text("utf-8").splitlines()) + 1
    with path.open("a", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))
    return landing, first_line


def test_a_header_in_another_order_stops_the_run(tmp_path: Path) -> None:
    """Before, the run published 1061: the opt-out's line was read with its ids swapped and
    held only customer 599040 (the event id's digits)."""
    landing, header_line = _landing_with(tmp_path, REORDERED_EXPORT)
    output_dir = tmp_path / "out"
    with pytest.raises(ControlFailure) as failure:
        run_pipeline(landing, output_dir, as_of=AS_OF, database=tmp_path / "a.duckdb", quiet=True)
    assert "assert_no_file_repeats_its_header_in_another_order" in str(failure.value)
    assert not output_dir.exists()
    diagnostics = tmp_path / ".out.diagnostics"
    rejected = {
        int(row["source_line"]): row["reason"]
        for path in diagnostics.rglob("rejected_consent_events.csv")
        for row in read_csv_rows(path)
    }
    assert rejected[header_line].startswith("the header repeated in another column order")


def test_a_header_in_another_order_naming_an_extra_column_stops_the_run(tmp_path: Path) -> None:
    """The file's extra columns are its columns too: `notes` moved where `channel` was, in the
    second header of a file with a `notes` column, still makes it a header in another order
    (before, the line read as an invalid customer_id and the opt-out after it as an sms one)."""
    landing, _ = _landing_with(tmp_path, [])
    path = landing / "consent_events.csv"
    header, *lines = path.read_text("utf-8").splitlines()
    rows = [f"{header},notes", *(f"{line}," for line in lines)]
    rows += [
        "event_id,customer_id,notes,consent_status,event_ts,source_system,channel",
        "CE-599041,1061,sms,OPT_OUT,2026-11-20,web,email",
    ]
    path.write_text("".join(f"{row}\n" for row in rows), "utf-8")
    with pytest.raises(ControlFailure) as failure:
        run_pipeline(
            landing, tmp_path / "out", as_of=AS_OF, database=tmp_path / "a.duckdb", quiet=True
        )
    assert "assert_no_file_repeats_its_header_in_another_order" in str(failure.value)


def test_the_header_repeated_in_its_own_order_is_only_rejected(tmp_path: Path) -> None:
    landing, header_line = _landing_with(tmp_path, SAME_ORDER_EXPORT)
    published = run_and_read_outputs(landing, tmp_path)
    reasons = {
        int(row["source_line"]): row["reason"] for row in published.rejected["consent_events"]
    }
    assert reasons[header_line] == "the header repeated"
    assert read_decisions(published.database)[1061] == "not_opted_in"  # the opt-out read
