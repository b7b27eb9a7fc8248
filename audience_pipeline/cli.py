"""The ``audience`` command: run, explain, history (and commands added by entry points).

Exit codes, for every subcommand: 0 done; 1 the work failed and nothing was published (a bad
file, a failed control, the drift guard, a database that cannot be read); 2 a bad argument or
option value, named in one line; 130 interrupted (Ctrl-C), nothing published. No Python
traceback reaches the console (set ``AUDIENCE_DEBUG=1`` to get one).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, entry_points, version
from pathlib import Path
from typing import Any, NoReturn

from audience_pipeline import __version__
from audience_pipeline.channels import history_channels, possibly_email_line
from audience_pipeline.drift import (
    DEFAULT_MAX_AUDIENCE_CHANGE,
    DEFAULT_MAX_INPUT_LOSS,
    DEFAULT_MIN_AUDIENCE_CHANGE,
    DriftResult,
    DriftThresholds,
)
from audience_pipeline.errors import PipelineError, UsageError
from audience_pipeline.history import SWITCH_FAILED, parameter_text
from audience_pipeline.landing_folder import landing_folder
from audience_pipeline.options import (
    customer_id,
    delimiter_option,
    destination_name,
    encoding_option,
    existing_dir,
    file_to_write,
    folder_to_write,
    iso_date,
    memory_size,
    path_option,
    positive_int,
    share,
    thread_count,
    whole_number,
)
from audience_pipeline.parameters import check_booking_window, parse_rule_parameters
from audience_pipeline.project import default_database, default_database_and_source, work_dir
from audience_pipeline.redaction import printable, without_addresses
from audience_pipeline.settings import (
    DEFAULT_DBT_THREADS,
    default_memory_limit,
    default_threads,
)

PROG = "audience"
#: Entry-point group through which other packages add subcommands (``audience generate``).
COMMANDS_GROUP = "audience.commands"

EXIT_CODES = """\
exit codes:
  0  done (for run: every control passed and the outputs were published)
  1  failed: nothing was published (the message names the file, line and column, or the
     failed controls)
  2  a bad argument, option value or environment variable (one line naming it)
  130  interrupted (Ctrl-C): nothing was published"""


#: The namespace attribute listing the options given once already (``_StoreOnce``).
_GIVEN = "_options_given"


class _StoreOnce(argparse._StoreAction):
    """An option that takes one value, refused when given twice (argparse keeps the last one
    without a word: a script that sets ``--as-of`` twice would run the day it did not mean)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        given = getattr(namespace, _GIVEN, set())
        if self.dest in given:
            parser.error(f"argument {option_string}: given twice")
        setattr(namespace, _GIVEN, given | {self.dest})
        super().__call__(parser, namespace, values, option_string)


class AudienceParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2, and an option that takes one
    value is refused when given twice."""

    #: The subcommands' parsers by name (set on the command's own parser).
    commands: dict[str, argparse.ArgumentParser]

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        if args and str(args[0]).startswith("-") and kwargs.get("action", "store") == "store":
            kwargs["action"] = _StoreOnce
        return super().add_argument(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs keep their line breaks (examples, exit codes)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=100)


def paragraph(text: str) -> str:
    """A description wrapped to the help's width (the formatter keeps line breaks as written)."""
    return textwrap.fill(text, width=92)


def _versions() -> str:
    """This tool's version and those of the engines it drives."""
    parts = []
    for package in ("dbt-core", "dbt-duckdb", "duckdb"):
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} not installed")
    return f"{PROG} {__version__} ({', '.join(parts)})"


def _add_database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        type=path_option,
        default=None,
        metavar="FILE",
        help="the DuckDB file runs build in and record their history in "
        f"(default: $AUDIENCE_DATABASE, else {default_database()})",
    )


