"""The ``audience`` command as a user meets it: help, version, errors, progress, history.

Fast tests run the installed console script and ``python -m audience_pipeline`` in child
processes; the slow ones run the sample end to end from a folder outside the checkout, and
install the built wheel into a fresh virtual environment.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from conftest import AS_OF, PROJECT_DIR, query

from audience_pipeline import __version__
from audience_pipeline.channels import channel_name, history_channels, possibly_email_line
from audience_pipeline.cli import drift_line
from audience_pipeline.drift import evaluate_drift
from audience_pipeline.history import PublishedRun, ensure_history_tables
from audience_pipeline.progress import DbtNodes, Progress
from audience_pipeline.redaction import removed_address

AUDIENCE = str(Path(sys.executable).with_name("audience"))
SAMPLE = PROJECT_DIR / "seeds"
#: ``audience run`` on the sample (relative to the project folder) into ``o``
RUN_SEEDS_TO_O = ["run", "--input-dir", "seeds", "--output-dir", "o"]
ANSI = re.compile(r"\x1b\[")


def audience(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AUDIENCE, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **env},
        check=False,
    )


def test_help_lists_the_subcommands_with_examples_and_exit_codes() -> None:
    top = audience("--help")
    assert top.returncode == 0
    for command in ("run", "explain", "history", "generate"):
        assert re.search(rf"^\s+{command}\s+\S", top.stdout, re.MULTILINE), command
    assert "exit codes:" in top.stdout
    for command in ("run", "explain", "history", "generate"):
        sub = audience(command, "--help")
        assert sub.returncode == 0, sub.stderr
        assert "example" in sub.stdout and f"audience {command}" in sub.stdout
        assert "exit codes:" in sub.stdout
    run_help = audience("run", "--help").stdout
    assert "(default: 0.2 = 20%)" in run_help and "default: today, UTC" in run_help


def test_module_and_alias_scripts_are_the_same_command() -> None:
    module = subprocess.run(
        [sys.executable, "-m", "audience_pipeline", "--help"], capture_output=True, text=True
    )
    assert module.returncode == 0 and module.stdout == audience("--help").stdout
    alias = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts" / "run_pipeline.py"), "--help"],
        capture_output=True,
        text=True,
    )
    assert alias.returncode == 0 and alias.stdout == audience("run", "--help").stdout
    generate = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts" / "generate_data.py"), "--help"],
        capture_output=True,
        text=True,
    )
    assert generate.returncode == 0 and generate.stdout == audience("generate", "--help").stdout


def test_version_names_the_tool_and_dbt() -> None:
    completed = audience("--version")
    assert completed.returncode == 0
    assert completed.stdout.startswith(f"audience {__version__} (dbt-core 1.11.")
    assert "dbt-duckdb 1.11." in completed.stdout and "duckdb 2." in completed.stdout


def test_the_possibly_email_line_is_one_printable_line_of_ten_channels_at_most() -> None:
    def possibly(channel: str | None, events: int, counted: int, change: str | None = None):
        return {
            "channel": channel,
            "reading": "possibly_email",
            "events": events,
            "email_events": counted,
            "change": change,
        }

    email = {"channel": "email", "reading": "email", "events": 9, "email_events": 9, "change": None}
    only_opt_ins = possibly("global", 4, 0)
    report = {
        "consent_channels": [
            possibly(None, 3, 2),
            possibly("news\nletter\x1b[31m", 1, 1, change="new"),
            possibly("x" * 60, 1, 1),
            only_opt_ins,
            email,
        ]
        + [possibly(f"c{index}", 2, 2) for index in range(10)]
    }
    line = possibly_email_line(report)
    assert line is not None
    assert "\n" not in line and "\x1b" not in line
    # the new one first, then the most counted (on a tie the most events, then the name)
    assert (
        ": news?letter?[31m (1 of 1 event, new), (blank) (2 of 3 events), c0 (2 of 2 events), "
        in line
    )
    assert line.count(" of ") == 10 and line.endswith(
        ", c7 (2 of 2 events), and 3 more (run_report.html)"
    )
    assert "global" not in line and ", email (" not in line
    assert channel_name("x" * 60) == "x" * 39 + "…"
    assert possibly_email_line({"consent_channels": [only_opt_ins, email]}) is None


def test_history_names_a_runs_new_channels_three_at_most() -> None:
    assert history_channels(None, None) == ""  # recorded before the history kept channels
    assert history_channels(4, None) == "4"  # nothing to compare with
    assert history_channels(4, []) == "4"
    assert history_channels(1234, [None, "sms\n"]) == "1,234 (2 new: (blank), sms?)"
    assert history_channels(9, ["a", "b", "c", "x" * 60, "e"]) == "9 (5 new: a, b, c, 2 more)"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["run", "--input-dir", "seeds", "--output-dir", "o", "--as-of", "30/06/2025"], "--as-of"),
        (["run", "--input-dir", "seeds", "--output-dir", "o", "--as-of", "2025-02-30"], "--as-of"),
        (["run", "--input-dir", "seeds", "--output-dir", "o", "--memory-limit", "4"], "--memory"),
        (["run", "--input-dir", "seeds", "--output-dir", "o", "--threads", "0"], "--threads"),
        (["run", "--input-dir", "seeds", "--output-dir", "o", "--threads", "two"], "--threads"),
        (["run", "--input-dir", "no/such/folder", "--output-dir", "o"], "--input-dir"),
        (["run", "--input-dir", "seeds"], "--output-dir"),
        (["run", "--input-dir", "seeds", "--output-dir", "o", "--max-input-loss", "-1"], "loss"),
        (["run", "--input-dir", "seeds", "--output-dir", "o", "--accept-drift", " "], "drift"),
        (["run", "--input-dir", "seeds", "--output-dir", "o", "--no-such-option"], "no-such"),
        (
            ["run", "--input-dir", "seeds", "--output-dir", "o", "--vars", "{lookback_days: 3}"],
            "lookback_days",
        ),
        ([*RUN_SEEDS_TO_O, "--vars", "{recent_booking_days: 0}"], "recent_booking_days"),
        ([*RUN_SEEDS_TO_O, "--vars", "{min_recent_bookings: x}"], "min_recent_bookings"),
        ([*RUN_SEEDS_TO_O, "--vars", "{counted_booking_statuses: []}"], "counted_booking_statuses"),
        (
            [*RUN_SEEDS_TO_O, "--vars", "{non_email_channels: [sms, e-mail]}"],
            "none that reads as email",
        ),
        (["run", "--input-dir", "seeds", "--output-dir", "o", "--vars", "{a: [}"], "--vars"),
        (["run", "--input-dir", "seeds", "--output-dir", "o", "--target", "spork"], "--target"),
        (["run", "--input-dir", "s3a://bucket/landing", "--output-dir", "o"], "--target spark"),
        (
            ["run", "--input-dir", "memory://no/such", "--output-dir", "o", "--target", "spark"],
            "memory://no/such does not exist",
        ),
        (
            [
                "run",
                "--input-dir",
                "seeds",
                "--output-dir",
                "o",
                "--target",
                "spark",
                "--encoding",
                "customers=cp1252",
            ],
            "--encoding",
        ),
        (["explain", "12a"], "customer_id"),
        (["history", "--format", "xml"], "--format"),
        (
            ["generate", "--customers", "0", "--seed", "1", "--as-of", "2026-01-01", "--out", "x"],
            "",
        ),
        (["frobnicate"], "frobnicate"),
        # an option of one value given twice: argparse kept the last without a word
        ([*RUN_SEEDS_TO_O, "--as-of", "2026-11-26", "--as-of", "2026-11-27"], "--as-of: given"),
        ([*RUN_SEEDS_TO_O, "--output-dir", "p"], "--output-dir: given twice"),
        (["history", "--format", "json", "--format", "text"], "--format: given twice"),
        (["explain", "1001", "--database", "a.db", "--database", "b.db"], "--database: given"),
    ],
)
def test_a_bad_argument_exits_2_with_one_line_naming_it(args: list[str], named: str) -> None:
    completed = audience(*args, cwd=PROJECT_DIR)
    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    lines = completed.stderr.splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("audience")
    assert named in lines[0]
    assert "Traceback" not in completed.stderr


def test_errors_at_work_exit_1_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "none.duckdb"
    for args in (
        ["history", "--database", str(missing)],
        ["explain", "7", "--database", str(missing)],
    ):
        completed = audience(*args)
        assert completed.returncode == 1
        assert len(completed.stderr.splitlines()) == 1, completed.stderr
        assert str(missing) in completed.stderr and "Traceback" not in completed.stderr
    # a store that will not answer (here: no credentials) is named, with what it said
    no_credentials = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    no_credentials |= {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing leaves this machine
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-config"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    completed = subprocess.run(
        [
            AUDIENCE,
            "run",
            "--input-dir",
            "s3a://bucket/landing",
            "--output-dir",
            "o",
            "--target",
            "spark",
        ],
        capture_output=True,
        text=True,
        check=False,
        env=no_credentials,
        cwd=tmp_path,
    )
    assert completed.returncode == 1 and "Traceback" not in completed.stderr
    assert len(completed.stderr.splitlines()) == 1, completed.stderr
    assert "s3a://bucket/landing: the store refused to be read" in completed.stderr
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"not a database")
    completed = audience("history", "--database", str(broken))
    assert completed.returncode == 1 and "Traceback" not in completed.stderr
    assert completed.stderr.startswith("audience history: cannot open")


def _record(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    as_of: str,
    output_dir: str,
    destination: str | None = None,
    reason: str = "season change",
) -> None:
    con.execute(
        "insert into history.published_runs (run_id, published_at, as_of_date, input_dir, "
        "output_dir, customers, eligible, previous_run_id, entered, left_audience, stayed, "
        "controls_passed, controls_failed, drift_status, drift_acceptance_reason, destination) "
        "values (?, ?, ?, 'in', ?, 1500, 700, null, 700, 0, 0, 140, 0, ?, ?, ?)",
        [
            run_id,
            dt.datetime(2026, 12, run_id, 6, 0),
            as_of,
            output_dir,
            "accepted" if run_id == 3 else "passed",
            reason if run_id == 3 else None,
            destination or output_dir,
        ],
    )


def test_history_lists_runs_per_destination_in_as_of_order(tmp_path: Path) -> None:
    database = tmp_path / "h.duckdb"
    con = duckdb.connect(str(database))
    ensure_history_tables(con)
    _record(con, 1, "2026-11-20", "/out/crm")
    _record(con, 2, "2026-11-21", "/out/ads")
    _record(con, 3, "2026-11-19", "/out/crm")  # published later, dated earlier
    con.close()

    runs = json.loads(audience("history", "--database", str(database), "--format", "json").stdout)
    assert [(run["output_dir"], run["run_id"]) for run in runs] == [
        ("/out/ads", 2),
        ("/out/crm", 3),
        ("/out/crm", 1),
    ]
    only = audience("history", "--database", str(database), "--output-dir", "/out/crm").stdout
    assert "/out/ads" not in only and only.splitlines()[0] == "/out/crm"
    assert "1,500" in only and "140 passed, 0 failed" in only
    assert "accepted: season change" in only
    rows = [line for line in only.splitlines() if line.startswith("#")]
    assert [row.split()[0] for row in rows] == ["#3", "#1"]


def test_history_shows_an_acceptance_reason_without_addresses_on_one_line(
    tmp_path: Path,
) -> None:
    """The reason a person typed is shown as the report shows it, in the text and the json."""
    database = tmp_path / "h.duckdb"
    with duckdb.connect(str(database)) as con:
        ensure_history_tables(con)
        _record(con, 3, "2026-11-19", "/out/crm", reason="asked by ops@example.com\tfor\nQ4")
    text = audience("history", "--database", str(database)).stdout
    assert "ops@example.com" not in text
    assert f"accepted: asked by {removed_address('ops@example.com')}?for?Q4" in text
    runs = json.loads(audience("history", "--database", str(database), "--format", "json").stdout)
    removed = removed_address("ops@example.com")
    assert runs[0]["drift_acceptance_reason"] == f"asked by {removed}\tfor\nQ4"
    # a reason given to a run whose checks all passed is kept, but not shown as an acceptance
    with duckdb.connect(str(database)) as con:
        con.execute("update history.published_runs set drift_status = 'passed'")
    text = audience("history", "--database", str(database)).stdout
    assert "passed: asked by" not in text and re.search(r"\bpassed\s*$", text, re.MULTILINE)


def test_quiet_and_verbose_cannot_be_given_together() -> None:
    completed = audience("run", "--input-dir", "in", "--output-dir", "o", "--quiet", "--verbose")
    assert completed.returncode == 2 and len(completed.stderr.splitlines()) == 1
    assert "not allowed with argument" in completed.stderr


def test_the_runs_drift_line_shows_an_acceptance_reason_as_the_report_does() -> None:
    previous = PublishedRun(
        run_id=7,
        as_of_date="2026-11-26",
        published_at="2026-11-26 06:00:00",
        customers=200,
        eligible=100,
        drift_status="passed",
        drift_acceptance_reason=None,
        raw_rows={"customers": 200},
    )
    common = {"eligible": 50, "entered": 0, "left": 50, "raw_rows": {"customers": 200}}
    accepted = evaluate_drift(previous, accept_reason="per ops@example.com\nok", **common)
    assert drift_line(accepted) == (
        "drift guard: accepted, against run #7 (as of 2026-11-26); "
        f"accepted: per {removed_address('ops@example.com')}?ok"
    )
    # a reason given where nothing failed is not shown as an acceptance
    passed = evaluate_drift(
        previous, accept_reason="just in case", **{**common, "eligible": 100, "left": 0}
    )
    assert drift_line(passed) == "drift guard: passed, against run #7 (as of 2026-11-26)"
    assert drift_line(evaluate_drift(None, **common)) == (
        "drift guard: passed, first published run to this destination"
    )


def test_history_lists_named_destinations_and_filters_by_name(tmp_path: Path) -> None:
    database = tmp_path / "h.duckdb"
    con = duckdb.connect(str(database))
    ensure_history_tables(con)
    _record(con, 1, "2026-11-20", "/out/a", destination="brand-b")
    _record(con, 2, "2026-11-21", "/out/b", destination="brand-b")
    _record(con, 3, "2026-11-19", "/out/crm")
    con.close()
    text = audience("history", "--database", str(database)).stdout
    assert "brand-b (published to /out/a, /out/b)" in text.splitlines()
    only = json.loads(
        audience(
            "history", "--database", str(database), "--destination", "brand-b", "--format", "json"
        ).stdout
    )
    assert [(run["destination"], run["run_id"]) for run in only] == [("brand-b", 1), ("brand-b", 2)]
    blank = audience("history", "--database", str(database), "--destination", " ")
    assert blank.returncode == 2 and "--destination" in blank.stderr
    # a destination no run was published to is a bad value (a typo), named with those there are
    other = audience("history", "--database", str(database), "--destination", "brand-z")
    assert other.returncode == 2 and len(other.stderr.splitlines()) == 1
    assert (
        "argument --destination: no run published to brand-z in this database (its "
        "destinations: /out/crm, brand-b)"
    ) in other.stderr
    folder = audience("history", "--database", str(database), "--output-dir", "/out/none")
    assert folder.returncode == 2 and "argument --output-dir: no run published to the folder" in (
        folder.stderr
    )
    both = audience(
        "history", "--database", str(database), "--destination", "brand-b", "--output-dir", "/o"
    )
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    # a folder named by the variable is refused as the option is: exit 2, naming it
    for command in (("history",), ("explain", "7")):
        named = audience(*command, AUDIENCE_DATABASE=str(tmp_path))
        assert named.returncode == 2, named.stderr
        assert f"AUDIENCE_DATABASE: {tmp_path} is a folder, not a file" in named.stderr


def test_a_database_file_that_cannot_be_written_is_refused_before_the_run(tmp_path: Path) -> None:
    database = tmp_path / "read_only.duckdb"
    duckdb.connect(str(database)).close()
    # root writes through file modes: the immutable attribute is what refuses it
    if subprocess.run(["chattr", "+i", str(database)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        completed = audience(
            "run",
            "--input-dir",
            str(PROJECT_DIR / "seeds"),
            "--output-dir",
            str(tmp_path / "out"),
            "--database",
            str(database),
        )
    finally:
        subprocess.run(["chattr", "-i", str(database)], check=False)
    assert completed.returncode == 2, completed.stderr
    assert f"argument --database: {database} is not writable" in completed.stderr
    assert "pre-step" not in completed.stdout + completed.stderr


def test_a_landing_folder_url_no_store_reads_is_a_bad_value() -> None:
    completed = audience(
        "run", "--input-dir", "bogus://x/y", "--output-dir", "o", "--target", "spark"
    )
    assert completed.returncode == 2 and len(completed.stderr.splitlines()) == 1
    assert "argument --input-dir: bogus://x/y: bogus:// " in completed.stderr


def test_progress_counts_dbt_nodes_from_its_events() -> None:
    nodes = DbtNodes()

    def event(name: str, unique_id: str = "", **data: object) -> SimpleNamespace:
        node_info = SimpleNamespace(
            unique_id=unique_id,
            node_name=unique_id.split(".")[-1],
            materialized=data.pop("materialized", "table"),
        )
        return SimpleNamespace(
            info=SimpleNamespace(name=name), data=SimpleNamespace(node_info=node_info, **data)
        )

    nodes.on_event(event("LogStartLine", "model.a.first", total=3, index=1))
    nodes.on_event(event("NodeStart", "model.a.first"))
    nodes.on_event(event("NodeStart", "model.a.second"))
    nodes.on_event(event("MainReportVersion"))
    assert nodes.describe().startswith("0 of 3 nodes done; running first (")
    nodes.on_event(event("NodeFinished", "model.a.first"))
    assert nodes.describe().startswith("1 of 3 nodes done; running second (")
    nodes.on_event(event("NodeFinished", "model.a.second"))
    nodes.on_event(event("NodeFinished", "test.a.skipped"))  # a skipped node never started
    # an ephemeral model reports too, but dbt's total leaves it out (it runs inside others)
    nodes.on_event(event("NodeStart", "model.a.inlined", materialized="ephemeral"))
    nodes.on_event(event("NodeFinished", "model.a.inlined", materialized="ephemeral"))
    assert nodes.describe() == "3 of 3 nodes done"


def test_progress_writes_plain_lines_without_colour_into_a_file() -> None:
    stream = io.StringIO()
    progress = Progress(stream=stream)  # not a terminal: plain lines
    assert progress.mode == "plain"
    with progress.stage("publish"):
        pass
    nodes = DbtNodes(total=2, done=2)
    with progress.watching("dbt build", nodes):
        pass
    lines = stream.getvalue().splitlines()
    assert re.fullmatch(r"\[\s+[\d.]+ s\] publish \.\.\.", lines[0])
    assert re.fullmatch(r"\[\s+[\d.]+ s\] publish: [\d.]+ s", lines[1])
    assert lines[2].endswith("dbt build: 2 of 2 nodes done")
    assert not ANSI.search(stream.getvalue())
    quiet = io.StringIO()
    with Progress("quiet", stream=quiet).stage("publish"):
        pass
    assert quiet.getvalue() == ""


@pytest.mark.slow
def test_a_run_from_another_folder_writes_only_beside_its_database(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    database = tmp_path / "state" / "audience.duckdb"
    completed = audience(
        "run",
        "--input-dir",
        str(SAMPLE),
        "--as-of",
        AS_OF,
        "--output-dir",
        str(tmp_path / "out"),
        "--database",
        str(database),
        cwd=elsewhere,
    )
    assert completed.returncode == 0, completed.stderr
    assert list(elsewhere.iterdir()) == []
    assert (tmp_path / "state" / "audience.work" / "logs" / "dbt.log").is_file()
    assert (tmp_path / "state" / "audience.work" / "target" / "run_results.json").is_file()
    assert not ANSI.search(completed.stdout + completed.stderr)
    # compact progress: a few lines per stage, not dbt's log of every node
    assert "dbt build: " in completed.stderr and " nodes done" in completed.stderr
    done, total = re.findall(r"dbt build: ([\d,]+) of ([\d,]+) nodes done", completed.stderr)[-1]
    assert done == total, completed.stderr
    assert "START sql" not in completed.stderr
    assert len(completed.stderr.splitlines()) < 30, completed.stderr
    assert completed.stdout.startswith("published 70 of 151 customers")
    assert "controls: " in completed.stdout
    # the sample's channels are email, push and sms: none is read as possibly email
    assert "possibly email" not in completed.stdout
    # the history keeps the rules' parameters and how each file was read
    assert query(
        database,
        "select recent_booking_days, counted_booking_statuses, min_recent_bookings, "
        "non_email_channels from history.published_runs",
    ) == [(365, "COMPLETED", 1, "inapp,mms,phone,post,postal,push,sms,whatsapp")]
    assert set(query(database, "select encoding, delimiter from history.run_input_files")) == {
        ("utf-8", ",")
    }


@pytest.mark.slow
def test_the_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed (scripts/setup.sh installs it)")
    wheels = tmp_path / "dist"
    build = subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(wheels), str(PROJECT_DIR)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("audience_pipeline-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "audience_pipeline/dbt_project/dbt_project.yml" in names
    assert "audience_pipeline/dbt_project/tests/assert_exclusions_add_up_to_customers.sql" in names
    assert "audience_pipeline/templates/run_report.html" in names
    assert not [name for name in names if re.search(r"dbt_project/tests/.*\.py$", name)]

    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    install = subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            str(wheel),
            "-c",
            str(PROJECT_DIR / "requirements.lock"),
        ],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(SAMPLE, elsewhere / "landing")
    completed = subprocess.run(
        [
            str(venv / "bin" / "audience"),
            "run",
            "--input-dir",
            "landing",
            "--as-of",
            AS_OF,
            "--output-dir",
            "out",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env={**os.environ, "AUDIENCE_DATABASE": str(tmp_path / "db" / "audience.duckdb")},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("published 70 of 151 customers")
    # only the landing folder and the output folder (a link to its generations, and its lock)
    written = {path.name for path in elsewhere.iterdir()} - {"landing"}
    assert written == {"out", ".out.generations", ".out.lock"}, written
    assert (elsewhere / "out" / "eligible_audience.csv").is_file()


# ---------------------------------------------------------------------------------------------
# hostile arguments, paths and streams
# ---------------------------------------------------------------------------------------------

RUN = ("run", "--input-dir", str(SAMPLE), "--output-dir", "out")
GENERATE = ("generate", "--customers", "5", "--seed", "1", "--as-of", AS_OF, "--out", "g")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["run", "--input-dir", str(SAMPLE), "--output-dir", ""], "argument --output-dir: empty"),
        (["run", "--input-dir", "", "--output-dir", "out"], "argument --input-dir: empty"),
        ([*RUN, "--database", ""], "argument --database: empty"),
        ([*RUN, "--temp-dir", ""], "argument --temp-dir: empty"),
        ([*GENERATE[:-2], "--out", ""], "argument --out: empty"),
        (["history", "--output-dir", ""], "argument --output-dir: empty"),
        ([*RUN, "--memory-limit", "0.0000001GB"], "--memory-limit: expected at least 64MB"),
        ([*GENERATE[:4], "99999999999999999999999", *GENERATE[5:]], "argument --seed"),
        ([*RUN, "--keep-runs", "9223372036854775808"], "--keep-runs: expected a whole number"),
        ([*RUN, "--min-audience-change", "9" * 30], "argument --min-audience-change"),
        ([*RUN, "--threads", "100000"], "--threads: expected a whole number from 1 to 1,024"),
        ([*RUN, "--dbt-threads", "9" * 20], "argument --dbt-threads"),
        ([*RUN, "--memory-limit", "99999999999999999999TB"], "--memory-limit: expected at most"),
        ([*GENERATE[:2], "9" * 23, *GENERATE[3:]], "argument --customers"),
        ([*GENERATE, "--threads", "9" * 20], "argument --threads"),
        (["explain", "1001", "--database", "{folder}"], "--database: {folder} is a folder"),
        (["history", "--database", "{folder}"], "--database: {folder} is a folder"),
        (["run", "--input-dir", str(SAMPLE), "--output-dir", "{file}"], "{file} is a file"),
        (["run", "--input-dir", str(SAMPLE), "--output-dir", "{file}/sub"], "{file} is a file"),
        ([*RUN, "--database", "{folder}"], "--database: {folder} is a folder"),
        ([*RUN, "--database", "{file}/a.duckdb"], "--database: {file} is a file"),
        ([*RUN, "--temp-dir", "{file}"], "--temp-dir: {file} is a file"),
        ([*GENERATE[:-2], "--out", "{file}"], "--out: {file} is a file"),
        ([*GENERATE[:-2], "--out", "{file}/x"], "--out: {file} is a file"),
        ([*RUN, "--vars", "{recent_booking_days: 740000}"], "recent_booking_days"),
        ([*RUN, "--vars", "{recent_booking_days: 99999999999999999999}"], "from 1 to 36,500"),
        ([*RUN, "--vars", "{min_recent_bookings: 2147483647}"], "min_recent_bookings"),
        ([*RUN, "--as-of", "0001-01-02", "--allow-empty-audience"], "before 0001-01-01"),
        (
            [*RUN, "--as-of", "0001-12-30", "--vars", "{recent_booking_days: 365}"],
            "--as-of: 0001-12-30 is too early",
        ),
        ([*RUN, "--encoding", "idna"], "argument --encoding: 'idna'"),
        ([*RUN, "--encoding", "customers=punycode"], "argument --encoding: 'punycode'"),
        (["--bogus"], "audience: unknown option --bogus (see audience --help)"),
        ([*RUN, "--extra"], "audience run: unknown option --extra (see audience run --help)"),
    ],
)
def test_a_bad_path_or_value_exits_2_before_anything_runs(
    tmp_path: Path, args: list[str], says: str
) -> None:
    """Run from an empty folder: nothing may be written there (an empty --output-dir is it)."""
    here = tmp_path / "here"
    here.mkdir()
    (tmp_path / "file").write_text("a file")
    (tmp_path / "folder").mkdir()
    places = {"file": str(tmp_path / "file"), "folder": str(tmp_path / "folder")}
    completed = audience(
        *(arg.format(**places) if "{f" in arg else arg for arg in args),
        cwd=here,
        AUDIENCE_DATABASE=str(tmp_path / "db" / "a.duckdb"),
    )
    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    assert len(completed.stderr.splitlines()) == 1, completed.stderr
    assert says.format(**places) in completed.stderr
    assert here.is_dir() and not here.is_symlink() and list(here.iterdir()) == []
    assert not (tmp_path / "db").exists()


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"AUDIENCE_DATABASE": "{folder}"}, "AUDIENCE_DATABASE: {folder} is a folder, not a file"),
        ({"AUDIENCE_DATABASE": "{file}/a.duckdb"}, "AUDIENCE_DATABASE: {file} is a file"),
        ({"AUDIENCE_DATABASE": "", "XDG_DATA_HOME": "{file}"}, "XDG_DATA_HOME: {file} is a file"),
        (
            {"AUDIENCE_DATABASE": "", "XDG_DATA_HOME": "", "HOME": "{file}"},
            "the default database: {file} is a file",
        ),
        ({"AUDIENCE_DUCKDB_TEMP_DIR": "{file}"}, "AUDIENCE_DUCKDB_TEMP_DIR: {file} is a file"),
        ({"AUDIENCE_DUCKDB_TEMP_DIR": "{file}/spill"}, "AUDIENCE_DUCKDB_TEMP_DIR: {file} is a"),
        ({"AUDIENCE_DATABASE": "{db}"}, "spill folder beside the database: {db}.tmp is a file"),
        ({"AUDIENCE_DATABASE": "{work}.duckdb"}, "work folder beside the database: {work}.work"),
        ({"AUDIENCE_DUCKDB_THREADS": "9" * 20}, "AUDIENCE_DUCKDB_THREADS"),
        ({"AUDIENCE_DBT_THREADS": "9" * 20}, "AUDIENCE_DBT_THREADS"),
        ({"AUDIENCE_DUCKDB_MEMORY_LIMIT": "99999999999999999TB"}, "AUDIENCE_DUCKDB_MEMORY_LIMIT"),
    ],
)
def test_a_bad_path_in_an_environment_variable_exits_2_naming_the_variable(
    tmp_path: Path, env: dict[str, str], says: str
) -> None:
    """The paths a run takes from its environment are checked up front like its options: a
    spill folder that is a file would otherwise fail only the day a run spills."""
    (tmp_path / "file").write_text("a file")
    (tmp_path / "folder").mkdir()
    (tmp_path / "spill" / "a.duckdb.tmp").parent.mkdir()
    (tmp_path / "spill" / "a.duckdb.tmp").write_text("not a folder")
    (tmp_path / "work.work").write_text("not a folder")
    places = {
        "file": str(tmp_path / "file"),
        "folder": str(tmp_path / "folder"),
        "db": str(tmp_path / "spill" / "a.duckdb"),
        "work": str(tmp_path / "work"),
    }
    completed = audience(
        *RUN,
        "--as-of",
        AS_OF,
        cwd=tmp_path,
        **{
            "AUDIENCE_DATABASE": str(tmp_path / "db" / "a.duckdb"),
            **{name: value.format(**places) for name, value in env.items()},
        },
    )
    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    assert len(completed.stderr.splitlines()) == 1, completed.stderr
    assert says.format(**places) in completed.stderr
    assert not (tmp_path / "db").exists() and not (tmp_path / "out").exists()
    assert not (tmp_path / "spill" / "a.duckdb").exists()


def test_more_at_work_errors_exit_1_in_one_line_naming_the_path(tmp_path: Path) -> None:
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database")
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLE, landing, ignore=shutil.ignore_patterns("*.yml"))
    (landing / "bookings.csv").unlink()
    (landing / "bookings.csv").mkdir()
    built = tmp_path / "pre-step-only.duckdb"
    con = duckdb.connect(str(built))
    ensure_history_tables(con)  # what a run that stopped in its pre-step leaves
    con.close()
    database = ("--database", str(tmp_path / "a.duckdb"), "--quiet")
    cases = [
        (
            [*RUN, "--database", str(junk), "--quiet"],
            f"audience run: cannot open the database {junk}: IO Error: The file",
        ),
        (
            ["run", "--input-dir", str(landing), "--output-dir", "out", *database],
            f"audience run: bookings.csv: {landing / 'bookings.csv'} is a folder, not a file",
        ),
        (
            ["explain", "1001", "--database", str(built)],
            f"audience explain: {built} holds no built run to explain",
        ),
    ]
    for args, says in cases:
        completed = audience(*args, cwd=tmp_path)
        assert completed.returncode == 1, completed.stderr
        assert completed.stderr.startswith(says), completed.stderr
        assert len(completed.stderr.splitlines()) == 1, completed.stderr


def test_explain_and_history_name_the_run_that_holds_the_database(tmp_path: Path) -> None:
    database = tmp_path / "h.duckdb"
    con = duckdb.connect(str(database))
    ensure_history_tables(con)
    con.close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(database)!r}); "
            "print('open', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        for args in (["history"], ["explain", "7"]):
            completed = audience(*args, "--database", str(database))
            assert completed.returncode == 1
            assert completed.stderr == (
                f"audience {args[0]}: the database {database} is in use by a run "
                f"(PID {holder.pid}); try again when it ends\n"
            )
    finally:
        holder.kill()
        holder.wait()


def test_an_os_error_or_an_unexpected_one_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from audience_pipeline import cli

    def refused(_: object) -> int:
        raise PermissionError(13, "Permission denied", "/x/.out.lock")

    monkeypatch.setattr(cli, "run_command", refused)
    assert cli.main(list(RUN)) == 1
    assert (
        capsys.readouterr().err == "audience run: cannot access /x/.out.lock: Permission denied\n"
    )

    def by_descriptor(_: object) -> int:
        raise OSError(9, "Bad file descriptor", 987)  # os.stat(987) names the descriptor

    monkeypatch.setattr(cli, "run_command", by_descriptor)
    assert cli.main(list(RUN)) == 1
    assert capsys.readouterr().err == (
        "audience run: cannot access file descriptor 987: Bad file descriptor\n"
    )

    def unexpected(_: object) -> int:
        raise RuntimeError("Out of Memory Error: failed\n\n  Possible solutions:\n  * more")

    monkeypatch.setattr(cli, "run_command", unexpected)
    assert cli.main(list(RUN)) == 1
    assert capsys.readouterr().err == (
        "audience run: unexpected error: RuntimeError: Out of Memory Error: failed "
        "(AUDIENCE_DEBUG=1 shows the traceback)\n"
    )


def _with_closed_stdout(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``audience ARGS | head -0``: the reader of standard output is gone before it writes."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [AUDIENCE, *args], stdout=write_end, stderr=subprocess.PIPE, text=True, cwd=cwd
        )
    finally:
        os.close(write_end)


def test_a_closed_standard_output_ends_the_output_quietly(tmp_path: Path) -> None:
    database = tmp_path / "h.duckdb"
    con = duckdb.connect(str(database))
    ensure_history_tables(con)
    for run_id in range(1, 4):
        _record(con, run_id, f"2026-11-2{run_id}", "/out/crm")
    con.close()
    for output in ("json", "text"):
        completed = _with_closed_stdout("history", "--database", str(database), "--format", output)
        assert (completed.returncode, completed.stderr) == (0, "")


@pytest.mark.slow
def test_a_run_whose_standard_output_is_closed_publishes_and_exits_0(tmp_path: Path) -> None:
    database = tmp_path / "a.duckdb"
    completed = _with_closed_stdout(
        *("run", "--input-dir", str(SAMPLE), "--as-of", AS_OF, "--quiet"),
        *("--output-dir", str(tmp_path / "out"), "--database", str(database)),
    )
    assert (completed.returncode, completed.stderr) == (0, "")
    assert (tmp_path / "out" / "eligible_audience.csv").is_file()
    assert (
        len(json.loads(audience("history", "--database", str(database), "--format", "json").stdout))
        == 1
    )


def test_the_rule_parameters_have_a_maximum_and_the_window_starts_in_year_1() -> None:
    from audience_pipeline.errors import UsageError
    from audience_pipeline.parameters import check_booking_window, parse_rule_parameters

    largest = {"recent_booking_days": 36_500, "min_recent_bookings": 1_000_000}
    assert parse_rule_parameters(json.dumps(largest)) == largest
    for name, value in largest.items():
        with pytest.raises(UsageError, match=f"{name} takes a whole number from 1 to"):
            parse_rule_parameters(json.dumps({name: value + 1}))
    check_booking_window("0001-12-31", {})  # the default 365 days: from 0001-01-01
    with pytest.raises(UsageError, match=r"0001-12-30 is too early .* 365 days"):
        check_booking_window("0001-12-30", {})
    check_booking_window("0001-01-01", {"recent_booking_days": 1})


def test_a_var_given_twice_or_a_number_too_long_is_a_bad_option_value(tmp_path: Path) -> None:
    """YAML keeps the last of two equal keys without a word, and Python refuses to read an
    integer of more than 4,300 digits (ValueError): both are --vars errors, exit 2."""
    from audience_pipeline.errors import UsageError
    from audience_pipeline.parameters import parse_rule_parameters

    for text in (
        "{recent_booking_days: 30, recent_booking_days: 400}",
        "recent_booking_days: 30\nrecent_booking_days: 400",
    ):
        with pytest.raises(UsageError, match="recent_booking_days given twice"):
            parse_rule_parameters(text)
    with pytest.raises(UsageError, match="a number too long to read"):
        parse_rule_parameters("{recent_booking_days: " + "1" * 5000 + "}")
    assert parse_rule_parameters("{<<: {recent_booking_days: 5}}") == {"recent_booking_days": 5}
    completed = audience(
        *("run", "--input-dir", str(SAMPLE), "--output-dir", str(tmp_path / "out")),
        *("--database", str(tmp_path / "a.duckdb")),
        *("--vars", "{min_recent_bookings: 1, min_recent_bookings: 2}"),
    )
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1
    assert "min_recent_bookings given twice" in completed.stderr


def test_a_folder_out_of_reach_is_a_bad_option_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """A path the system will not even look at (EACCES on a parent) exits 2, naming it."""
    from audience_pipeline import options
    from audience_pipeline.errors import UsageError

    def refused(self: Path) -> bool:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "exists", refused)
    with pytest.raises(UsageError, match=r"argument --output-dir: /root/x/out: Permission denied"):
        options.folder_to_write(Path("/root/x/out"), "--output-dir")
    monkeypatch.setattr(Path, "is_dir", refused)
    with pytest.raises(UsageError, match=r"argument --database: /root/x/a.duckdb: Permission"):
        options.file_to_write(Path("/root/x/a.duckdb"), "--database")


def test_a_folder_that_cannot_be_written_is_a_bad_option_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder the run could not write into (its output, beside its database) exits 2."""
    from audience_pipeline import options
    from audience_pipeline.errors import UsageError

    read_only = tmp_path / "read-only"
    read_only.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        options.os,
        "access",
        lambda path, mode: Path(path) != read_only and real_access(path, mode),
    )
    with pytest.raises(UsageError, match=rf"argument --output-dir: {read_only} is not writable"):
        options.folder_to_write(read_only / "out", "--output-dir")
    with pytest.raises(UsageError, match=rf"argument --database: {read_only} is not writable"):
        options.file_to_write(read_only / "a.duckdb", "--database")
    options.folder_to_write(tmp_path / "out", "--output-dir")  # writable: no error


