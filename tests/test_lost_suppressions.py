"""A suppression that is no longer read stops the next run, one that ended does not.

The first day, three customers the sample publishes are suppressed: one with no end, one
through that day, one by email through the end of the year. The history keeps, per customer,
whether they were suppressed and through which day. The next day, a customer whose suppression
has not ended and whose line is gone from the export (or no longer matches) would be published:
the drift guard's ``lost_suppressions`` stops the run naming them, until a person accepts it. A
suppression that ended publishes its customer without stopping anything.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import AS_OF, PublishedRun, query, run_and_read_outputs
from reference import audience_rules as rules

from audience_pipeline.drift import DriftFailure
from audience_pipeline.explain import explain
from audience_pipeline.history import default_destination
from audience_pipeline.pipeline import RunResult, run_pipeline

pytestmark = pytest.mark.slow  # runs the pipeline

PROJECT_DIR = Path(__file__).resolve().parent.parent
NEXT_DAY = "2026-11-27"


@pytest.fixture(scope="module")
def suppressed(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, int], Path, PublishedRun]:
    """The customers suppressed (no end, ending on the first day, by email through the year's
    end), the first day's landing folder and what its run published."""
    result = rules.evaluate_dir(PROJECT_DIR / "seeds", dt.date.fromisoformat(AS_OF))
    no_end, ending, by_email = result.audience[:3]
    work = tmp_path_factory.mktemp("lost_suppressions")
    landing = work / "landing"
    shutil.copytree(PROJECT_DIR / "seeds", landing, ignore=shutil.ignore_patterns("*.yml"))
    with (landing / "suppressions.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"{no_end['customer_id']},,fraud_review,2026-11-01,\n")
        handle.write(f"{ending['customer_id']},,complaint,2026-11-01,{AS_OF}\n")
        handle.write(f",{by_email['email']},complaint,2026-11-01,2026-12-31\n")
    named = {
        "no_end": int(no_end["customer_id"]),
        "ending": int(ending["customer_id"]),
        "by_email": int(by_email["customer_id"]),
    }
    return named, landing, run_and_read_outputs(landing, work)


def _next_day(
    published: PublishedRun,
    landing: Path,
    tmp_path: Path,
    keep: Any,
    customer_lines: str = "",
    **options: Any,
) -> tuple[Path, RunResult]:
    """The next day's run to the first run's destination, on copies of its database and landing
    folder whose suppression lines are those ``keep`` keeps, with ``customer_lines`` added to
    the customers file."""
    database = tmp_path / "a.duckdb"
    if not database.exists():
        shutil.copyfile(published.database, database)
    next_day = tmp_path / "landing"
    if next_day.exists():
        shutil.rmtree(next_day)
    shutil.copytree(landing, next_day)
    lines = (next_day / "suppressions.csv").read_text("utf-8").splitlines(keepends=True)
    (next_day / "suppressions.csv").write_text("".join(filter(keep, lines)), "utf-8")
    with (next_day / "customers.csv").open("a", encoding="utf-8") as handle:
        handle.write(customer_lines)
    result = run_pipeline(
        next_day,
        tmp_path / "out",
        as_of=NEXT_DAY,
        database=database,
        quiet=True,
        destination=default_destination(published.output_dir),
        **options,
    )
    return database, result


def _published_ids(output_dir: Path) -> set[int]:
    audience = (output_dir / "eligible_audience.csv").read_text("utf-8").splitlines()
    return {int(line.split(",")[0]) for line in audience[1:]}


def _control(database: Path, run_id: int | None, control: str) -> tuple[str, str]:
    (row,) = query(
        database,
        "select status, detail from history.run_controls where run_id = ? and control = ?",
        [run_id, control],
    )
    return row


def test_the_history_keeps_each_customer_s_suppression_and_its_last_day(
    suppressed: tuple[dict[str, int], Path, PublishedRun],
) -> None:
    named, _, published = suppressed
    assert not {str(customer) for customer in named.values()} & {
        row["customer_id"] for row in published.audience
    }
    kept = dict(
        (customer, (is_suppressed, through))
        for customer, is_suppressed, through in query(
            published.database,
            "select customer_id, is_suppressed, suppressed_through from history.run_decisions",
        )
    )
    assert kept[named["no_end"]] == (True, None)
    assert kept[named["ending"]] == (True, dt.date.fromisoformat(AS_OF))
    assert kept[named["by_email"]] == (True, dt.date(2026, 12, 31))
    (counted,) = query(
        published.database, "select suppressed_customer_count from history.published_runs"
    )[0]
    assert counted == sum(1 for is_suppressed, _ in kept.values() if is_suppressed) > 3


def test_a_suppression_gone_before_its_end_stops_the_run_until_accepted(
    suppressed: tuple[dict[str, int], Path, PublishedRun], tmp_path: Path
) -> None:
    """The suppressions with no end and by email are gone from the next day's export (three
    lines of about two dozen, three customers entering: no count moves enough). Both customers
    would be published: the run stops naming them and their suppressions' last days; the
    customer whose suppression ended is not named. Accepted, the run publishes all three."""
    named, landing, published = suppressed

    def without_two(line: str) -> bool:
        return not (
            line.startswith(f"{named['no_end']},,") or line.endswith(",2026-11-01,2026-12-31\n")
        )

    with pytest.raises(DriftFailure) as stopped:
        _next_day(published, landing, tmp_path, without_two)
    failed = {check.control for check in stopped.value.result.checks if check.outcome == "fail"}
    assert failed == {"lost_suppressions"}
    assert (
        "lost_suppressions: 2 customer(s) published, themselves or at their address, "
        "whom the previous run to this destination "
        "held suppressed with no end or through a day not yet past (gone from the export, "
        "quarantined, shortened, or no longer naming them): "
    ) in str(stopped.value)
    assert f"customer {named['no_end']} (suppressed with no end)" in str(stopped.value)
    assert f"customer {named['by_email']} (suppressed through 2026-12-31)" in str(stopped.value)
    assert f"customer {named['ending']} (" not in str(stopped.value)
    database = tmp_path / "a.duckdb"
    assert (
        "Suppression no longer read: published run #1 held the customer suppressed with no "
        "end; this run publishes them"
    ) in explain(database, named["no_end"])
    assert "Suppression no longer read" not in explain(database, named["ending"])

    database, accepted = _next_day(
        published, landing, tmp_path, without_two, accept_drift="suppressions lifted by support"
    )
    assert set(named.values()) <= _published_ids(tmp_path / "out")
    assert _control(database, accepted.run_id, "lost_suppressions")[0] == "accepted"


def test_a_suppression_that_ended_publishes_without_stopping(
    suppressed: tuple[dict[str, int], Path, PublishedRun], tmp_path: Path
) -> None:
    """Every line still in the export: the suppression that ran through the first day has
    ended, its customer is published, the other two stay excluded, and the check passes,
    saying how many customers the previous run held suppressed."""
    named, landing, published = suppressed
    database, result = _next_day(published, landing, tmp_path, lambda line: True)
    published_now = _published_ids(tmp_path / "out")
    assert named["ending"] in published_now
    assert not {named["no_end"], named["by_email"]} & published_now
    (counted,) = query(
        database, "select suppressed_customer_count from history.published_runs where run_id = 1"
    )[0]
    assert _control(database, result.run_id, "lost_suppressions") == (
        "pass",
        "no customer published, themselves or at their address, "
        "whom the previous run to this destination held suppressed with "
        f"no end or through a day not yet past ({counted} customer(s) suppressed in that run)",
    )


def test_a_customer_suppressed_by_email_who_changed_address_is_published_without_stopping(
    suppressed: tuple[dict[str, int], Path, PublishedRun], tmp_path: Path
) -> None:
    """A suppression by email only follows the address (rule 7): the customer it matched now
    holds another address (a newer snapshot), is published, and nothing stops; their old
    address's line is still in the export and still suppresses that address."""
    named, landing, published = suppressed
    customer = named["by_email"]
    (row,) = query(
        published.database,
        "select first_name, home_state, loyalty_tier from marts.customer_audience_decisions "
        "where customer_id = ?",
        [customer],
    )
    first_name, home_state, loyalty_tier = row
    snapshot = (
        f"{customer},moved.{customer}@example.net,{first_name},{home_state},{loyalty_tier},"
        "true,2026-11-26T12:00:00Z\n"
    )
    database, result = _next_day(published, landing, tmp_path, lambda line: True, snapshot)
    assert customer in _published_ids(tmp_path / "out")
    assert _control(database, result.run_id, "lost_suppressions")[0] == "pass"
    assert "Suppression no longer read" not in explain(database, customer)


def test_a_run_recorded_before_suppressions_were_kept_has_nothing_to_compare(
    suppressed: tuple[dict[str, int], Path, PublishedRun], tmp_path: Path
) -> None:
    """Against a history without the columns (recorded by an earlier version), the line gone
    cannot be seen: the check says it had nothing to compare with, and the run keeps the
    suppressions for the next."""
    named, landing, published = suppressed
    database = tmp_path / "a.duckdb"
    shutil.copyfile(published.database, database)
    with duckdb.connect(str(database)) as con:
        con.execute(
            """
            alter table history.run_decisions drop column is_suppressed;
            alter table history.run_decisions drop column suppressed_through;
            alter table history.published_runs drop column suppressed_customer_count;
            """
        )
    gone = f"{named['no_end']},,"
    database, result = _next_day(
        published, landing, tmp_path, lambda line: not line.startswith(gone)
    )
    assert named["no_end"] in _published_ids(tmp_path / "out")
    assert _control(database, result.run_id, "lost_suppressions") == (
        "not_applicable",
        "the previous run to this destination was recorded before the history kept each "
        "customer's suppression: nothing to compare with",
    )
    counts = query(
        database,
        "select run_id, suppressed_customer_count from history.published_runs order by run_id",
    )
    assert counts[0] == (1, None) and counts[1][0] == result.run_id and counts[1][1] > 0