def _database_to_read(args: argparse.Namespace) -> Path:
    """The database explain and history read: ``--database`` or the default (from
    ``$AUDIENCE_DATABASE`` when set), never a folder."""
    database, source = (
        (args.database, "argument --database")
        if args.database is not None
        else default_database_and_source()
    )
    if database.is_dir():
        raise UsageError(f"{source}: {database} is a folder, not a file")
    return database


# ---------------------------------------------------------------------------------------------
# audience run
# ---------------------------------------------------------------------------------------------

RUN_EXAMPLES = """\
examples:
  audience run --input-dir /data/landing/2026-11-26 --as-of 2026-11-26 \\
      --output-dir /data/published/crm
  audience run --input-dir landing --output-dir out --memory-limit 8GB --threads 4
  audience run ... --encoding cp1252 --delimiter ';'     # a European Excel export
  audience run ... --encoding customers=utf-16           # one file in UTF-16
  audience run ... \
      --vars '{recent_booking_days: 180, counted_booking_statuses: [COMPLETED, PENDING]}'
  audience run ... --accept-drift "new brand onboarded, list doubled on purpose"
  audience run --input-dir /data/landing/brand-b --output-dir /data/published/brand-b \\
      --destination brand-b       # its own history, drift guard and deltas
"""


def add_run_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a landing folder end to end and publish the eligible audience",
        description=paragraph(
            "Check and load the four CSV exports of a landing folder, build every model "
            "and control with dbt, and publish the audience, the rejected rows, the reconciliation "
            "and a report atomically into the output folder. Nothing is published unless every "
            "control passes."
        ),
        epilog=RUN_EXAMPLES + "\n" + EXIT_CODES,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--input-dir",
        type=landing_folder,
        required=True,
        metavar="DIR",
        help="landing folder with customers.csv, bookings.csv, consent_events.csv and "
        "suppressions.csv; with --target spark also a URL the engine reads (s3a://, abfss://, "
        "dbfs:/, file://)",
    )
    parser.add_argument(
        "--output-dir",
        type=path_option,
        required=True,
        metavar="DIR",
        help="where the audience, its deltas and companions are published",
    )
    parser.add_argument(
        "--destination",
        type=destination_name,
        default=None,
        metavar="NAME",
        help="the destination this run publishes to: it is compared only with earlier runs "
        "published to the same destination (drift guard, deltas, report, explain, history) "
        "(default: the output folder's resolved path)",
    )
    parser.add_argument(
        "--keep-runs",
        type=positive_int,
        default=None,
        metavar="N",
        help="retention: keep the per-customer history (decisions, published audience) of the "
        "destination's N latest runs only; every run keeps its counts (default: keep all)",
    )
    parser.add_argument(
        "--as-of",
        type=iso_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="the date every time-dependent rule uses (default: today, UTC)",
    )
    parser.add_argument(
        "--vars",
        default=None,
        metavar="YAML",
        help="the rules' parameters, as dbt's --vars: recent_booking_days (365, at most 36500), "
        "counted_booking_statuses ([COMPLETED]), min_recent_bookings (1, at most 1000000), "
        "non_email_channels ([sms, mms, push, inapp, postal, post, phone, whatsapp]); "
        "e.g. '{recent_booking_days: 180}'",
    )
    _add_database(parser)
    parser.add_argument(
        "--target",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="the engine that reads the files and builds the models (default: %(default)s). "
        "spark: the profile's Spark (profiles.yml) reads the landing folder itself; the "
        "controls' outcome, the history, the drift guard and the publish stay here, in the "
        "DuckDB database (docs/beyond-one-machine.md)",
    )
    dialect = parser.add_argument_group(
        "how the files are written (declared, never guessed)",
        "A value applies to every file; FILE=VALUE (e.g. customers=cp1252) to one file, and wins.",
    )
    dialect.add_argument(
        "--encoding",
        type=encoding_option,
        action="append",
        default=None,
        metavar="[FILE=]ENCODING",
        help="the files' text encoding: utf-8 (default), cp1252 (= windows-1252, Excel on "
        "Windows), latin-1, utf-16 (with its byte-order mark), or any encoding Python knows; "
        "repeatable",
    )
    dialect.add_argument(
        "--delimiter",
        type=delimiter_option,
        action="append",
        default=None,
        metavar="[FILE=]CHAR",
        help="the files' field delimiter: ',' (default), ';' (European Excel), tab, '|'; "
        "repeatable",
    )
    resources = parser.add_argument_group("engine resources")
    resources.add_argument(
        "--memory-limit",
        type=memory_size,
        default=None,
        metavar="SIZE",
        help="DuckDB memory limit, e.g. 4GB or 512MB; beyond it DuckDB spills to --temp-dir "
        "(default: $AUDIENCE_DUCKDB_MEMORY_LIMIT, else two fifths of this machine's memory, "
        f"{default_memory_limit()})",
    )
    resources.add_argument(
        "--threads",
        type=thread_count,
        default=None,
        metavar="N",
        help="DuckDB threads (default: $AUDIENCE_DUCKDB_THREADS, else this machine's cores, "
        f"{default_threads()})",
    )
    resources.add_argument(
        "--dbt-threads",
        type=thread_count,
        default=None,
        metavar="N",
        help="models dbt builds at once on DuckDB (default: $AUDIENCE_DBT_THREADS, else "
        f"{DEFAULT_DBT_THREADS}: each query already uses every DuckDB thread, and models built "
        "together share the memory limit)",
    )
    resources.add_argument(
        "--temp-dir",
        type=path_option,
        default=None,
        metavar="DIR",
        help="where DuckDB spills (default: beside the database)",
    )
    guard = parser.add_argument_group("safety checks")
    guard.add_argument(
        "--allow-empty-suppressions",
        action="store_true",
        help="accept a suppressions file without rows (by default that fails the run)",
    )
    guard.add_argument(
        "--max-audience-change",
        type=share,
        default=DEFAULT_MAX_AUDIENCE_CHANGE,
        metavar="SHARE",
        help="drift guard: fail when customers entered + left exceed this share of the previous "
        "published audience (default: %(default)s = 20%%)",
    )
    guard.add_argument(
        "--min-audience-change",
        type=whole_number,
        default=DEFAULT_MIN_AUDIENCE_CHANGE,
        metavar="N",
        help="drift guard: the audience change fails only when at least this many customers "
        "entered or left, so small lists are not blocked by noise (default: %(default)s)",
    )
    guard.add_argument(
        "--max-input-loss",
        type=share,
        default=DEFAULT_MAX_INPUT_LOSS,
        metavar="SHARE",
        help="drift guard: fail when an input file loses more than this share of its rows, or "
        "a consent channel of its email events or of those withholding consent, against the "
        "previous published run; an empty file always fails (default: %(default)s)",
    )
    guard.add_argument(
        "--accept-drift",
        metavar="REASON",
        help="publish although the drift guard fails, for this reason (kept in the history); "
        "also a run dated before the destination's latest published run",
    )
    guard.add_argument(
        "--allow-empty-audience",
        action="store_true",
        help="accept an audience of nobody (by default that fails the run)",
    )
    output = parser.add_argument_group("output").add_mutually_exclusive_group()
    output.add_argument(
        "--quiet", action="store_true", help="no progress, only the summary or the error"
    )
    output.add_argument(
        "--verbose",
        action="store_true",
        help="print dbt's own log as well (always kept in a file beside the database)",
    )
    parser.set_defaults(handler=run_command)


