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


def test_only_the_latest_runs_of_the_destination_keep_their_customers(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "h.duckdb"))
    ensure_history_tables(con)
    record(con, 1, "2026-11-01", "crm")
    record(con, 2, "2026-11-03", "crm")
    record(con, 3, "2026-11-02", "crm")  # published later, dated earlier than run 2
    record(con, 4, "2026-11-04", "crm")
    record(con, 5, "2026-11-01", "ads")

    assert prune_runs(con, "crm", keep=2) == 2 * (3 + 2)  # runs 1 and 3: decisions + audience
    kept = con.execute("select distinct run_id from history.run_decisions order by 1").fetchall()
    assert kept == [(2,), (4,), (5,)]
    assert con.execute(
        "select distinct run_id from history.run_audience order by 1"
    ).fetchall() == [
        (2,),
        (4,),
        (5,),
    ]
    assert con.execute("select count(*) from history.published_runs").fetchone() == (5,)
    assert prune_runs(con, "crm", keep=2) == 0  # nothing more to prune
    with pytest.raises(ValueError):
        prune_runs(con, "crm", keep=0)
    con.close()