def test_a_folder_that_refuses_new_files_is_a_bad_option_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The access check passes every folder for root, and /proc's refusals are not its to
    see: a folder where no file can be created exits 2 too, naming the system's reason, and
    a folder that can be written keeps no trace of the check."""
    from audience_pipeline import options
    from audience_pipeline.errors import UsageError

    refusing = tmp_path / "refusing"
    refusing.mkdir()
    real_mkstemp = options.tempfile.mkstemp

    def mkstemp(prefix: str, dir: Path) -> tuple[int, str]:
        if Path(dir) == refusing:
            raise FileNotFoundError(2, "No such file or directory")
        return real_mkstemp(prefix=prefix, dir=dir)

    monkeypatch.setattr(options.tempfile, "mkstemp", mkstemp)
    with pytest.raises(
        UsageError,
        match=rf"argument --output-dir: {refusing} is not writable \(No such file or directory\)",
    ):
        options.folder_to_write(refusing / "out", "--output-dir")
    options.folder_to_write(tmp_path / "out", "--output-dir")
    # a published output folder is not tried (its readers must never see a stray file)
    options.folder_to_write(refusing, "--output-dir", try_creating=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["refusing"]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_output_dir_under_proc_exits_2(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "audience_pipeline",
            "run",
            "--input-dir",
            str(PROJECT_DIR / "seeds"),
            "--output-dir",
            "/proc/audience-out",
            "--database",
            str(tmp_path / "a.duckdb"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.count("\n") == 1
    assert "argument --output-dir: /proc is not writable" in completed.stderr


def test_generate_refuses_an_as_of_date_whose_data_would_leave_years_0001_9999(
    tmp_path: Path,
) -> None:
    for as_of in ("0001-01-01", "0009-12-31", "9991-01-01"):
        completed = audience(
            "generate",
            "--customers",
            "10",
            "--seed",
            "1",
            "--as-of",
            as_of,
            "--out",
            str(tmp_path / "out"),
        )
        assert completed.returncode == 2 and "argument --as-of: expected a date from" in (
            completed.stderr
        )
    assert not (tmp_path / "out").exists()