def input_file_dialects(
    encodings: Sequence[tuple[str | None, str]], delimiters: Sequence[tuple[str | None, str]]
) -> dict[str, Any]:
    """Each input file's declared encoding and delimiter; UsageError if one is given twice."""
    from audience_pipeline.contract import load_contract
    from audience_pipeline.dialect import resolve_dialects

    try:
        return resolve_dialects(
            [spec.name for spec in load_contract()], encodings=encodings, delimiters=delimiters
        )
    except ValueError as error:
        raise UsageError(f"argument {error}") from None


def refuse_encodings_on_spark(dialects: dict[str, Any]) -> None:
    """Spark reads the landing files as UTF-8: another declared encoding is a usage error."""
    for name, dialect in sorted(dialects.items()):
        if dialect.encoding != "utf-8":
            raise UsageError(
                f"argument --encoding: {name} is declared {dialect.encoding_label}, but "
                "--target spark reads the files as UTF-8; convert them to UTF-8 first or run "
                "with --target duckdb"
            )


def run_command(args: argparse.Namespace) -> int:
    from audience_pipeline.pipeline import run_pipeline  # imported late: it loads duckdb
    from audience_pipeline.settings import TEMP_DIR_ENV, engine_settings

    if args.accept_drift is not None and not args.accept_drift.strip():
        raise UsageError("argument --accept-drift: needs a reason")
    existing_dir(args.input_dir, "--input-dir", remote_allowed=args.target == "spark")
    # a run publishes beside the output folder (its generations and lock), so a file is tried
    # there, never in the published folder that platforms read
    folder_to_write(args.output_dir, "--output-dir", try_creating=False)
    folder_to_write(args.output_dir.absolute().parent, "--output-dir")
    database, source = (
        (args.database, "--database") if args.database else default_database_and_source()
    )
    file_to_write(database, source)
    folder_to_write(work_dir(database), "the work folder beside the database")
    rule_parameters = parse_rule_parameters(args.vars) if args.vars is not None else {}
    if args.as_of is not None:
        check_booking_window(args.as_of, rule_parameters)
    dialects = input_file_dialects(args.encoding or [], args.delimiter or [])
    if args.target == "spark":
        refuse_encodings_on_spark(dialects)
    settings = engine_settings(
        memory_limit=args.memory_limit,
        threads=args.threads,
        dbt_threads=args.dbt_threads,
        temp_directory=args.temp_dir,
    )
    folder_to_write(
        settings.spill_directory(database),
        "--temp-dir"
        if args.temp_dir
        else TEMP_DIR_ENV
        if settings.temp_directory
        else "the spill folder beside the database",
    )
    result = run_pipeline(
        input_dir=args.input_dir,
        output_dir=args.output_dir,
        as_of=args.as_of,
        database=database,
        settings=settings,
        quiet=args.quiet,
        dbt_console_log=args.verbose,
        allow_empty_suppressions=args.allow_empty_suppressions,
        drift_thresholds=DriftThresholds(
            args.max_audience_change, args.max_input_loss, args.min_audience_change
        ),
        destination=args.destination,
        allow_empty_audience=args.allow_empty_audience,
        keep_runs=args.keep_runs,
        accept_drift=args.accept_drift,
        rule_parameters=rule_parameters,
        dialects=dialects,
        target=args.target,
    )
    report = result.report
    excluded = ", ".join(f"{reason} {count:,}" for reason, count in report["excluded"].items())
    deltas = report["deltas"]
    print_output(
        f"published {report['eligible']:,} of {report['customers']:,} customers "
        f"(as of {report['as_of_date']}) to {args.output_dir}\n"
        f"destination: {report['destination']}\n"
        f"excluded: {excluded}\n"
        f"deltas: {deltas['entered']:,} entered, {deltas['left']:,} left, "
        f"{deltas['updated']:,} updated\n"
        f"controls: {report['controls_passed']:,} passed, {report['controls_failed']:,} failed"
    )
    if (line := possibly_email_line(report)) is not None:
        print_output(line)
    if result.drift is not None:
        print_output(
            drift_line(result.drift) + f"\nrecorded as run #{result.run_id} in {database}; "
            f"report: {args.output_dir / 'run_report.html'}"
        )
    return 0


