"""The rules' parameters (dbt vars ``recent_booking_days``, ``counted_booking_statuses``,
``min_recent_bookings``, ``non_email_channels``) through ``audience run --vars`` and plain dbt.

- The sample with other parameters publishes what the plain-Python reference computes with the
  same parameters, and every output says which values were in force.
- A bad value stops ``dbt build`` before anything is built, naming the var.
- ``dbt test`` checks the tables as they were built: after ``dbt build --vars '{as_of_date:
  ...}'`` a plain ``dbt test`` passes whatever day it runs, and asking it for another as-of date
  (or other parameters) stops with a message instead of failing a control.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import PROJECT_DIR, RUN_PIPELINE_CLI, query, read_csv_rows, read_decisions
from reference import audience_rules as rules

from audience_pipeline.dbt_invoke import DbtSetup, run_dbt

pytestmark = pytest.mark.slow  # runs dbt

AS_OF = "2026-11-26"
SAMPLE = PROJECT_DIR / "seeds"
OTHER_PARAMETERS = (
    "{recent_booking_days: 180, counted_booking_statuses: [completed, Pending],"
    " min_recent_bookings: 2, non_email_channels: [' SMS', In-App]}"
)
REFERENCE_PARAMETERS = rules.RuleParameters(180, ("COMPLETED", "PENDING"), 2, ("sms", "inapp"))


@pytest.fixture(scope="module")
def other_parameters_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``audience run`` on the committed sample with non-default parameters."""
    work = tmp_path_factory.mktemp("rule_parameters")
    output_dir, database = work / "out", work / "audience.duckdb"
    completed = subprocess.run(
        [
            *RUN_PIPELINE_CLI,
            "--input-dir",
            str(SAMPLE),
            "--as-of",
            AS_OF,
            "--output-dir",
            str(output_dir),
            "--database",
            str(database),
            "--vars",
            OTHER_PARAMETERS,
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=work,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return {"output_dir": output_dir, "database": database, "stdout": completed.stdout}


def test_other_parameters_publish_what_the_reference_computes(
    other_parameters_run: dict[str, Any],
) -> None:
    expected = rules.evaluate_dir(SAMPLE, dt.date.fromisoformat(AS_OF), REFERENCE_PARAMETERS)
    default = rules.evaluate_dir(SAMPLE, dt.date.fromisoformat(AS_OF))
    assert expected.decisions != default.decisions  # the parameters change the audience
    audience = read_csv_rows(other_parameters_run["output_dir"] / "eligible_audience.csv")
    assert audience == expected.audience
    assert read_decisions(other_parameters_run["database"]) == expected.decisions
    assert f"published {len(expected.audience)} of" in other_parameters_run["stdout"]


def test_outputs_say_which_parameters_were_in_force(other_parameters_run: dict[str, Any]) -> None:
    report = json.loads((other_parameters_run["output_dir"] / "reconciliation.json").read_text())
    assert report["as_of_date"] == AS_OF
    assert report["rule_parameters"] == {
        "recent_booking_days": 180,
        "counted_booking_statuses": ["COMPLETED", "PENDING"],
        "min_recent_bookings": 2,
        "non_email_channels": ["inapp", "sms"],
        "booking_window_start_date": "2026-05-31",
    }
    database = other_parameters_run["database"]
    assert query(database, "select * from marts.audience_build_parameters") == [
        (dt.date(2026, 11, 26), 180, dt.date(2026, 5, 31), "COMPLETED,PENDING", 2, "inapp,sms")
    ]
    ((description, checks),) = query(
        database,
        "select exclusion_description, rule_checks from marts.audience_exclusion_summary "
        "where decision_reason = 'no_recent_booking'",
    )
    assert description == (
        "Fewer than 2 bookings with status COMPLETED or PENDING in the 180 days up to the "
        "as-of date"
    )
    assert checks.startswith("at least 2 bookings with status COMPLETED or PENDING")
    ((consent_description,),) = query(
        database,
        "select exclusion_description from marts.audience_exclusion_summary "
        "where decision_reason = 'no_email_consent'",
    )
    assert "or other than OPT_IN on a channel other than inapp and sms," in consent_description


def test_history_shows_the_parameters_and_each_change(
    other_parameters_run: dict[str, Any], tmp_path: Path
) -> None:
    """``audience history`` gives each run's parameters (JSON) and, below the table, those of
    the first run, then each change with the value before it (a copy of the module's database:
    the next day's run with the default parameters, accepted)."""
    database = tmp_path / "audience.duckdb"
    database.write_bytes(other_parameters_run["database"].read_bytes())
    common = ["--database", str(database), "--output-dir", str(other_parameters_run["output_dir"])]
    completed = subprocess.run(
        [*RUN_PIPELINE_CLI, "--input-dir", str(SAMPLE), "--as-of", "2026-11-27", *common,
         "--accept-drift", "default parameters again", "--quiet"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr

    def history(*extra: str) -> str:
        shown = subprocess.run(
            [sys.executable, "-m", "audience_pipeline", "history", *common, *extra],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return shown.stdout

    first, second = json.loads(history("--format", "json"))
    assert first["rule_parameters"] == {
        "recent_booking_days": 180,
        "counted_booking_statuses": ["COMPLETED", "PENDING"],
        "min_recent_bookings": 2,
        "non_email_channels": ["inapp", "sms"],
    }
    defaults = second["rule_parameters"]
    assert defaults["recent_booking_days"] == 365 and defaults["min_recent_bookings"] == 1
    table = history().splitlines()
    assert table[-2] == (
        "  rules' parameters from run #1: recent_booking_days 180; counted_booking_statuses "
        "COMPLETED, PENDING; min_recent_bookings 2; non_email_channels inapp, sms"
    )
    assert table[-1] == (
        "  rules' parameters from run #2: recent_booking_days 365 (was 180); "
        f"counted_booking_statuses {', '.join(defaults['counted_booking_statuses'])} (was "
        "COMPLETED, PENDING); min_recent_bookings 1 (was 2); non_email_channels "
        f"{', '.join(defaults['non_email_channels'])} (was inapp, sms)"
    )


# ------------------------------------------------------------------------------ plain dbt


def setup(work: Path, dbt_vars: dict[str, Any], name: str = "audience") -> DbtSetup:
    return DbtSetup(
        database=work / f"{name}.duckdb",
        dbt_vars=dbt_vars,
        target_path=work / "target",
        log_path=work / "logs",
    )


@pytest.fixture(autouse=True)
def no_as_of_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``dbt test`` here reads the as-of date from vars only, as a person's shell would."""
    monkeypatch.delenv("AUDIENCE_AS_OF_DATE", raising=False)


@pytest.mark.parametrize(
    ("dbt_vars", "named"),
    [
        ({"recent_booking_days": 0}, "var recent_booking_days takes a whole number"),
        ({"recent_booking_days": "abc"}, "var recent_booking_days takes a whole number"),
        ({"min_recent_bookings": -1}, "var min_recent_bookings takes a whole number"),
        ({"counted_booking_statuses": []}, "var counted_booking_statuses takes a non-empty list"),
        ({"non_email_channels": "sms"}, "var non_email_channels takes a list of consent channels"),
        ({"non_email_channels": ["E-Mail"]}, "none that reads as email"),
        ({"non_email_channels": ["sms", "a'b"]}, "var non_email_channels takes a list"),
    ],
)
def test_a_bad_value_stops_dbt_build_before_anything_is_built(
    tmp_path: Path, dbt_vars: dict[str, Any], named: str
) -> None:
    built = run_dbt(["build"], setup(tmp_path, {"as_of_date": AS_OF, **dbt_vars}))
    assert not built.success
    assert built.error is not None and named in built.error, built.error
    assert built.nodes == ()  # nothing ran, not even a seed
    database = tmp_path / "audience.duckdb"
    if database.exists():
        assert query(database, "select count(*) from information_schema.tables") == [(0,)]


def test_dbt_test_checks_the_build_whatever_its_own_vars(tmp_path: Path) -> None:
    """Built with an as-of var (and other parameters); tested without them: every control
    passes, reading the build's values. Asked for another as-of date or parameter: a message."""
    built_with = {
        "as_of_date": AS_OF,
        "recent_booking_days": 180,
        "min_recent_bookings": 2,
        "non_email_channels": ["SMS", "push"],
    }
    built = run_dbt(["build", "--exclude-resource-type", "unit_test"], setup(tmp_path, built_with))
    assert built.success, built.error

    data_tests = ["test", "--exclude-resource-type", "unit_test"]
    plain = run_dbt(data_tests, setup(tmp_path, {}))
    assert plain.success, plain.error
    assert plain.controls and all(node.status == "pass" for node in plain.controls)
    assert "assert_audience_has_no_ineligible_member" in {node.name for node in plain.controls}

    same = run_dbt(
        data_tests,
        setup(
            tmp_path,
            {"as_of_date": AS_OF, "min_recent_bookings": 2, "non_email_channels": ["Push", "sms"]},
        ),
    )
    assert same.success, same.error

    other_day = run_dbt(data_tests, setup(tmp_path, {"as_of_date": "2027-01-15"}))
    assert not other_day.success
    assert other_day.error is not None
    assert "the tables were built as of 2026-11-26" in other_day.error
    assert "as_of_date 2027-01-15 (built with 2026-11-26)" in other_day.error
    assert other_day.nodes == ()  # no control ran, so none failed

    other_window = run_dbt(data_tests, setup(tmp_path, {"recent_booking_days": 365}))
    assert not other_window.success
    assert other_window.error is not None
    assert "recent_booking_days 365 (built with 180)" in other_window.error

    other_channels = run_dbt(data_tests, setup(tmp_path, {"non_email_channels": []}))
    assert not other_channels.success
    assert other_channels.error is not None
    assert "non_email_channels [] (built with [push, sms])" in other_channels.error

    # tables built before parameters were recorded: a message naming them, not a missing column
    expected = {
        "non_email_channels": "before the rules' parameter non_email_channels was recorded",
        "min_recent_bookings": (
            "before the rules' parameters min_recent_bookings, non_email_channels were recorded"
        ),
    }
    for column, message in expected.items():
        with duckdb.connect(str(tmp_path / "audience.duckdb")) as con:
            con.execute(f"alter table marts.audience_build_parameters drop column {column}")
        older = run_dbt(data_tests, setup(tmp_path, {}))
        assert not older.success
        assert older.error is not None
        assert message in older.error
        assert older.nodes == ()


def test_as_of_date_from_the_environment_is_checked_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``audience run`` passes the as-of date as AUDIENCE_AS_OF_DATE; a test asking for another
    date that way is refused the same way."""
    built = run_dbt(
        ["run", "--select", "audience_build_parameters"], setup(tmp_path, {"as_of_date": AS_OF})
    )
    assert built.success, built.error
    monkeypatch.setenv("AUDIENCE_AS_OF_DATE", "2026-12-01")
    checked = run_dbt(["test", "--select", "audience_build_parameters"], setup(tmp_path, {}))
    assert not checked.success
    assert checked.error is not None and "built as of 2026-11-26" in checked.error
