"""Rule 9 counts the holders a rejected customers row may give an address to.

A customer whose only customers row was rejected has no current snapshot, but that row might be
their newest: the address on it is theirs too. When they opted out, the address is blocked for
the customer who publishes it (the same for a line that cannot be split, read from its start
and end); a holder who did not opt out blocks nothing. The decisions equal the plain-Python
reference's, and `audience explain` says how the blocking holder holds the address.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import AS_OF, COLUMNS, read_decisions, run_and_read_outputs
from reference import audience_rules as rules

from audience_pipeline.explain import explain

pytestmark = pytest.mark.slow  # runs the pipeline

PROJECT_DIR = Path(__file__).resolve().parent.parent
ROW_REJECTED, LINE_BROKEN, NOT_BLOCKING = 91001, 91002, 91003


@pytest.fixture(scope="module")
def sample_members() -> list[dict[str, str]]:
    """Three customers the sample publishes, each alone on their address."""
    result = rules.evaluate_dir(PROJECT_DIR / "seeds", dt.date.fromisoformat(AS_OF))
    return result.audience[:3]


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory, sample_members: list[dict[str, str]]
) -> tuple[Path, Path, str]:
    work = tmp_path_factory.mktemp("rejected_holders")
    landing = work / "landing"
    shutil.copytree(PROJECT_DIR / "seeds", landing, ignore=shutil.ignore_patterns("*.yml"))
    first, second, third = (member["email"].upper() for member in sample_members)
    broken = f"{LINE_BROKEN},{second},Kim,CA,gold,true,2026-01-01T00:00:00Z,extra"
    with (landing / "customers.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"{ROW_REJECTED},{first},Pat,CA,gold,true,not a timestamp\n")
        handle.write(broken + "\n")
        handle.write(f"{NOT_BLOCKING},{third},Lee,CA,gold,true,not a timestamp\n")
    with (landing / "consent_events.csv").open("a", encoding="utf-8") as handle:
        for customer_id, status in (
            (ROW_REJECTED, "OPT_OUT"),
            (LINE_BROKEN, "OPT_OUT"),
            (NOT_BLOCKING, "OPT_IN"),
        ):
            handle.write(f"CE-{customer_id},{customer_id},email,{status},2026-11-01,web\n")
    published = run_and_read_outputs(landing, work)
    return landing, published.database, broken


def test_an_opted_out_holder_on_a_rejected_row_blocks_the_address(
    run: tuple[Path, Path, str], sample_members: list[dict[str, str]]
) -> None:
    _, database, _ = run
    decisions = read_decisions(database)
    first, second, third = (int(member["customer_id"]) for member in sample_members)
    assert decisions[first] == decisions[second] == "shared_address_blocked"
    assert decisions[third] == "eligible"
    assert decisions[ROW_REJECTED] == decisions[NOT_BLOCKING] == "data_quality_hold"


def test_the_decisions_equal_the_reference(run: tuple[Path, Path, str]) -> None:
    landing, database, broken = run
    rows = rules.load_rows(landing / "customers.csv")
    expected = rules.evaluate(
        [row for row in rows if row["customer_id"] != str(LINE_BROKEN)],
        rules.load_rows(landing / "bookings.csv"),
        rules.load_rows(landing / "consent_events.csv"),
        rules.load_rows(landing / "suppressions.csv"),
        dt.date.fromisoformat(AS_OF),
        unsplittable_line_ids={
            "customers": rules.ids_named_by_unsplittable_line(broken, COLUMNS["customers"])
        },
        unsplittable_customer_addresses=rules.addresses_named_by_unsplittable_line(
            broken, COLUMNS["customers"]
        ),
    )
    assert read_decisions(database) == expected.decisions


def test_explain_names_the_holder_on_a_rejected_row(
    run: tuple[Path, Path, str], sample_members: list[dict[str, str]]
) -> None:
    _, database, _ = run
    text = explain(database, int(sample_members[0]["customer_id"]))
    assert (
        f"customer {ROW_REJECTED} (on a rejected customers row) blocks it: latest email consent "
        "is not OPT_IN" in text
    )