def drift_line(drift: DriftResult) -> str:
    """The run's drift guard in one line: its outcome, against which run, and why accepted.

    The reason is shown as the report shows it: anything shaped like an address removed, and
    on one line (control characters as ``?``).
    """
    previous = (
        f"against run #{drift.previous_run_id} (as of {drift.previous_as_of_date})"
        if drift.previous_run_id
        else "first published run to this destination"
    )
    accepted = ""
    if drift.status == "accepted" and drift.accepted_reason:
        accepted = f"; accepted: {printable(without_addresses(drift.accepted_reason))}"
    return f"drift guard: {drift.status}, {previous}{accepted}"


# ---------------------------------------------------------------------------------------------
# audience explain
# ---------------------------------------------------------------------------------------------


def add_explain_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="why a customer is (not) in the latest run's audience, rule by rule",
        description=paragraph(
            "Print, for one customer of the latest run in the database, every rule in "
            "the order the pipeline applies it, with the facts it looked at and its outcome, and "
            "the change since the previous run published to a destination (by default the "
            "latest run's). Reads the database; runs nothing. The output shows the customer's own "
            "data: it is printed, never written anywhere."
        ),
        epilog="examples:\n  audience explain 1042\n  audience explain 1042 --destination brand-b"
        "\n  audience explain 1042 --output-dir /data/published/crm\n\n" + EXIT_CODES,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("customer_id", type=customer_id, metavar="CUSTOMER_ID")
    _add_database(parser)
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--destination",
        type=destination_name,
        default=None,
        metavar="NAME",
        help="the change in this destination's published runs (default: the latest run's)",
    )
    where.add_argument(
        "--output-dir",
        type=path_option,
        default=None,
        metavar="DIR",
        help="the change in the runs published to this folder (its destination)",
    )
    parser.set_defaults(handler=explain_command)


