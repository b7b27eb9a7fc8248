"""--keep-runs: per-customer history of a destination's older runs is pruned, counts stay."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from audience_pipeline.history import ensure_history_tables, prune_runs


def record(con: duckdb.DuckDBPyConnection, run_id: int, as_of: str, destination: str) -> None:
    con.execute(
        "insert into history.published_runs (run_id, published_at, as_of_date, customers, "
        "eligible, controls_passed, controls_failed, drift_status, destination) "
        "values (?, ?, ?, 3, 2, 1, 0, 'passed', ?)",
        [run_id, dt.datetime(2026, 12, 1, run_id), as_of, destination],
    )
    for customer_id in (1, 2, 3):
        con.execute(
            "insert into history.run_decisions (run_id, customer_id, decision_reason) "
            "values (?, ?, ?)",
            [run_id, customer_id, "eligible" if customer_id < 3 else "inactive"],
        )
    for customer_id in (1, 2):
        con.execute(
            "insert into history.run_audience (run_id, customer_id, email) values (?, ?, ?)",
            [run_id, customer_id, f"c{customer_id}@example.com"],
        )


def test_only_the_runs_published_last_to_the_destination_keep_their_customers(
    tmp_path: Path,
) -> None:
    con = duckdb.connect(str(tmp_path / "h.duckdb"))
    ensure_history_tables(con)
    record(con, 1, "2026-11-01", "crm")
    record(con, 2, "2026-11-03", "crm")
    record(con, 3, "2026-11-02", "crm")  # published later, dated earlier than run 2
    record(con, 4, "2026-11-04", "crm")
    record(con, 5, "2026-11-01", "ads")

    # the two published last are 4 and 3 (a rerun of 2026-11-04 compares with 3, kept too):
    # runs 1 and 2 lose their decisions and audience
    assert prune_runs(con, "crm", keep=2) == 2 * (3 + 2)
    kept = con.execute("select distinct run_id from history.run_decisions order by 1").fetchall()
    assert kept == [(3,), (4,), (5,)]
    assert con.execute(
        "select distinct run_id from history.run_audience order by 1"
    ).fetchall() == [
        (3,),
        (4,),
        (5,),
    ]
    assert con.execute("select count(*) from history.published_runs").fetchone() == (5,)
    assert prune_runs(con, "crm", keep=2) == 0  # nothing more to prune
    with pytest.raises(ValueError):
        prune_runs(con, "crm", keep=0)
    con.close()


def test_the_run_a_rerun_of_the_last_day_compares_with_keeps_its_customers(
    tmp_path: Path,
) -> None:
    """--keep-runs 1 keeps the run published last, and the one a rerun of its day compares with
    (the run published last before that day), so the rerun is not compared with nobody."""
    con = duckdb.connect(str(tmp_path / "h.duckdb"))
    ensure_history_tables(con)
    for run_id, as_of in ((1, "2026-11-26"), (2, "2026-11-27"), (3, "2026-11-28")):
        record(con, run_id, as_of, "crm")
    assert prune_runs(con, "crm", keep=1) == 3 + 2  # run 1 only
    kept = con.execute("select distinct run_id from history.run_decisions order by 1").fetchall()
    assert kept == [(2,), (3,)]
    con.close()
