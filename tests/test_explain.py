"""``run_pipeline.py --explain CUSTOMER_ID``: one customer's rules, in words, for the latest run."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import duckdb
import pytest
from audit_helpers import Scenario, run_scenario
from conftest import RUN_PIPELINE_CLI

from audience_pipeline.explain import evaluate_rules, explain_customer, read_rules

pytestmark = pytest.mark.slow

RULE_LINE = re.compile(r"^\s*(\d+)\. (\w+) \[([^\]]+)\]", re.MULTILINE)


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return run_scenario(tmp_path_factory)


def explain_cli(database: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *RUN_PIPELINE_CLI,
            "--database",
            str(database),
            *arguments,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def customer_with(con: duckdb.DuckDBPyConnection, condition: str) -> tuple[int, str]:
    row = con.execute(
        "select customer_id, decision_reason from marts.customer_audience_decisions "
        f"where {condition} order by customer_id limit 1"
    ).fetchone()
    assert row is not None, condition
    return row


def test_a_customer_who_left_gets_every_rule_and_the_deciding_one(scenario: Scenario) -> None:
    with duckdb.connect(str(scenario.database), read_only=True) as con:
        customer_id, reason = con.execute(
            "select customer_id, decision_reason from marts.audience_changes "
            "where change_type = 'left' and decision_reason = 'no_recent_booking' "
            "order by customer_id limit 1"
        ).fetchone()
        rules = read_rules(con)
    completed = explain_cli(scenario.database, "--explain", str(customer_id))
    assert completed.returncode == 0, completed.stderr
    text = completed.stdout
    assert f"Customer {customer_id}: latest run, as of 2027-06-01" in text
    assert "latest published run: #3 as of 2027-06-01" in text
    assert "Change against published run #2 (as of 2027-01-15): left: no_recent_booking" in text
    printed = RULE_LINE.findall(text)
    assert [(int(step), code) for step, code, _ in printed] == [(r.step, r.code) for r in rules]
    outcomes = {code: outcome for _, code, outcome in printed}
    assert outcomes[reason] == "FAIL <- decides"
    assert all(outcomes[rule.code] == "pass" for rule in rules[:7])
    assert outcomes["shared_address_blocked"].startswith("not applied")
    # its inputs: the snapshot chosen, the consent event that decided, the bookings (whether
    # each counts, and why not, as int_bookings_evaluated says)
    assert "current snapshot: customers.csv line" in text
    assert "deciding event:" in text
    assert re.search(r"\(not counted: (before_window|status_not_counted|after_as_of)\)", text)
    assert "(counted)" not in text
    assert "0 booking(s) counted as of 2027-06-01" in text


def test_the_rules_are_numbered_and_worded_by_the_models(scenario: Scenario) -> None:
    """One numbering and one wording: the macro exclusion_reasons(), through the summary model."""
    with duckdb.connect(str(scenario.database), read_only=True) as con:
        rules = read_rules(con)
        summary = con.execute(
            "select exclusion_step, decision_reason, exclusion_description, rule_checks "
            "from marts.audience_exclusion_summary where decision_reason <> 'eligible' "
            "order by exclusion_step"
        ).fetchall()
        blocked, _ = customer_with(con, "decision_reason = 'shared_address_blocked'")
        text = explain_customer(con, blocked)
    assert [(r.step, r.code, r.description, r.checks) for r in rules] == [
        (step, code, description, checks) for step, code, description, checks in summary
    ]
    assert [rule.step for rule in rules] == list(range(1, 11))
    assert (rules[0].code, rules[-1].code) == ("data_quality_hold", "duplicate_email")
    assert all(rule.description and rule.checks for rule in rules)
    # rule 9 names all three kinds of doubt, in the decision and in what the rule checks
    nine = rules[8]
    for wording in (nine.description, nine.checks):
        assert "OPT_IN" in wording
        assert "suppressed by customer id" in wording
        assert "rejected consent_events row" in wording
    assert f"EXCLUDED by rule 9, shared_address_blocked: {nine.description}" in text
    assert f"  9. shared_address_blocked [FAIL <- decides]: {nine.checks}" in text


def test_suppression_consent_and_address_facts_are_shown(scenario: Scenario) -> None:
    with duckdb.connect(str(scenario.database), read_only=True) as con:
        suppressed, _ = customer_with(con, "decision_reason = 'suppressed'")
        opted_out, _ = customer_with(con, "decision_reason = 'not_opted_in'")
        blocked, _ = customer_with(con, "decision_reason = 'shared_address_blocked'")
        held, _ = customer_with(con, "decision_reason = 'data_quality_hold'")
        texts = {c: explain_customer(con, c) for c in (suppressed, opted_out, blocked, held)}
    assert re.search(r"suppressions\.csv line \d+: by \w+, .*-> ACTIVE", texts[suppressed])
    assert re.search(r"not_opted_in \[FAIL <- decides\]", texts[opted_out])
    assert re.search(
        r"deciding event: \S+ \(consent_events\.csv line \d+\): (?!OPT_IN)", texts[opted_out]
    )
    assert re.search(r"customer \d+ blocks it:", texts[blocked])
    assert re.search(r"line \d+ rejected: ", texts[held])


def test_the_explanation_agrees_with_every_decision_of_the_run(scenario: Scenario) -> None:
    """For every customer, the first failing rule printed is the run's decision."""
    with duckdb.connect(str(scenario.database), read_only=True) as con:
        rules = read_rules(con)
        decisions = con.execute("select * from marts.customer_audience_decisions").fetchall()
        names = [column[0] for column in con.description]
        for values in decisions:
            decision = dict(zip(names, values, strict=True))
            first = next(
                (rule.code for rule, passed in evaluate_rules(decision, rules) if passed is False),
                "eligible",
            )
            assert first == decision["decision_reason"], decision["customer_id"]
        sample = [dict(zip(names, values, strict=True))["customer_id"] for values in decisions[:25]]
        for customer_id in sample:
            assert "note: the rules above point to" not in explain_customer(con, customer_id)


def test_unknown_customer_exits_2_and_missing_database_1(
    scenario: Scenario, tmp_path: Path
) -> None:
    unknown = explain_cli(scenario.database, "--explain", "999999")
    assert unknown.returncode == 2
    assert "customer 999999 is not in the customers file of the latest run" in unknown.stderr
    missing = explain_cli(tmp_path / "none.duckdb", "--explain", "1001")
    assert missing.returncode == 1
    assert "no run found" in missing.stderr
    bad = explain_cli(scenario.database, "--explain", "12a")
    assert bad.returncode == 2
    no_input = explain_cli(scenario.database)
    assert no_input.returncode == 2
    assert "--input-dir" in no_input.stderr and "--output-dir" in no_input.stderr
    assert "required" in no_input.stderr


def test_a_database_built_by_an_earlier_version_is_named_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose models lack a column this version reads (built before it) is not explained
    with DuckDB's binder error: the message says to run again."""
    from audience_pipeline import explain as explain_module
    from audience_pipeline.errors import PipelineError

    database = tmp_path / "old.duckdb"
    con = duckdb.connect(str(database))
    con.execute("create schema staging")
    con.execute("create table staging.stg_exports__customers_checked (customer_id bigint)")
    con.close()

    def reads_a_missing_column(con: duckdb.DuckDBPyConnection, *_: object) -> str:
        con.execute("select customer_id_in_digits from staging.stg_exports__customers_checked")
        return ""

    monkeypatch.setattr(explain_module, "explain_customer", reads_a_missing_column)
    with pytest.raises(PipelineError, match="built by an earlier version of audience"):
        explain_module.explain(database, 1)