def explain_command(args: argparse.Namespace) -> int:
    from audience_pipeline.explain import explain

    print_output(
        explain(
            _database_to_read(args),
            args.customer_id,
            destination=args.destination,
            output_dir=args.output_dir,
        ),
        end="",
    )
    return 0


# ---------------------------------------------------------------------------------------------
# audience history
# ---------------------------------------------------------------------------------------------


def add_history_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "history",
        help="the published runs recorded in the database, per destination",
        description=paragraph(
            "List the published runs in the database, per destination (the output folder, "
            "or the name given with --destination), ordered by as-of date: counts, customers "
            "entered and left, controls, the consent channels read (those new against the run "
            "before named), and the drift guard's outcome with any acceptance reason."
        ),
        epilog="examples:\n  audience history\n  audience history --output-dir "
        "/data/published/crm --format json\n  audience history --destination brand-b\n\n"
        + EXIT_CODES,
        formatter_class=HelpFormatter,
    )
    _add_database(parser)
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--output-dir",
        type=path_option,
        default=None,
        metavar="DIR",
        help="only the runs published to this folder (default: every destination)",
    )
    where.add_argument(
        "--destination",
        type=destination_name,
        default=None,
        metavar="NAME",
        help="only the runs of this destination (a name, or an output folder's resolved path)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (a table per destination) or json (one object per run) (default: text)",
    )
    parser.set_defaults(handler=history_command)


def history_command(args: argparse.Namespace) -> int:
    from audience_pipeline.history import (
        database_destinations,
        destinations_named,
        read_published_runs,
    )

    database = _database_to_read(args)
    output_dir = str(args.output_dir.absolute()) if args.output_dir else None
    runs = read_published_runs(database, output_dir, destination=args.destination)
    if not runs and (output_dir or args.destination):  # a typo is told from an empty history
        known = database_destinations(database)
        option, named = (
            ("--destination", args.destination)
            if args.destination
            else ("--output-dir", f"the folder {output_dir}")
        )
        raise UsageError(
            f"argument {option}: no run published to {named} in this database "
            f"({destinations_named(known)})"
        )
    if args.format == "json":
        print_output(json.dumps(runs, indent=2, default=str))
    else:
        print_output(format_history(runs), end="")
    return 0


HISTORY_COLUMNS = (
    ("run", "run_id"),
    ("as of", "as_of_date"),
    ("published at (UTC)", "published_at"),
    ("customers", "customers"),
    ("eligible", "eligible"),
    ("entered", "entered"),
    ("left", "left"),
    ("controls", "controls"),
    ("consent channels", "channels"),
    ("drift guard", "drift"),
)


def format_history(runs: list[dict[str, Any]]) -> str:
    """One table per destination, runs in as-of order; numbers with thousands separators. A
    run stopped before its folder switched to it is named below the table, not in it."""
    if not runs:
        return "no published run in this database\n"
    lines: list[str] = []
    for destination in dict.fromkeys(run["destination"] for run in runs):
        own = [run for run in runs if run["destination"] == destination]
        published = [run for run in own if run["published"]]
        rows = [
            {
                "run_id": f"#{run['run_id']}",
                "as_of_date": str(run["as_of_date"]),
                "published_at": str(run["published_at"])[:19],
                "customers": f"{run['customers']:,}",
                "eligible": f"{run['eligible']:,}",
                "entered": "" if run["entered"] is None else f"{run['entered']:,}",
                "left": "" if run["left"] is None else f"{run['left']:,}",
                "controls": f"{run['controls_passed']:,} passed, {run['controls_failed']:,} failed",
                "channels": history_channels(
                    run["consent_channel_count"], run["new_consent_channels"]
                ),
                "drift": run["drift_status"]
                + (  # a reason given where nothing failed is not an acceptance (as in the run)
                    f": {printable(run['drift_acceptance_reason'])}"
                    if run["drift_acceptance_reason"] and run["drift_status"] == "accepted"
                    else ""
                ),
            }
            for run in published
        ]
        folders = {run["output_dir"] for run in published}
        widths = {
            key: max([len(title)] + [len(row[key]) for row in rows])
            for title, key in HISTORY_COLUMNS
        }
        elsewhere = sorted(str(folder) for folder in folders if folder != destination)
        lines.append(
            f"{destination}" + (f" (published to {', '.join(elsewhere)})" if elsewhere else "")
        )
        if rows:
            lines.append(
                "  ".join(title.ljust(widths[key]) for title, key in HISTORY_COLUMNS).rstrip()
            )
        lines.extend(
            "  ".join(row[key].ljust(widths[key]) for _, key in HISTORY_COLUMNS).rstrip()
            for row in rows
        )
        lines.extend(parameter_lines(published))
        lines.extend(never_published_line(run) for run in own if not run["published"])
        lines.append("")
    return "\n".join(lines)


def never_published_line(run: dict[str, Any]) -> str:
    """A run recorded but never published, as ``audience history`` lists it below the table:
    why, and whether (and when, by which run) the history forgot it."""
    recorded = str(run["published_at"])[:19]
    head = f"  run #{run['run_id']} (as of {run['as_of_date']}, recorded {recorded})"
    if run["forgotten_because"] == SWITCH_FAILED:
        return (
            f"{head}: its folder's switch failed: never published, forgotten by the run itself "
            f"at {str(run['forgotten_at'])[:19]}"
        )
    stopped = f"{head} stopped before its folder switched to it: never published"
    if run["forgotten_at"] is None:
        return f"{stopped}; the next run to the folder forgets it"
    by = " by the next run to its destination" if run["forgotten_because"] else ""
    return f"{stopped}, forgotten{by} at {str(run['forgotten_at'])[:19]}"


def parameter_lines(runs: list[dict[str, Any]]) -> list[str]:
    """The rules' parameters of a destination's runs in the order they were published (run
    number; a backfill is in the table by its as-of date): all of them from the first run that
    recorded them, then each change with the value before it."""
    lines: list[str] = []
    before: dict[str, Any] | None = None
    for run in sorted(runs, key=lambda run: run["run_id"]):
        parameters = run["rule_parameters"]
        if parameters is None or parameters == before:
            continue
        said = [
            f"{name} {parameter_text(value)}"
            + (
                f" (was {parameter_text(before[name])})"
                if before is not None and name in before
                else ""
            )
            for name, value in parameters.items()
            if before is None or before.get(name) != value
        ]
        lines.append(f"  rules' parameters from run #{run['run_id']}: {'; '.join(said)}")
        before = parameters
    return lines


# ---------------------------------------------------------------------------------------------
# the command
# ---------------------------------------------------------------------------------------------


def build_parser() -> AudienceParser:
    parser = AudienceParser(
        prog=PROG,
        description=paragraph(
            "Publish an eligible email audience from flat-file exports, with every "
            "decision explained and every row accounted for."
        ),
        epilog="Run 'audience COMMAND --help' for a command's options and examples.\n\n"
        + EXIT_CODES,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=_versions())
    # not required here: an unknown option given without a command is named first (parse_command)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_run_parser(subparsers)
    add_explain_parser(subparsers)
    add_history_parser(subparsers)
    for entry_point in sorted(entry_points(group=COMMANDS_GROUP), key=lambda ep: ep.name):
        register: Callable[[Any], None] = entry_point.load()
        register(subparsers)
    parser.commands = subparsers.choices
    return parser


def parse_command(parser: AudienceParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """The parsed command line; an argument left over is named by the command it was given to
    (``audience run: unknown option --extra (see audience run --help)``)."""
    args, extras = parser.parse_known_args(argv)
    if extras:
        owner = parser.commands.get(args.command or "", parser)
        what = "unknown option" if extras[0].startswith("-") else "unexpected argument"
        owner.error(f"{what} {extras[0]}")
    if args.command is None:
        parser.error("the following arguments are required: COMMAND")
    return args


def one_line(text: str) -> str:
    """The first line of a message, its runs of white space made one space."""
    lines = text.strip().splitlines()
    return " ".join(lines[0].split()) if lines else ""


def os_error_message(error: OSError) -> str:
    """An operating-system error in one line: the path and the system's reason."""
    reason = error.strerror or one_line(str(error)) or type(error).__name__
    if error.filename is None:
        return reason
    where = _path_text(error.filename)
    if error.filename2 is not None:
        where += f" -> {_path_text(error.filename2)}"
    return f"cannot access {where}: {reason}"


def _path_text(name: object) -> str:
    """A path an OSError names: text, bytes or a path object; anything else (a file
    descriptor) as it prints."""
    if isinstance(name, str | bytes | os.PathLike):
        return os.fsdecode(name)
    return f"file descriptor {name}" if isinstance(name, int) else str(name)


def print_output(text: str, end: str = "\n") -> None:
    """Print to standard output; a reader that went away (``| head -1``) only ends the output.

    As Python's documentation advises for SIGPIPE, standard output then goes to devnull, so
    nothing fails at exit; the command ends as it would have (a run has published).
    """
    try:
        print(text, end=end, flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parse_command(parser, argv)
    command = f"{PROG} {args.command}"
    try:
        return int(args.handler(args))
    except UsageError as error:
        print(f"{command}: {error} (see {command} --help)", file=sys.stderr)
        return 2
    except PipelineError as error:
        print(f"{command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{command}: interrupted; nothing was published", file=sys.stderr)
        return 130
    except OSError as error:  # a path the system refused: named, with the system's reason
        if os.environ.get("AUDIENCE_DEBUG"):
            raise
        print(f"{command}: {os_error_message(error)}", file=sys.stderr)
        return 1
    except Exception as error:  # no traceback reaches a user unless asked for
        if os.environ.get("AUDIENCE_DEBUG"):
            raise
        print(
            f"{command}: unexpected error: {type(error).__name__}: {one_line(str(error))} "
            "(AUDIENCE_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 1
